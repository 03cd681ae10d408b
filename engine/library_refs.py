"""Node libraries seen from both sides: library node ids and the `$ref` sites using them.

Answers "which node id is at this position of a library file", "where is node
Y's id in library file X", "which `$ref` sites of this compiled workflow file
point to library X node Y", "where can a node be appended to a library", and
plans a library node rename across the library and every referencing file (the
id, the `#node` part of each `$ref`, and edges naming the inherited id).

Inputs and outputs are engine values (`ParsedYaml`, `CompileResult`, `SourceSpan`,
`TextEdit`). It must not know editor protocols, encodings, URIs or how files are
found: callers pass the compiled referencing files they know about.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass

from engine.loader import ParsedYaml, editor_lines
from engine.model import CompileResult, Node, SourceSpan, TextEdit, Workflow
from engine.queries import node_id_occurrences, node_id_refusal
from engine.yaml_tree import YMap, YScalar, YSeq

REF_KIND = "ref"


@dataclass(frozen=True)
class LibraryNodeId:
    """A node id written in a library file's `nodes:` list."""

    node_id: str
    span: SourceSpan
    """The id value (without quotes)."""
    node_span: SourceSpan
    """The whole node mapping."""


def library_node_ids(parsed: ParsedYaml) -> list[LibraryNodeId]:
    """The ids of a node library's `nodes:` list, in written order (first one wins)."""
    root = parsed.root
    if not isinstance(root, YMap):
        return []
    nodes = root.get("nodes")
    if not isinstance(nodes, YSeq):
        return []
    found: list[LibraryNodeId] = []
    seen: set[str] = set()
    for item in nodes.items:
        if not isinstance(item, YMap):
            continue
        ident = item.get("id")
        if isinstance(ident, YScalar) and isinstance(ident.value, str) and ident.value not in seen:
            seen.add(ident.value)
            found.append(LibraryNodeId(ident.value, _unquoted(ident), item.span))
    return found


def library_node_id_at(parsed: ParsedYaml, line: int, column: int) -> LibraryNodeId | None:
    """The library node whose `id` value is under (line, column), if any."""
    for entry in library_node_ids(parsed):
        if entry.span.contains(line, column):
            return entry
    return None


def library_node_id_span(parsed: ParsedYaml, node_id: str) -> SourceSpan | None:
    """Where node `node_id`'s id is written in a library file."""
    for entry in library_node_ids(parsed):
        if entry.node_id == node_id:
            return entry.span
    return None


def _unquoted(scalar: YScalar) -> SourceSpan:
    span = scalar.span
    if scalar.style in ("'", '"') and span.line == span.end_line:
        return SourceSpan(span.line, span.column + 1, span.end_line, span.end_column - 1)
    return span


# --- $ref sites -----------------------------------------------------------------


@dataclass(frozen=True)
class RefSite:
    """A node of a compiled workflow built from `$ref` to a library node."""

    workflow: Workflow
    node: Node
    site: SourceSpan
    """The whole `$ref` value in the referencing file."""
    id_span: SourceSpan | None
    """The `node_id` after `#` in that value; None when the `$ref` names no node
    (it then means the library's first node) or the value cannot be edited in place."""
    inherits_id: bool
    """The workflow node takes its id from the library (no local `id:` override)."""


def same_file(a: str, b: str) -> bool:
    return os.path.normcase(os.path.realpath(a)) == os.path.normcase(os.path.realpath(b))


def ref_sites(result: CompileResult, library: str, node_id: str) -> list[RefSite]:
    """The `$ref` sites of `result`'s own workflows that resolve to `library`'s `node_id`."""
    lines = result.syntax.lines if isinstance(result.syntax, ParsedYaml) else ()
    found: list[RefSite] = []
    for workflow in result.workflows:
        if workflow.source != result.source:
            continue
        for node in workflow.nodes:
            origin = node.origin
            if origin is None or origin.kind != REF_KIND or origin.name != node_id:
                continue
            if not same_file(origin.source, library):
                continue
            found.append(
                RefSite(
                    workflow,
                    node,
                    origin.site,
                    _ref_id_span(lines, origin.site, node_id),
                    "id" not in node.value_spans,
                )
            )
    return found


