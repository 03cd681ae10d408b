"""The workflow executor: `WorkflowExecutor`, error recovery and execution results.

Public API (the guide's, with `victor.workflows` -> `engine`)::

    executor = WorkflowExecutor(debug_mode=True, trace_mode=True, error_recovery=recovery)
    result = await executor.execute(workflow, inputs={...}, breakpoints=[...])
    async for event in executor.execute_stream(workflow, inputs): ...

Everything the executor does is an `ExecutionEvent` delivered to subscribers
(tracer, history, CLI progress, debugger). A debugger may attach an
`ExecutionGate`; with none attached no frames are built and nothing extra is
awaited. This module wires configuration to `engine.run_loop.Run`; it knows
nothing of terminals, editors or storage.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
import uuid
from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any

from engine.events import (
    EventSubscriber,
    ExecutionEvent,
    ExecutionEventType,
    NodeStatus,
    ToolCall,
)
from engine.gates import ExecutionGate, Frame
from engine.hitl import HitlResponder, NonInteractiveResponder
from engine.model import Node, Workflow
from engine.retry import Backoff, Clock, SystemClock
from engine.state import public_view

if TYPE_CHECKING:
    from engine.agent_runners import AgentRunner
    from engine.registry import Registry

__all__ = [
    "ErrorRecovery",
    "ErrorRecoveryStrategy",
    "ExecutionEvent",
    "ExecutionEventType",
    "ExecutionResult",
    "NodeStatus",
    "ToolCall",
    "WorkflowExecutor",
]

log = logging.getLogger(__name__)


class ErrorRecoveryStrategy(StrEnum):
    FAIL_FAST = "fail_fast"
    RETRY = "retry"
    CONTINUE = "continue"
    SKIP = "skip"
    PAUSE = "pause"


@dataclass(frozen=True)
class ErrorRecovery:
    """The global error policy; a node's `retry_policy`/`continue_on_error` override it.

    With RETRY a failing node runs up to `max_retries + 1` times, waiting
    `retry_delay_seconds * backoff_multiplier ** (n - 1)` (capped at
    `max_delay_seconds`, spread by `jitter`) before retry n. After the last
    attempt RETRY behaves as FAIL_FAST. CONTINUE records the error (`_error`)
    and follows the node's edges; SKIP marks the node skipped and follows its
    edges; PAUSE holds at the node for an attached debugger, or ends the run
    with status "paused" and `resume_from` set.
    """

    strategy: ErrorRecoveryStrategy = ErrorRecoveryStrategy.FAIL_FAST
    max_retries: int = 3
    retry_delay_seconds: float = 1.0
    backoff_multiplier: float = 2.0
    max_delay_seconds: float = 32.0
    jitter: float = 0.0

    def backoff(self) -> Backoff:
        attempts = self.max_retries + 1 if self.strategy is ErrorRecoveryStrategy.RETRY else 1
        return Backoff(
            max_attempts=max(attempts, 1),
            initial_delay=self.retry_delay_seconds,
            multiplier=self.backoff_multiplier,
            max_delay=self.max_delay_seconds,
            jitter=self.jitter,
        )

    async def execute_with_retry(self, node_id: str, fn: Any, context: Any = None) -> Any:
        """Call `fn(context)` (sync or async) under this policy, outside any workflow.

        Returns None when CONTINUE/SKIP swallow the final error; re-raises otherwise.
        """
        backoff = self.backoff()
        for attempt in range(1, backoff.max_attempts + 1):
            try:
                result = fn(context)
                if asyncio.iscoroutine(result):
                    result = await result
                return result
            except Exception:
                if attempt < backoff.max_attempts:
                    await asyncio.sleep(backoff.delay(attempt))
                    continue
                if self.strategy in (ErrorRecoveryStrategy.CONTINUE, ErrorRecoveryStrategy.SKIP):
                    log.warning("node %s failed; %s", node_id, self.strategy.value)
                    return None
                raise
        return None


@dataclass(frozen=True)
class ExecutionResult:
    """How a run ended. `final_state` includes internal `_` keys."""

    execution_id: str
    workflow: str
    success: bool
    status: str  # completed | failed | cancelled | paused
    final_state: dict[str, Any]
    nodes_executed: tuple[str, ...]
    error: dict[str, Any] | None
    duration_seconds: float
    started_at: float
    finished_at: float
    resume_from: str | None = None
    """For status "paused": the node to resume at (`execute(..., resume_from=...)`)."""

    def public_state(self) -> dict[str, Any]:
        return public_view(self.final_state)

    def to_json_dict(self) -> dict[str, Any]:
        """The CLI's `--json` object."""
        return {
            "execution_id": self.execution_id,
            "workflow": self.workflow,
            "success": self.success,
            "status": self.status,
            "duration_seconds": self.duration_seconds,
            "nodes_executed": list(self.nodes_executed),
            "final_state": self.public_state(),
            "error": self.error,
        }


