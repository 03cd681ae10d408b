"""State query paths such as `items[0].id` and `data['k'].x`: parse, read and write.

Writing is copy-on-write: `set_path` returns a new top-level dict and copies
only the containers along the path, so snapshots that share the old values
are untouched. This module knows nothing of expressions or the workflow model.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, NoReturn

from engine.expressions.errors import ExpressionSyntaxError

Path = tuple[str | int, ...]

_NAME = re.compile(r"[^.\[\]'\"\s]+")
_INDEX = re.compile(r"\[\s*(-?\d+)\s*\]")
_QUOTED = re.compile(r"""\[\s*(?:'((?:[^'\\]|\\.)*)'|"((?:[^"\\]|\\.)*)")\s*\]""")
_ESCAPE = re.compile(r"\\(.)")


class PathKeyError(KeyError):
    """A key on the path does not exist; `str()` is the plain message."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


class PathIndexError(IndexError):
    """An index on the path is out of range or applied to a non-list."""


def parse_path(text: str) -> Path:
    """`"items[0].id"` -> `("items", 0, "id")`; raises ExpressionSyntaxError naming the column."""
    if not isinstance(text, str):
        raise ExpressionSyntaxError(f"a path must be text, got {type(text).__name__}")
    stripped = text.strip()
    offset = len(text) - len(text.lstrip())
    if not stripped:
        raise ExpressionSyntaxError("empty path: give a key such as user.name or items[0]")
    parts: list[str | int] = []
    position = 0
    expect_name = True
    while position < len(stripped):
        char = stripped[position]
        if char == "[":
            if match := _INDEX.match(stripped, position):
                parts.append(int(match.group(1)))
            elif match := _QUOTED.match(stripped, position):
                raw = match.group(1) if match.group(1) is not None else match.group(2)
                parts.append(_ESCAPE.sub(r"\1", raw))
            else:
                _fail(text, offset + position, "expected [number] or ['key'] here")
            position = match.end()
            expect_name = False
            continue
        if char == "." and not expect_name and parts:
            position += 1
            expect_name = True
            if position >= len(stripped):
                _fail(text, offset + position, "the path ends with '.'; add a key after it")
            continue
        name = _NAME.match(stripped, position) if expect_name else None
        if name is None:
            _fail(text, offset + position, f"unexpected {char!r} in path")
        parts.append(name.group(0))
        position = name.end()
        expect_name = False
    return tuple(parts)


def _fail(text: str, column: int, message: str) -> NoReturn:
    raise ExpressionSyntaxError(f"invalid path {text!r}: {message}", (0, column, 0, column + 1))


def format_path(path: Path) -> str:
    """The inverse of `parse_path` (quoting keys that are not plain names)."""
    text = ""
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
        elif _NAME.fullmatch(part) and not part.isdigit():
            text += f".{part}" if text else part
        else:
            escaped = part.replace("\\", "\\\\").replace("'", "\\'")
            text += f"['{escaped}']"
    return text


def _as_path(path: str | Path) -> Path:
    return parse_path(path) if isinstance(path, str) else tuple(path)


def _step(value: Any, part: str | int, done: Path) -> Any:
    where = format_path(done) or "the state"
    if isinstance(value, Mapping):
        if part in value:
            return value[part]
        if isinstance(part, int) and str(part) in value:
            return value[str(part)]
        keys = ", ".join(str(key) for key in list(value)[:20]) or "none"
        raise PathKeyError(f"no key {part!r} in {where} (keys: {keys})")
    if isinstance(value, list | tuple):
        if not isinstance(part, int):
            raise PathKeyError(f"{where} is a list; use an index such as [0], not {part!r}")
        try:
            return value[part]
        except IndexError:
            raise PathIndexError(
                f"index {part} is out of range: {where} has {len(value)} items"
            ) from None
    kind = "null" if value is None else type(value).__name__
    raise PathKeyError(f"{where} is a {kind}; it has no key {part!r}")


def get_path(state: Mapping[str, Any], path: str | Path) -> Any:
    """The value at `path`; raises PathKeyError/PathIndexError with a clear message."""
    parts = _as_path(path)
    value: Any = state
    for index, part in enumerate(parts):
        value = _step(value, part, parts[:index])
    return value


def set_path(state: Mapping[str, Any], path: str | Path, value: Any) -> dict[str, Any]:
    """A new state with `value` at `path`; missing mapping keys on the way are created."""
    parts = _as_path(path)
    if not parts:
        raise ExpressionSyntaxError("empty path: give a key such as user.name")
    return _with(state, parts, 0, value)


def _with(container: Any, parts: Path, index: int, value: Any) -> Any:
    part = parts[index]
    last = index == len(parts) - 1
    where = format_path(parts[:index]) or "the state"
    if container is None:
        container = {}
    if isinstance(container, Mapping):
        copy: Any = dict(container)
        copy[part] = value if last else _with(container.get(part), parts, index + 1, value)
        return copy
    if isinstance(container, list | tuple):
        if not isinstance(part, int):
            raise PathKeyError(f"{where} is a list; use an index such as [0], not {part!r}")
        if not -len(container) <= part < len(container):
            raise PathIndexError(
                f"index {part} is out of range: {where} has {len(container)} items"
            )
        items = list(container)
        items[part] = value if last else _with(container[part], parts, index + 1, value)
        return items if isinstance(container, list) else tuple(items)
    kind = type(container).__name__
    raise PathKeyError(f"{where} is a {kind}; it has no key {part!r}")
