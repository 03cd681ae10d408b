"""Engine values -> LSP values: diagnostics, symbols, locations, folding, selection.

Pure functions of an `Analysis` (or engine values plus a `PositionMap`); no
server state, no domain decisions.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path

from lsprotocol import types
from pygls import uris

from engine.model import FileKind, Fix, Problem, Severity, SourceSpan
from engine.yaml_tree import YMap, YNode, YScalar, YSeq, path_at
from victor_lsp.documents import Analysis
from victor_lsp.positions import PositionMap

SOURCE_NAME = "victor"

_SEVERITY = {
    Severity.ERROR: types.DiagnosticSeverity.Error,
    Severity.WARNING: types.DiagnosticSeverity.Warning,
    Severity.INFORMATION: types.DiagnosticSeverity.Information,
    Severity.HINT: types.DiagnosticSeverity.Hint,
}

PositionsFor = Callable[[str], PositionMap | None]
"""A path -> the position map of that file's text (open buffer or disk), if known."""


def path_to_uri(path: str) -> str:
    if "://" in path:
        return path
    return uris.from_fs_path(path) or path


def uri_to_path(uri: str) -> str:
    return uris.to_fs_path(uri) or uri


def span_range(span: SourceSpan, positions: PositionMap | None) -> types.Range:
    if positions is None:  # a file we have not read: code points are the best guess
        return types.Range(
            types.Position(span.line, span.column), types.Position(span.end_line, span.end_column)
        )
    return positions.range(span)


def diagnostic(
    problem: Problem, analysis: Analysis, positions_for: PositionsFor
) -> types.Diagnostic:
    related = [
        types.DiagnosticRelatedInformation(
            location=types.Location(
                uri=path_to_uri(info.source),
                range=span_range(info.span, _positions(info.source, analysis, positions_for)),
            ),
            message=info.message,
        )
        for info in problem.related
    ]
    tags = [types.DiagnosticTag.Unnecessary] if problem.unnecessary else None
    return types.Diagnostic(
        range=span_range(problem.span, analysis.positions),
        message=problem.message,
        severity=_SEVERITY[problem.severity],
        code=problem.code,
        source=SOURCE_NAME,
        related_information=related or None,
        tags=tags,
        data={"fixes": len(problem.fixes)} if problem.fixes else None,
    )


def _positions(path: str, analysis: Analysis, positions_for: PositionsFor) -> PositionMap | None:
    if path == analysis.path:
        return analysis.positions
    return positions_for(path)


def diagnostics(analysis: Analysis, positions_for: PositionsFor) -> list[types.Diagnostic]:
    """Diagnostics for the problems located in this document."""
    return [
        diagnostic(p, analysis, positions_for)
        for p in analysis.problems
        if p.source == analysis.path
    ]


def workspace_edit(
    fix: Fix, analysis: Analysis, positions_for: PositionsFor
) -> types.WorkspaceEdit:
    changes: dict[str, list[types.TextEdit]] = {}
    for edit in fix.edits:
        positions = _positions(edit.source, analysis, positions_for)
        changes.setdefault(path_to_uri(edit.source), []).append(
            types.TextEdit(range=span_range(edit.span, positions), new_text=edit.new_text)
        )
    return types.WorkspaceEdit(changes=changes)


def document_symbols(analysis: Analysis) -> list[types.DocumentSymbol]:
    """Workflows -> nodes (type as detail); libraries -> their nodes/templates."""
    positions = analysis.positions
    symbols = []
    for workflow in analysis.result.workflows:
        if workflow.source != analysis.path:
            continue
        children = [
            types.DocumentSymbol(
                name=node.id,
                detail=node.type.value,
                kind=types.SymbolKind.Function,
                range=positions.range(node.span),
                selection_range=positions.range(node.id_span),
            )
            for node in workflow.nodes
            if node.span.line >= workflow.span.line
        ]
        symbols.append(
            types.DocumentSymbol(
                name=workflow.name,
                detail=workflow.description.splitlines()[0] if workflow.description else "workflow",
                kind=types.SymbolKind.Class,
                range=positions.range(_enclose(workflow.span, workflow.name_span)),
                selection_range=positions.range(workflow.name_span),
                children=children,
            )
        )
    if not symbols and analysis.root is not None:
        symbols.extend(_library_symbols(analysis.root, positions))
    return symbols


def _enclose(outer: SourceSpan, inner: SourceSpan) -> SourceSpan:
    start = min((outer.line, outer.column), (inner.line, inner.column))
    end = max((outer.end_line, outer.end_column), (inner.end_line, inner.end_column))
    return SourceSpan(start[0], start[1], end[0], end[1])


