"""`compile(text, source=...)`: the one path from workflow text to the model.

Parses the YAML with spans, recognises the file shape (workflows map, bare
map, node library, stage library), builds each workflow (drafts, ids, types,
auto-chaining, start node, settings), then runs the validators. Never raises
on user input: every user error becomes a `Problem`. Knows nothing of
editors, terminals or execution.
"""

from __future__ import annotations

import dataclasses
import functools
import os
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from engine.config import CompileConfig
from engine.libraries import stage_library_paths
from engine.loader import ParsedYaml, parse_yaml, paused_gc
from engine.model import (
    CompileResult,
    ExecutionSettings,
    FileKind,
    Fix,
    Node,
    NodeType,
    Problem,
    RelatedInfo,
    Severity,
    SourceSpan,
    Workflow,
)
from engine.node_builder import (
    NODE_TYPES,
    ExpressionRefs,
    build_node,
    next_targets,
    node_type_of,
)
from engine.node_drafts import DraftContext, NodeDraft, build_draft
from engine.text_files import UnreadableFileError, read_text_file
from engine.yaml_tree import YEntry, YMap, YScalar, YSeq

if TYPE_CHECKING:
    from engine.expressions import Reference

_LOOKS_LIKE_WORKFLOW = re.compile(
    r"^(workflows|nodes|stage_templates|override_presets)\s*:|^\s+nodes\s*:", re.MULTILINE
)

WorkflowBody = tuple[YScalar, YMap]
_CONDITION = NodeType.CONDITION.value


def compile(text: str, *, source: str, config: CompileConfig | None = None) -> CompileResult:
    """Compile workflow text. `source` is the file path (or URI) spans refer to."""
    with paused_gc():
        return _compile(text, source, config or CompileConfig())


def _compile(text: str, source: str, config: CompileConfig) -> CompileResult:
    parsed = parse_yaml(text, source)
    problems: list[Problem] = list(parsed.problems)
    kind, bodies = _classify(parsed, text, source, problems)
    workflows: list[Workflow] = []
    dependencies: set[str] = set()
    if kind is FileKind.WORKFLOWS:
        builder = _WorkflowBuilder(parsed, source, config, problems)
        for name, body in bodies:
            workflow = builder.build(name, body)
            if workflow is not None:
                workflows.append(workflow)
        dependencies.update(builder.dependencies)
        # A repeated workflow name (VW002) keeps only its last body, as Victor's
        # loader does; the earlier body was still checked above.
        workflows = list({workflow.name: workflow for workflow in workflows}.values())
    elif kind in (FileKind.NODE_LIBRARY, FileKind.STAGE_LIBRARY) and parsed.root is not None:
        from engine.validation.libraries import check_library

        problems.extend(check_library(parsed, source))
    if workflows:
        from engine.stateflow import analyze_state_flow

        problems.extend(analyze_state_flow([w for w in workflows if w.source == source]))
    problems = _finish(problems, text, source, config)
    return CompileResult(
        source=source,
        kind=kind,
        workflows=tuple(workflows),
        problems=tuple(problems),
        dependencies=tuple(sorted(dependencies)),
        syntax=parsed,
    )


def _finish(
    problems: list[Problem], text: str, source: str, config: CompileConfig
) -> list[Problem]:
    from engine.suppressions import apply_suppressions

    disabled = {code.upper() for code in config.disabled_checks}
    kept = [p for p in problems if p.code.upper() not in disabled]
    kept = list(apply_suppressions(kept, text, source))
    kept.sort(key=lambda p: (p.span.line, p.span.column, p.code))
    unique: list[Problem] = []
    seen: set[tuple[str, SourceSpan, str]] = set()
    for problem in kept:
        key = (problem.code, problem.span, problem.message)
        if key not in seen:
            seen.add(key)
            unique.append(problem)
    return unique


