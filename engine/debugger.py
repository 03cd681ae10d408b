"""WorkflowDebugger: breakpoints, stepping, pause, stack, variables and time travel.

The debugger is an `engine.gates.ExecutionGate`: the executor awaits it before
and after every node, and it holds the run while the user looks around. It is
also an event subscriber (threads, retries, logs). Before each main-thread node
it keeps a snapshot of the state, so step back / reverse continue only move a
view over those snapshots (no side effect is re-run); going forward from the
past forks a new timeline, and the old one stays in `timelines`.

Used by the DAP debuggee and by `victor workflow debug`. Knows nothing of DAP,
terminals or processes; it reports through `DebugEvent`s to one listener.
"""

from __future__ import annotations

import asyncio
import dataclasses
import itertools
import time
import uuid
from collections.abc import Callable, Iterable, Mapping, MutableMapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Protocol

from engine.debug_conditions import (
    ConditionError,
    HitCondition,
    StateCondition,
    compile_condition,
    evaluate_expression,
    hover_expression,
    interpolate_log_message,
    parse_hit_condition,
    parse_typed_value,
)
from engine.debug_variables import (
    CLIPBOARD_LIMIT,
    Variable,
    VariableStore,
    clipboard_text,
    preview,
    type_name,
)
from engine.events import EventSubscriber, ExecutionEvent, ExecutionEventType
from engine.gates import Frame, GateDecision, NodeOutcome
from engine.hitl import APPROVED, REJECTED, HitlRequest, HitlResponse
from engine.model import Node, NodeType, ParallelNode, SourceSpan, Workflow
from engine.state import public_view

MAIN_THREAD = "main"


class DebuggerError(Exception):
    """A debugger command that cannot be done now; the message says why."""


class StopReason(StrEnum):
    ENTRY = "entry"
    BREAKPOINT = "breakpoint"
    FUNCTION_BREAKPOINT = "function breakpoint"
    STEP = "step"
    PAUSE = "pause"
    EXCEPTION = "exception"
    GOTO = "goto"
    RESTART = "restart"


class ExceptionFilter(StrEnum):
    NODE_FAILED = "nodeFailed"
    RETRY = "retry"
    UNCAUGHT = "uncaught"


EXCEPTION_FILTER_LABELS: Mapping[ExceptionFilter, tuple[str, str, bool]] = {
    # filter: (label, description, on by default)
    ExceptionFilter.NODE_FAILED: ("Node failed", "Stop when any node fails.", False),
    ExceptionFilter.RETRY: ("Retry attempted", "Stop when a node is about to be retried.", False),
    ExceptionFilter.UNCAUGHT: (
        "Workflow failed (uncaught)",
        "Stop when a node failure is not handled by retry_policy or continue_on_error.",
        True,
    ),
}


class Phase(StrEnum):
    BEFORE = "before"
    AFTER = "after"
    FAILED = "failed"


# --------------------------------------------------------------------------- events


@dataclass(frozen=True, slots=True)
class Stopped:
    reason: StopReason
    thread: str
    node_id: str
    description: str = ""
    text: str | None = None
    """The error text for exception stops."""
    breakpoint_ids: tuple[int, ...] = ()


@dataclass(frozen=True, slots=True)
class Continued:
    thread: str


@dataclass(frozen=True, slots=True)
class Output:
    text: str
    category: str = "console"
    node_id: str | None = None


@dataclass(frozen=True, slots=True)
class ThreadChanged:
    thread: str
    started: bool


@dataclass(frozen=True, slots=True)
class Finished:
    status: str
    """`completed`, `failed` or `cancelled`."""
    error: str | None = None
    state: Mapping[str, Any] | None = None
    node_id: str | None = None
    """The node the run failed or was cancelled at, when known."""


@dataclass(frozen=True, slots=True)
class HitlAsked:
    """A HITL node waits for an answer (see `WorkflowDebugger.answer_hitl`)."""

    request_id: str
    request: HitlRequest


@dataclass(frozen=True, slots=True)
class StateChanged:
    """The inspected state changed without a stop (set_state, step back view)."""


DebugEvent = Stopped | Continued | Output | ThreadChanged | Finished | StateChanged | HitlAsked
DebugListener = Callable[[DebugEvent], None]


# --------------------------------------------------------------------------- data


@dataclass
class Breakpoint:
    """One breakpoint on a node (or on every node of a type)."""

    id: int
    node_id: str | None
    node_type: str | None = None
    condition: StateCondition | None = None
    condition_text: str | None = None
    hit_condition: HitCondition | None = None
    log_message: str | None = None
    function: bool = False
    """Set by name (function breakpoint) rather than by line."""
    hits: int = 0
    condition_failed: bool = False
    """The condition raised once already (reported once, then silently not hit)."""

    def describe(self) -> str:
        where = f"type:{self.node_type}" if self.node_type else f"node {self.node_id!r}"
        kind = "function breakpoint" if self.function else "breakpoint"
        return f"{kind} at {where}" + (
            f" with condition `{self.condition_text}`" if self.condition_text else ""
        )

    def applies_to(self, node: Node) -> bool:
        if self.node_type is not None:
            return node.type.value == self.node_type
        return node.id == self.node_id


@dataclass(frozen=True, slots=True)
class HistoryEntry:
    """The state just before a main-thread node ran."""

    frame: Frame
    snapshot: Mapping[str, Any]
    timestamp: float


@dataclass
class Timeline:
    id: int
    parent: int | None
    forked_at: int | None
    """Index in the parent timeline this one branched from."""
    entries: list[HistoryEntry] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class StackFrameInfo:
    """One level of the stack, innermost first."""

    index: int
    name: str
    node_id: str
    kind: str
    """`node`, `library` (the `$ref` site), `parallel` or `team`."""
    source: str
    span: SourceSpan


@dataclass(frozen=True, slots=True)
class Scope:
    name: str
    handle: int
    named: int
    expensive: bool = False


@dataclass(frozen=True, slots=True)
class EvaluateResult:
    value: Any
    text: str
    type: str
    handle: int = 0
    indexed: int = 0
    named: int = 0


class StepMode(StrEnum):
    RUN = "run"
    OVER = "over"
    INTO = "into"
    OUT = "out"