def _library_symbols(root: YNode, positions: PositionMap) -> list[types.DocumentSymbol]:
    if not isinstance(root, YMap):
        return []
    symbols = []
    nodes = root.get("nodes")
    if isinstance(nodes, YSeq):
        for item in nodes.items:
            if isinstance(item, YMap) and isinstance(ident := item.get("id"), YScalar):
                kind = item.get("type")
                symbols.append(
                    types.DocumentSymbol(
                        name=str(ident.value),
                        detail=str(kind.value) if isinstance(kind, YScalar) else "agent",
                        kind=types.SymbolKind.Function,
                        range=positions.range(item.span),
                        selection_range=positions.range(ident.span),
                    )
                )
    for section in ("stage_templates", "override_presets"):
        templates = root.get(section)
        if isinstance(templates, YMap):
            for entry in templates.entries:
                symbols.append(
                    types.DocumentSymbol(
                        name=str(entry.key.value),
                        detail=section.rstrip("s").replace("_", " "),
                        kind=types.SymbolKind.Module,
                        range=positions.range(_enclose(entry.value.span, entry.key.span)),
                        selection_range=positions.range(entry.key.span),
                    )
                )
    return symbols


def workspace_symbols(analyses: Iterable[Analysis], query: str) -> list[types.WorkspaceSymbol]:
    wanted = query.lower()
    found = []
    for analysis in analyses:
        if analysis.result.kind in (FileKind.NODE_LIBRARY, FileKind.STAGE_LIBRARY):
            found.extend(_library_workspace_symbols(analysis, wanted))
            continue
        for workflow in analysis.result.workflows:
            if workflow.source != analysis.path:
                continue
            if wanted in workflow.name.lower():
                found.append(
                    _workspace_symbol(
                        workflow.name, types.SymbolKind.Class, analysis, workflow.name_span, None
                    )
                )
            for node in workflow.nodes:
                if wanted in node.id.lower():
                    found.append(
                        _workspace_symbol(
                            node.id,
                            types.SymbolKind.Function,
                            analysis,
                            node.id_span,
                            workflow.name,
                        )
                    )
    return found


def _library_workspace_symbols(analysis: Analysis, wanted: str) -> list[types.WorkspaceSymbol]:
    """Library nodes and templates, named by the file that holds them."""
    if analysis.root is None:
        return []
    container = Path(analysis.path).name
    return [
        types.WorkspaceSymbol(
            name=symbol.name,
            kind=symbol.kind,
            location=types.Location(uri=analysis.uri, range=symbol.selection_range),
            container_name=container,
        )
        for symbol in _library_symbols(analysis.root, analysis.positions)
        if wanted in symbol.name.lower()
    ]


def _workspace_symbol(
    name: str, kind: types.SymbolKind, analysis: Analysis, span: SourceSpan, container: str | None
) -> types.WorkspaceSymbol:
    return types.WorkspaceSymbol(
        name=name,
        kind=kind,
        location=types.Location(uri=analysis.uri, range=analysis.positions.range(span)),
        container_name=container,
    )


def folding_ranges(root: YNode | None) -> list[types.FoldingRange]:
    """A range for every multi-line mapping value and list item."""
    if root is None:
        return []
    ranges: list[types.FoldingRange] = []
    stack: list[YNode] = [root]
    seen: set[int] = set()
    while stack:
        node = stack.pop()
        if isinstance(node, YMap):
            for entry in node.entries:
                value = entry.value
                end = _last_line(value)
                if end > entry.key.span.line and entry.key.span.line not in seen:
                    seen.add(entry.key.span.line)
                    ranges.append(types.FoldingRange(start_line=entry.key.span.line, end_line=end))
                stack.append(value)
        elif isinstance(node, YSeq):
            for item in node.items:
                end = _last_line(item)
                if end > item.span.line and item.span.line not in seen:
                    seen.add(item.span.line)
                    ranges.append(types.FoldingRange(start_line=item.span.line, end_line=end))
                stack.append(item)
    return sorted(ranges, key=lambda r: r.start_line)


def _last_line(node: YNode) -> int:
    span = node.span
    # A block ending at column 0 ends on the previous line (the span includes the newline).
    return (
        span.end_line - 1 if span.end_column == 0 and span.end_line > span.line else span.end_line
    )


def selection_range(
    root: YNode | None, positions: PositionMap, line: int, column: int
) -> types.SelectionRange:
    """Innermost-first chain of the YAML structures around a position."""
    chain: list[SourceSpan] = []
    if root is not None:
        for step in path_at(root, line, column):
            span = _trimmed(step.span if not hasattr(step, "key") else _entry_span(step))
            if not chain or chain[-1] != span:
                chain.append(span)
    selection: types.SelectionRange | None = None
    for span in chain:
        selection = types.SelectionRange(range=positions.range(span), parent=selection)
    if selection is None:
        point = positions.position(line, column)
        return types.SelectionRange(range=types.Range(point, point))
    return selection


def _entry_span(entry: object) -> SourceSpan:
    key = entry.key.span  # type: ignore[attr-defined]
    value = entry.value.span  # type: ignore[attr-defined]
    return SourceSpan(key.line, key.column, value.end_line, value.end_column)


def _trimmed(span: SourceSpan) -> SourceSpan:
    return span


def severity_of(problem: Problem) -> types.DiagnosticSeverity:
    return _SEVERITY[problem.severity]
