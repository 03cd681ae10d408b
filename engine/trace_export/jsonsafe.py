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
    """Compact JSON for storage (a value that contains itself raises ValueError)."""
    if value is None:
        return "null"
    if _FAST is not None:
        try:
            return "".join(_FAST(value, 0))
        except RecursionError:
            pass  # a cycle, or very deep data: let the checking encoder say which
    return _ENCODER.encode(value)


def loads(text: str | None) -> Any:
    return None if text is None else json.loads(text)