def _ref_id_span(lines: tuple[str, ...], site: SourceSpan, node_id: str) -> SourceSpan | None:
    """The `node_id` after the last `#` of a one-line `$ref` value, written verbatim."""
    if site.line != site.end_line or site.line >= len(lines):
        return None
    token = lines[site.line][site.column : site.end_column]
    quoted = token[:1] in ("'", '"') and len(token) >= 2
    inner = token[1:-1] if quoted else token
    start = 1 if quoted else 0
    hash_at = inner.rfind("#")
    if hash_at < 0 or "\\" in inner:
        return None
    written = inner[hash_at + 1 :]
    stripped = written.strip()
    if stripped != node_id:
        return None
    column = site.column + start + hash_at + 1 + (len(written) - len(written.lstrip()))
    return SourceSpan(site.line, column, site.line, column + len(node_id))


# --- renaming a library node ----------------------------------------------------


@dataclass(frozen=True)
class LibraryRenamePlan:
    """The edits (in the library and referencing files) of a library node rename."""

    edits: tuple[TextEdit, ...] = ()
    error: str | None = None


def plan_library_rename(
    parsed: ParsedYaml,
    library: str,
    node_id: str,
    new_id: str,
    referencing: Iterable[CompileResult],
) -> LibraryRenamePlan:
    """Rename library node `node_id` to `new_id`: its id, each `#node_id` of a `$ref`
    resolving to it, and edges naming the id in workflows that inherit it.
    Refuses invalid ids, `__end__`, an id the library already has, and an id that
    would clash with a node of a referencing workflow."""
    declared = library_node_id_span(parsed, node_id)
    if declared is None:
        return LibraryRenamePlan(error=f"{library} has no node {node_id!r}")
    refusal = node_id_refusal(new_id)
    if refusal is not None:
        return LibraryRenamePlan(error=refusal)
    if new_id != node_id and library_node_id_span(parsed, new_id) is not None:
        return LibraryRenamePlan(
            error=f"node library {library} already has a node {new_id!r}; pick another id"
        )
    edits = [TextEdit(library, declared, new_id)]
    if new_id == node_id:
        return LibraryRenamePlan(tuple(edits))
    for result in referencing:
        for site in ref_sites(result, library, node_id):
            if site.id_span is not None:
                edits.append(TextEdit(result.source, site.id_span, new_id))
            if not site.inherits_id:
                continue
            if site.workflow.has_node(new_id):
                return LibraryRenamePlan(
                    error=(
                        f"workflow {site.workflow.name!r} in {result.source} uses {node_id!r} "
                        f"through $ref and already has a node {new_id!r}; pick another id"
                    )
                )
            edits.extend(
                TextEdit(result.source, span, new_id)
                for span in node_id_occurrences(site.workflow, node_id)
            )
    unique = list(dict.fromkeys(edits))
    return LibraryRenamePlan(tuple(unique))


# --- appending to a library -----------------------------------------------------


@dataclass(frozen=True)
class LibraryInsertion:
    """Where new `- id: ...` items go in a library text."""

    line: int
    """Insert before this 0-based line (== line count: at the end)."""
    indent: int
    """Column of the list items' `-`."""
    header: str
    """Text to write before the items (`nodes:` for an empty file, a newline when the
    text does not end with one, else empty)."""
    existing_ids: frozenset[str]


def library_insertion(parsed: ParsedYaml, text: str) -> LibraryInsertion | None:
    """Where to append nodes to a node library; None when it cannot be done in place
    (no block `nodes:` list, or YAML that does not parse)."""
    if not text.strip():
        return LibraryInsertion(0, 2, "nodes:\n", frozenset())
    root = parsed.root
    if not isinstance(root, YMap):
        return None
    nodes = root.get("nodes")
    if not isinstance(nodes, YSeq) or nodes.flow or not nodes.items:
        return None
    last = nodes.items[-1]
    end = last.span
    line = end.end_line + 1 if end.end_column > 0 else end.end_line
    line_count = len(editor_lines(text))
    header = ""
    if line >= line_count:
        line = line_count
        header = "" if text.endswith("\n") else "\n"
    ids = frozenset(entry.node_id for entry in library_node_ids(parsed))
    return LibraryInsertion(line, nodes.span.column, header, ids)
