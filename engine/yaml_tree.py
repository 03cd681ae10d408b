"""The raw YAML tree with a source span on every key, value and item.

Produced by `engine.loader.parse_yaml`; read by the compiler and by editor
features that need the text structure (completion context, folding, selection
ranges). Named tuples, because a large file holds hundreds of thousands of
them. Knows nothing of workflows.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, NamedTuple

from engine.model import SourceSpan


class YScalar(NamedTuple):
    """A scalar with its resolved Python value.

    `style` is PyYAML's: None (plain), "'", '"', "|" or ">". `value_span` is
    the whole token including quotes or the block indicator's content lines.
    """

    value: Any
    span: SourceSpan
    style: str | None = None
    tag: str = ""

    def to_python(self) -> Any:
        return self.value


class YEntry(NamedTuple):
    key: YScalar
    value: YNode


class YMap(NamedTuple):
    entries: tuple[YEntry, ...]
    span: SourceSpan
    flow: bool = False

    def get(self, key: str) -> YNode | None:
        for entry in self.entries:
            if entry.key.value == key:
                return entry.value
        return None

    def entry(self, key: str) -> YEntry | None:
        for entry in self.entries:
            if entry.key.value == key:
                return entry
        return None

    def keys(self) -> Iterator[Any]:
        return (entry.key.value for entry in self.entries)

    def to_python(self) -> dict[Any, Any]:
        return {_hashable(e.key.value): e.value.to_python() for e in self.entries}


class YSeq(NamedTuple):
    items: tuple[YNode, ...]
    span: SourceSpan
    flow: bool = False

    def to_python(self) -> list[Any]:
        return [item.to_python() for item in self.items]


YNode = YScalar | YMap | YSeq


def _hashable(value: Any) -> Any:
    return value if isinstance(value, str | int | float | bool | type(None)) else str(value)


def walk(node: YNode) -> Iterator[YNode]:
    """Every node of the tree, depth first, keys included."""
    yield node
    if isinstance(node, YMap):
        for entry in node.entries:
            yield entry.key
            yield from walk(entry.value)
    elif isinstance(node, YSeq):
        for item in node.items:
            yield from walk(item)


def path_at(root: YNode, line: int, column: int) -> list[YNode | YEntry]:
    """The chain of maps, entries and items that contain a position, outermost first."""
    chain: list[YNode | YEntry] = []
    node: YNode | None = root
    while node is not None:
        chain.append(node)
        nxt: YNode | None = None
        if isinstance(node, YMap):
            for entry in node.entries:
                end = entry.value.span if entry.value is not None else entry.key.span
                if SourceSpan(
                    entry.key.span.line, entry.key.span.column, end.end_line, end.end_column
                ).contains(line, column):
                    chain.append(entry)
                    nxt = entry.value
                    break
        elif isinstance(node, YSeq):
            for item in node.items:
                if item.span.contains(line, column):
                    nxt = item
                    break
        node = nxt
    return chain