class Executor(Protocol):
    async def execute(
        self, workflow: Workflow, inputs: dict[str, Any], *, execution_id: str
    ) -> Any: ...

    def cancel(self) -> None: ...


ExecutorFactory = Callable[[Any, list[EventSubscriber]], Executor]
"""(gate, subscribers) -> an executor; the debuggee passes registry and HITL responder."""


@dataclass
class _Location:
    """Where a thread is now; `held` while it waits in a gate."""

    frame: Frame
    state: MutableMapping[str, Any]
    phase: Phase
    outcome: NodeOutcome | None = None
    held: bool = False
    member: tuple[int, Any] | None = None
    """(index, TeamMember) while a team node's member is about to run."""


@dataclass
class _Resume:
    decision: GateDecision | None


def snapshot_state(state: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of a JSON-like state that later in-place edits cannot reach."""
    return {k: _copy_value(v) for k, v in state.items()}


def _copy_value(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _copy_value(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_copy_value(v) for v in value]
    return value


def _default_executor_factory(gate: Any, subscribers: list[EventSubscriber]) -> Executor:
    from engine.execution_engine import WorkflowExecutor

    executor: Executor = WorkflowExecutor(gate=gate, subscribers=subscribers)
    return executor


# --------------------------------------------------------------------------- debugger


class WorkflowDebugger:
    """Debug one run of a workflow (see the module docstring)."""

    def __init__(
        self,
        workflow: Workflow,
        *,
        executor_factory: ExecutorFactory | None = None,
        listener: DebugListener | None = None,
        stop_on_entry: bool = False,
        no_debug: bool = False,
        subscribers: Iterable[EventSubscriber] = (),
        code_debugged: Callable[[Node], bool] | None = None,
    ) -> None:
        self.workflow = workflow
        self.code_debugged = code_debugged
        """True for a node whose own code a person may be stepping through in another
        debugger (a compute handler under debugpy): it runs without its timeout."""
        self.stop_on_entry = stop_on_entry
        self.no_debug = no_debug
        self._executor_factory = executor_factory or _default_executor_factory
        self._listeners: list[DebugListener] = [listener] if listener else []
        self._extra_subscribers = list(subscribers)
        self._breakpoints: dict[int, Breakpoint] = {}
        self._ids = itertools.count(1)
        self.exception_filters: set[ExceptionFilter] = {
            f for f, (_, _, default) in EXCEPTION_FILTER_LABELS.items() if default
        }
        self._locations: dict[str, _Location] = {}
        self._threads: list[str] = []
        self._stop: Stopped | None = None
        self._resume: asyncio.Future[_Resume] | None = None
        self._step_mode = StepMode.RUN
        self._step_origin: Frame | None = None
        self._step_member: int | None = None
        """Set when stepping from a team member (the origin frame is its team's)."""
        self._pause_requested = False
        self._terminating = False
        self._entry_pending = True
        self._arrival: tuple[str, StopReason] | None = None
        self._skip_once: str | None = None
        self._timelines: list[Timeline] = [Timeline(0, None, None)]
        self._timeline = self._timelines[0]
        self._view: int | None = None
        self._view_state: dict[str, Any] | None = None
        self.variables = VariableStore()
        self._executor: Executor | None = None
        self._task: asyncio.Task[None] | None = None
        self._finished: Finished | None = None
        self._waiters: list[asyncio.Future[Stopped | Finished]] = []
        self.execution_id = ""
        self.started_at = 0.0
        self._events: list[ExecutionEvent] = []
        self._hitl_pending: dict[str, tuple[HitlRequest, asyncio.Future[HitlResponse]]] = {}
        self._node_visits: dict[str, int] = {}
        self._last_outcomes: dict[str, NodeOutcome] = {}

    # ----------------------------------------------------------------- listeners

    def use_executor_factory(self, factory: ExecutorFactory) -> None:
        """Build the run's executor with `factory` (set before `start`).

        Set after construction because the factory often needs the debugger
        itself, e.g. as the HITL responder of the run."""
        self._executor_factory = factory

    def add_subscriber(self, subscriber: EventSubscriber) -> None:
        """Also send the run's events to `subscriber` (a history recorder, a tracer)."""
        self._extra_subscribers.append(subscriber)

    def add_listener(self, listener: DebugListener) -> None:
        self._listeners.append(listener)

    def _emit(self, event: DebugEvent) -> None:
        for listener in self._listeners:
            listener(event)
        if isinstance(event, Stopped | Finished):
            waiters, self._waiters = self._waiters, []
            for waiter in waiters:
                if not waiter.done():
                    waiter.set_result(event)

    # ----------------------------------------------------------------- breakpoints

    def set_breakpoint(
        self,
        node_id: str,
        condition: str | StateCondition | None = None,
        *,
        hit_condition: str | None = None,
        log_message: str | None = None,
        function: bool = False,
    ) -> Breakpoint:
        """Break before `node_id` runs (or before any node of a type: `type:compute`).

        Raises DebuggerError when the node does not exist or a condition does
        not parse.
        """
        node_type: str | None = None
        target: str | None = node_id
        if node_id.startswith("type:"):
            node_type = node_id.removeprefix("type:").strip()
            if node_type not in {t.value for t in NodeType}:
                valid = ", ".join(f"type:{t.value}" for t in NodeType)
                raise DebuggerError(f"unknown node type {node_type!r}; use one of {valid}")
            target = None
        elif not self.workflow.has_node(node_id):
            known = ", ".join(n.id for n in self.workflow.nodes)
            raise DebuggerError(
                f"workflow {self.workflow.name!r} has no node {node_id!r}; nodes: {known}"
            )
        try:
            compiled = compile_condition(condition) if condition is not None else None
            hit = parse_hit_condition(hit_condition) if hit_condition else None
        except ConditionError as exc:
            raise DebuggerError(str(exc)) from exc
        bp = Breakpoint(
            id=next(self._ids),
            node_id=target,
            node_type=node_type,
            condition=compiled,
            condition_text=condition if isinstance(condition, str) else None,
            hit_condition=hit,
            log_message=log_message or None,
            function=function,
        )
        self._breakpoints[bp.id] = bp
        return bp

    def remove_breakpoint(self, breakpoint_id: int) -> bool:
        return self._breakpoints.pop(breakpoint_id, None) is not None

    def clear_breakpoints(self, *, function: bool | None = None) -> None:
        """Remove all breakpoints, or only function (True) / line (False) ones."""
        for bp_id, bp in list(self._breakpoints.items()):
            if function is None or bp.function == function:
                del self._breakpoints[bp_id]

    @property
    def breakpoints(self) -> list[Breakpoint]:
        return list(self._breakpoints.values())

    def set_exception_filters(self, filters: Iterable[str]) -> None:
        chosen: set[ExceptionFilter] = set()
        for name in filters:
            try:
                chosen.add(ExceptionFilter(name))
            except ValueError:
                valid = ", ".join(f.value for f in ExceptionFilter)
                raise DebuggerError(f"unknown exception filter {name!r}; use {valid}") from None
        self.exception_filters = chosen

    # ----------------------------------------------------------------- run control

    async def start(
        self, inputs: Mapping[str, Any] | None = None, *, execution_id: str | None = None
    ) -> Stopped | Finished:
        """Start the run and return at the first stop (or when it ends)."""
        self.launch(inputs, execution_id=execution_id)
        return await self.wait()

    def launch(
        self, inputs: Mapping[str, Any] | None = None, *, execution_id: str | None = None
    ) -> None:
        """Start the run in the background; stops arrive as events."""
        if self._task is not None:
            raise DebuggerError("the run has already started")
        self.execution_id = execution_id or uuid.uuid4().hex[:12]
        self.started_at = time.monotonic()
        subscribers: list[EventSubscriber] = [self._on_execution_event, *self._extra_subscribers]
        self._executor = self._executor_factory(self, subscribers)
        self._task = asyncio.get_running_loop().create_task(self._run(dict(inputs or {})))

    async def _run(self, inputs: dict[str, Any]) -> None:
        assert self._executor is not None
        status, error, state, node = "completed", None, None, None
        try:
            result = await self._executor.execute(
                self.workflow, inputs, execution_id=self.execution_id
            )
            status, error, node, state = _result_summary(result)
        except asyncio.CancelledError:
            status, error = "cancelled", None
        except Exception as exc:
            status, error = "failed", f"{type(exc).__name__}: {exc}"
        if self._terminating and status != "completed":
            status = "cancelled"
        self._finished = Finished(status, error, state, node)
        for thread in [t for t in self._threads if t != MAIN_THREAD]:
            self._thread_ended(thread)
        self._emit(self._finished)

    async def wait(self) -> Stopped | Finished:
        """The next stop, or the end of the run."""
        if self._finished is not None:
            return self._finished
        if self._stop is not None:
            return self._stop
        waiter: asyncio.Future[Stopped | Finished] = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        return await waiter

    @property
    def finished(self) -> Finished | None:
        return self._finished

    @property
    def stopped(self) -> Stopped | None:
        return self._stop

    def resume(self, mode: StepMode = StepMode.RUN, thread: str | None = None) -> None:
        """Continue (RUN) or step; returns at once. Raises DebuggerError when not stopped."""
        stop = self._require_stopped()
        origin_thread = thread or stop.thread
        location = self._locations.get(origin_thread)
        decision: GateDecision | None = None
        if self._view is not None:
            entry = self._timeline.entries[self._view]
            origin = entry.frame
            decision = self._fork(self._view)
            self._skip_once = origin.node_id
        elif location is not None:
            origin = location.frame
        else:
            origin = self._locations[stop.thread].frame
        member = location.member if location is not None and self._view is None else None
        if mode is StepMode.OUT and not origin.parents and member is None:
            mode = StepMode.RUN
        if mode is StepMode.INTO and location is not None and location.phase is not Phase.BEFORE:
            mode = StepMode.OVER
        self._step_mode = mode
        self._step_origin = origin
        self._step_member = member[0] if member is not None else None
        self._release(decision)

    async def step_over(self) -> Stopped | Finished:
        self.resume(StepMode.OVER)
        return await self.wait()

    async def step_into(self) -> Stopped | Finished:
        self.resume(StepMode.INTO)
        return await self.wait()

    async def step_out(self) -> Stopped | Finished:
        self.resume(StepMode.OUT)
        return await self.wait()

    async def continue_execution(self) -> Stopped | Finished:
        self.resume(StepMode.RUN)
        return await self.wait()

    def pause(self) -> None:
        """Stop at the next node boundary (a node that is running finishes first).

        A node cannot be interrupted halfway, so when one is running the user is
        told which one the pause waits for (a long shell command, a slow agent).
        """
        if self._stop is not None or self._finished is not None:
            return
        already = self._pause_requested
        self._pause_requested = True
        running = [
            location.frame.node_id
            for location in self._locations.values()
            if location.phase is Phase.BEFORE and not location.held and location.member is None
        ]
        if running and not already:
            names = ", ".join(repr(n) for n in running)
            self._emit(
                Output(
                    f"Pausing: node {names} is running; the run stops as soon as it finishes "
                    "(terminate ends it now).\n",
                    "console",
                    running[0],
                )
            )

    async def stop(self) -> Finished:
        """End the run (status cancelled); waits for the executor to finish."""
        self.terminate()
        assert self._task is not None
        try:
            await asyncio.wait_for(asyncio.shield(self._task), timeout=2.0)
        except TimeoutError:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        assert self._finished is not None
        return self._finished

    def terminate(self) -> None:
        """Ask the run to stop at once; does not wait."""
        self._terminating = True
        for _, future in self._hitl_pending.values():
            if not future.done():
                future.set_result(HitlResponse(False, None, "debug session terminated", REJECTED))
        if self._executor is not None:
            self._executor.cancel()
        if self._stop is not None:
            self._release(GateDecision(stop=True))

    def _require_stopped(self) -> Stopped:
        if self._finished is not None:
            raise DebuggerError(f"the run has ended ({self._finished.status})")
        if self._stop is None:
            raise DebuggerError("the run is not stopped; pause it first")
        return self._stop

    def _release(self, decision: GateDecision | None) -> None:
        stopped = self._stop
        self._stop = None
        self._view = None
        self._view_state = None
        self.variables.clear()
        future, self._resume = self._resume, None
        if future is not None and not future.done():
            future.set_result(_Resume(decision))
        if stopped is not None:
            self._emit(Continued(stopped.thread))

    # ----------------------------------------------------------------- time travel

    @property
    def timelines(self) -> list[Timeline]:
        return list(self._timelines)

    @property
    def timeline(self) -> Timeline:
        return self._timeline

    @property
    def history_position(self) -> int | None:
        """Index of the viewed history entry while in the past, else None."""
        return self._view

    def _present_index(self) -> int:
        """The history entry at or behind the live position."""
        entries = self._timeline.entries
        stop = self._require_stopped()
        location = self._locations.get(stop.thread)
        last = len(entries) - 1
        if location is not None and location.phase is Phase.BEFORE and stop.thread == MAIN_THREAD:
            return last  # the live node has not run: its entry is the present
        return last + 1

    def step_back(self) -> Stopped:
        """Show the state before the previous node (nothing is re-run)."""
        stop = self._require_stopped()
        self._require_main(stop, "step back")
        current = self._view if self._view is not None else self._present_index()
        if current <= 0:
            raise DebuggerError("already at the start of the run; there is nothing to step back to")
        return self._show_history(current - 1, StopReason.STEP)

    def reverse_continue(self) -> Stopped:
        """Go back to the latest earlier node with a matching breakpoint, or the start."""
        stop = self._require_stopped()
        self._require_main(stop, "reverse continue")
        current = self._view if self._view is not None else self._present_index()
        if current <= 0:
            raise DebuggerError("already at the start of the run")
        for index in range(current - 1, -1, -1):
            entry = self._timeline.entries[index]
            hit = [bp.id for bp in self._matching_breakpoints(entry.frame.node, entry.snapshot)]
            if hit:
                return self._show_history(index, StopReason.BREAKPOINT, tuple(hit))
        return self._show_history(0, StopReason.ENTRY)

    def _show_history(self, index: int, reason: StopReason, bps: tuple[int, ...] = ()) -> Stopped:
        entry = self._timeline.entries[index]
        self._view = index
        self._view_state = snapshot_state(entry.snapshot)
        self.variables.clear()
        stopped = Stopped(
            reason,
            MAIN_THREAD,
            entry.frame.node_id,
            description=(
                f"history {index + 1}/{len(self._timeline.entries)} (before {entry.frame.node_id})"
            ),
            breakpoint_ids=bps,
        )
        self._stop = stopped
        self._emit(stopped)
        return stopped

    def _fork(self, index: int) -> GateDecision:
        """Leave the viewed past: a new timeline from `index`, the old one kept."""
        entry = self._timeline.entries[index]
        state = self._view_state if self._view_state is not None else snapshot_state(entry.snapshot)
        timeline = Timeline(
            id=len(self._timelines),
            parent=self._timeline.id,
            forked_at=index,
            entries=list(self._timeline.entries[:index]),
        )
        self._timelines.append(timeline)
        self._timeline = timeline
        return GateDecision(goto=entry.frame.node_id, state=state)

    def restart_node(self, node_id: str | None = None) -> None:
        """Run `node_id` (default: the stopped node) again from the state before it."""
        stop = self._require_stopped()
        self._require_main(stop, "restart frame")
        target = node_id or (
            self._timeline.entries[self._view].frame.node_id
            if self._view is not None
            else stop.thread and self._locations[stop.thread].frame.node_id
        )
        limit = self._view + 1 if self._view is not None else len(self._timeline.entries)
        index = next(
            (
                i
                for i in range(limit - 1, -1, -1)
                if self._timeline.entries[i].frame.node_id == target
            ),
            None,
        )
        if index is None:
            raise DebuggerError(
                f"node {target!r} has not run on the main thread yet; nothing to restart"
            )
        self._view = index
        if self._view_state is None:
            self._view_state = snapshot_state(self._timeline.entries[index].snapshot)
        decision = self._fork(index)
        self._arrival = (target, StopReason.RESTART)
        self._step_mode = StepMode.RUN
        self._release(decision)

    def goto(self, node_id: str) -> None:
        """Jump to `node_id` without running the nodes in between; stops on arrival."""
        stop = self._require_stopped()
        self._require_main(stop, "goto")
        if not self.workflow.has_node(node_id):
            raise DebuggerError(f"workflow {self.workflow.name!r} has no node {node_id!r}")
        if node_id in self.branch_children():
            raise DebuggerError(
                f"node {node_id!r} runs inside a parallel node; goto its parallel node instead"
            )
        state = self._view_state if self._view is not None else None
        if self._view is not None:
            self._fork(self._view)
        self._arrival = (node_id, StopReason.GOTO)
        self._step_mode = StepMode.RUN
        self._release(GateDecision(goto=node_id, state=state))

    def goto_targets(self, line: int, source: str | None = None) -> list[Node]:
        """Nodes a `goto` may jump to from a 0-based line of the workflow file."""
        node = self.workflow.node_at_line(line)
        if node is None or node.id in self.branch_children():
            return []
        return [node]

    def branch_children(self) -> set[str]:
        return {
            c for n in self.workflow.nodes if isinstance(n, ParallelNode) for c in n.parallel_nodes
        }

    def _require_main(self, stop: Stopped, what: str) -> None:
        if stop.thread != MAIN_THREAD:
            raise DebuggerError(
                f"{what} works on the main thread; "
                f"step out of parallel branch {stop.thread!r} first"
            )

    # ----------------------------------------------------------------- gate

    async def before_node(
        self, frame: Frame, state: MutableMapping[str, Any]
    ) -> GateDecision | None:
        if self.no_debug:
            return None
        self._note_thread(frame.thread)
        self._node_visits[frame.node_id] = frame.visit
        if frame.thread == MAIN_THREAD:
            self._timeline.entries.append(
                HistoryEntry(frame, snapshot_state(state), time.monotonic())
            )
        location = _Location(frame, state, Phase.BEFORE)
        decision = await self._arrive(location)
        if decision is not None:
            return decision
        stop = self._stop_reason_before(frame, state)
        decision = None if stop is None else await self._hold(location, stop)
        return self._without_timeout_if_debugged(frame.node, decision)

    def _without_timeout_if_debugged(
        self, node: Node, decision: GateDecision | None
    ) -> GateDecision | None:
        """Lift the timeout of a node that runs now while its code may be stepped through."""
        if self.code_debugged is None or self._terminating:
            return decision
        if decision is not None and (decision.goto is not None or decision.skip or decision.stop):
            return decision  # the node does not run now
        if not self.code_debugged(node):
            return decision
        return dataclasses.replace(decision or GateDecision(), no_timeout=True)

    async def after_node(
        self, frame: Frame, state: MutableMapping[str, Any], outcome: NodeOutcome
    ) -> GateDecision | None:
        self._last_outcomes[frame.node_id] = outcome
        if self.no_debug:
            return None
        location = _Location(frame, state, Phase.AFTER, outcome)
        self._locations[frame.thread] = location
        if frame.thread != MAIN_THREAD and frame.node_id == frame.thread:
            self._thread_ended(frame.thread)
        decision = await self._wait_for_others(location)
        if decision is not None:
            return decision
        origin = self._step_origin
        if (
            self._step_mode is StepMode.OUT
            and origin is not None
            and (
                (
                    origin.parents
                    and frame.node_id == origin.parents[-1]
                    and frame.parents == origin.parents[:-1]
                )
                or (self._step_member is not None and _same_place(frame, origin))
            )
        ):
            return await self._hold(
                location, Stopped(StopReason.STEP, frame.thread, frame.node_id, "stepped out")
            )
        return None

    async def on_node_failed(
        self, frame: Frame, state: MutableMapping[str, Any], outcome: NodeOutcome
    ) -> GateDecision | None:
        self._last_outcomes[frame.node_id] = outcome
        if self.no_debug:
            return None
        location = _Location(frame, state, Phase.FAILED, outcome)
        decision = await self._arrive(location)
        if decision is not None:
            return decision
        handled = bool(frame.node.continue_on_error) or (
            frame.node.retry_policy is not None
            and frame.node.retry_policy.max_attempts > outcome.attempts
        )
        wanted = ExceptionFilter.NODE_FAILED in self.exception_filters or (
            ExceptionFilter.UNCAUGHT in self.exception_filters and not handled
        )
        if not wanted:
            return None
        return await self._hold_on_failure(location, f"node {frame.node_id!r} failed")

    async def before_retry(
        self,
        frame: Frame,
        state: MutableMapping[str, Any],
        outcome: NodeOutcome,
        attempt: int,
        delay: float,
    ) -> GateDecision | None:
        """`engine.gates.RetryAwareGate`: the "retry attempted" filter stops before the retry."""
        self._last_outcomes[frame.node_id] = outcome
        if self.no_debug:
            return None
        location = _Location(frame, state, Phase.FAILED, outcome)
        decision = await self._arrive(location)
        if decision is not None:
            return decision
        if ExceptionFilter.RETRY not in self.exception_filters:
            return None
        return await self._hold_on_failure(
            location,
            f"node {frame.node_id!r} failed; retry {attempt} is next (after {delay:.2g}s)",
        )

    async def before_member(
        self, frame: Frame, member: Any, index: int, state: MutableMapping[str, Any]
    ) -> GateDecision | None:
        """`engine.gates.TeamAwareGate`: step into a team stops before its first member."""
        if self.no_debug:
            return None
        location = _Location(frame, state, Phase.BEFORE, member=(index, member))
        decision = await self._arrive(location)
        if decision is not None:
            return decision
        stop = self._member_stop(frame, member)
        if stop is None:
            return None
        return await self._hold(location, stop)

    async def after_member(
        self, frame: Frame, member: Any, index: int, result: Any
    ) -> GateDecision | None:
        if self.no_debug:
            return None
        location = self._locations.get(frame.thread)
        if location is not None and location.member is not None and location.member[0] == index:
            self._locations[frame.thread] = _Location(frame, location.state, Phase.BEFORE)
        return await self._wait_for_others(location or _Location(frame, {}, Phase.BEFORE))

    def _member_stop(self, frame: Frame, member: Any) -> Stopped | None:
        member_id = str(getattr(member, "id", member))
        if self._pause_requested:
            return Stopped(StopReason.PAUSE, frame.thread, frame.node_id, "paused")
        origin = self._step_origin
        if origin is None or not _same_place(frame, origin):
            return None
        into_team = self._step_mode is StepMode.INTO and self._step_member is None
        next_member = self._step_mode in (StepMode.OVER, StepMode.INTO) and (
            self._step_member is not None
        )
        if into_team or next_member:
            return Stopped(
                StopReason.STEP, frame.thread, frame.node_id, f"step into member {member_id}"
            )
        return None

    async def _arrive(self, location: _Location) -> GateDecision | None:
        """Note where this thread is now, then wait while another thread is stopped."""
        self._locations[location.frame.thread] = location
        return await self._wait_for_others(location)

    async def _hold_on_failure(self, location: _Location, description: str) -> GateDecision | None:
        frame, outcome = location.frame, location.outcome
        error = (outcome.error if outcome is not None else None) or "node failed"
        stop = Stopped(StopReason.EXCEPTION, frame.thread, frame.node_id, description, error)
        return await self._hold(location, stop)

    async def _wait_for_others(self, location: _Location) -> GateDecision | None:
        """Hold this thread while another thread is stopped (all-threads-stop)."""
        while self._resume is not None and not self._terminating:
            location.held = True
            await asyncio.shield(self._resume)
        location.held = False
        if self._terminating:
            return GateDecision(stop=True)
        return None

    async def _hold(self, location: _Location, stop: Stopped) -> GateDecision | None:
        self._pause_requested = False
        self._step_mode = StepMode.RUN
        self._step_origin = None
        self._step_member = None
        location.held = True
        self._stop = stop
        self._resume = asyncio.get_running_loop().create_future()
        self.variables.clear()
        future = self._resume
        self._emit(stop)
        resume = await future
        location.held = False
        if self._terminating:
            return GateDecision(stop=True)
        return resume.decision

    def _stop_reason_before(self, frame: Frame, state: Mapping[str, Any]) -> Stopped | None:
        node = frame.node
        if self._skip_once == node.id and frame.thread == MAIN_THREAD:
            self._skip_once = None
            return None
        if self._arrival is not None and self._arrival[0] == node.id:
            reason = self._arrival[1]
            self._arrival = None
            return Stopped(reason, frame.thread, node.id, f"{reason.value} {node.id}")
        if self._entry_pending:
            self._entry_pending = False
            if self.stop_on_entry:
                return Stopped(StopReason.ENTRY, frame.thread, node.id, "stopped on entry")
        if self._pause_requested:
            return Stopped(StopReason.PAUSE, frame.thread, node.id, "paused")
        hit = self._hit_breakpoints(node, state)
        if hit:
            reason = (
                StopReason.FUNCTION_BREAKPOINT
                if all(b.function for b in hit)
                else StopReason.BREAKPOINT
            )
            return Stopped(
                reason,
                frame.thread,
                node.id,
                f"breakpoint at {node.id}",
                breakpoint_ids=tuple(b.id for b in hit),
            )
        if self._step_done(frame):
            return Stopped(StopReason.STEP, frame.thread, node.id, f"step to {node.id}")
        return None

    def _step_done(self, frame: Frame) -> bool:
        origin = self._step_origin
        if self._step_mode is StepMode.RUN or origin is None:
            return False
        depth, origin_depth = len(frame.parents), len(origin.parents)
        if self._step_mode is StepMode.INTO and frame.parents[: origin_depth + 1] == (
            *origin.parents,
            origin.node_id,
        ):
            return True
        if self._step_mode is StepMode.OUT:
            return depth < origin_depth
        if depth < origin_depth:
            return True
        return (
            depth == origin_depth
            and frame.thread == origin.thread
            and frame.parents == origin.parents
        )

    def _matching_breakpoints(self, node: Node, state: Mapping[str, Any]) -> list[Breakpoint]:
        """Breakpoints whose condition holds (no hit counting, no logpoints)."""
        return [
            bp
            for bp in self._breakpoints.values()
            if bp.log_message is None and bp.applies_to(node) and self._condition_holds(bp, state)
        ]

    def _condition_holds(self, bp: Breakpoint, state: Mapping[str, Any]) -> bool:
        """A condition that cannot be evaluated counts as false (as debugpy does);
        the error is reported once per breakpoint, not at every node."""
        if bp.condition is None:
            return True
        try:
            return bool(bp.condition(state))
        except Exception as exc:
            if not bp.condition_failed:
                bp.condition_failed = True
                self._emit(
                    Output(
                        f"The {bp.describe()} could not evaluate its condition: {exc}. "
                        "It is treated as not hit until the condition is fixed.\n",
                        "console",
                        bp.node_id,
                    )
                )
            return False

    def _hit_breakpoints(self, node: Node, state: Mapping[str, Any]) -> list[Breakpoint]:
        hit: list[Breakpoint] = []
        for bp in self._breakpoints.values():
            if not bp.applies_to(node) or not self._condition_holds(bp, state):
                continue
            bp.hits += 1
            if bp.hit_condition is not None and not bp.hit_condition.matches(bp.hits):
                continue
            if bp.log_message is not None:
                self._emit(
                    Output(
                        interpolate_log_message(bp.log_message, state) + "\n", "console", node.id
                    )
                )
                continue
            hit.append(bp)
        return hit

    # ----------------------------------------------------------------- events in

    def _on_execution_event(self, event: ExecutionEvent) -> None:
        self._events.append(event)
        kind = event.event_type
        if kind is ExecutionEventType.BRANCH_STARTED:
            self._note_thread(event.thread)
        elif kind is ExecutionEventType.BRANCH_FINISHED:
            self._thread_ended(event.thread)
        elif kind is ExecutionEventType.LOG and event.metadata.get("message"):
            self._emit(Output(str(event.metadata["message"]) + "\n", "console", event.node_id))

    def _note_thread(self, thread: str) -> None:
        if thread not in self._threads:
            self._threads.append(thread)
            self._emit(ThreadChanged(thread, True))

    def _thread_ended(self, thread: str) -> None:
        if thread in self._threads and thread != MAIN_THREAD:
            self._threads.remove(thread)
            self._locations.pop(thread, None)
            self._emit(ThreadChanged(thread, False))

    @property
    def threads(self) -> list[str]:
        return list(self._threads) or [MAIN_THREAD]

    # ----------------------------------------------------------------- inspection

    def _inspected(
        self, thread: str | None = None
    ) -> tuple[Frame, Mapping[str, Any], Phase, NodeOutcome | None]:
        stop = self._stop
        if self._view is not None and (thread is None or thread == MAIN_THREAD):
            entry = self._timeline.entries[self._view]
            assert self._view_state is not None
            return entry.frame, self._view_state, Phase.BEFORE, None
        name = thread or (stop.thread if stop else MAIN_THREAD)
        location = self._locations.get(name)
        if location is None:
            raise DebuggerError(f"thread {name!r} is not running a node")
        return location.frame, location.state, location.phase, location.outcome

    def get_state(self, thread: str | None = None) -> dict[str, Any]:
        """The state at the stopped (or viewed) point, as a plain dict."""
        if self._finished is not None and self._stop is None:
            return dict(self._finished.state or {})
        return dict(self._inspected(thread)[1])

    def get_stack_trace(self, thread: str | None = None) -> list[StackFrameInfo]:
        """Frames innermost first: the node, its `$ref` site, enclosing parallel nodes."""
        frame, _, _, _ = self._inspected(thread)
        frames: list[StackFrameInfo] = []

        def add(name: str, node_id: str, kind: str, source: str, span: SourceSpan) -> None:
            frames.append(StackFrameInfo(len(frames), name, node_id, kind, source, span))

        node = frame.node
        member = self._inspected_member(thread)
        if member is not None:
            index, team_member = member
            count = len(getattr(node, "members", ()))
            add(
                f"{team_member.id} (member {index + 1}/{count} of team {node.id})",
                node.id,
                "member",
                node.origin.source if node.origin is not None else self.workflow.source,
                team_member.span or (node.origin.span if node.origin is not None else node.span),
            )
        if node.origin is not None:
            add(
                f"{node.id} ({node.type.value})",
                node.id,
                "node",
                node.origin.source,
                node.origin.span,
            )
            add(
                f"{node.id} via {node.origin.kind} {node.origin.name}",
                node.id,
                "library",
                self.workflow.source,
                node.span,
            )
        else:
            add(f"{node.id} ({node.type.value})", node.id, "node", self.workflow.source, node.span)
        for parent_id in reversed(frame.parents):
            if self.workflow.has_node(parent_id):
                parent = self.workflow.node(parent_id)
                kind = (
                    parent.type.value
                    if parent.type in (NodeType.PARALLEL, NodeType.TEAM)
                    else "node"
                )
                add(
                    f"{parent.id} ({parent.type.value})",
                    parent.id,
                    kind,
                    self.workflow.source,
                    parent.span,
                )
        add(
            f"workflow {self.workflow.name}",
            "",
            "workflow",
            self.workflow.source,
            self.workflow.name_span,
        )
        return frames

    def _inspected_member(self, thread: str | None = None) -> tuple[int, Any] | None:
        """(index, member) when the inspected point is before a team member."""
        if self._view is not None and (thread is None or thread == MAIN_THREAD):
            return None
        stop = self._stop
        location = self._locations.get(thread or (stop.thread if stop else MAIN_THREAD))
        return location.member if location is not None else None

    def scopes(self, thread: str | None = None, frame_index: int = 0) -> list[Scope]:
        frame, state, phase, outcome = self._inspected(thread)
        node = self._frame_node(frame, frame_index)
        public = public_view(state)
        member = self._inspected_member(thread)
        if member is not None and frame_index == 0:
            node_values = _member_values(frame.node, *member)
        else:
            node_values = self._node_values(
                node, state, phase, outcome if node is frame.node else None
            )
        execution = self._execution_values(frame, state)
        return [
            Scope("State", self.variables.add(public, ""), len(public)),
            Scope("Node", self.variables.add(node_values, None), len(node_values)),
            Scope("Execution", self.variables.add(execution, None), len(execution)),
        ]

    def _frame_node(self, frame: Frame, frame_index: int) -> Node:
        stack = self.get_stack_trace(frame.thread)
        if 0 <= frame_index < len(stack) and stack[frame_index].node_id:
            return self.workflow.node(stack[frame_index].node_id)
        return frame.node

    def _node_values(
        self, node: Node, state: Mapping[str, Any], phase: Phase, outcome: NodeOutcome | None
    ) -> dict[str, Any]:
        from engine.templating import lookup

        values: dict[str, Any] = {"id": node.id, "type": node.type.value, "phase": phase.value}
        inputs: dict[str, Any] = {}
        for ref in node.state_reads:
            inputs[ref.path] = lookup(state, ref.path, None)
        values["inputs"] = inputs
        values["fields"] = dict(node.fields)
        if outcome is not None:
            values["success"] = outcome.success
            values["output"] = outcome.output
            values["error"] = outcome.error
            values["attempts"] = outcome.attempts
            values["duration_seconds"] = round(outcome.duration_seconds, 6)
        return values

    def _execution_values(self, frame: Frame, state: Mapping[str, Any]) -> dict[str, Any]:
        values: dict[str, Any] = {
            "execution_id": self.execution_id,
            "workflow": self.workflow.name,
            "thread": frame.thread,
            "iteration": frame.iteration,
            "visit": frame.visit,
            "elapsed_seconds": round(time.monotonic() - self.started_at, 3)
            if self.started_at
            else 0.0,
            "timeline": self._timeline.id,
            "history_length": len(self._timeline.entries),
            "viewing_history": self._view is not None,
            "node_visits": dict(self._node_visits),
        }
        internals = {k: v for k, v in state.items() if str(k).startswith("_")}
        if internals:
            values["internals"] = internals
        return values

    def get_variables(self, thread: str | None = None) -> dict[str, dict[str, Any]]:
        """The three scopes as plain dicts: State, Node, Execution."""
        frame, state, phase, outcome = self._inspected(thread)
        return {
            "State": public_view(state),
            "Node": self._node_values(frame.node, state, phase, outcome),
            "Execution": self._execution_values(frame, state),
        }

    def evaluate(
        self, expression: str, *, thread: str | None = None, context: str = "repl"
    ) -> EvaluateResult:
        """Evaluate with the expression language; `hover` strips `$ctx.`/`{{ }}`.

        `clipboard` gets the whole value (`clipboard_text`), not the preview, so
        that "Copy Value" copies what is there; `repl` shows a string in full.
        """
        text = (
            hover_expression(expression)
            if context in ("hover", "watch", "clipboard")
            else expression.strip()
        )
        if context == "repl" and self._hitl_pending:
            answer = self.answer_hitl_from_console(text)
            if answer is not None:
                return EvaluateResult(answer, answer, "str")
        state = self._evaluation_state(thread)
        try:
            value = evaluate_expression(text, state)
        except Exception as exc:
            raise DebuggerError(str(exc)) from exc
        if context == "clipboard":
            return EvaluateResult(value, clipboard_text(value), type_name(value))
        variable = self.variables.variable("", value, None)
        shown_in_full = context == "repl" and isinstance(value, str)
        return EvaluateResult(
            value,
            preview(value, CLIPBOARD_LIMIT) if shown_in_full else preview(value),
            type_name(value),
            variable.handle,
            variable.indexed,
            variable.named,
        )

    def _evaluation_state(self, thread: str | None) -> Mapping[str, Any]:
        if self._stop is None and self._finished is not None:
            return self._finished.state or {}
        try:
            return self._inspected(thread)[1]
        except DebuggerError:
            if self._locations:
                return next(iter(self._locations.values())).state
            raise

    def set_state(self, path: str, value: Any, *, thread: str | None = None) -> None:
        """Edit the state at the stopped point; the rest of the run sees it."""
        from engine.expressions import parse_path, set_path

        self._require_stopped()
        _, state, _, _ = self._inspected(thread)
        if not isinstance(state, MutableMapping):
            raise DebuggerError("this state cannot be edited")
        try:
            root = parse_path(path)[0]
            updated = set_path(state, path, value)
        except Exception as exc:
            raise DebuggerError(f"cannot set {path!r}: {exc}") from exc
        # Replace only the root key: the executor keeps its own live mapping.
        state[str(root)] = updated[str(root)]
        self._refresh_variables(state)
        self._emit(StateChanged())

    def _refresh_variables(self, state: Mapping[str, Any]) -> None:
        from engine.expressions import get_path

        public = public_view(state)
        self.variables.refresh(lambda path: public if path == "" else get_path(state, path))

    def parse_value(self, text: str, *, thread: str | None = None) -> Any:
        """A value typed by the user (see `parse_typed_value`); raises DebuggerError."""
        try:
            state: Mapping[str, Any] = self._evaluation_state(thread)
        except DebuggerError:
            state = {}
        try:
            return parse_typed_value(text, state)
        except ConditionError as exc:
            raise DebuggerError(str(exc)) from exc

    def set_variable(self, handle: int, name: str, value: Any) -> Variable:
        """Set a child of an expanded container (scope State or below)."""
        self._require_stopped()
        try:
            container, path = self.variables.lookup(handle)
        except KeyError as exc:
            raise DebuggerError(str(exc.args[0])) from None
        key: Any = name
        if isinstance(container, list) and name.startswith("[") and name.endswith("]"):
            key = int(name[1:-1])
        if path is None:
            raise DebuggerError(f"{name!r} is not part of the workflow state and cannot be edited")
        full = f"{path}[{key}]" if isinstance(key, int) else (f"{path}.{key}" if path else key)
        self.set_state(full, value)
        return self.variables.variable(name, value, full)

    def completions(
        self, text: str, column: int | None = None, *, thread: str | None = None
    ) -> list[str]:
        """State keys (and dotted sub-keys) and builtin function names for a prefix."""
        from engine.expressions import BUILTIN_FUNCTIONS

        prefix = text if column is None else text[:column]
        word = prefix.split()[-1] if prefix.split() else ""
        for ch in "([,+-*/<>=!$":
            word = word.rsplit(ch, 1)[-1]
        word = hover_expression(word) if word.startswith("{{") else word
        try:
            state: Mapping[str, Any] = self._evaluation_state(thread)
        except DebuggerError:
            state = {}
        head, _, tail = word.rpartition(".")
        if head:
            from engine.templating import lookup

            value = lookup(state, head, None)
            keys = list(value.keys()) if isinstance(value, Mapping) else []
            return [str(k) for k in keys if str(k).startswith(tail)]
        names = [str(k) for k in state if str(k).startswith(tail)]
        names += [f for f in sorted(BUILTIN_FUNCTIONS) if f.startswith(tail)]
        return names

    # ----------------------------------------------------------------- HITL

    async def ask_hitl(self, request: HitlRequest) -> HitlResponse:
        """`engine.hitl.HitlResponder`: wait for the user's answer.

        Adapters see the request in `pending_hitl` (and an Output event naming
        the console commands) and answer with `answer_hitl`.
        """
        request_id = f"hitl-{next(self._ids)}"
        future: asyncio.Future[HitlResponse] = asyncio.get_running_loop().create_future()
        self._hitl_pending[request_id] = (request, future)
        choices = f" Choices: {', '.join(map(str, request.choices))}." if request.choices else ""
        self._emit(HitlAsked(request_id, request))
        self._emit(
            Output(
                f"HITL {request.hitl_type} at node {request.node_id}: {request.prompt.strip()}\n"
                f"  Answer in the debug console with `hitl approve [value]`, "
                f"`hitl reject [reason]` or `hitl value <text>`.{choices}\n",
                "important",
                request.node_id,
            )
        )
        try:
            return await future
        finally:
            self._hitl_pending.pop(request_id, None)

    ask = ask_hitl

    @property
    def pending_hitl(self) -> dict[str, HitlRequest]:
        return {rid: request for rid, (request, _) in self._hitl_pending.items()}

    def answer_hitl(self, request_id: str, response: HitlResponse) -> None:
        if request_id not in self._hitl_pending:
            raise DebuggerError(f"no pending HITL request {request_id!r}")
        future = self._hitl_pending[request_id][1]
        if not future.done():
            future.set_result(response)

    def answer_hitl_from_console(self, text: str) -> str | None:
        """`hitl approve [value]`, `hitl reject [reason]`, `hitl value <text>` (or `!answer`)."""
        words = text.split(maxsplit=2)
        if not words or words[0] not in ("hitl", "!answer") or not self._hitl_pending:
            return None
        request_id = next(iter(self._hitl_pending))
        verb = words[1].lower() if len(words) > 1 else ""
        rest = words[2].strip().strip('"') if len(words) > 2 else None
        if verb in ("approve", "yes", "y", "ok"):
            response = HitlResponse(True, rest, None, APPROVED)
        elif verb in ("reject", "no", "n"):
            response = HitlResponse(False, None, rest, REJECTED)
        elif verb == "value" and rest is not None:
            response = HitlResponse(True, rest, None, APPROVED)
        elif verb:
            response = HitlResponse(True, " ".join(words[1:]).strip('"'), None, APPROVED)
        else:
            raise DebuggerError(
                "usage: hitl approve [value] | hitl reject [reason] | hitl value <text>"
            )
        self.answer_hitl(request_id, response)
        return f"answered HITL {request_id}: {'approved' if response.approved else 'rejected'}"


def _member_values(team: Node, index: int, member: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "member": getattr(member, "id", str(member)),
        "index": index,
        "team": team.id,
        "formation": getattr(team, "team_formation", None),
    }
    for name in ("role", "name", "goal", "tools", "tool_budget", "expertise"):
        value = getattr(member, name, None)
        if value not in (None, "", ()):
            values[name] = list(value) if isinstance(value, tuple) else value
    return values


def _same_place(frame: Frame, other: Frame) -> bool:
    """The same node on the same thread at the same nesting (one visit of a team)."""
    return (
        frame.node_id == other.node_id
        and frame.thread == other.thread
        and frame.parents == other.parents
        and frame.visit == other.visit
    )


def _result_summary(
    result: Any,
) -> tuple[str, str | None, str | None, Mapping[str, Any] | None]:
    """Status, error text, failed node and final state from an executor result (duck-typed).

    The executor's error is `{"node": ..., "message": ...}`; people read the message."""
    success = getattr(result, "success", True)
    status = str(getattr(result, "status", "completed" if success else "failed"))
    status = status.rsplit(".", 1)[-1].lower()
    error = getattr(result, "error", None)
    node = None
    if isinstance(error, Mapping):
        node = str(error["node"]) if error.get("node") else None
        error = error.get("message") or None
    state = getattr(result, "final_state", None) or getattr(result, "state", None)
    return status, (str(error) if error else None), node, state
