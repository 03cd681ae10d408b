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


_ENCODE = json.JSONEncoder(default=json_default, ensure_ascii=False, separators=(",", ":")).encode
"""One encoder for every call: `json.dumps` with options builds a new one each time."""


def dumps(value: Any) -> str:
    """Compact JSON for storage."""
    if value is None:
        return "null"
    return _ENCODE(value)


def loads(text: str | None) -> Any:
    return None if text is None else json.loads(text)
