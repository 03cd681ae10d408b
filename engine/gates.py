"""The contract between the executor and a debugger: gates around each node.

The executor awaits `ExecutionGate.before_node` before it runs a node and
`after_node` after it; when no gate is attached it calls nothing (zero cost).
A gate may hold the run (await), edit the live state, or redirect the run with
a `GateDecision` (time travel, goto, restart frame, skip). This module defines
only the types; it knows nothing of DAP or of any particular debugger.
"""

from __future__ import annotations

from collections.abc import MutableMapping
from dataclasses import dataclass
from typing import Any, Protocol

from engine.model import Node


@dataclass(frozen=True, slots=True)
class Frame:
    """Where execution is: one node on one thread, inside enclosing nodes."""

    node: Node
    thread: str
    """`"main"` or the parallel child id running this branch."""
    parents: tuple[str, ...]
    """Ids of enclosing parallel/team nodes, outermost first."""
    iteration: int
    """How many nodes the run has executed before this one."""
    visit: int
    """How many times this node has been entered in this run (1 on the first)."""
    execution_id: str

    @property
    def node_id(self) -> str:
        return self.node.id


@dataclass(frozen=True, slots=True)
class NodeOutcome:
    """What a node did: passed to `after_node`."""

    success: bool
    output: Any = None
    error: str | None = None
    attempts: int = 1
    duration_seconds: float = 0.0


@dataclass(frozen=True, slots=True)
class GateDecision:
    """What the executor does after a gate returns.

    - `goto` set: do not run the current node; continue at node `goto`
      (time travel, restart frame, goto target). With `state` set, the live
      state is replaced by it first (a snapshot restored by step back).
    - `skip` True: do not run the current node; follow its normal edges.
    - `retry` True (only from `on_node_failed`): run the failed node again.
    - `stop` True: cancel the run (status cancelled).
    - `no_timeout` True (from `before_node`, with no goto/skip/stop): run the
      node without its timeout, because a person is stepping through its code
      (a compute handler under a Python debugger) and a stop there is not a hang.
    """

    goto: str | None = None
    state: dict[str, Any] | None = None
    skip: bool = False
    retry: bool = False
    stop: bool = False
    no_timeout: bool = False


PROCEED: GateDecision | None = None


class ExecutionGate(Protocol):
    """Implemented by a debugger. Called concurrently from parallel branches."""

    async def before_node(
        self, frame: Frame, state: MutableMapping[str, Any]
    ) -> GateDecision | None: ...

    async def after_node(
        self, frame: Frame, state: MutableMapping[str, Any], outcome: NodeOutcome
    ) -> GateDecision | None: ...

    async def on_node_failed(
        self, frame: Frame, state: MutableMapping[str, Any], outcome: NodeOutcome
    ) -> GateDecision | None:
        """Called when a node failed for good (ErrorRecoveryStrategy.PAUSE, or
        always when a gate is attached and exception breakpoints may apply).
        Returning None lets the executor's error recovery decide."""
        ...


class RetryAwareGate(Protocol):
    """Optional: a gate that also wants to hold the run before each retry attempt.

    The executor calls `before_retry` (when the gate defines it) after a node
    failed and before the next attempt starts; `attempt` is the attempt about
    to run (2 for the first retry) and `delay` the backoff it will wait.
    Returning `GateDecision(stop=True)` cancels; `skip=True` gives up retrying.
    """

    async def before_retry(
        self,
        frame: Frame,
        state: MutableMapping[str, Any],
        outcome: NodeOutcome,
        attempt: int,
        delay: float,
    ) -> GateDecision | None: ...


class TeamAwareGate(Protocol):
    """Optional: a gate that can step into team members (debugger "step into").

    For a team node, the executor calls `before_member` (when the gate defines
    it) before each member runs, with the team's frame, the member, its
    position and the team's working state; `after_member` after it, with the
    member's result. Members run through the agent runner; a decision's
    `skip` skips that member, `stop` cancels the run.
    """

    async def before_member(
        self, frame: Frame, member: Any, index: int, state: MutableMapping[str, Any]
    ) -> GateDecision | None: ...

    async def after_member(
        self, frame: Frame, member: Any, index: int, result: Any
    ) -> GateDecision | None: ...
