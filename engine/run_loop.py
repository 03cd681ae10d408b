"""One execution of one workflow: the loop behind `WorkflowExecutor.execute`.

`Run` walks the workflow from its start node, runs each node through its
node runner, applies retries and error recovery, writes results into the state
(copy-on-write), reports every step as an `ExecutionEvent` and, when a
debugger gate is attached, awaits it around each node. With no gate it builds
no frames and awaits nothing extra; with no listener it builds no events.
Knows nothing of terminals, editors or how events are consumed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from engine.events import (
    EventSubscriber,
    ExecutionEvent,
    ExecutionEventType,
    NodeStatus,
    ToolCall,
)
from engine.gates import ExecutionGate, Frame, GateDecision, NodeOutcome
from engine.hitl import HitlRequest, HitlResponder, HitlResponse, ask_with_timeout
from engine.model import (
    END_NODE,
    AgentNode,
    ComputeNode,
    HitlNode,
    Node,
    NodeType,
    TeamNode,
    Workflow,
)
from engine.node_runners import RUNNERS, ChildOutcome, NodeError, Place, StepResult
from engine.node_runners.hitl import hitl_output_key
from engine.node_runners.inputs import node_inputs
from engine.retry import Backoff, Clock
from engine.state import ERROR, NODE_RESULTS, RESUME_NODE, LayeredState, layered_snapshot

if TYPE_CHECKING:
    from engine.agent_runners import AgentRunner
    from engine.registry import Registry

log = logging.getLogger(__name__)

ET = ExecutionEventType
_MAIN = "main"
_REPLAYED_TYPES = (NodeType.AGENT, NodeType.COMPUTE, NodeType.HITL)
DEFAULT_AGENT_TIMEOUT = 300.0
_NO_METADATA: Mapping[str, Any] = MappingProxyType({})
_SNAPSHOT_EXCLUDE = frozenset({NODE_RESULTS})
"""One live dict owned by the run: snapshots leave it out."""
_TYPE_NAMES = {node_type: node_type.value for node_type in NodeType}
"""`NodeType.value` is a slow descriptor; a dict lookup is ten times faster (hot path)."""


class RunFailed(Exception):
    def __init__(self, node: str | None, message: str) -> None:
        super().__init__(message)
        self.node = node
        self.message = message


class RunPaused(RunFailed):
    """ErrorRecoveryStrategy.PAUSE without a debugger: stop, resumable at `node`."""


class RunStopped(Exception):
    """A gate asked to stop, or the executor was cancelled."""


class LoopLimitError(RunFailed):
    pass


@dataclass(frozen=True, slots=True)
class Recovery:
    """The resolved error policy of one node."""

    backoff: Backoff
    strategy: str  # fail_fast | continue | skip | pause


@dataclass(slots=True)
class NodeRun:
    """How `execute_node` ended.

    action: "next" (follow `next_node`), "goto" (a gate redirected),
    "fail" (failed for good), "pause" (hold, resumable).
    """

    action: str
    next_node: str | None = None
    success: bool = True
    output: Any = None
    error: str | None = None
    recovered: bool = False


@dataclass
class RunConfig:
    """Everything a Run needs from its executor (resolved once per execute call)."""

    registry: Registry
    listeners: tuple[EventSubscriber, ...]
    gate: ExecutionGate | None
    clock: Clock
    rng: random.Random
    hitl_responder: HitlResponder
    agent_runner: AgentRunner | None
    profile_runners: Mapping[str, AgentRunner]
    recovery_for: Callable[[Node, Workflow], Recovery]
    snapshots: bool
    breakpoints: frozenset[str]
    recorded_outputs: Mapping[str, Sequence[Any]] | None
    project_root: Path
    expression_cache: dict[tuple[str, str], Any]
    on_frame: Callable[[list[Frame]], None] | None
    on_node: Callable[[str | None], None]
    plan_for: Callable[[Workflow], tuple[dict[str, float | None], dict[str, Recovery]]]


class Run:
    """One execution; create, then `await run.main(start_node)`."""

    def __init__(
        self, workflow: Workflow, execution_id: str, state: dict[str, Any], config: RunConfig
    ) -> None:
        self.workflow = workflow
        self.execution_id = execution_id
        self.state = state
        self.config = config
        self.registry = config.registry
        self.clock = config.clock
        self.project_root = config.project_root
        self.hitl_responder = config.hitl_responder
        self.listeners = config.listeners
        gate = self.gate = config.gate
        # Optional gate hooks, looked up once per run (engine.gates RetryAwareGate and
        # TeamAwareGate); without a gate none of them costs anything.
        self._before_retry = getattr(gate, "before_retry", None) if gate is not None else None
        self._before_member = getattr(gate, "before_member", None) if gate is not None else None
        self._after_member = getattr(gate, "after_member", None) if gate is not None else None
        self.member_hooks = self._before_member is not None or self._after_member is not None
        self.visits: dict[str, int] = {}
        self.steps = 0
        self.loop_iterations = 0
        self.nodes_executed: list[str] = []
        self.snapshots: list[tuple[str, str, Mapping[str, Any]]] = []
        self._last_snapshot: dict[str, LayeredState] = {}
        self._recorded: dict[str, Iterator[Any]] = {
            key: iter(values) for key, values in (config.recorded_outputs or {}).items()
        }
        self._timeouts, self._recovery = config.plan_for(workflow)
        self._wf_name = workflow.name
        existing = state.get(NODE_RESULTS)
        self.node_results: dict[str, Any] = dict(existing) if isinstance(existing, Mapping) else {}
        state[NODE_RESULTS] = self.node_results

    # ----------------------------------------------------------------- events
    def emit(
        self,
        event_type: ExecutionEventType,
        node: Node | None = None,
        status: NodeStatus = NodeStatus.RUNNING,
        **fields: Any,
    ) -> None:
        if not self.listeners:
            return
        if node is not None:
            fields["node_id"] = node.id
            fields["node_type"] = _TYPE_NAMES[node.type]
        event = ExecutionEvent(
            event_type,
            self.execution_id,
            self._wf_name,
            time.time(),
            status=status,
            iteration=self.steps,
            **fields,
        )
        self.dispatch(event)

    def dispatch(self, event: ExecutionEvent) -> None:
        for listener in self.listeners:
            try:
                listener(event)
            except Exception:
                log.exception("event subscriber %r failed; event dropped for it", listener)

    # ------------------------------------------------------ services (NodeEnv)
    def runner_for(self, node: Node) -> AgentRunner:
        runner = self._runner_or_none(node)
        if runner is None:
            raise NodeError(f"no agent runner configured for node {node.id!r}")
        return runner

    def _runner_or_none(self, node: Node) -> AgentRunner | None:
        if node.profile and node.profile in self.config.profile_runners:
            return self.config.profile_runners[node.profile]
        return self.config.agent_runner

    def missing_runners(self) -> list[str]:
        """Agent/team nodes that would have no runner (replayed nodes excluded)."""
        missing = []
        for node in self.workflow.nodes:
            if not isinstance(node, AgentNode | TeamNode):
                continue
            if isinstance(node, AgentNode) and node.id in self._recorded:
                continue
            if self._runner_or_none(node) is None:
                missing.append(node.id + (f" (profile {node.profile!r})" if node.profile else ""))
        return missing

    def compiled_condition(self, text: str) -> Any:
        return self._compiled("condition", text)

    def compiled_transform(self, text: str) -> Any:
        return self._compiled("transform", text)

    def _compiled(self, kind: str, text: str) -> Any:
        # The cache is the executor's, whose registry is fixed: (kind, text) is enough.
        cache = self.config.expression_cache
        compiled = cache.get((kind, text))
        if compiled is None:
            from engine import expressions

            # Registered transform functions are callable by name inside expressions.
            functions = self.registry.transforms or None
            try:
                if kind == "condition":
                    compiled = expressions.compile_expression(text, functions=functions)
                else:
                    compiled = expressions.compile_transform(text, functions=functions)
            except expressions.ExpressionError as exc:
                raise NodeError(f"{kind} {text!r}: {exc}") from exc
            cache[(kind, text)] = compiled
        return compiled

    def tool_called(self, node: Node, thread: str, call: ToolCall) -> None:
        self.emit(
            ET.TOOL_CALLED,
            node,
            NodeStatus.COMPLETED if call.success else NodeStatus.FAILED,
            thread=thread,
            tool_calls=(call,),
            duration_seconds=call.duration_seconds,
            error=call.error,
        )

    async def ask_human(self, node: Node, thread: str, request: HitlRequest) -> HitlResponse:
        self.emit(
            ET.HITL_REQUESTED,
            node,
            NodeStatus.PAUSED,
            thread=thread,
            metadata={
                "prompt": request.prompt,
                "hitl_type": request.hitl_type,
                "choices": list(request.choices),
                "timeout": request.timeout,
                "fallback": request.fallback,
                "default_value": request.default_value,
            },
        )
        response = await ask_with_timeout(self.hitl_responder, request)
        self.emit(ET.HITL_ANSWERED, node, thread=thread, outputs=response.as_dict())
        return response

    async def before_member(
        self, node: Node, place: Place, member: Any, index: int, state: Mapping[str, Any]
    ) -> bool:
        hook = self._before_member
        if hook is None or place.frame is None:
            return False
        decision = await hook(place.frame, member, index, state)
        if decision is None:
            return False
        if decision.stop:
            raise RunStopped()
        return decision.skip

    async def after_member(
        self, node: Node, place: Place, member: Any, index: int, result: Any
    ) -> None:
        hook = self._after_member
        if hook is None or place.frame is None:
            return
        decision = await hook(place.frame, member, index, result)
        if decision is not None and decision.stop:
            raise RunStopped()

    async def run_children(
        self,
        parent: Node,
        child_ids: Sequence[str],
        state: Mapping[str, Any],
        parents: tuple[str, ...],
        *,
        first_success: bool = False,
    ) -> list[ChildOutcome]:
        depth_limit = self.workflow.settings.max_recursion_depth
        if len(parents) > depth_limit:
            raise NodeError(
                f"node {parent.id!r} nests {len(parents)} parallel/team levels, over "
                f"max_recursion_depth={depth_limit}"
            )

        async def one(child_id: str) -> ChildOutcome:
            child = self.workflow.node(child_id)
            view = dict(state)
            self.emit(ET.BRANCH_STARTED, child, thread=child_id, metadata={"parent": parent.id})
            visit = self._enter(child, None)
            run = await self.execute_node(child, view, child_id, parents, visit)
            self.emit(
                ET.BRANCH_FINISHED,
                child,
                NodeStatus.COMPLETED if run.success else NodeStatus.FAILED,
                thread=child_id,
                error=run.error,
                metadata={"parent": parent.id},
            )
            return ChildOutcome(child_id, run.success, view, run.output, run.error, run.recovered)

        tasks = [asyncio.ensure_future(one(child_id)) for child_id in child_ids]
        try:
            if first_success:
                await self._until_first_success(tasks)
            else:
                await asyncio.gather(*tasks)
        except BaseException:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            raise
        outcomes = []
        for child_id, task in zip(child_ids, tasks, strict=True):
            if task.cancelled():
                outcomes.append(self._cancelled_child(parent, child_id, state))
            else:
                outcomes.append(task.result())
        return outcomes

    @staticmethod
    async def _until_first_success(tasks: Sequence[asyncio.Future[ChildOutcome]]) -> None:
        """Wait until a child succeeds (then cancel the rest) or every child is done."""
        pending: set[asyncio.Future[ChildOutcome]] = set(tasks)
        while pending:
            done, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
            for task in done:
                task.result()  # a child's crash (not a node failure) propagates
            if any(task.result().success for task in done):
                break
        for task in pending:
            task.cancel()
        if pending:
            await asyncio.wait(pending)

    def _cancelled_child(
        self, parent: Node, child_id: str, state: Mapping[str, Any]
    ) -> ChildOutcome:
        child = self.workflow.node(child_id)
        message = f"cancelled: another branch of {parent.id!r} succeeded first (join_strategy any)"
        self.node_results[child_id] = {
            "node_id": child_id,
            "success": False,
            "output": None,
            "error": message,
            "duration_seconds": 0.0,
            "tool_calls_used": 0,
            "cancelled": True,
        }
        # No event type says "cancelled" for a node: NODE_SKIPPED with status CANCELLED
        # closes its record for the tracer and the history.
        self.emit(
            ET.NODE_SKIPPED,
            child,
            NodeStatus.CANCELLED,
            thread=child_id,
            error=message,
            metadata={"cancelled": True, "parent": parent.id},
        )
        self.emit(
            ET.BRANCH_FINISHED,
            child,
            NodeStatus.CANCELLED,
            thread=child_id,
            error=message,
            metadata={"parent": parent.id, "cancelled": True},
        )
        return ChildOutcome(child_id, False, dict(state), None, message, cancelled=True)

    # ------------------------------------------------------------- main loop
    def _enter(self, node: Node, previous: Node | None) -> int:
        node_id = node.id
        visit = self.visits.get(node_id, 0) + 1
        self.visits[node_id] = visit
        settings = self.workflow.settings
        if visit > settings.node_visit_limit:
            raise LoopLimitError(
                node_id,
                f"node {node_id!r} was entered {visit} times, over the per-node visit limit "
                f"({settings.node_visit_limit}); check the loop's exit condition or raise "
                "execution.node_visit_limit",
            )
        if visit > 1 and previous is not None and node.index <= previous.index:
            self.loop_iterations += 1
            if self.loop_iterations > settings.max_iterations:
                raise LoopLimitError(
                    node_id,
                    f"max_iterations ({settings.max_iterations}) exceeded: the run looped back "
                    f"{self.loop_iterations} times (last to {node_id!r}); check the loop's exit "
                    "condition or raise execution.max_iterations",
                )
        return visit

    async def main(self, start: str) -> None:
        node_id: str | None = start
        previous: Node | None = None
        index = self.workflow.node_index
        on_node = self.config.on_node
        while node_id is not None and node_id != END_NODE:
            node = index.get(node_id)
            if node is None:
                raise RunFailed(
                    previous.id if previous else None,
                    f"workflow {self._wf_name!r} has no node {node_id!r}",
                )
            visit = self._enter(node, previous)
            on_node(node_id)
            run = await self.execute_node(node, self.state, _MAIN, (), visit)
            action = run.action
            if action == "fail":
                raise RunFailed(node_id, run.error or "failed")
            if action == "pause":
                raise RunPaused(node_id, run.error or "paused")
            previous = node
            node_id = run.next_node
        on_node(None)

    # ------------------------------------------------------------ one node
    async def execute_node(
        self,
        node: Node,
        state: dict[str, Any],
        thread: str,
        parents: tuple[str, ...],
        visit: int,
    ) -> NodeRun:
        gate = self.gate
        frame: Frame | None = None
        untimed = False
        if gate is not None:
            frame = Frame(node, thread, parents, self.steps, visit, self.execution_id)
            if thread == _MAIN and self.config.on_frame is not None:
                self.config.on_frame([frame])
            decision = await gate.before_node(frame, state)
            if decision is not None:
                early = self._before_decision(decision, node, state, thread)
                if early is not None:
                    return early
                untimed = decision.no_timeout
        place = Place(thread, parents, visit, frame)
        if self.config.breakpoints and node.id in self.config.breakpoints:
            self.emit(ET.BREAKPOINT_HIT, node, NodeStatus.PAUSED, thread=thread)
        self.steps += 1
        if thread == _MAIN:
            self.nodes_executed.append(node.id)
        listeners = self.listeners
        if listeners:
            inputs = node_inputs(self, node, state)
            self.emit(ET.NODE_STARTED, node, thread=thread, attempt=1, inputs=inputs)
        recovery = self._recovery[node.id]
        clock = self.clock
        started = clock.monotonic()
        attempt = 0
        while True:
            attempt += 1
            try:
                result = await self._attempt(node, state, place, untimed=untimed)
                break
            except (asyncio.CancelledError, RunStopped, RunFailed):
                raise
            except Exception as exc:
                message = _describe(exc)
                if attempt < recovery.backoff.max_attempts:
                    delay = recovery.backoff.delay(attempt, self.config.rng)
                    if self._before_retry is not None and frame is not None:
                        elapsed = clock.monotonic() - started
                        outcome = NodeOutcome(False, None, message, attempt, elapsed)
                        decision = await self._before_retry(
                            frame, state, outcome, attempt + 1, delay
                        )
                        if decision is not None and decision.stop:
                            raise RunStopped() from None
                        if decision is not None and decision.skip:  # give up retrying
                            return await self._failed(
                                node, state, place, frame, exc, message, attempt, elapsed
                            )
                    self.emit(
                        ET.RETRY_ATTEMPT,
                        node,
                        thread=thread,
                        attempt=attempt + 1,
                        error=message,
                        metadata={
                            "attempt": attempt + 1,
                            "max_attempts": recovery.backoff.max_attempts,
                            "delay": delay,
                            "error": message,
                        },
                    )
                    await clock.sleep(delay)
                    continue
                return await self._failed(
                    node, state, place, frame, exc, message, attempt, clock.monotonic() - started
                )
        duration = clock.monotonic() - started
        written = self._store(node, state, result, duration)
        if listeners:
            if attempt > 1:
                self.emit(
                    ET.ERROR_RECOVERED,
                    node,
                    NodeStatus.COMPLETED,
                    thread=thread,
                    attempt=attempt,
                    metadata={"strategy": "retry", "attempts": attempt},
                )
            self.emit(
                ET.NODE_SKIPPED if result.skipped else ET.NODE_COMPLETED,
                node,
                NodeStatus.SKIPPED if result.skipped else NodeStatus.COMPLETED,
                thread=thread,
                attempt=attempt,
                duration_seconds=duration,
                outputs=result.output,
                tool_calls=result.tool_calls,
            )
        if self.config.snapshots:
            self._capture(node, state, thread, written)
        next_node = result.next_node if result.routed else node.next[0] if node.next else None
        if frame is not None and gate is not None:
            outcome = NodeOutcome(True, result.output, None, attempt, duration)
            decision = await gate.after_node(frame, state, outcome)
            if decision is not None:
                redirected = self._after_decision(decision, state, thread)
                if redirected is not None:
                    redirected.output = result.output
                    return redirected
        return NodeRun("next", next_node, True, result.output)

    async def _attempt(
        self, node: Node, state: dict[str, Any], place: Place, *, untimed: bool = False
    ) -> StepResult:
        """Run the node once; `untimed` (a gate's `no_timeout`) lifts its timeout."""
        if self._recorded and node.id in self._recorded and node.type in _REPLAYED_TYPES:
            return self._replayed(node)
        runner = RUNNERS[node.type]
        timeout = self._timeouts[node.id]
        if timeout is None or untimed:
            return await runner(self, node, state, place)
        try:
            async with asyncio.timeout(timeout):
                return await runner(self, node, state, place)
        except TimeoutError:
            raise NodeError(f"node {node.id!r} timed out after {timeout:g}s") from None

    def _replayed(self, node: Node) -> StepResult:
        try:
            output = next(self._recorded[node.id])
        except StopIteration:
            raise NodeError(f"no more recorded outputs for node {node.id!r}") from None
        key = hitl_output_key(node) if isinstance(node, HitlNode) else None
        return StepResult(output=output, output_key=key)

    def _store(
        self, node: Node, state: dict[str, Any], result: StepResult, duration: float
    ) -> tuple[str, ...]:
        """Write the node's result into `state`; returns the top-level keys written."""
        updates = result.updates
        written: tuple[str, ...] = ()
        if updates:
            state.update(updates)
            written = tuple(updates)
        if result.store and not result.skipped:
            key = result.output_key or node.output
            state[key] = result.output
            written = (*written, key)
        # One live dict owned by the run (children share it): O(1) per node.
        # Snapshots leave it out, so it never needs copying.
        self.node_results[node.id] = {
            "node_id": node.id,
            "success": True,
            "output": result.output,
            "error": None,
            "duration_seconds": duration,
            "tool_calls_used": len(result.tool_calls),
        }
        return written

    def _capture(
        self, node: Node, state: dict[str, Any], thread: str, written: tuple[str, ...]
    ) -> None:
        """Snapshot the state after `node`; the event names the keys the node wrote.

        `written_keys` are the top-level keys `node` set in its thread's state
        (the main state, or a parallel branch's view) since the node started,
        so this snapshot equals that thread's previous state plus those keys.
        With a debugger gate attached, the gate may also have edited the
        state, so the event carries no `written_keys`: compare whole states.
        """
        known = None if self.gate is not None else written
        copy = layered_snapshot(self._last_snapshot.get(thread), state, known, _SNAPSHOT_EXCLUDE)
        self._last_snapshot[thread] = copy
        self.snapshots.append((node.id, thread, copy))
        if self.listeners:
            self.emit(
                ET.STATE_CAPTURED,
                node,
                NodeStatus.COMPLETED,
                thread=thread,
                state=copy,
                metadata=_NO_METADATA if self.gate is not None else {"written_keys": written},
            )

    async def _failed(
        self,
        node: Node,
        state: dict[str, Any],
        place: Place,
        frame: Frame | None,
        exc: Exception,
        message: str,
        attempts: int,
        duration: float,
    ) -> NodeRun:
        thread = place.thread
        raised_at = raised_in_user_code(exc)
        if log.isEnabledFor(logging.DEBUG):
            log.debug("node %s failed", node.id, exc_info=exc)
        self.emit(
            ET.NODE_FAILED,
            node,
            NodeStatus.FAILED,
            thread=thread,
            attempt=attempts,
            duration_seconds=duration,
            error=message,
            metadata={"raised_at": raised_at} if raised_at else {},
        )
        updates = getattr(exc, "updates", None)
        written: tuple[str, ...] = ()
        if isinstance(updates, Mapping):
            state.update(updates)
            written = tuple(updates)
        record = {
            "node_id": node.id,
            "success": False,
            "output": None,
            "error": message,
            "duration_seconds": duration,
            "tool_calls_used": 0,
        }
        self.node_results[node.id] = record
        default_next = node.next[0] if node.next else None
        gate = self.gate
        if gate is not None and frame is not None:
            outcome = NodeOutcome(False, None, message, attempts, duration)
            decision = await gate.on_node_failed(frame, state, outcome)
            if decision is not None:
                if decision.stop:
                    raise RunStopped()
                if decision.retry:
                    self.emit(ET.RETRY_ATTEMPT, node, thread=thread, metadata={"by": "debugger"})
                    return await self.execute_node(node, state, thread, place.parents, place.visit)
                if decision.goto is not None and thread == _MAIN:
                    if decision.state is not None:
                        _replace(state, decision.state)
                    return NodeRun("goto", decision.goto, False, error=message, recovered=True)
                if decision.skip:
                    self.emit(ET.NODE_SKIPPED, node, NodeStatus.SKIPPED, thread=thread)
                    return NodeRun("next", default_next, False, error=message, recovered=True)
        strategy = self._recovery[node.id].strategy
        if strategy == "continue":
            stored = getattr(exc, "result", None)
            if stored is not None:
                state[node.output] = stored
                written = (*written, node.output)
            state[ERROR] = {"node": node.id, "message": message}
            self._recovered(node, state, thread, "continue", attempts, (*written, ERROR))
            return NodeRun("next", default_next, False, error=message, recovered=True)
        if strategy == "skip":
            self.emit(ET.NODE_SKIPPED, node, NodeStatus.SKIPPED, thread=thread, error=message)
            self._recovered(node, state, thread, "skip", attempts, written)
            return NodeRun("next", default_next, False, error=message, recovered=True)
        if strategy == "pause":
            if thread == _MAIN:
                state[RESUME_NODE] = node.id
                state[ERROR] = {"node": node.id, "message": message}
                self.emit(ET.NODE_PAUSED, node, NodeStatus.PAUSED, thread=thread, error=message)
            return NodeRun("pause", None, False, error=message)
        if thread == _MAIN:
            state[ERROR] = {"node": node.id, "message": message}
        return NodeRun("fail", None, False, error=message)

    def _recovered(
        self,
        node: Node,
        state: dict[str, Any],
        thread: str,
        strategy: str,
        attempts: int,
        written: tuple[str, ...],
    ) -> None:
        self.emit(
            ET.ERROR_RECOVERED,
            node,
            NodeStatus.SKIPPED if strategy == "skip" else NodeStatus.FAILED,
            thread=thread,
            attempt=attempts,
            metadata={"strategy": strategy, "attempts": attempts},
        )
        if self.config.snapshots:
            self._capture(node, state, thread, written)

    # ------------------------------------------------------------ gate decisions
    def _before_decision(
        self, decision: GateDecision, node: Node, state: dict[str, Any], thread: str
    ) -> NodeRun | None:
        if decision.stop:
            raise RunStopped()
        if decision.goto is not None:
            if thread != _MAIN:
                log.warning("goto %r ignored inside parallel branch %r", decision.goto, thread)
                return None
            if decision.state is not None:
                _replace(state, decision.state)
            return NodeRun("goto", decision.goto, True)
        if decision.skip:
            self.emit(ET.NODE_SKIPPED, node, NodeStatus.SKIPPED, thread=thread)
            return NodeRun("next", node.next[0] if node.next else None, True)
        return None

    def _after_decision(
        self, decision: GateDecision, state: dict[str, Any], thread: str
    ) -> NodeRun | None:
        if decision.stop:
            raise RunStopped()
        if decision.goto is not None and thread == _MAIN:
            if decision.state is not None:
                _replace(state, decision.state)
            return NodeRun("goto", decision.goto, True)
        return None


def _replace(state: dict[str, Any], new_state: Mapping[str, Any]) -> None:
    results = state.get(NODE_RESULTS)
    state.clear()
    state.update(new_state)
    if results is not None:
        state[NODE_RESULTS] = results


def timeout_for(node: Node, workflow: Workflow) -> float | None:
    if isinstance(node, HitlNode):
        return None  # the HITL timeout is the human's, applied with the fallback
    if node.timeout is not None:
        return node.timeout
    default = workflow.settings.default_node_timeout
    if default is not None:
        return default
    if isinstance(node, AgentNode):
        return DEFAULT_AGENT_TIMEOUT
    if isinstance(node, ComputeNode):
        from engine.node_runners.compute import DEFAULT_COMPUTE_TIMEOUT, parse_constraints

        return parse_constraints(node.constraints).timeout or DEFAULT_COMPUTE_TIMEOUT
    return None


_ENGINE_DIR = str(Path(__file__).resolve().parent) + "/"
_STDLIB_DIR = str(Path(logging.__file__).resolve().parent.parent) + "/"


def raised_in_user_code(exc: BaseException) -> str | None:
    """`file:line in function` of the innermost frame of user code (a registry module) that
    the exception went through; an installed package's frame when none is outside one; None
    when it came from the engine or the standard library alone. A path under the current
    folder is shown relative to it."""
    if isinstance(exc, NodeError):
        return None
    own = installed = None
    tb = exc.__traceback__
    while tb is not None:
        code = tb.tb_frame.f_code
        path = code.co_filename
        if not path.startswith("<"):
            path = str(Path(path).resolve())
            if path.startswith(_ENGINE_DIR):
                pass
            elif "-packages/" in path:
                installed = (path, tb.tb_lineno, code.co_name)
            elif not path.startswith(_STDLIB_DIR):
                own = (path, tb.tb_lineno, code.co_name)
        tb = tb.tb_next
    found = own or installed
    if found is None:
        return None
    path, line, function = found
    with contextlib.suppress(ValueError):  # not under the current folder: keep it absolute
        path = str(Path(path).relative_to(Path.cwd().resolve()))
    return f"{path}:{line} in {function}"


def _describe(exc: BaseException) -> str:
    if isinstance(exc, NodeError) or type(exc).__name__ in ("ToolError", "AgentRunnerError"):
        return str(exc)
    text = str(exc)
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