class WorkflowConfigurationError(Exception):
    """The workflow cannot start with this executor's configuration."""


@dataclass
class _Active:
    task: asyncio.Task[Any] | None
    cancel_requested: bool = False
    runs: list[Any] = field(default_factory=list)


class WorkflowExecutor:
    """Runs compiled workflows.

    - `registry`: handlers, conditions, transforms and tools (default: built-ins).
    - `agent_runner`: runner for agent/team nodes; `profile_runners` by profile
      name for nodes with `profile:`.
    - `hitl_responder`: answers HITL nodes (default: each node's fallback).
    - `subscribers`: event listeners (also `subscribe()`).
    - `gate`: a debugger's `ExecutionGate`.
    - `snapshots`: capture a shallow state copy after each node (default on in
      debug/trace mode); each is emitted as STATE_CAPTURED and kept in
      `snapshots`.
    - `recorded_outputs`: replay; agent/compute/hitl nodes return these
      outputs (per node id, in order) instead of running.
    - `clock`/`rng`: injectable time, sleep and jitter source (tests).
    """

    def __init__(
        self,
        debug_mode: bool = False,
        trace_mode: bool = False,
        error_recovery: ErrorRecovery | None = None,
        history: Any = None,
        *,
        registry: Registry | None = None,
        agent_runner: AgentRunner | None = None,
        profile_runners: Mapping[str, AgentRunner] | None = None,
        hitl_responder: HitlResponder | None = None,
        subscribers: Sequence[EventSubscriber] = (),
        gate: ExecutionGate | None = None,
        snapshots: bool | None = None,
        recorded_outputs: Mapping[str, Sequence[Any]] | None = None,
        project_root: str | Path | None = None,
        clock: Clock | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self.debug_mode = debug_mode
        self.trace_mode = trace_mode
        self.error_recovery = error_recovery or ErrorRecovery()
        self.history = history
        self._registry = registry
        self.agent_runner = agent_runner
        self.profile_runners = dict(profile_runners or {})
        self.hitl_responder = hitl_responder or NonInteractiveResponder()
        self._subscribers: list[EventSubscriber] = list(subscribers)
        self.gate = gate
        self.capture_snapshots = snapshots if snapshots is not None else (debug_mode or trace_mode)
        self.recorded_outputs = recorded_outputs
        self.project_root = Path(project_root) if project_root is not None else None
        self.clock: Clock = clock or SystemClock()
        self.rng = rng or random.Random()
        self.current_node: str | None = None
        self.call_stack: list[Frame] = []
        self.snapshots: list[tuple[str, str, Mapping[str, Any]]] = []
        self.last_result: ExecutionResult | None = None
        self._tracer: Any = None
        self._active: list[_Active] = []
        self._expression_cache: dict[tuple[str, str], Any] = {}
        self._plans: dict[int, tuple[Workflow, dict[str, float | None], dict[str, Any]]] = {}

    # ------------------------------------------------------------ subscribers
    @property
    def registry(self) -> Registry:
        if self._registry is None:
            from engine.registry import Registry

            self._registry = Registry.builtin()
        return self._registry

    def subscribe(self, subscriber: EventSubscriber) -> EventSubscriber:
        """Add a listener; returns it (so it can be passed to `unsubscribe`)."""
        self._subscribers.append(subscriber)
        return subscriber

    def unsubscribe(self, subscriber: EventSubscriber) -> None:
        with contextlib.suppress(ValueError):
            self._subscribers.remove(subscriber)

    # ------------------------------------------------------------ control
    def cancel(self) -> None:
        """Stop every run of this executor promptly (status "cancelled")."""
        for active in self._active:
            active.cancel_requested = True
            if active.task is not None and not active.task.done():
                active.task.cancel()

    stop = cancel

    # ------------------------------------------------------------ checks
    def missing_runners(self, workflow: Workflow) -> list[str]:
        """Agent/team nodes of `workflow` that this executor has no agent runner for."""
        from engine.run_loop import Run

        return Run(workflow, "preflight", {}, self._config(workflow, ())).missing_runners()

    def preflight(self, workflow: Workflow) -> list[str]:
        """Problems that prevent a run from starting (empty when it can start)."""
        missing = self.missing_runners(workflow)
        if not missing:
            return []
        return [
            f"workflow {workflow.name!r} has agent/team nodes with no agent runner: "
            f"{', '.join(missing)}. Give it an agent profile (declare [profiles.NAME] with "
            'runner = "scripted", "openai" or "replay" in victor.toml and choose it), '
            "or pass WorkflowExecutor(agent_runner=...)"
        ]

    # ------------------------------------------------------------ running
    async def execute(
        self,
        workflow: Workflow,
        inputs: Mapping[str, Any] | None = None,
        breakpoints: Iterable[str] | None = None,
        *,
        execution_id: str | None = None,
        resume_from: str | None = None,
    ) -> ExecutionResult:
        """Run `workflow` from its start node (or `resume_from`) with `inputs` as state."""
        return await self._execute(workflow, inputs, breakpoints, execution_id, resume_from, ())

    async def execute_stream(
        self,
        workflow: Workflow,
        inputs: Mapping[str, Any] | None = None,
        breakpoints: Iterable[str] | None = None,
        *,
        execution_id: str | None = None,
    ) -> AsyncIterator[ExecutionEvent]:
        """Yield the run's events as they happen; `last_result` holds the result after."""
        queue: asyncio.Queue[ExecutionEvent | None] = asyncio.Queue()
        task = asyncio.ensure_future(
            self._execute(workflow, inputs, breakpoints, execution_id, None, (queue.put_nowait,))
        )
        task.add_done_callback(lambda _: queue.put_nowait(None))
        try:
            while True:
                event = await queue.get()
                if event is None:
                    break
                yield event
            task.result()
        finally:
            if not task.done():
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task

    async def _execute(
        self,
        workflow: Workflow,
        inputs: Mapping[str, Any] | None,
        breakpoints: Iterable[str] | None,
        execution_id: str | None,
        resume_from: str | None,
        extra: tuple[EventSubscriber, ...],
    ) -> ExecutionResult:
        from engine.run_loop import LoopLimitError, Run, RunFailed, RunPaused, RunStopped

        execution_id = execution_id or f"exec_{uuid.uuid4().hex[:12]}"
        listeners = self._listeners_for(workflow, extra)
        config = self._config(workflow, listeners, breakpoints)
        state: dict[str, Any] = dict(inputs or {})
        state.pop("_resume_node", None)
        state["_workflow_name"] = workflow.name
        state["_execution_id"] = execution_id
        run = Run(workflow, execution_id, state, config)
        active = _Active(asyncio.current_task(), runs=[run])
        self._active.append(active)
        self.snapshots = run.snapshots
        self.call_stack = []
        started_at = time.time()
        started = time.perf_counter()
        start_node = resume_from or workflow.start_node
        run.emit(
            ExecutionEventType.WORKFLOW_STARTED,
            metadata={"inputs": dict(inputs or {}), "start_node": start_node},
            inputs=dict(inputs or {}),
        )
        status = "completed"
        error: dict[str, Any] | None = None
        resume: str | None = None
        external_cancel = False
        try:
            missing = run.missing_runners()
            if missing:
                raise RunFailed(missing[0].split(" ")[0], self.preflight(workflow)[0])
            if resume_from is not None and not workflow.has_node(resume_from):
                raise RunFailed(None, f"cannot resume: workflow has no node {resume_from!r}")
            timeout = workflow.settings.timeout
            if timeout:
                try:
                    async with asyncio.timeout(timeout):
                        await run.main(start_node)
                except TimeoutError:
                    raise RunFailed(
                        self.current_node,
                        f"workflow {workflow.name!r} timed out after {timeout:g}s "
                        "(execution.timeout)",
                    ) from None
            else:
                await run.main(start_node)
        except RunPaused as paused:
            status, error, resume = (
                "paused",
                {"node": paused.node, "message": paused.message},
                (paused.node),
            )
        except (RunFailed, LoopLimitError) as failed:
            status, error = "failed", {"node": failed.node, "message": failed.message}
            state.setdefault("_error", error)
        except RunStopped:
            status = "cancelled"
        except asyncio.CancelledError:
            status = "cancelled"
            task = asyncio.current_task()
            if active.cancel_requested and task is not None:
                task.uncancel()
            else:
                external_cancel = True
        except Exception as exc:  # a bug in user code outside a node, or ours: report, don't crash
            log.exception("workflow %s crashed", workflow.name)
            status = "failed"
            error = {"node": self.current_node, "message": f"{type(exc).__name__}: {exc}"}
        finally:
            self._active.remove(active)
        if status == "cancelled" and error is None:
            error = {"node": self.current_node, "message": "execution cancelled"}
        duration = time.perf_counter() - started
        result = ExecutionResult(
            execution_id=execution_id,
            workflow=workflow.name,
            success=status == "completed",
            status=status,
            final_state=state,
            nodes_executed=tuple(run.nodes_executed),
            error=error,
            duration_seconds=duration,
            started_at=started_at,
            finished_at=time.time(),
            resume_from=resume,
        )
        end_event = {
            "completed": ExecutionEventType.WORKFLOW_COMPLETED,
            "failed": ExecutionEventType.WORKFLOW_FAILED,
            "cancelled": ExecutionEventType.WORKFLOW_CANCELLED,
            "paused": ExecutionEventType.WORKFLOW_PAUSED,
        }[status]
        run.emit(
            end_event,
            status=NodeStatus(status) if status != "completed" else NodeStatus.COMPLETED,
            duration_seconds=duration,
            state=dict(state),
            error=error["message"] if error else None,
            metadata={
                "success": result.success,
                "status": status,
                "nodes_executed": list(run.nodes_executed),
                "error": error,
                "resume_from": resume,
            },
        )
        self.current_node = None
        self.last_result = result
        if external_cancel:
            raise asyncio.CancelledError()
        return result

    def _listeners_for(
        self, workflow: Workflow, extra: tuple[EventSubscriber, ...]
    ) -> tuple[EventSubscriber, ...]:
        listeners = list(self._subscribers)
        if self.trace_mode:
            try:
                from engine.trace import WorkflowTracer
            except ImportError as exc:
                log.warning("trace mode requested but engine.trace is unavailable: %s", exc)
                self._tracer = None
            else:
                self._tracer = WorkflowTracer(workflow=workflow)  # the graph goes in the trace
                listeners.append(self._tracer.handle_event)
        if self.history is not None and hasattr(self.history, "recorder"):
            listeners.append(self.history.recorder(workflow))
        listeners.extend(extra)
        return tuple(listeners)

    def _config(
        self,
        workflow: Workflow,
        listeners: tuple[EventSubscriber, ...],
        breakpoints: Iterable[str] | None = None,
    ) -> Any:
        from engine.run_loop import RunConfig

        return RunConfig(
            registry=self.registry,
            listeners=listeners,
            gate=self.gate,
            clock=self.clock,
            rng=self.rng,
            hitl_responder=self.hitl_responder,
            agent_runner=self.agent_runner,
            profile_runners=self.profile_runners,
            recovery_for=self._recovery_for,
            snapshots=self.capture_snapshots,
            breakpoints=frozenset(breakpoints or ()),
            recorded_outputs=self.recorded_outputs,
            project_root=self.project_root or _project_root(workflow),
            expression_cache=self._expression_cache,
            on_frame=self._set_call_stack if self.gate is not None else None,
            on_node=self._set_current_node,
            plan_for=self._plan_for,
        )

    def _plan_for(self, workflow: Workflow) -> tuple[dict[str, float | None], dict[str, Any]]:
        """Per-node timeouts and error policies, computed once per workflow object."""
        from engine.run_loop import timeout_for

        cached = self._plans.get(id(workflow))
        if cached is not None and cached[0] is workflow:
            return cached[1], cached[2]
        timeouts = {node.id: timeout_for(node, workflow) for node in workflow.nodes}
        recovery = {node.id: self._recovery_for(node, workflow) for node in workflow.nodes}
        if len(self._plans) > 16:
            self._plans.clear()
        self._plans[id(workflow)] = (workflow, timeouts, recovery)
        return timeouts, recovery

    def _set_call_stack(self, frames: list[Frame]) -> None:
        self.call_stack = frames

    def _set_current_node(self, node_id: str | None) -> None:
        self.current_node = node_id

    def _recovery_for(self, node: Node, workflow: Workflow) -> Any:
        from engine.run_loop import Recovery

        policy = node.retry_policy
        global_recovery = self.error_recovery
        if policy is not None:
            backoff = Backoff(
                max_attempts=policy.max_attempts,
                initial_delay=policy.initial_delay,
                multiplier=policy.backoff_multiplier,
                max_delay=policy.max_delay,
                jitter=policy.jitter,
            )
        elif global_recovery.strategy is ErrorRecoveryStrategy.RETRY:
            backoff = global_recovery.backoff()
        elif workflow.settings.max_retries > 0:
            backoff = Backoff(
                max_attempts=workflow.settings.max_retries + 1,
                initial_delay=global_recovery.retry_delay_seconds,
                multiplier=global_recovery.backoff_multiplier,
                max_delay=global_recovery.max_delay_seconds,
                jitter=global_recovery.jitter,
            )
        else:
            backoff = Backoff()
        if node.continue_on_error is True:
            strategy = "continue"
        elif node.continue_on_error is False:
            strategy = "fail_fast"
        else:
            strategy = global_recovery.strategy.value
            if strategy == "retry":
                strategy = "fail_fast"
        return Recovery(backoff, strategy)

    # ------------------------------------------------------------ tracing
    def get_trace(self) -> Any:
        """The `engine.trace.WorkflowTracer` of the last run (trace_mode=True)."""
        try:
            import engine.trace  # noqa: F401
        except ImportError as exc:
            raise RuntimeError(
                f"tracing is unavailable: engine.trace cannot be imported ({exc})"
            ) from exc
        if self._tracer is None:
            raise RuntimeError(
                "no trace recorded: create WorkflowExecutor(trace_mode=True) and run a workflow"
            )
        return self._tracer

    def export_trace(self, path: str | Path, format: str = "json") -> Any:
        """Write the last run's trace via `WorkflowTracer.export_trace`."""
        return self.get_trace().export_trace(output_path=str(path), format=format)

    # ------------------------------------------------------------ debugger views
    def get_state(self) -> dict[str, Any]:
        for active in self._active:
            for run in active.runs:
                return dict(run.state)
        if self.last_result is not None:
            return dict(self.last_result.final_state)
        return {}

    def get_variables(self) -> dict[str, Any]:
        return public_view(self.get_state())

    def get_stack_trace(self) -> list[Frame]:
        return list(self.call_stack)


def _project_root(workflow: Workflow) -> Path:
    root = workflow.metadata.get("project_root") if workflow.metadata else None
    source = Path(workflow.source) if workflow.source and "://" not in workflow.source else None
    base = source.parent if source is not None else Path.cwd()
    if isinstance(root, str) and root:
        return (base / root).resolve()
    return base.resolve() if source is not None else base
