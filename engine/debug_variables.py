"""State values as a lazily expanded tree of variables, with paging.

A debugger shows a container (a dict or list) by a handle; the children are
produced only when asked, a page at a time. Handles are valid until `clear()`
(called when the run resumes). Knows nothing of DAP: adapters map `Variable`
fields onto their own protocol.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

_PREVIEW_ITEMS = 8
_PREVIEW_CHARS = 120


@dataclass(frozen=True, slots=True)
class Variable:
    name: str
    value: str
    """A short preview of the value."""
    type: str
    handle: int = 0
    """Non-zero when the value has children to expand."""
    indexed: int = 0
    """Number of list items (for paging)."""
    named: int = 0
    """Number of mapping keys."""
    path: str | None = None
    """An expression that reads this value from the state (None when not addressable)."""


def type_name(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, Mapping):
        return "dict"
    if isinstance(value, list | tuple):
        return "list"
    return type(value).__name__


def preview(value: Any, limit: int = _PREVIEW_CHARS) -> str:
    """One-line preview; bounded in time for huge containers."""
    if isinstance(value, Mapping):
        parts = []
        for i, (k, v) in enumerate(value.items()):
            if i >= _PREVIEW_ITEMS:
                parts.append("…")
                break
            parts.append(f"{k}: {_scalar_preview(v)}")
        text = "{" + ", ".join(parts) + "}"
    elif isinstance(value, list | tuple):
        items = [_scalar_preview(v) for v in value[:_PREVIEW_ITEMS]]
        if len(value) > _PREVIEW_ITEMS:
            items.append(f"… ({len(value)} items)")
        text = "[" + ", ".join(items) + "]"
    else:
        text = _scalar_preview(value, limit)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _scalar_preview(value: Any, limit: int = 40) -> str:
    if isinstance(value, Mapping):
        return "{…}" if value else "{}"
    if isinstance(value, list | tuple):
        return f"[{len(value)} items]" if value else "[]"
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    text = repr(value) if isinstance(value, str) else str(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def child_path(parent: str | None, key: Any) -> str | None:
    if parent is None:
        return None
    if isinstance(key, int):
        return f"{parent}[{key}]"
    key_text = str(key)
    if key_text.isidentifier():
        return f"{parent}.{key_text}" if parent else key_text
    return None


class VariableStore:
    """Handles for expandable values. Not thread-safe; one per debug session."""

    def __init__(self) -> None:
        self._entries: dict[int, tuple[Any, str | None]] = {}
        self._next = 1

    def clear(self) -> None:
        self._entries.clear()

    def add(self, value: Any, path: str | None) -> int:
        """A handle for `value` (a container) whose children are read via `path`."""
        handle = self._next
        self._next += 1
        self._entries[handle] = (value, path)
        return handle

    def refresh(self, resolve: Callable[[str], Any]) -> None:
        """Re-read every value that has a state path, after the state was edited.

        Handles stay valid (a client may edit several variables of a scope it
        expanded once); a path that no longer leads anywhere shows no children.
        """
        for handle, (_, path) in list(self._entries.items()):
            if path is None:
                continue
            try:
                value = resolve(path)
            except Exception:  # the edit removed or retyped a container on the path
                value = None
            self._entries[handle] = (value, path)

    def variable(self, name: str, value: Any, path: str | None) -> Variable:
        expandable = isinstance(value, Mapping | list | tuple) and len(value) > 0
        handle = self.add(value, path) if expandable else 0
        return Variable(
            name=name,
            value=preview(value),
            type=type_name(value),
            handle=handle,
            indexed=len(value) if isinstance(value, list | tuple) else 0,
            named=len(value) if isinstance(value, Mapping) else 0,
            path=path,
        )

    def children(self, handle: int, start: int = 0, count: int = 0) -> list[Variable]:
        """Children of a handle; `count` 0 means all from `start`.

        Raises KeyError when the handle is stale (the run moved on).
        """
        if handle not in self._entries:
            raise KeyError(f"variable handle {handle} is no longer valid (the run has moved on)")
        value, path = self._entries[handle]
        return self.page(value, path, start, count)

    def page(self, value: Any, path: str | None, start: int = 0, count: int = 0) -> list[Variable]:
        if isinstance(value, Mapping):
            items: Sequence[tuple[Any, Any]] = list(value.items())
        elif isinstance(value, list | tuple):
            items = list(enumerate(value))
        else:
            return []
        end = len(items) if count <= 0 else min(len(items), start + count)
        return [
            self.variable(f"[{k}]" if isinstance(k, int) else str(k), v, child_path(path, k))
            for k, v in items[start:end]
        ]

    def lookup(self, handle: int) -> tuple[Any, str | None]:
        if handle not in self._entries:
            raise KeyError(f"variable handle {handle} is no longer valid (the run has moved on)")
        return self._entries[handle]


CLIPBOARD_LIMIT = 10_000_000
"""Characters of a copied value: enough for any state a person reads, small enough
that one copy cannot exhaust the editor."""


def clipboard_text(value: Any, limit: int = CLIPBOARD_LIMIT) -> str:
    """The whole value for copying: text as it is, anything else as JSON.

    Containers are indented JSON (`null`, `true`, as the Variables view shows
    them); a value longer than `limit` is cut with a note saying so, and the
    encoding stops there, so a huge state costs no more than the limit.
    """
    if isinstance(value, str):
        text, cut = value[:limit], len(value) > limit
    else:
        encoder = json.JSONEncoder(indent=2, ensure_ascii=False, default=str)
        chunks: list[str] = []
        size = 0
        cut = False
        for chunk in encoder.iterencode(value):
            chunks.append(chunk)
            size += len(chunk)
            if size > limit:
                cut = True
                break
        text = "".join(chunks)[:limit]
    if cut:
        text += f"\n… (cut at {limit:,} characters; the value is longer)"
    return text
