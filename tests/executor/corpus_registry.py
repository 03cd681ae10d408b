"""Test registry for running the real corpus offline: stub handlers, tools and transforms,
and named conditions that pick a branch read from the workflow itself."""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from typing import Any

from engine.model import ComputeNode, ConditionNode, TransformNode, Workflow
from engine.registry import Registry


def _stub_handler(node: Any, context: Any, tools: Any) -> dict[str, Any]:
    return {"handler": node.handler, "inputs": dict(context.inputs), "success": True}


def _stub_tool(inputs: Mapping[str, Any], context: Any) -> dict[str, Any]:
    return {"ok": True, "inputs": dict(inputs)}


def _stub_transform(state: Mapping[str, Any]) -> dict[str, Any]:
    return {}


def forward_branch(workflow: Workflow, node: ConditionNode) -> str:
    """The first branch key whose target lies after the condition (else the first key)."""
    for key, target in node.branches:
        if target == "__end__" or (
            workflow.has_node(target) and workflow.node(target).index > node.index
        ):
            return key
    return node.branches[0][0] if node.branches else "default"


def corpus_registry(workflows: list[Workflow]) -> Registry:
    handlers: dict[str, Any] = {}
    conditions: dict[str, Any] = {}
    transforms: dict[str, Any] = {}
    tools: dict[str, Any] = {"shell": _stub_tool, "read": _stub_tool, "write": _stub_tool}
    from engine.expressions import ExpressionError, compile_expression

    for workflow in workflows:
        for node in workflow.nodes:
            if isinstance(node, ComputeNode) and node.handler:
                handlers[node.handler] = _stub_handler
            if isinstance(node, ComputeNode):
                tools.update({name: _stub_tool for name in node.tools})
            if isinstance(node, ConditionNode) and node.condition.isidentifier():
                key = forward_branch(workflow, node)
                conditions.setdefault(node.condition, lambda state, key=key: key)
            if isinstance(node, TransformNode) and node.transform.strip().isidentifier():
                with contextlib.suppress(ExpressionError):
                    compile_expression(node.transform.strip())
                transforms[node.transform.strip()] = _stub_transform
    registry = Registry.builtin().merged(
        Registry(handlers=handlers, conditions=conditions, transforms=transforms, tools=tools)
    )
    return registry
