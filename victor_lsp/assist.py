"""Hover, completion, code actions, code lenses and inlay hints: engine -> LSP.

Schema docs come from `engine.schema_docs`, positions and symbols from
`engine.queries`, fixes from `Problem.fixes`. History statistics arrive as a
plain mapping (see `victor_lsp.history_stats`) so nothing here blocks.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from typing import Any

from lsprotocol import types

from engine import library_refs, queries
from engine.config import RegistryNames
from engine.loader import parse_yaml
from engine.model import END_NODE, FileKind, Node, Workflow
from victor_lsp.convert import PositionsFor, diagnostic, path_to_uri, span_range, workspace_edit
from victor_lsp.documents import Analysis
from victor_lsp.history_stats import NodeStats, WorkflowStats
from victor_lsp.positions import PositionMap
from victor_lsp.text_sync import lsp_lines

# --- hover ---------------------------------------------------------------------------


def hover(
    analysis: Analysis,
    position: types.Position,
    history: Mapping[str, WorkflowStats],
) -> types.Hover | None:
    line, column = analysis.positions.column(position)
    site = queries.site_at(analysis.result, line, column)
    text: str | None = None
    if isinstance(site, queries.NodeRefSite):
        text = _node_ref_markdown(site.workflow, site.ref.target, site.target)
    elif isinstance(site, queries.StartNodeSite):
        text = _node_ref_markdown(site.workflow, site.target_id, site.target)
    elif isinstance(site, queries.NodeIdSite):
        text = _node_markdown(site.workflow, site.node) + _history_markdown(
            history.get(site.workflow.name), site.node.id
        )
    elif isinstance(site, queries.StateKeySite):
        text = _state_key_markdown(site.workflow, site.read.key)
    elif isinstance(site, queries.OutputSite):
        text = _state_key_markdown(site.workflow, site.key)
    elif isinstance(site, queries.OriginSite):
        origin = site.origin
        text = f"**{origin.kind}** `{origin.name}` from `{origin.source}`"
    elif isinstance(site, queries.FieldKeySite):
        text = _field_doc(site.node.type.value, site.key)
    elif site is None and analysis.result.kind in (FileKind.NODE_LIBRARY, FileKind.STAGE_LIBRARY):
        return _library_key_hover(analysis, line, column)
    if text is None:
        return None
    assert site is not None
    return types.Hover(
        contents=types.MarkupContent(kind=types.MarkupKind.Markdown, value=text),
        range=analysis.positions.range(site.span),
    )


def _library_key_hover(analysis: Analysis, line: int, column: int) -> types.Hover | None:
    """Field docs on a key of a library node or stage template (no workflow compiled)."""
    found = queries.block_key_at(analysis.text, line, column)
    text = _field_doc(found.node_type.value, found.key) if found is not None else None
    if found is None or text is None:
        return None
    return types.Hover(
        contents=types.MarkupContent(kind=types.MarkupKind.Markdown, value=text),
        range=analysis.positions.range(found.span),
    )


def _field_doc(node_type: str, key: str) -> str | None:
    try:
        from engine.schema_docs import field_doc, node_type_doc
    except ImportError:
        return None
    return (
        field_doc(node_type, key)
        if key != "type"
        else (field_doc(node_type, key) or node_type_doc(node_type))
    )


def _node_markdown(workflow: Workflow, node: Node) -> str:
    lines = [f"**{node.id}** — `{node.type.value}` node of workflow `{workflow.name}`"]
    if node.description:
        lines.append("")
        lines.append(node.description.strip())
    lines.append("")
    lines.extend(f"- {edge}" for edge in queries.edge_summary(workflow, node))
    writes = [w.key for w in queries.node_writes(node)]
    if writes:
        lines.append(f"- writes state: {', '.join(f'`{k}`' for k in writes)}")
    incoming = queries.incoming_refs(workflow, node.id)
    if incoming:
        lines.append(f"- reached from: {', '.join(f'`{n.id}`' for n, _ in incoming)}")
    elif node.id == workflow.start_node:
        lines.append("- start node")
    return "\n".join(lines)


def _node_ref_markdown(workflow: Workflow, target_id: str, target: Node | None) -> str:
    if target_id == END_NODE:
        return f"`{END_NODE}`: ends the run"
    if target is None:
        return f"`{target_id}`: no such node in workflow `{workflow.name}`"
    return _node_markdown(workflow, target)


def _state_key_markdown(workflow: Workflow, key: str) -> str:
    writers = queries.state_writers(workflow, key)
    readers = queries.state_readers(workflow, key)
    lines = [f"**state key** `{key}`"]
    if writers:
        lines.append("- written by: " + ", ".join(f"`{w.node.id}`" for w in writers))
    elif key in queries.declared_inputs(workflow):
        lines.append("- a declared run input")
    else:
        lines.append("- written by no node: pass it in the run context (`--context`)")
    if readers:
        names = list(dict.fromkeys(n.id for n, _ in readers))
        lines.append("- read by: " + ", ".join(f"`{n}`" for n in names))
    return "\n".join(lines)


def _history_markdown(stats: WorkflowStats | None, node_id: str) -> str:
    if stats is None:
        return ""
    node: NodeStats | None = stats.nodes.get(node_id)
    if node is None or node.runs == 0:
        return ""
    return (
        f"\n\n**Last runs** ({node.runs}): success {node.success_rate:.0%}, "
        f"average {_duration(node.avg_duration)}"
    )


def _duration(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms" if seconds < 1 else f"{seconds:.1f} s"


# --- completion --------------------------------------------------------------------

MAX_ITEMS = 300
"""Beyond this the list is marked incomplete and the client asks again as the user types."""

_SNIPPET_LINES: dict[str, tuple[str, ...]] = {
    "agent": (
        "id: ${1:node_id}",
        "type: agent",
        "role: ${2:executor}",
        'goal: "${3:What to do}"',
        "tool_budget: ${4:15}",
        "output: ${5:result}",
    ),
    "compute": (
        "id: ${1:node_id}",
        "type: compute",
        "handler: ${2:handler}",
        "inputs:",
        "  ${3:param}: \\$ctx.${4:key}",
        "output: ${5:result}",
    ),
    "condition": (
        "id: ${1:node_id}",
        "type: condition",
        'condition: "${2:expression}"',
        "branches:",
        '  "true": ${3:next_node}',
        '  "false": ${4:other_node}',
    ),
    "parallel": (
        "id: ${1:node_id}",
        "type: parallel",
        "parallel_nodes: [${2:a}, ${3:b}]",
        "join_strategy: all",
        "next: [${4:after}]",
    ),
    "transform": ("id: ${1:node_id}", "type: transform", "transform: |", "  ${2:key} = ${3:value}"),
    "hitl": (
        "id: ${1:node_id}",
        "type: hitl",
        "hitl_type: ${2:approval}",
        'prompt: "${3:Approve?}"',
        "context_keys: [${4:key}]",
        "timeout: 300",
        "fallback: abort",
    ),
    "team": (
        "id: ${1:node_id}",
        "type: team",
        'goal: "${2:Team goal}"',
        "team_formation: sequential",
        "members:",
        "  - id: ${3:member}",
        "    role: ${4:researcher}",
        '    goal: "${5:Member goal}"',
    ),
}
_SNIPPETS = {kind: "\n".join(lines) for kind, lines in _SNIPPET_LINES.items()}


def completion(
    analysis: Analysis,
    current_text: str,
    position: types.Position,
    registry: RegistryNames | None,
) -> types.CompletionList | None:
    """Completion from the cursor context; `analysis` may be the last good parse."""

    positions = PositionMap(current_text, analysis.positions.encoding)
    line, column = positions.column(position)
    context = queries.completion_context(current_text, line, column)
    if context is None:
        return None
    start = positions.position(line, context.replace_from)
    replace = types.Range(start=start, end=position)
    workflow = _workflow_for(analysis, line, context.node_id)
    items: list[types.CompletionItem]
    if context.kind is queries.CompletionKind.STATE_KEY:
        items = _state_key_items(workflow)
    elif context.kind is queries.CompletionKind.NODE_ID:
        items = _node_id_items(workflow, context.node_id, context.field)
    elif context.kind is queries.CompletionKind.NODE_KEY:
        items = _key_items(
            context.node_type.value if context.node_type else "agent", context.present_keys
        )
    elif context.kind is queries.CompletionKind.NODE_VALUE:
        items = _value_items(
            context.node_type.value if context.node_type else "agent", context.field or "", registry
        )
    else:
        items = _snippet_items(context.indent, "- " if context.needs_dash else "")
    prefix = context.prefix.lower()
    if prefix:
        items = [i for i in items if (i.filter_text or i.label).lower().startswith(prefix)]
    incomplete = len(items) > MAX_ITEMS
    items = items[:MAX_ITEMS]
    for item in items:
        item.text_edit = types.TextEdit(range=replace, new_text=item.insert_text or item.label)
        item.insert_text = None
    return types.CompletionList(is_incomplete=incomplete, items=items)


def _workflow_for(analysis: Analysis, line: int, node_id: str | None) -> Workflow | None:
    workflows = [wf for wf in analysis.result.workflows if wf.source == analysis.path]
    if node_id is not None:
        for wf in workflows:
            if wf.has_node(node_id) and wf.span.contains_line(line):
                return wf
        for wf in workflows:
            if wf.has_node(node_id):
                return wf
    for wf in workflows:
        if wf.span.contains_line(line):
            return wf
    return workflows[0] if len(workflows) == 1 else None


def _state_key_items(workflow: Workflow | None) -> list[types.CompletionItem]:
    if workflow is None:
        return []
    items = []
    for key, writers in sorted(queries.known_state_keys(workflow).items()):
        detail = "written by " + ", ".join(w.id for w in writers) if writers else "run input"
        items.append(
            types.CompletionItem(label=key, kind=types.CompletionItemKind.Variable, detail=detail)
        )
    return items


def _node_id_items(
    workflow: Workflow | None, own_id: str | None, field: str | None
) -> list[types.CompletionItem]:
    if workflow is None:
        return []
    items = [
        types.CompletionItem(
            label=node.id,
            kind=types.CompletionItemKind.Reference,
            detail=node.type.value,
            documentation=node.description or None,
            sort_text=f"{node.index:05d}",
        )
        for node in workflow.nodes
        if node.id != own_id or field == "start_node"
    ]
    if field in ("next", "branches"):
        items.append(
            types.CompletionItem(
                label=END_NODE,
                kind=types.CompletionItemKind.Constant,
                detail="end the run",
                sort_text="99999",
            )
        )
    return items


def _key_items(node_type: str, present: frozenset[str]) -> list[types.CompletionItem]:
    try:
        from engine.schema_docs import node_fields
    except ImportError:
        return []
    items = []
    for name, spec in node_fields(node_type).items():
        if name in present or spec.ignored or spec.deprecated:
            continue
        items.append(
            types.CompletionItem(
                label=name,
                kind=types.CompletionItemKind.Property,
                detail=" | ".join(spec.json_types) or None,
                documentation=types.MarkupContent(
                    kind=types.MarkupKind.Markdown, value=spec.markdown or spec.description
                ),
                insert_text=f"{name}: ",
            )
        )
    return items


def _value_items(
    node_type: str, field: str, registry: RegistryNames | None
) -> list[types.CompletionItem]:
    names: frozenset[str] = frozenset()
    if registry is not None:
        names = {
            "handler": registry.handlers,
            "condition": registry.conditions,
            "transform": registry.transforms,
            "tools": registry.tools,
        }.get(field, frozenset())
    if names:
        return [
            types.CompletionItem(
                label=n, kind=types.CompletionItemKind.Function, detail=f"registered {field}"
            )
            for n in sorted(names)
        ]
    if field == "type":
        try:
            from engine.schema_docs import node_type_doc, node_types
        except ImportError:
            return []
        return [
            types.CompletionItem(
                label=t,
                kind=types.CompletionItemKind.EnumMember,
                documentation=types.MarkupContent(
                    kind=types.MarkupKind.Markdown, value=node_type_doc(t)
                ),
            )
            for t in node_types()
        ]
    try:
        from engine.schema_docs import node_fields
    except ImportError:
        return []
    spec = node_fields(node_type).get(field)
    values = (spec.enum or spec.item_enum) if spec is not None else None
    if not values:
        return []
    return [
        types.CompletionItem(
            label=str(v).lower() if isinstance(v, bool) else str(v),
            kind=types.CompletionItemKind.EnumMember,
            documentation=(spec.enum_docs.get(str(v)) if spec is not None else None) or None,
        )
        for v in values
    ]


def _snippet_items(indent: int, dash: str = "") -> list[types.CompletionItem]:
    pad = "\n" + " " * indent
    return [
        types.CompletionItem(
            label=f"{kind} node",
            kind=types.CompletionItemKind.Snippet,
            insert_text_format=types.InsertTextFormat.Snippet,
            insert_text=dash + body.replace("\n", pad),
            detail=f"new {kind} node",
            filter_text="id",
        )
        for kind, body in _SNIPPETS.items()
    ]


# --- code actions ------------------------------------------------------------------


def code_actions(
    analysis: Analysis, params: types.CodeActionParams, positions_for: PositionsFor
) -> list[types.CodeAction]:
    wanted = params.range
    actions: list[types.CodeAction] = []
    for problem in analysis.problems:
        if not problem.fixes or problem.source != analysis.path:
            continue
        diag = diagnostic(problem, analysis, positions_for)
        if not _overlaps(diag.range, wanted):
            continue
        for fix in problem.fixes:
            actions.append(
                types.CodeAction(
                    title=fix.title,
                    kind=types.CodeActionKind.QuickFix,
                    diagnostics=[diag],
                    is_preferred=fix.preferred or None,
                    edit=workspace_edit(fix, analysis, positions_for),
                )
            )
    extract = _extract_action(analysis, wanted, positions_for)
    if extract is not None:
        actions.append(extract)
    return actions


def _overlaps(a: types.Range, b: types.Range) -> bool:
    def key(p: types.Position) -> tuple[int, int]:
        return (p.line, p.character)

    return key(a.start) <= key(b.end) and key(b.start) <= key(a.end)


def _extract_action(
    analysis: Analysis, wanted: types.Range, positions_for: PositionsFor
) -> types.CodeAction | None:
    """ "Extract to node library": move the node under the cursor to `<file>.nodes.yaml`,
    creating it or appending to its `nodes:` list, and leave a `$ref` in its place."""
    line, _ = analysis.positions.column(wanted.start)
    found = queries.node_at_line(analysis.result, line)
    if found is None:
        return None
    workflow, node = found
    if node.origin is not None:
        return None
    lines = lsp_lines(analysis.text)
    span = node.span
    first = lines[span.line]
    dash = first.find("-", 0, span.column + 1)
    if dash == -1 or first[:dash].strip():
        return None
    base, _ = os.path.splitext(analysis.path)
    library = f"{base}.nodes.yaml"
    existing = positions_for(library)
    library_text = existing.text if existing is not None else ""
    insertion = library_refs.library_insertion(parse_yaml(library_text, library), library_text)
    if insertion is None or node.id in insertion.existing_ids:
        return None  # the library cannot take the node in place (or already has its id)
    end_line = span.end_line if span.end_column > 0 else span.end_line - 1
    end_line = min(end_line, len(lines) - 1)
    block = lines[span.line : end_line + 1]
    indent = " " * dash
    dedented = "".join(ln[dash:] if ln.startswith(indent) else ln.lstrip(" ") for ln in block)
    pad = " " * insertion.indent
    content = insertion.header + "".join(
        pad + ln if ln.strip() else ln for ln in lsp_lines(dedented)
    )
    if not content.endswith("\n"):
        content += "\n"
    # each file keeps its own line endings (a new library takes the workflow's)
    workflow_eol = _line_ending(analysis.text)
    content = _LINE_BREAK.sub(_line_ending(library_text, workflow_eol), content)
    library_uri = path_to_uri(library)
    ref = f'{indent}- $ref: "./{os.path.basename(library)}#{node.id}"{workflow_eol}'
    whole = types.Range(
        start=types.Position(line=span.line, character=0),
        end=types.Position(line=end_line + 1, character=0),
    )
    at = types.Position(line=insertion.line, character=0)
    if insertion.header == "\n":  # the library's last line has no newline: append to it
        last = library_text.split("\n")[-1]
        at = (existing or PositionMap(library_text, analysis.positions.encoding)).position(
            insertion.line - 1, len(last)
        )
    changes: list[
        types.TextDocumentEdit | types.CreateFile | types.RenameFile | types.DeleteFile
    ] = []
    if existing is None:
        changes.append(
            types.CreateFile(
                uri=library_uri, options=types.CreateFileOptions(ignore_if_exists=True)
            )
        )
    changes.append(
        types.TextDocumentEdit(
            text_document=types.OptionalVersionedTextDocumentIdentifier(
                uri=library_uri, version=None
            ),
            edits=[types.TextEdit(range=types.Range(at, at), new_text=content)],
        )
    )
    changes.append(
        types.TextDocumentEdit(
            text_document=types.OptionalVersionedTextDocumentIdentifier(
                uri=analysis.uri, version=analysis.version
            ),
            edits=[types.TextEdit(range=whole, new_text=ref)],
        )
    )
    return types.CodeAction(
        title=f"Extract node '{node.id}' to node library {os.path.basename(library)}",
        kind=types.CodeActionKind.RefactorExtract,
        edit=types.WorkspaceEdit(document_changes=changes),
        data={"workflow": workflow.name},
    )


_LINE_BREAK = re.compile(r"\r\n|\r|\n")


def _line_ending(text: str, default: str = "\n") -> str:
    """The text's line break (its first one), or `default` when it has none."""
    found = _LINE_BREAK.search(text)
    return found.group(0) if found else default


