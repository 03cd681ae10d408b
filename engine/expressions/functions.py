"""The function library callable from expressions and transforms.

Each function is bounded: nothing here can allocate more than the limits allow
or reach attributes of its arguments. Registered transform functions are passed
in by the caller and looked up after these names. This module knows nothing of
parsing or of the workflow state.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from types import MappingProxyType
from typing import Any

from engine.expressions.limits import (
    MAX_SEQUENCE,
    LimitExceeded,
    bounded_range,
    bounded_str,
    weight,
)


def merge(*values: Any) -> Any:
    """Merge dicts (later keys win) or concatenate lists; null arguments are skipped."""
    present = [value for value in values if value is not None]
    if not present:
        return {}
    if all(isinstance(value, Mapping) for value in present):
        merged: dict[Any, Any] = {}
        for value in present:
            merged.update(value)
        return merged
    if all(isinstance(value, list | tuple) for value in present):
        return concat(*present)
    kinds = ", ".join(sorted({type(value).__name__ for value in present}))
    raise TypeError(f"merge() needs all dicts or all lists, got {kinds}")


def concat(*values: Any) -> Any:
    """Concatenate lists (or strings, when every argument is a string); nulls are skipped."""
    present = [value for value in values if value is not None]
    size = sum(len(value) for value in present if isinstance(value, str | list | tuple))
    if size > MAX_SEQUENCE:
        raise LimitExceeded(f"concat() would produce {size:,} items (limit {MAX_SEQUENCE:,})")
    if present and all(isinstance(value, str) for value in present):
        return "".join(present)
    result: list[Any] = []
    for value in present:
        if isinstance(value, list | tuple):
            result.extend(value)
        else:
            result.append(value)
    return result


def deduplicate(items: Iterable[Any] | None, by: str | None = None) -> list[Any]:
    """Items in order, without repeats; `by` compares dict items on one key.

    A mapping (an agent's result, say) is one item, not the list of its keys.
    """
    if items is None:
        return []
    if isinstance(items, Mapping):
        return [items]
    result: list[Any] = []
    seen_hashable: set[Any] = set()
    seen_other: list[Any] = []
    for item in items:
        marker = item.get(by) if by is not None and isinstance(item, Mapping) else item
        try:
            if marker in seen_hashable:
                continue
            seen_hashable.add(marker)
        except TypeError:
            if marker in seen_other:
                continue
            seen_other.append(marker)
        result.append(item)
    return result


def current_timestamp() -> str:
    """Now, as an ISO 8601 UTC timestamp."""
    return datetime.now(UTC).isoformat()


def elapsed_time(start: Any, end: Any = None) -> float:
    """Seconds from `start` to `end` (default now); each an ISO timestamp or epoch seconds."""
    started = _epoch_seconds(start)
    ended = time.time() if end is None else _epoch_seconds(end)
    return ended - started


def _epoch_seconds(value: Any) -> float:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, str):
        parsed = datetime.fromisoformat(value)
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=UTC)
        return parsed.timestamp()
    raise TypeError(f"expected an ISO timestamp or epoch seconds, got {type(value).__name__}")


def _sum(values: Iterable[Any], start: Any = 0) -> Any:
    total = start
    for value in values:
        if not isinstance(value, int | float) or not isinstance(total, int | float):
            raise TypeError(f"sum() adds numbers only, got {type(value).__name__}")
        total += value
    return total


def _sorted(values: Iterable[Any], key: str | None = None, reverse: bool = False) -> list[Any]:
    """sorted(); `key` names the dict key to sort by (functions cannot be passed)."""
    if key is None:
        return sorted(values, reverse=bool(reverse))
    if not isinstance(key, str):
        raise TypeError('sorted(key=...) takes the name of a key, such as key="score"')

    def by_key(item: Any) -> Any:
        return item.get(key) if isinstance(item, Mapping) else item

    return sorted(values, key=by_key, reverse=bool(reverse))


def _str(value: Any = "") -> str:
    return bounded_str(value)


def _list(values: Iterable[Any] = ()) -> list[Any]:
    if isinstance(values, Mapping):
        return list(values.keys())
    return list(values)


def _dict(*args: Any, **kwargs: Any) -> dict[Any, Any]:
    return dict(*args, **kwargs)


def _enumerate(values: Iterable[Any], start: int = 0) -> list[tuple[int, Any]]:
    return list(enumerate(values, start))


def _zip(*values: Iterable[Any]) -> list[tuple[Any, ...]]:
    return list(zip(*values, strict=False))


def _reversed(values: Any) -> list[Any]:
    return list(reversed(list(values)))


def _len(value: Any) -> int:
    if value is None:
        raise TypeError("len() of null (the value is missing)")
    return len(value)


def _int(value: Any = 0, base: int | None = None) -> int:
    if isinstance(value, str) and len(value) > 4_300:
        raise LimitExceeded("int() of a string longer than 4300 digits")
    return int(value) if base is None else int(value, base)


def _round(value: Any, digits: int | None = None) -> Any:
    if digits is None:
        return round(value)
    if not isinstance(digits, int) or abs(digits) > 100:
        raise LimitExceeded("round() takes at most 100 digits")
    return round(value, digits)


def _extreme(pick: Callable[..., Any]) -> Callable[..., Any]:
    """min()/max() where `key` names a dict key (functions cannot be passed)."""

    def choose(*values: Any, key: str | None = None, **options: Any) -> Any:
        if key is None:
            return pick(*values, **options)
        if not isinstance(key, str):
            raise TypeError(f"{pick.__name__}(key=...) takes the name of a key, such as 'score'")

        def by_key(item: Any) -> Any:
            return item.get(key) if isinstance(item, Mapping) else item

        return pick(*values, key=by_key, **options)

    return choose


def _keys(value: Mapping[Any, Any]) -> list[Any]:
    return list(value.keys())


def _values(value: Mapping[Any, Any]) -> list[Any]:
    return list(value.values())


def _size(value: Any) -> int:
    """Logical size of a value (items plus characters), capped just above the limit."""
    return weight(value)


BUILTIN_FUNCTIONS: Mapping[str, Callable[..., Any]] = MappingProxyType(
    {
        "len": _len,
        "min": _extreme(min),
        "max": _extreme(max),
        "sum": _sum,
        "sorted": _sorted,
        "reversed": _reversed,
        "str": _str,
        "int": _int,
        "float": float,
        "bool": bool,
        "round": _round,
        "abs": abs,
        "any": any,
        "all": all,
        "enumerate": _enumerate,
        "zip": _zip,
        "range": bounded_range,
        "list": _list,
        "dict": _dict,
        "set": set,
        "tuple": tuple,
        "keys": _keys,
        "values": _values,
        "merge": merge,
        "concat": concat,
        "deduplicate": deduplicate,
        "current_timestamp": current_timestamp,
        "elapsed_time": elapsed_time,
        "size": _size,
    }
)
"""Name -> function, as seen by expressions (also the LSP's completion list)."""
