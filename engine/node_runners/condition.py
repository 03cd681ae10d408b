"""Condition nodes: pick a branch by named condition or by expression.

A registered named condition is called with a read-only view of the state
and returns a branch key. Otherwise the text is an expression: a bool selects
`"true"`/`"false"`, another value the branch with that key, else (as Victor
reads a bare key) its truthiness selects `"true"`/`"false"` when the node has
that branch. No match falls back to `default`; without one the node fails
naming the value and branches.
Knows nothing of how expressions are parsed; `engine.expressions.branch_key`
turns a value into a branch key.
"""

from __future__ import annotations

from types import MappingProxyType
from typing import Any

from engine.expressions import branch_key
from engine.model import ConditionNode
from engine.node_runners.base import NodeEnv, NodeError, Place, StepResult


async def run_condition(
    env: NodeEnv, node: ConditionNode, state: dict[str, Any], place: Place
) -> StepResult:
    named = env.registry.conditions.get(node.condition)
    if named is not None:
        value = named(MappingProxyType(state))
        if hasattr(value, "__await__"):
            value = await value
    else:
        value = env.compiled_condition(node.condition).evaluate(state)
    key = branch_key(value)
    target = node.branch_target(key)
    if target is None and named is None and not isinstance(value, bool):
        # Victor reads a bare `key` condition as the truthiness of the key: a value that
        # names no branch still picks "true"/"false" when the node has those branches.
        truth = "true" if value else "false"
        target = node.branch_target(truth)
        if target is not None:
            key = truth
    if target is None:
        target = node.branch_target("default")
        if target is None:
            branches = ", ".join(repr(k) for k, _ in node.branches) or "none"
            raise NodeError(
                f"condition {node.condition!r} of node {node.id!r} gave {value!r}, which matches "
                f"no branch (branches: {branches}) and there is no 'default' branch"
            )
        key = "default"
    return StepResult(
        output={"condition": node.condition, "value": value, "branch": key, "target": target},
        store=False,
        routed=True,
        next_node=target,
    )