def _classify(
    parsed: ParsedYaml, text: str, source: str, problems: list[Problem]
) -> tuple[FileKind, list[WorkflowBody]]:
    root = parsed.root
    if root is None:
        looks = bool(_LOOKS_LIKE_WORKFLOW.search(text)) or bool(parsed.problems)
        return (FileKind.WORKFLOWS if looks and parsed.problems else FileKind.NOT_WORKFLOW), []
    if not isinstance(root, YMap):
        return FileKind.NOT_WORKFLOW, []
    workflows = root.entry("workflows")
    if workflows is not None:
        if isinstance(workflows.value, YMap):
            return FileKind.WORKFLOWS, _bodies(workflows.value.entries, problems, source)
        problems.append(
            Problem(
                "VW109",
                Severity.ERROR,
                "`workflows` must map workflow names to workflow bodies "
                "(`workflows:` then `  my_workflow:` then `    nodes: [...]`).",
                source,
                workflows.value.span,
            )
        )
        return FileKind.WORKFLOWS, []
    if root.get("stage_templates") is not None or root.get("override_presets") is not None:
        return FileKind.STAGE_LIBRARY, []
    if isinstance(root.get("nodes"), YSeq):
        return FileKind.NODE_LIBRARY, []
    # Without a `workflows:` wrapper only a `nodes:` list marks a workflow: other
    # tools' YAML has `nodes: 3` or `nodes: {...}` (Kubernetes, Helm values).
    bare = [
        e
        for e in root.entries
        if isinstance(e.value, YMap) and isinstance(e.value.get("nodes"), YSeq)
    ]
    if bare:
        return FileKind.WORKFLOWS, _bodies(bare, problems, source)
    return FileKind.NOT_WORKFLOW, []


def _bodies(
    entries: tuple[YEntry, ...] | list[YEntry], problems: list[Problem], source: str
) -> list[WorkflowBody]:
    bodies: list[WorkflowBody] = []
    for entry in entries:
        if isinstance(entry.value, YMap):
            bodies.append((entry.key, entry.value))
        else:
            problems.append(
                Problem(
                    "VW109",
                    Severity.ERROR,
                    f"workflow '{entry.key.value}' must be a mapping with a `nodes:` list.",
                    source,
                    entry.value.span,
                    workflow=str(entry.key.value),
                )
            )
    return bodies


@functools.cache
def _expression_refs() -> ExpressionRefs | None:
    from engine import expressions

    found = getattr(expressions, "references", None)
    if not callable(found):
        return None

    @functools.lru_cache(maxsize=16384)
    def cached(text: str) -> tuple[Reference, ...]:
        return tuple(ref for ref in found(text) if ref.kind == "read")

    return cached


