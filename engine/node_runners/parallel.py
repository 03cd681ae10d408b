"""Parallel nodes: run children concurrently on their own state views, then join.

Each child runs alone (its own auto-chain edge is not followed). Public keys a
child changed merge back in listed order (a later child wins a conflict), and
every child's result lands in `_parallel_results[child] = {success, output|error}`.
`join_strategy`: `all` fails if any child failed; `any` stops (cancels) the
other children as soon as one succeeds, keeps what the finished ones wrote,
records the stopped ones as `{success: false, cancelled: true}`, and fails
only if none succeeded; `merge` never fails on a child and merges the
successful ones.
Knows nothing of how children are scheduled on threads or gated.
"""

from __future__ import annotations

from typing import Any

from engine.model import ParallelNode
from engine.node_runners.base import NodeEnv, NodeError, Place, StepResult
from engine.state import PARALLEL_RESULTS, changed_keys

JOIN_STRATEGIES = ("all", "any", "merge")


async def run_parallel(
    env: NodeEnv, node: ParallelNode, state: dict[str, Any], place: Place
) -> StepResult:
    strategy = (node.join_strategy or "all").lower()
    if strategy == "first":
        strategy = "any"
    if strategy not in JOIN_STRATEGIES:
        raise NodeError(
            f"parallel node {node.id!r}: unknown join_strategy {node.join_strategy!r} "
            f"(use {', '.join(JOIN_STRATEGIES)})"
        )
    outcomes = await env.run_children(
        node,
        node.parallel_nodes,
        state,
        (*place.parents, node.id),
        first_success=strategy == "any",
    )
    updates: dict[str, Any] = {}
    per_child: dict[str, Any] = {}
    failed: list[str] = []
    for outcome in outcomes:
        if outcome.success:
            per_child[outcome.node_id] = {"success": True, "output": outcome.output}
            for key in changed_keys(state, outcome.view):
                updates[key] = outcome.view[key]
        elif outcome.cancelled:
            per_child[outcome.node_id] = {
                "success": False,
                "cancelled": True,
                "error": outcome.error,
            }
        else:
            per_child[outcome.node_id] = {"success": False, "error": outcome.error}
            if not outcome.recovered:
                failed.append(outcome.node_id)
    parallel_results = {**(state.get(PARALLEL_RESULTS) or {}), **per_child}
    updates[PARALLEL_RESULTS] = parallel_results
    succeeded = [o.node_id for o in outcomes if o.success]
    if failed and (strategy == "all" or (strategy == "any" and not succeeded)):
        details = "; ".join(f"{o.node_id}: {o.error}" for o in outcomes if o.node_id in failed)
        error = _ParallelFailed(
            f"parallel node {node.id!r} (join_strategy {strategy}): "
            f"{len(failed)} of {len(outcomes)} branches failed: {details}"
        )
        error.updates = updates
        raise error
    return StepResult(output=per_child, updates=updates, store=False)


class _ParallelFailed(NodeError):
    updates: dict[str, Any]
