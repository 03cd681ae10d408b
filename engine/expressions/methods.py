"""The short list of methods an expression may call, and the bounded way to call them.

Methods are looked up by name on values of known types only; no other attribute
is ever read. Mutating methods (`append`, `extend`, `update`) exist only for
transforms, which call them on a copy-on-write container. This module knows
nothing of parsing or of the workflow state.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from engine.expressions.limits import MAX_SEQUENCE, LimitExceeded, check_weight

STRING_METHODS = frozenset(
    {
        "lower", "upper", "strip", "lstrip", "rstrip", "startswith", "endswith",
        "split", "rsplit", "splitlines", "join", "replace", "title", "capitalize",
        "casefold", "count", "find", "rfind", "index", "isdigit", "isalpha",
        "isalnum", "isspace", "islower", "isupper", "isnumeric", "removeprefix",
        "removesuffix",
    }
)  # fmt: skip
MAPPING_METHODS = frozenset({"get", "items", "keys", "values"})
SEQUENCE_METHODS = frozenset({"index", "count"})
MUTATING_METHODS = frozenset({"append", "extend", "update"})
READ_METHODS = STRING_METHODS | MAPPING_METHODS | SEQUENCE_METHODS
ALL_METHODS = READ_METHODS | MUTATING_METHODS


def _type_name(value: Any) -> str:
    return "null" if value is None else type(value).__name__


def call_read_method(
    receiver: Any, name: str, args: tuple[Any, ...], kwargs: dict[str, Any]
) -> Any:
    """Call a side-effect-free method; raises TypeError naming the receiver when not allowed."""
    if isinstance(receiver, str) and name in STRING_METHODS:
        if name == "join":
            return _bounded_join(receiver, *args)
        if name == "replace":
            _check_replace(receiver, *args)
        return getattr(receiver, name)(*args, **kwargs)
    if isinstance(receiver, Mapping) and name in MAPPING_METHODS:
        if name == "get":
            return receiver.get(*args, **kwargs)
        if name == "keys":
            return list(receiver.keys())
        if name == "values":
            return list(receiver.values())
        return list(receiver.items())
    if isinstance(receiver, list | tuple) and name in SEQUENCE_METHODS:
        return getattr(receiver, name)(*args, **kwargs)
    if receiver is None and name == "get":
        # A missing mapping behaves as an empty one: `results.get("failed", 0)` is 0.
        return args[1] if len(args) > 1 else kwargs.get("default")
    raise TypeError(f"a {_type_name(receiver)} value has no method .{name}()")


def call_mutating_method(receiver: Any, name: str, args: tuple[Any, ...]) -> None:
    """Apply append/extend/update to a container the transform owns."""
    if isinstance(receiver, list) and name in {"append", "extend"}:
        added = len(args[0]) if name == "extend" and hasattr(args[0], "__len__") else 1
        if len(receiver) + added > MAX_SEQUENCE:
            raise LimitExceeded(f"list would exceed {MAX_SEQUENCE:,} items")
        getattr(receiver, name)(*args)
        return
    if isinstance(receiver, dict) and name == "update":
        receiver.update(*args)
        return
    raise TypeError(f"a {_type_name(receiver)} value has no method .{name}()")


def _bounded_join(separator: str, items: Any = (), *rest: Any) -> str:
    if rest:
        raise TypeError("join() takes one argument")
    parts = list(items)
    size = len(separator) * max(len(parts) - 1, 0)
    for part in parts:
        size += len(part) if isinstance(part, str) else 0
    if size > MAX_SEQUENCE:
        raise LimitExceeded(f"join() would produce {size:,} characters (limit {MAX_SEQUENCE:,})")
    check_weight(parts, "join()")
    return separator.join(parts)


def _check_replace(text: str, old: Any = "", new: Any = "", count: Any = -1, *rest: Any) -> None:
    if isinstance(old, str) and isinstance(new, str) and len(new) > len(old):
        occurrences = text.count(old) if old else len(text) + 1
        size = len(text) + occurrences * (len(new) - len(old))
        if size > MAX_SEQUENCE:
            raise LimitExceeded(
                f"replace() would produce {size:,} characters (limit {MAX_SEQUENCE:,})"
            )