class _WorkflowBuilder:
    """Builds workflows of one file; shares library lookups between them."""

    def __init__(
        self, parsed: ParsedYaml, source: str, config: CompileConfig, problems: list[Problem]
    ) -> None:
        self.parsed = parsed
        self.source = source
        self.config = config
        self.problems = problems
        self.dependencies: set[str] = set()
        self.expression_refs = _expression_refs()
        stage_paths = stage_library_paths(source, config.stage_libraries)
        self.context = DraftContext(
            source=source,
            environ=config.environ if config.environ is not None else os.environ,
            workspace_root=config.workspace_root,
            stage_paths=stage_paths,
            read_file=config.read_file,
        )

    def build(self, name_key: YScalar, body: YMap) -> Workflow | None:
        name = str(name_key.value)
        local: list[Problem] = []
        nodes_entry = body.entry("nodes")
        if nodes_entry is None or not isinstance(nodes_entry.value, YSeq):
            span = nodes_entry.value.span if nodes_entry is not None else name_key.span
            local.append(
                Problem(
                    "VW107",
                    Severity.ERROR,
                    f"workflow '{name}' needs a `nodes:` list of node mappings.",
                    self.source,
                    span,
                    workflow=name,
                )
            )
            self.problems.extend(local)
            return None
        drafts = self._drafts(nodes_entry.value, name, local)
        if not drafts:
            local.append(
                Problem(
                    "VW110",
                    Severity.ERROR,
                    f"workflow '{name}' has no nodes; add at least one node under `nodes:`.",
                    self.source,
                    nodes_entry.key.span,
                    workflow=name,
                )
            )
            self.problems.extend(local)
            return None
        ids = self._ids(drafts, name, local)
        nodes = self._nodes(drafts, ids)
        start, start_span = self._start_node(body, nodes, name, local)
        workflow = Workflow(
            name=name,
            description=_text(body.get("description")),
            nodes=tuple(nodes),
            start_node=start,
            settings=_settings(body),
            metadata=_mapping(body.get("metadata")),
            source=self.source,
            span=SourceSpan(
                name_key.span.line, name_key.span.column, body.span.end_line, body.span.end_column
            ),
            name_span=name_key.span,
            start_span=start_span,
            node_index={n.id: n for n in nodes},
        )
        from engine.validation import validate_workflow

        local.extend(
            validate_workflow(workflow, body, drafts, self.parsed.lines, self.config, self.source)
        )
        sites = {draft.site for draft in drafts if draft.site is not None}
        if sites:
            local = [_without_site_fixes(problem, sites) for problem in local]
        self.problems.extend(_with_workflow(local, name))
        for draft in drafts:
            if draft.origin is not None:
                self.dependencies.add(draft.origin.source)
            elif draft.unresolved_library is not None:
                self.dependencies.add(draft.unresolved_library)
        return workflow

    def _drafts(self, nodes: YSeq, workflow: str, local: list[Problem]) -> list[NodeDraft]:
        drafts: list[NodeDraft] = []
        for item in nodes.items:
            if not isinstance(item, YMap):
                local.append(
                    Problem(
                        "VW108",
                        Severity.ERROR,
                        "each entry of `nodes` must be a mapping with at least `id` (and `type`).",
                        self.source,
                        item.span,
                        workflow=workflow,
                    )
                )
                continue
            drafts.append(build_draft(len(drafts), item, self.context, local))
        return drafts

    def _ids(self, drafts: list[NodeDraft], workflow: str, local: list[Problem]) -> list[str]:
        ids: list[str] = []
        first_seen: dict[str, NodeDraft] = {}
        for draft in drafts:
            raw = draft.fields.get("id")
            if raw is None or raw == "":
                local.append(
                    Problem(
                        "VW104",
                        Severity.ERROR,
                        "node has no `id`; add `id: <unique_name>` so other nodes can refer to it.",
                        self.source,
                        _first_line(draft.entry.span),
                        workflow=workflow,
                    )
                )
                ids.append(f"<node {draft.index + 1}>")
                continue
            node_id = str(raw)
            if not isinstance(raw, str):
                written = self._written(draft.value_spans.get("id")) or node_id
                local.append(
                    Problem(
                        "VW101",
                        Severity.WARNING,
                        f"node id {written} is a YAML {type(raw).__name__}, not a string; "
                        f'quote it (`id: "{written}"`).',
                        self.source,
                        draft.value_span("id"),
                        workflow=workflow,
                        node=node_id,
                    )
                )
            previous = first_seen.get(node_id)
            if previous is not None:
                local.append(
                    Problem(
                        "VW105",
                        Severity.ERROR,
                        f"duplicate node id '{node_id}': Victor silently keeps only the last one; "
                        "rename one of them.",
                        self.source,
                        draft.value_span("id"),
                        workflow=workflow,
                        node=node_id,
                        related=(
                            RelatedInfo(
                                "first node with this id", self.source, previous.value_span("id")
                            ),
                        ),
                    )
                )
            else:
                first_seen[node_id] = draft
            ids.append(node_id)
        return ids

    def _written(self, span: SourceSpan | None) -> str | None:
        """A one-line value's text as the file spells it (`yes`, not Python's `True`)."""
        lines = self.parsed.lines
        if span is None or span.line != span.end_line or span.line >= len(lines):
            return None
        return lines[span.line][span.column : span.end_column] or None

    def _nodes(self, drafts: list[NodeDraft], ids: list[str]) -> list[Node]:
        nodes: list[Node] = []
        last = len(drafts) - 1
        for i, draft in enumerate(drafts):
            written = next_targets(draft.fields.get("next"))
            is_condition = node_type_of(draft.fields) == _CONDITION
            auto = not written and not is_condition and i < last
            effective = (ids[i + 1],) if auto else written
            nodes.append(
                build_node(
                    draft,
                    ids[i],
                    draft.value_span("id")
                    if "id" in draft.fields
                    else _first_line(draft.entry.span),
                    effective,
                    auto,
                    ids[i + 1] if auto else None,
                    self.parsed.lines,
                    self.expression_refs,
                )
            )
        return nodes

    def _start_node(
        self, body: YMap, nodes: list[Node], workflow: str, local: list[Problem]
    ) -> tuple[str, SourceSpan | None]:
        for key in ("start_node", "entry_point"):
            entry = body.entry(key)
            if entry is None or not isinstance(entry.value, YScalar):
                continue
            value = str(entry.value.value)
            if any(n.id == value for n in nodes):
                return value, entry.value.span
            from engine.validation.graph import did_you_mean

            local.append(
                Problem(
                    "VW204",
                    Severity.ERROR,
                    f"`{key}` names '{value}', which is not a node of this workflow"
                    f"{did_you_mean(value, [n.id for n in nodes])}.",
                    self.source,
                    entry.value.span,
                    workflow=workflow,
                )
            )
        return nodes[0].id, None


