"""Graph rules: edge targets exist, every node is reachable, no certain infinite loop.

Edges are `next` (only the first target runs), condition `branches`,
`parallel_nodes` and Victor's implicit auto-chain. Loops through condition
nodes are normal; a loop made only of unconditional edges can never end and
is an error. Knows nothing of field types or expressions.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator

from engine.model import (
    END_NODE,
    EdgeKind,
    Fix,
    Node,
    NodeRef,
    NodeType,
    Problem,
    RelatedInfo,
    Severity,
    TextEdit,
    Workflow,
)
from engine.validation.context import ValidationContext, close_matches, did_you_mean

__all__ = ["check_graph", "did_you_mean", "reachable_from_start"]

_EDGE_CODES = {EdgeKind.NEXT: "VW201", EdgeKind.BRANCH: "VW202", EdgeKind.PARALLEL: "VW203"}
_EDGE_WORDS = {
    EdgeKind.NEXT: "`next`",
    EdgeKind.BRANCH: "branch",
    EdgeKind.PARALLEL: "`parallel_nodes`",
}


def check_graph(ctx: ValidationContext) -> Iterator[Problem]:
    workflow = ctx.workflow
    if workflow is None:
        return
    known = {n.id for n in workflow.nodes}
    for node in workflow.nodes:
        first_next: NodeRef | None = None
        second_next: NodeRef | None = None
        for ref in node.refs:
            kind = ref.kind
            if kind is EdgeKind.NEXT:
                if first_next is None:
                    first_next = ref
                elif second_next is None:
                    second_next = ref
            elif kind is EdgeKind.AUTO:
                continue
            if ref.span is None or ref.target in known or ref.target == END_NODE:
                continue
            ids = [n.id for n in workflow.nodes]
            yield _unknown_target(ctx, node, ref.target, kind, ref.span, ids)
        if first_next is not None and second_next is not None and second_next.span is not None:
            yield ctx.problem(
                "VW209",
                Severity.WARNING,
                f"only the first `next` target ('{first_next.target}') runs; "
                "to run several nodes, use a parallel node.",
                second_next.span,
                node=node,
            )
    yield from _unreachable(ctx, workflow)
    yield from _infinite_loops(ctx, workflow)


def _unknown_target(
    ctx: ValidationContext, node: Node, target: str, kind: EdgeKind, span, ids: list[str]
) -> Problem:
    candidates = [i for i in ids if i != node.id]
    matches = close_matches(target, candidates)
    fixes: list[Fix] = [ctx.replace_fix(f"Change to '{m}'", span, m) for m in matches]
    create = _create_node_fix(ctx, target)
    if create is not None:
        fixes.append(create)
    return ctx.problem(
        _EDGE_CODES[kind],
        Severity.ERROR,
        f"{_EDGE_WORDS[kind]} target '{target}' is not a node of this workflow"
        f"{did_you_mean(target, candidates)}; add the node, fix the id, "
        f"or use '{END_NODE}' to end.",
        span,
        node=node,
        fixes=fixes,
    )


def _create_node_fix(ctx: ValidationContext, target: str) -> Fix | None:
    workflow = ctx.workflow
    if workflow is None or not workflow.nodes:
        return None
    last = workflow.nodes[-1]
    if last.origin is not None and last.span == last.origin.site:
        return None
    indent = " " * last.span.column
    dash = " " * max(0, last.span.column - 2)
    text = f'\n{dash}- id: {target}\n{indent}type: agent\n{indent}goal: "TODO: describe {target}"'
    span = type(last.span).point(last.span.end_line, last.span.end_column)
    return Fix(f"Create node '{target}'", (TextEdit(ctx.source, span, text),))


def reachable_from_start(workflow: Workflow) -> set[str]:
    """Node ids reachable from the start node over every edge kind."""
    seen = {workflow.start_node}
    queue = deque([workflow.start_node])
    while queue:
        node = workflow.node_index.get(queue.popleft())
        if node is None:
            continue
        for ref in node.refs:
            if ref.target not in seen and ref.target in workflow.node_index:
                seen.add(ref.target)
                queue.append(ref.target)
    return seen


def _unreachable(ctx: ValidationContext, workflow: Workflow) -> Iterator[Problem]:
    reached = reachable_from_start(workflow)
    for node in workflow.nodes:
        if node.id in reached or node.id.startswith("<node "):
            continue
        yield ctx.problem(
            "VW205",
            Severity.WARNING,
            f"node '{node.id}' is unreachable from the start node '{workflow.start_node}': "
            "no `next`, branch or parallel edge leads here. Connect it or remove it.",
            node.id_span,
            node=node,
            unnecessary=True,
        )


def _first_successor(node: Node) -> str | None:
    return node.next[0] if node.next else None


def _infinite_loops(ctx: ValidationContext, workflow: Workflow) -> Iterator[Problem]:
    """Each non-condition node has at most one successor: follow the pointers."""
    state: dict[str, int] = {}  # 1 = on the current path, 2 = done
    for start in workflow.nodes:
        if start.id in state:
            continue
        path: list[str] = []
        current: str | None = start.id
        while current is not None and current not in state:
            node = workflow.node_index.get(current)
            if node is None or node.type is NodeType.CONDITION:
                break
            state[current] = 1
            path.append(current)
            current = _first_successor(node)
        if current is not None and state.get(current) == 1:
            cycle = path[path.index(current) :]
            yield _loop_problem(ctx, workflow, cycle)
        for node_id in path:
            state[node_id] = 2


def _loop_problem(ctx: ValidationContext, workflow: Workflow, cycle: list[str]) -> Problem:
    closing = workflow.node_index[cycle[-1]]
    span = next(
        (r.span for r in closing.refs if r.kind is EdgeKind.NEXT and r.span is not None),
        closing.id_span,
    )
    related = tuple(
        RelatedInfo(f"step {i + 1}: '{node_id}'", ctx.source, workflow.node_index[node_id].id_span)
        for i, node_id in enumerate(cycle)
    )
    loop = " -> ".join([*cycle, cycle[0]])
    return ctx.problem(
        "VW206",
        Severity.ERROR,
        f"this loop never ends: {loop} has no condition node to leave it. "
        "Add a condition node on the loop, or point `next` elsewhere.",
        span,
        node=closing,
        related=related,
    )
