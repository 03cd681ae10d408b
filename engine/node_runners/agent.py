"""Agent nodes: render the goal, call the profile's agent runner, return Victor's result.

The result `{response, success, tool_calls, error}` is stored under the node's
`output`. An unsuccessful response fails the node (retry/continue rules then
apply). Knows nothing of HTTP or which runner is in use.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from engine.agent_runners import AgentRequest
from engine.model import AgentNode
from engine.node_runners.base import NodeEnv, NodeError, Place, StepResult
from engine.templating import lookup, render


def mapped_inputs(mapping: Mapping[str, str], state: Mapping[str, Any]) -> dict[str, Any]:
    """`input_mapping: {param: state_key}`; dotted keys are followed (Victor drops them)."""
    missing = object()
    inputs: dict[str, Any] = {}
    for param, key in mapping.items():
        value = lookup(state, str(key).removeprefix("$ctx."), missing)
        if value is not missing:
            inputs[param] = value
    return inputs


async def run_agent(
    env: NodeEnv, node: AgentNode, state: dict[str, Any], place: Place
) -> StepResult:
    runner = env.runner_for(node)
    inputs = mapped_inputs(node.input_mapping, state)
    request = AgentRequest(
        node_id=node.id,
        role=node.role,
        goal=render(node.goal, state),
        workflow=env.workflow.name,
        tools=node.tools,
        tool_budget=node.tool_budget,
        llm_config=node.llm_config,
        inputs=inputs or state,
        profile=node.profile,
        visit=place.visit,
    )
    response = await runner.run(request)
    result = response.as_dict()
    if not response.success:
        raise _AgentFailed(response.error or "the agent reported failure", result)
    return StepResult(output=result)


class _AgentFailed(NodeError):
    """An unsuccessful agent response; carries the result so `continue` can store it."""

    def __init__(self, message: str, result: dict[str, Any]) -> None:
        super().__init__(message)
        self.result = result
