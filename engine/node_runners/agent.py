"""Agent nodes: render the goal, call the profile's agent runner, return Victor's result.

The result `{response, success, tool_calls, error}` is stored under the node's
`output`. An unsuccessful response fails the node (retry/continue rules then
apply). The node's `tools` that the tool registry knows are offered to the
runner (`AgentRequest.tool_specs` / `call_tool`); each call is reported as a
tool_called event. Knows nothing of HTTP or which runner is in use.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from engine.agent_runners import ANY_OBJECT_SCHEMA, AgentRequest, ToolCaller, ToolSpec
from engine.model import AgentNode
from engine.node_runners.base import NodeEnv, NodeError, Place, StepResult
from engine.node_runners.compute import Constraints, ToolBox
from engine.state import public_view
from engine.templating import lookup, render
from engine.tools import ToolContext


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
    specs, call_tool = agent_tools(env, node, place)
    request = AgentRequest(
        node_id=node.id,
        role=node.role,
        goal=render(node.goal, state),
        workflow=env.workflow.name,
        tools=node.tools,
        tool_budget=node.tool_budget,
        llm_config=node.llm_config,
        # Without input_mapping the runner sees the user's state, never the run's
        # internals (`_node_results` repeats every output; a model would be sent it all).
        inputs=inputs or public_view(state),
        profile=node.profile,
        visit=place.visit,
        tool_specs=specs,
        call_tool=call_tool,
    )
    response = await runner.run(request)
    result = response.as_dict()
    if not response.success:
        raise _AgentFailed(response.error or "the agent reported failure", result)
    return StepResult(output=result)


def agent_tools(
    env: NodeEnv, node: AgentNode, place: Place
) -> tuple[tuple[ToolSpec, ...], ToolCaller | None]:
    """The node's `tools` that the tool registry has, and a caller reporting each call.

    Names the registry does not know (Victor's own tool names) are left out; a
    tool describes itself with its docstring and an optional `parameters`
    attribute (a JSON Schema of its `inputs`).
    """
    registered = env.registry.tools
    names = [name for name in node.tools or () if name in registered]
    if not names:
        return (), None
    specs = tuple(
        ToolSpec(
            name=name,
            description=_first_line(registered[name].__doc__) or f"the {name!r} tool",
            parameters=getattr(registered[name], "parameters", None) or ANY_OBJECT_SCHEMA,
        )
        for name in names
    )
    context = ToolContext(node.id, env.workflow.name, env.project_root, node.timeout)
    toolbox = ToolBox(env, node, place.thread, Constraints(), context)
    allowed = frozenset(names)

    async def call_tool(name: str, arguments: Mapping[str, Any]) -> Any:
        if name not in allowed:
            raise NodeError(f"agent {node.id!r} may not call tool {name!r}")
        return await toolbox.call(name, arguments)

    return specs, call_tool


def _first_line(text: str | None) -> str:
    return text.strip().splitlines()[0].strip() if text and text.strip() else ""


class _AgentFailed(NodeError):
    """An unsuccessful agent response; carries the result so `continue` can store it."""

    def __init__(self, message: str, result: dict[str, Any]) -> None:
        super().__init__(message)
        self.result = result