# --- code lens and inlay hints -----------------------------------------------------

LENS_COMMANDS = (
    ("▶ Run", "victor.runWorkflow"),
    ("Debug", "victor.debugWorkflow"),
    ("Trace", "victor.traceWorkflow"),
)


def code_lenses(analysis: Analysis) -> list[types.CodeLens]:
    lenses = []
    for workflow in analysis.result.workflows:
        if workflow.source != analysis.path:
            continue
        where = analysis.positions.range(workflow.name_span)
        for title, command in LENS_COMMANDS:
            lenses.append(
                types.CodeLens(
                    range=where,
                    command=types.Command(
                        title=title, command=command, arguments=[analysis.uri, workflow.name]
                    ),
                )
            )
    return lenses


def inlay_hints(
    analysis: Analysis, wanted: types.Range, history: Mapping[str, WorkflowStats]
) -> list[types.InlayHint]:
    hints = []
    for workflow in analysis.result.workflows:
        stats = history.get(workflow.name)
        if stats is None or workflow.source != analysis.path:
            continue
        for node in workflow.nodes:
            node_stats = stats.nodes.get(node.id)
            if node_stats is None or node_stats.runs == 0:
                continue
            if not (wanted.start.line <= node.id_span.line <= wanted.end.line):
                continue
            hints.append(
                types.InlayHint(
                    position=analysis.positions.position(
                        node.id_span.end_line, node.id_span.end_column
                    ),
                    label=f" avg {_duration(node_stats.avg_duration)} · {node_stats.runs} runs",
                    kind=None,
                    padding_left=True,
                )
            )
    return hints


def to_json(value: Any) -> str:
    return json.dumps(value, default=str)


__all__ = [
    "code_actions",
    "code_lenses",
    "completion",
    "hover",
    "inlay_hints",
    "span_range",
]
