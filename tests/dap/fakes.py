"""Test doubles: hand-built workflows and a small executor that honours the gate contract.

Used by the debugger's engine tests so that they do not depend on the real
executor's node semantics. The fake runs nodes in order along `next`, runs a
parallel node's children concurrently as threads named after them, and applies
`GateDecision`s as `engine.gates` documents them.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, MutableMapping
from dataclasses import dataclass, field
from typing import Any

from engine.events import EventSubscriber, ExecutionEvent, ExecutionEventType
from engine.gates import ExecutionGate, Frame, GateDecision, NodeOutcome
from engine.model import (
    ComputeNode,
    Node,
    NodeType,
    ParallelNode,
    SourceSpan,
    TransformNode,
    Workflow,
)

NodeAction = Callable[[MutableMapping[str, Any]], Any]

SPIN_HANDLERS = """\
import os

def spin(node, context, tools):
    print(f"spinning in {os.getpid()}", flush=True)
    while True:
        pass

HANDLERS = {"spin": spin}
"""
"""A registry module whose `spin` handler prints its pid, then never returns (not even
to cancellation): only killing the workflow process ends it."""


def make_workflow(specs: list[tuple[str, str, dict[str, Any]]], name: str = "demo") -> Workflow:
    """Nodes of 3 lines each starting at line 2: (id, type, extra fields)."""
    nodes: list[Node] = []
    ids = [s[0] for s in specs]
    for index, (node_id, kind, extra) in enumerate(specs):
        line = 2 + 3 * index
        span = SourceSpan(line, 6, line + 2, 30)
        nxt = tuple(extra.pop("next", ())) or ((ids[index + 1],) if index + 1 < len(ids) else ())
        common: dict[str, Any] = dict(
            id=node_id,
            name=node_id,
            index=index,
            next=nxt,
            output=node_id,
            span=span,
            id_span=SourceSpan(line, 10, line, 10 + len(node_id)),
        )
        common.update(extra)
        if kind == "parallel":
            nodes.append(ParallelNode(type=NodeType.PARALLEL, **common))
        elif kind == "compute":
            nodes.append(ComputeNode(type=NodeType.COMPUTE, **common))
        else:
            nodes.append(TransformNode(type=NodeType.TRANSFORM, **common))
    return Workflow(
        name=name,
        nodes=tuple(nodes),
        start_node=ids[0],
        source="/virtual/demo.yaml",
        span=SourceSpan(0, 0, 3 * len(specs) + 2, 0),
        name_span=SourceSpan(1, 2, 1, 2 + len(name)),
        node_index={n.id: n for n in nodes},
    )


@dataclass
class FakeResult:
    success: bool
    final_state: dict[str, Any]
    error: str | None = None
    status: str = "completed"


@dataclass
class FakeExecutor:
    gate: ExecutionGate | None
    subscribers: list[EventSubscriber]
    actions: dict[str, NodeAction] = field(default_factory=dict)
    runs: list[str] = field(default_factory=list)
    """Node ids in the order they actually ran (side effects)."""
    cancelled: bool = False

    def cancel(self) -> None:
        self.cancelled = True

    def _event(
        self, kind: ExecutionEventType, node: str | None, thread: str = "main", **kw: Any
    ) -> None:
        event = ExecutionEvent(
            kind, self.execution_id, "demo", time.time(), node_id=node, thread=thread, **kw
        )
        for subscriber in self.subscribers:
            subscriber(event)

    async def execute(
        self, workflow: Workflow, inputs: dict[str, Any], *, execution_id: str
    ) -> FakeResult:
        self.execution_id = execution_id
        self.workflow = workflow
        self.visits: dict[str, int] = {}
        self.iteration = 0
        state: dict[str, Any] = dict(inputs)
        current: str | None = workflow.start_node
        while current is not None:
            if self.cancelled:
                return FakeResult(False, state, None, "cancelled")
            outcome_next = await self._run(workflow.node(current), state, "main", ())
            if outcome_next == "__stop__":
                return FakeResult(False, state, None, "cancelled")
            if outcome_next == "__fail__":
                return FakeResult(False, state, f"node {current} failed", "failed")
            current = outcome_next
        return FakeResult(True, state)

    async def _run(
        self, node: Node, state: dict[str, Any], thread: str, parents: tuple[str, ...]
    ) -> str | None:
        """Run one node with its gates; returns the next node id (or a marker)."""
        self.visits[node.id] = self.visits.get(node.id, 0) + 1
        frame = Frame(
            node, thread, parents, self.iteration, self.visits[node.id], self.execution_id
        )
        self.iteration += 1
        if self.gate is not None:
            decision = await self.gate.before_node(frame, state)
            redirect = self._apply(decision, state, node)
            if redirect is not None:
                return redirect
        while True:
            started = time.perf_counter()
            try:
                output = await self._execute_node(node, state, thread, parents)
                outcome = NodeOutcome(True, output, duration_seconds=time.perf_counter() - started)
            except Exception as exc:  # a failing action
                outcome = NodeOutcome(False, None, str(exc))
                decision = (
                    await self.gate.on_node_failed(frame, state, outcome) if self.gate else None
                )
                if decision is not None and decision.retry:
                    continue
                redirect = self._apply(decision, state, node)
                if redirect is not None:
                    return redirect
                return "__fail__"
            break
        if self.gate is not None:
            decision = await self.gate.after_node(frame, state, outcome)
            redirect = self._apply(decision, state, node)
            if redirect is not None:
                return redirect
        return node.next[0] if node.next else None

    def _apply(
        self, decision: GateDecision | None, state: dict[str, Any], node: Node
    ) -> str | None:
        if decision is None:
            return None
        if decision.stop:
            self.cancelled = True
            return "__stop__"
        if decision.goto is not None:
            if decision.state is not None:
                state.clear()
                state.update(decision.state)
            return decision.goto
        if decision.skip:
            return node.next[0] if node.next else None
        return None

    async def _execute_node(
        self, node: Node, state: dict[str, Any], thread: str, parents: tuple[str, ...]
    ) -> Any:
        if isinstance(node, ParallelNode):

            async def branch(child: str) -> None:
                self._event(ExecutionEventType.BRANCH_STARTED, child, child)
                await self._run(self.workflow.node(child), state, child, (*parents, node.id))
                self._event(ExecutionEventType.BRANCH_FINISHED, child, child)

            await asyncio.gather(*(branch(c) for c in node.parallel_nodes))
            return None
        self.runs.append(node.id)
        action = self.actions.get(node.id)
        value = action(state) if action else f"{node.id} done"
        if asyncio.iscoroutine(value):
            value = await value
        state[node.output] = value
        return value


def fake_factory(
    actions: dict[str, NodeAction] | None = None,
) -> tuple[list[FakeExecutor], Callable[..., FakeExecutor]]:
    made: list[FakeExecutor] = []

    def factory(gate: ExecutionGate, subscribers: list[EventSubscriber]) -> FakeExecutor:
        executor = FakeExecutor(gate, subscribers, dict(actions or {}))
        made.append(executor)
        return executor

    return made, factory
