"""Validation rules of a compiled workflow; each module holds one family of rules.

`validate_workflow` runs them all and returns problems; it never raises on
user input. Knows nothing of editors or execution.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from engine.config import CompileConfig
from engine.model import AgentNode, EdgeKind, Node, NodeType, Problem, Severity, Workflow
from engine.node_builder import NODE_TYPES
from engine.node_drafts import NodeDraft
from engine.validation.context import ValidationContext, close_matches
from engine.validation.fields import check_node_fields, check_workflow_fields
from engine.validation.graph import check_graph
from engine.validation.semantics import check_node_semantics
from engine.yaml_tree import YMap


def validate_workflow(
    workflow: Workflow,
    body: YMap,
    drafts: Sequence[NodeDraft],
    lines: Sequence[str],
    config: CompileConfig,
    source: str,
) -> list[Problem]:
    ctx = ValidationContext(workflow, body, drafts, lines, config, source)
    problems: list[Problem] = list(check_workflow_fields(ctx, body))
    for node, draft in zip(workflow.nodes, drafts, strict=True):
        if not _known_type(draft):
            problems.extend(_node_type(ctx, node, draft))
        problems.extend(check_node_fields(ctx, node, draft))
        if type(node) is not AgentNode:  # the one type with no semantic rules
            problems.extend(check_node_semantics(ctx, node, draft))
    problems.extend(check_graph(ctx))
    problems.extend(_auto_chain_hints(ctx, workflow))
    return problems


def _known_type(draft: NodeDraft) -> bool:
    value = draft.fields.get("type", "agent")
    return isinstance(value, str) and value in NODE_TYPES


def _node_type(ctx: ValidationContext, node: Node, draft: NodeDraft) -> Iterator[Problem]:
    if _known_type(draft):
        return
    value = draft.fields.get("type", "agent")
    valid = ", ".join(t.value for t in NodeType)
    matches = close_matches(str(value), NODE_TYPES)
    hint = f" (did you mean '{matches[0]}'?)" if matches else ""
    span = draft.value_span("type")
    yield ctx.problem(
        "VW106",
        Severity.ERROR,
        f"unknown node type '{value}'{hint}; valid types are: {valid}.",
        span,
        node=node,
        fixes=[ctx.replace_fix(f"Change to '{m}'", span, m) for m in matches],
    )


def _auto_chain_hints(ctx: ValidationContext, workflow: Workflow) -> Iterator[Problem]:
    targets_of_branches = {
        ref.target for n in workflow.nodes for ref in n.refs if ref.kind is EdgeKind.BRANCH
    }
    for node in workflow.nodes:
        if not node.auto_chained or not node.next:
            continue
        following = node.next[0]
        if node.id in targets_of_branches:
            message = (
                f"no `next` here, so after this branch the run falls through to the next "
                f"listed node '{following}' (Victor's auto-chaining). Add `next: [...]` or "
                "`next: [__end__]` to make the path explicit."
            )
        else:
            message = f"no `next`: continues to the next listed node '{following}' (auto-chaining)."
        yield ctx.problem("VW208", Severity.HINT, message, node.id_span, node=node)


__all__ = ["CompileConfig", "validate_workflow"]
