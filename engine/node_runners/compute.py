"""Compute nodes: a registered handler, else the node's `tools` in sequence.

Handler signature (sync or async; a sync one runs in a worker thread so it
cannot block the loop)::

    def handler(node: ComputeNode, context: ComputeContext, tools: ToolBox) -> Any

The return value is stored under the node's `output`. `context.inputs` holds
the node's `inputs` with `$ctx.key` resolved (nested too); `context.state` is
a read-only view. `tools.call(name, inputs)` runs a registered tool with the
node's constraints applied and reports a tool_called event.

`constraints`: `none`, a list of blocked capabilities (`llm`, `network`,
`write`, `filesystem`), or Victor's legacy dict (`llm_allowed`,
`network_allowed`, `write_allowed`, `max_tool_calls`, `allowed_tools`,
`blocked_tools`, `timeout`). A tool or handler declares what it needs with a
`capabilities` attribute. Knows nothing of events' subscribers or the CLI.
"""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

from engine.events import ToolCall
from engine.model import ComputeNode, Node
from engine.node_runners.base import NodeEnv, NodeError, Place, StepResult
from engine.node_runners.threads import run_blocking
from engine.templating import resolve_inputs
from engine.tools import ToolContext

DEFAULT_COMPUTE_TIMEOUT = 60.0


@dataclass(frozen=True, slots=True)
class Constraints:
    blocked: frozenset[str] = frozenset()
    max_tool_calls: int | None = None
    allowed_tools: frozenset[str] | None = None
    blocked_tools: frozenset[str] = frozenset()
    timeout: float | None = None


def parse_constraints(raw: Any) -> Constraints:
    if raw is None or raw == "none" or raw == ["none"]:
        return Constraints()
    if isinstance(raw, str):
        return Constraints(blocked=frozenset({raw}))
    if isinstance(raw, list | tuple):
        return Constraints(blocked=frozenset(str(item) for item in raw if item != "none"))
    if isinstance(raw, Mapping):
        blocked = set()
        if not raw.get("llm_allowed", False):
            blocked.add("llm")
        if not raw.get("network_allowed", True):
            blocked.add("network")
        if not raw.get("write_allowed", False):
            blocked.add("write")
        allowed = raw.get("allowed_tools")
        timeout = raw.get("timeout")
        max_calls = raw.get("max_tool_calls")
        return Constraints(
            blocked=frozenset(blocked),
            max_tool_calls=int(max_calls) if isinstance(max_calls, int) else None,
            allowed_tools=frozenset(allowed) if isinstance(allowed, list) else None,
            blocked_tools=frozenset(raw.get("blocked_tools") or ()),
            timeout=float(timeout) if isinstance(timeout, int | float) else None,
        )
    return Constraints()


def check_capabilities(what: str, fn: Callable[..., Any], constraints: Constraints) -> None:
    needed = getattr(fn, "capabilities", None)
    if not needed:
        return
    clash = sorted(set(needed) & constraints.blocked)
    if clash:
        raise NodeError(
            f"{what} needs {', '.join(clash)}, which the node's constraints block; "
            "relax `constraints` or use another tool"
        )


@dataclass(frozen=True)
class ComputeContext:
    """What a handler sees: resolved inputs and a read-only state."""

    node_id: str
    workflow: str
    inputs: Mapping[str, Any]
    state: Mapping[str, Any]
    project_root: Path
    timeout: float | None = None
    visit: int = 1

    def get(self, key: str, default: Any = None) -> Any:
        """An input if present, else a state key (Victor's WorkflowContext.get)."""
        if key in self.inputs:
            return self.inputs[key]
        return self.state.get(key, default)