def _without_site_fixes(problem: Problem, sites: set[SourceSpan]) -> Problem:
    """A problem of a library field is shown at its `$ref`/`stage:` site; a fix
    built for the field would rewrite that reference instead, so it is dropped."""

    def rewrites_a_site(fix: Fix) -> bool:
        return any(
            edit.source == problem.source and any(edit.span.overlaps(site) for site in sites)
            for edit in fix.edits
        )

    if not any(rewrites_a_site(fix) for fix in problem.fixes):
        return problem
    kept = tuple(fix for fix in problem.fixes if not rewrites_a_site(fix))
    return dataclasses.replace(problem, fixes=kept)


def _with_workflow(problems: list[Problem], workflow: str) -> list[Problem]:
    import dataclasses

    return [p if p.workflow else dataclasses.replace(p, workflow=workflow) for p in problems]


def _first_line(span: SourceSpan) -> SourceSpan:
    return SourceSpan(span.line, span.column, span.line, span.column + 1)


def _text(node: Any) -> str:
    if isinstance(node, YScalar) and node.value is not None:
        return str(node.value)
    return ""


def _mapping(node: Any) -> dict[str, Any]:
    if isinstance(node, YMap):
        return node.to_python()
    return {}


def _number(table: dict[str, Any], *keys: str) -> float | None:
    for key in keys:
        value = table.get(key)
        if isinstance(value, int | float) and not isinstance(value, bool):
            return float(value)
    return None


def _settings(body: YMap) -> ExecutionSettings:
    top = {str(e.key.value): e.value.to_python() for e in body.entries if e.key.value != "nodes"}
    raw_execution = top.get("execution")
    execution: dict[str, Any] = raw_execution if isinstance(raw_execution, dict) else {}
    merged = {**{k: v for k, v in top.items() if k != "nodes"}, **execution}
    defaults = ExecutionSettings()
    max_iterations = _number(merged, "max_iterations")
    max_retries = _number(merged, "max_retries")
    depth = _number(merged, "max_recursion_depth")
    visits = _number(merged, "node_visit_limit", "recursion_limit")
    return ExecutionSettings(
        max_iterations=int(max_iterations) if max_iterations else defaults.max_iterations,
        timeout=_number(merged, "timeout", "max_execution_timeout_seconds"),
        default_node_timeout=_number(
            merged, "default_node_timeout", "default_node_timeout_seconds"
        ),
        max_retries=int(max_retries) if max_retries is not None else defaults.max_retries,
        max_recursion_depth=int(depth) if depth else defaults.max_recursion_depth,
        node_visit_limit=int(visits) if visits else defaults.node_visit_limit,
    )


def compile_file(path: str | Path, config: CompileConfig | None = None) -> CompileResult:
    """Read and compile a file; an unreadable file becomes a problem, not an exception."""
    source = str(path)
    try:
        text = read_text_file(path)
    except UnreadableFileError as exc:
        return CompileResult(
            source=source,
            kind=FileKind.WORKFLOWS,
            problems=(
                Problem(
                    "VW000",
                    Severity.ERROR,
                    f"cannot read the file: {exc.reason}",
                    source,
                    SourceSpan.point(exc.line, exc.column),
                ),
            ),
        )
    return compile(text, source=source, config=config)


__all__ = ["NODE_TYPES", "compile", "compile_file"]
