"""Shared helpers for executor tests: compile a workflow text, collect events, a gate."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from types import SimpleNamespace
from typing import Any

import engine
from engine.events import ExecutionEvent, ExecutionEventType
from engine.gates import Frame, GateDecision, NodeOutcome
from engine.model import Workflow
from engine.registry import Registry


def compile_one(text: str, name: str | None = None, source: str = "test.yaml") -> Workflow:
    result = engine.compile(text, source=source)
    errors = [p.format() for p in result.errors]
    assert not errors, errors
    if name is None:
        assert len(result.workflows) == 1, result.workflow_names
        return result.workflows[0]
    workflow = result.workflow(name)
    assert workflow is not None, result.workflow_names
    return workflow


def registry(**tables: Mapping[str, Any]) -> Registry:
    """A registry with the built-ins plus HANDLERS=..., CONDITIONS=..., etc."""
    module = SimpleNamespace(**{key.upper(): value for key, value in tables.items()})
    return Registry.builtin().merged(Registry.from_module(module, name="test"))


class Events(list[ExecutionEvent]):
    """A subscriber that keeps every event."""

    def __call__(self, event: ExecutionEvent) -> None:
        self.append(event)

    def of(self, kind: ExecutionEventType, node: str | None = None) -> list[ExecutionEvent]:
        return [e for e in self if e.event_type is kind and (node is None or e.node_id == node)]

    def kinds(self) -> list[str]:
        return [e.event_type.value for e in self]


class ScriptedGate:
    """A gate that records calls and returns decisions scripted per node id."""

    def __init__(
        self,
        before: Mapping[str, GateDecision] | None = None,
        after: Mapping[str, GateDecision] | None = None,
        failed: Mapping[str, GateDecision] | None = None,
    ) -> None:
        self.before = dict(before or {})
        self.after = dict(after or {})
        self.failed = dict(failed or {})
        self.calls: list[tuple[str, str, str]] = []
        self.frames: list[Frame] = []

    async def before_node(self, frame: Frame, state: Any) -> GateDecision | None:
        self.calls.append(("before", frame.node_id, frame.thread))
        self.frames.append(frame)
        return self.before.pop(frame.node_id, None)

    async def after_node(
        self, frame: Frame, state: Any, outcome: NodeOutcome
    ) -> GateDecision | None:
        self.calls.append(("after", frame.node_id, frame.thread))
        return self.after.pop(frame.node_id, None)

    async def on_node_failed(
        self, frame: Frame, state: Any, outcome: NodeOutcome
    ) -> GateDecision | None:
        self.calls.append(("failed", frame.node_id, frame.thread))
        return self.failed.pop(frame.node_id, None)


def run(coro: Any) -> Any:
    return asyncio.run(coro)


SLOW_WORKFLOW = """\
workflows:
  w:
    nodes:
      - id: slow
        type: compute
        handler: slow
        timeout: 0.02
        output: got
      - id: after
        type: compute
        handler: slow
        timeout: 0.02
        output: later
"""


def slow_registry() -> Registry:
    """`slow`: outlasts the 0.02 s timeouts of SLOW_WORKFLOW, as a handler held at a
    Python breakpoint does."""

    async def slow(node: Any, context: Any, tools: Any) -> str:
        await asyncio.sleep(0.2)
        return "done"

    return registry(handlers={"slow": slow})
