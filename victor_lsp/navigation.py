"""Definition, references, document highlight and rename: `engine.queries` -> LSP.

Each function takes the analysis of the document under the cursor plus a
resolver for other files' position maps (or, for node libraries, the analyses
of the workspace's workflow files), and returns protocol values.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from lsprotocol import types

from engine import library_refs, queries
from engine.library_refs import LibraryNodeId
from engine.loader import ParsedYaml
from engine.model import FileKind, SourceSpan, Workflow
from victor_lsp.convert import PositionsFor, path_to_uri, span_range
from victor_lsp.documents import Analysis


def _site(analysis: Analysis, position: types.Position) -> queries.Site | None:
    line, column = analysis.positions.column(position)
    return queries.site_at(analysis.result, line, column)


def _location(
    analysis: Analysis, path: str, span: object, positions_for: PositionsFor
) -> types.Location:
    from engine.model import SourceSpan

    assert isinstance(span, SourceSpan)
    positions = analysis.positions if path == analysis.path else positions_for(path)
    return types.Location(uri=path_to_uri(path), range=span_range(span, positions))


def definition(
    analysis: Analysis, position: types.Position, positions_for: PositionsFor
) -> list[types.Location] | None:
    site = _site(analysis, position)
    named = queries.named_node(site)
    if named is not None:
        workflow, _, target = named
        if target is None:
            return None
        return [_node_location(analysis, workflow, target.id, positions_for)]
    if isinstance(site, queries.OriginSite):
        origin = site.origin
        return [_location(analysis, origin.source, origin.span, positions_for)]
    if isinstance(site, queries.StateKeySite):
        writers = queries.state_writers(site.workflow, site.read.key)
        return [_write_location(analysis, writer, positions_for) for writer in writers] or None
    return None


def _node_location(
    analysis: Analysis, workflow: Workflow, node_id: str, positions_for: PositionsFor
) -> types.Location:
    node = workflow.node(node_id)
    if node.origin is not None and node.origin.source != analysis.path:
        return _location(analysis, workflow.source, node.id_span, positions_for)
    return _location(analysis, workflow.source, node.id_span, positions_for)


def _write_location(
    analysis: Analysis, write: queries.StateWrite, positions_for: PositionsFor
) -> types.Location:
    return _location(analysis, analysis.path, write.span, positions_for)


def references(
    analysis: Analysis, position: types.Position, include_declaration: bool
) -> list[types.Location] | None:
    spans = _occurrences(analysis, position, include_declaration)
    if spans is None:
        return None
    return [types.Location(uri=analysis.uri, range=analysis.positions.range(s)) for s in spans]


def _occurrences(
    analysis: Analysis, position: types.Position, include_declaration: bool = True
) -> list[SourceSpan] | None:
    site = _site(analysis, position)
    named = queries.named_node(site)
    if named is not None:
        workflow, node_id, _ = named
        spans = queries.node_id_occurrences(workflow, node_id)
        if not include_declaration and workflow.has_node(node_id):
            declared = workflow.node(node_id).id_span
            spans = [s for s in spans if s != declared]
        return spans
    if isinstance(site, queries.StateKeySite | queries.OutputSite):
        key = site.read.key if isinstance(site, queries.StateKeySite) else site.key
        spans = queries.state_key_occurrences(site.workflow, key)
        if not include_declaration:
            writes = {w.span for w in queries.state_writers(site.workflow, key)}
            spans = [s for s in spans if s not in writes]
        return spans
    return None


def highlights(
    analysis: Analysis, position: types.Position
) -> list[types.DocumentHighlight] | None:
    site = _site(analysis, position)
    spans = _occurrences(analysis, position)
    if spans is None or site is None:
        return None
    writes: set[object] = set()
    named = queries.named_node(site)
    if named is not None:
        writes = {n.id_span for n in named[0].nodes}
    elif isinstance(site, queries.StateKeySite | queries.OutputSite):
        key = site.read.key if isinstance(site, queries.StateKeySite) else site.key
        writes = {w.span for w in queries.state_writers(site.workflow, key)}
    return [
        types.DocumentHighlight(
            range=analysis.positions.range(span),
            kind=types.DocumentHighlightKind.Write
            if span in writes
            else types.DocumentHighlightKind.Read,
        )
        for span in spans
    ]


def _rename_plan(
    analysis: Analysis, position: types.Position, new_name: str | None
) -> tuple[queries.Site, str, queries.RenamePlan] | None:
    """The node id under the cursor and its rename plan; ValueError when refused."""
    site = _site(analysis, position)
    named = queries.named_node(site)
    if site is None or named is None or named[2] is None:
        return None
    workflow, node_id, _ = named
    plan = queries.plan_node_rename(workflow, node_id, node_id if new_name is None else new_name)
    if plan.error:
        raise ValueError(plan.error)
    return site, node_id, plan


def prepare_rename(
    analysis: Analysis, position: types.Position
) -> types.PrepareRenamePlaceholder | None:
    found = _rename_plan(analysis, position, None)
    if found is None:
        return None
    site, node_id, _ = found
    return types.PrepareRenamePlaceholder(
        range=analysis.positions.range(site.span), placeholder=node_id
    )


def rename(
    analysis: Analysis, position: types.Position, new_name: str
) -> types.WorkspaceEdit | None:
    """Rename a node id in its workflow; raises ValueError (shown to the user) when refused."""
    found = _rename_plan(analysis, position, new_name)
    if found is None:
        return None
    edits = [
        types.TextEdit(range=analysis.positions.range(span), new_text=new_name)
        for span in found[2].spans
    ]
    return types.WorkspaceEdit(changes={analysis.uri: edits})


# --- node libraries: a library node id and the `$ref` sites that use it ------------


def library_node_at(analysis: Analysis, position: types.Position) -> LibraryNodeId | None:
    """The node id under the cursor when the document is a node library."""
    parsed = analysis.result.syntax
    if analysis.result.kind is not FileKind.NODE_LIBRARY or not isinstance(parsed, ParsedYaml):
        return None
    line, column = analysis.positions.column(position)
    return library_refs.library_node_id_at(parsed, line, column)


def _ref_locations(
    analysis: Analysis, node_id: str, referencing: Iterable[Analysis]
) -> list[types.Location]:
    locations = []
    for other in referencing:
        for site in library_refs.ref_sites(other.result, analysis.path, node_id):
            span = site.id_span or site.site
            locations.append(types.Location(uri=other.uri, range=other.positions.range(span)))
    return locations


def library_definition(
    analysis: Analysis, position: types.Position, referencing: Iterable[Analysis]
) -> list[types.Location] | None:
    """On a library node id: the `$ref` sites using it (the id itself when there are none)."""
    found = library_node_at(analysis, position)
    if found is None:
        return None
    sites = _ref_locations(analysis, found.node_id, referencing)
    return sites or [types.Location(uri=analysis.uri, range=analysis.positions.range(found.span))]


def library_references(
    analysis: Analysis,
    position: types.Position,
    include_declaration: bool,
    referencing: Iterable[Analysis],
) -> list[types.Location] | None:
    found = library_node_at(analysis, position)
    if found is None:
        return None
    declaration = types.Location(uri=analysis.uri, range=analysis.positions.range(found.span))
    sites = _ref_locations(analysis, found.node_id, referencing)
    return [declaration, *sites] if include_declaration else sites


def prepare_library_rename(
    analysis: Analysis, position: types.Position
) -> types.PrepareRenamePlaceholder | None:
    found = library_node_at(analysis, position)
    if found is None:
        return None
    return types.PrepareRenamePlaceholder(
        range=analysis.positions.range(found.span), placeholder=found.node_id
    )


def library_rename(
    analysis: Analysis,
    position: types.Position,
    new_name: str,
    referencing: Iterable[Analysis],
) -> types.WorkspaceEdit | None:
    """Rename a library node id there and in every `$ref` (and inherited edge) using it;
    raises ValueError (shown to the user) when refused."""
    found = library_node_at(analysis, position)
    parsed = analysis.result.syntax
    if found is None or not isinstance(parsed, ParsedYaml):
        return None
    others = {other.path: other for other in referencing if other.path != analysis.path}
    plan = library_refs.plan_library_rename(
        parsed, analysis.path, found.node_id, new_name, (o.result for o in others.values())
    )
    if plan.error:
        raise ValueError(plan.error)
    changes: dict[str, list[types.TextEdit]] = {}
    for edit in plan.edits:
        owner = analysis if edit.source == analysis.path else others[edit.source]
        changes.setdefault(owner.uri, []).append(
            types.TextEdit(range=owner.positions.range(edit.span), new_text=edit.new_text)
        )
    return types.WorkspaceEdit(changes=changes)


@dataclass(frozen=True)
class RefTarget:
    """The cursor is on the `#node_id` part of a `$ref` in a workflow file."""

    library: str
    node_id: str
    range: types.Range


def ref_target_at(analysis: Analysis, position: types.Position) -> RefTarget | None:
    site = _site(analysis, position)
    if not isinstance(site, queries.OriginSite) or site.origin.kind != library_refs.REF_KIND:
        return None
    line, column = analysis.positions.column(position)
    origin = site.origin
    for ref in library_refs.ref_sites(analysis.result, origin.source, origin.name):
        if ref.node is site.node and ref.id_span is not None and ref.id_span.contains(line, column):
            return RefTarget(origin.source, origin.name, analysis.positions.range(ref.id_span))
    return None


def library_position(library: Analysis, node_id: str) -> types.Position | None:
    """Where node `node_id`'s id is written in a library document."""
    parsed = library.result.syntax
    span = library_refs.library_node_id_span(parsed, node_id) if parsed else None
    return None if span is None else library.positions.position(span.line, span.column)
