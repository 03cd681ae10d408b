"""Turn workflow values into JSON without failing: the one `default=` hook for json.dumps.

State and node outputs are JSON-like, but handlers may return sets, tuples, dataclasses,
datetimes or arbitrary objects; those become lists, dicts, ISO strings or `repr` text.
Knows nothing of where the JSON goes.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import enum
import json
import math
from collections.abc import Mapping
from pathlib import PurePath
from typing import Any


def json_default(value: Any) -> Any:
    if isinstance(value, Mapping):
        return dict(value)
    if isinstance(value, set | frozenset):
        return sorted(value, key=repr)
    if isinstance(value, tuple):
        return list(value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: getattr(value, f.name) for f in dataclasses.fields(value)}
    if isinstance(value, _dt.datetime | _dt.date | _dt.time):
        return value.isoformat()
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, PurePath):
        return str(value)
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    return repr(value)


_ENCODER = json.JSONEncoder(default=json_default, ensure_ascii=False, separators=(",", ":"))
"""The standard encoder, built once (`json.dumps` with options builds one per call)."""


def _fast_encoder() -> Any:
    """CPython's C encoder built once, without the per-call circular-reference bookkeeping."""
    try:
        from json.encoder import c_make_encoder, encode_basestring  # type: ignore[attr-defined]
    except ImportError:
        return None
    if c_make_encoder is None:
        return None
    return c_make_encoder(None, json_default, encode_basestring, None, ":", ",", False, False, True)


_FAST = _fast_encoder()


def dumps(value: Any) -> str:
    """Compact JSON for storage. Never raises: a value that contains itself, keys JSON cannot
    hold or data too deep are stored through `plain`."""
    if value is None:
        return "null"
    if _FAST is not None:
        try:
            return "".join(_FAST(value, 0))
        except (RecursionError, TypeError, ValueError):
            pass  # a cycle, odd keys or very deep data: `plain` below
    try:
        return _ENCODER.encode(value)
    except (RecursionError, TypeError, ValueError):
        return _ENCODER.encode(plain(value))


def to_json_text(
    value: Any, indent: int | None = None, separators: tuple[str, str] | None = None
) -> str:
    """Standard JSON for people and tools (`--json`, exports): never NaN or Infinity (they
    become null), a value inside itself becomes "<cycle>", every key a string. Never raises."""
    options: dict[str, Any] = {
        "ensure_ascii": False, "allow_nan": False, "indent": indent, "separators": separators
    }  # fmt: skip
    try:
        return json.dumps(value, default=json_default, **options)
    except (RecursionError, TypeError, ValueError):
        return json.dumps(plain(value), **options)


_MAX_DEPTH = 200
_SCALARS = (str, int, bool, type(None))


def plain(value: Any) -> Any:
    """`value` as plain JSON data (dict/list/str/number/bool/None) with the `json_default`
    conversions; cycles become "<cycle>", non-finite numbers None, data deeper than 200
    levels its `repr` text."""
    return _plain(value, set(), 0)


def _plain(value: Any, path: set[int], depth: int) -> Any:
    if isinstance(value, _SCALARS):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if id(value) in path:
        return "<cycle>"
    if depth >= _MAX_DEPTH:
        return repr(value)[:200]
    path.add(id(value))
    try:
        if isinstance(value, Mapping):
            return {_key(k): _plain(v, path, depth + 1) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [_plain(v, path, depth + 1) for v in value]
        converted = json_default(value)
        if isinstance(converted, str):
            return converted
        return _plain(converted, path, depth + 1)
    finally:
        path.discard(id(value))


def _key(key: Any) -> str:
    if isinstance(key, str):
        return key
    if isinstance(key, bool | int | float) or key is None:
        return json.dumps(key)
    return str(key)


def loads(text: str | None) -> Any:
    return None if text is None else json.loads(text)