@dataclass
class ToolBox:
    """The tools a node may call, with its constraints enforced (compute nodes; agent
    nodes whose runner calls tools, with no constraints)."""

    env: NodeEnv
    node: Node
    thread: str
    constraints: Constraints
    context: ToolContext
    calls: list[ToolCall] = field(default_factory=list)

    def names(self) -> list[str]:
        return sorted(self.env.registry.tools)

    async def call(self, name: str, inputs: Mapping[str, Any] | None = None) -> Any:
        tool = self.env.registry.tools.get(name)
        if tool is None:
            known = ", ".join(self.names()) or "none"
            raise NodeError(f"unknown tool {name!r} (registered: {known})")
        limits = self.constraints
        if name in limits.blocked_tools or (
            limits.allowed_tools is not None and name not in limits.allowed_tools
        ):
            raise NodeError(f"tool {name!r} is not allowed by the node's constraints")
        if limits.max_tool_calls is not None and len(self.calls) >= limits.max_tool_calls:
            raise NodeError(f"more than max_tool_calls={limits.max_tool_calls} tool calls")
        check_capabilities(f"tool {name!r}", tool, limits)
        args = dict(inputs or {})
        started = time.perf_counter()
        try:
            output = await _call(tool, args, self.context)
        except Exception as exc:
            call = ToolCall(name, args, None, time.perf_counter() - started, False, _message(exc))
            self._record(call)
            raise
        call = ToolCall(name, args, output, time.perf_counter() - started, True, None)
        self._record(call)
        return output

    def _record(self, call: ToolCall) -> None:
        self.calls.append(call)
        self.env.tool_called(self.node, self.thread, call)


async def _call(fn: Callable[..., Any], *args: Any) -> Any:
    try:
        if inspect.iscoroutinefunction(fn):
            return await fn(*args)
        # A daemon thread: a handler that outlives its timeout or a Ctrl-C never holds the process.
        result = await run_blocking(fn, *args)
        if inspect.isawaitable(result):
            return await result
        return result
    except SystemExit as exc:  # would end the whole run (and victor) instead of this node
        raise NodeError(
            f"{getattr(fn, '__name__', 'the handler')} called sys.exit({exc.code!r}); "
            "raise an exception to fail the node, or return a value"
        ) from None


def _message(exc: BaseException) -> str:
    text = str(exc)
    return (
        text
        if isinstance(exc, NodeError) or type(exc).__name__ == "ToolError"
        else (f"{type(exc).__name__}: {text}" if text else type(exc).__name__)
    )


async def run_compute(
    env: NodeEnv, node: ComputeNode, state: dict[str, Any], place: Place
) -> StepResult:
    constraints = parse_constraints(node.constraints)
    inputs = resolve_inputs(dict(node.inputs), state)
    tool_context = ToolContext(node.id, env.workflow.name, env.project_root, node.timeout)
    toolbox = ToolBox(env, node, place.thread, constraints, tool_context)
    if node.handler:
        handler = env.registry.handlers.get(node.handler)
        if handler is None:
            known = ", ".join(sorted(env.registry.handlers)) or "none registered"
            raise NodeError(
                f"compute handler {node.handler!r} is not registered (known: {known}); "
                "add it to a registry module's HANDLERS and list that module in the run's registry "
                "(`--registry` on the command line, `registry` in victor.toml or the launch "
                "configuration)"
            )
        check_capabilities(f"handler {node.handler!r}", handler, constraints)
        context = ComputeContext(
            node_id=node.id,
            workflow=env.workflow.name,
            inputs=inputs,
            state=MappingProxyType(state),
            project_root=env.project_root,
            timeout=node.timeout,
            visit=place.visit,
        )
        output = await _call(handler, node, context, toolbox)
        return StepResult(output=output, tool_calls=tuple(toolbox.calls))
    if not node.tools:
        return StepResult(output={"status": "no_tools_executed", "params": inputs})
    results: dict[str, Any] = {}
    for name in node.tools:
        try:
            results[name] = await toolbox.call(name, inputs)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            if node.fail_fast:
                raise NodeError(f"tool {name!r} failed: {_message(exc)}") from exc
            results[name] = {"error": _message(exc)}
    return StepResult(output=results, tool_calls=tuple(toolbox.calls))
