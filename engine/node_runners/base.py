"""What a node runner receives and returns.

A runner executes one node against a state (the live dict on the main thread,
a branch view inside a parallel node) and returns a `StepResult`; it never
writes the state itself, so the executor alone decides what is stored and
snapshots keep their structural sharing. Runners raise `NodeError` (or any
exception) to fail. Knows nothing of events' subscribers, gates or the CLI.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from engine.events import ToolCall

if TYPE_CHECKING:
    from engine.agent_runners import AgentRunner
    from engine.gates import Frame
    from engine.hitl import HitlRequest, HitlResponder, HitlResponse
    from engine.model import Node, Workflow
    from engine.registry import Registry
    from engine.retry import Clock


class NodeError(Exception):
    """A node failed; the message is shown to the user as is."""


@dataclass(slots=True)
class StepResult:
    """What a node produced.

    - `output` is stored under `output_key` (default: the node's `output`)
      unless `store` is False.
    - `updates` are top-level state assignments (transforms, parallel merges).
    - `routed` True means `next_node` decides where to go (conditions);
      `next_node` None then ends the run.
    """

    output: Any = None
    updates: Mapping[str, Any] | None = None
    store: bool = True
    output_key: str | None = None
    routed: bool = False
    next_node: str | None = None
    tool_calls: tuple[ToolCall, ...] = ()
    skipped: bool = False


@dataclass(frozen=True, slots=True)
class ChildOutcome:
    """How one parallel child ended, and the state view it ended with."""

    node_id: str
    success: bool
    view: dict[str, Any]
    output: Any = None
    error: str | None = None
    recovered: bool = False
    cancelled: bool = False
    """join_strategy `any`: another child succeeded first, so this one was stopped."""


class NodeEnv(Protocol):
    """The executor services a runner may use."""

    workflow: Workflow
    execution_id: str
    registry: Registry
    clock: Clock
    project_root: Path
    hitl_responder: HitlResponder
    member_hooks: bool
    """True when a debugger wants `before_member`/`after_member` around team members."""

    def runner_for(self, node: Node) -> AgentRunner: ...

    def compiled_condition(self, text: str) -> Any: ...

    def compiled_transform(self, text: str) -> Any: ...

    def tool_called(self, node: Node, thread: str, call: ToolCall) -> None: ...

    async def ask_human(self, node: Node, thread: str, request: HitlRequest) -> HitlResponse: ...

    async def run_children(
        self,
        parent: Node,
        child_ids: Sequence[str],
        state: Mapping[str, Any],
        parents: tuple[str, ...],
        *,
        first_success: bool = False,
    ) -> list[ChildOutcome]:
        """Run `child_ids` concurrently; with `first_success`, the first child that
        succeeds cancels the others (their outcomes have `cancelled` set)."""
        ...

    async def before_member(
        self, node: Node, place: Place, member: Any, index: int, state: Mapping[str, Any]
    ) -> bool:
        """Ask the debugger before team member `index` runs; True means skip it."""
        ...

    async def after_member(
        self, node: Node, place: Place, member: Any, index: int, result: Any
    ) -> None: ...


@dataclass(frozen=True, slots=True)
class Place:
    """Where a node runs: its thread, enclosing nodes and visit number."""

    thread: str
    parents: tuple[str, ...]
    visit: int
    frame: Frame | None = None
    """The debugger's frame of this node (None when no gate is attached)."""
