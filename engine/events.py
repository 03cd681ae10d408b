"""The executor's typed event stream.

The executor reports everything it does as `ExecutionEvent`s; the tracer,
history store, metrics, CLI progress display and debugger are subscribers.
This module only defines the event types; it knows nothing of who listens.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class ExecutionEventType(StrEnum):
    WORKFLOW_STARTED = "workflow_started"
    WORKFLOW_COMPLETED = "workflow_completed"
    WORKFLOW_FAILED = "workflow_failed"
    WORKFLOW_PAUSED = "workflow_paused"
    WORKFLOW_RESUMED = "workflow_resumed"
    WORKFLOW_CANCELLED = "workflow_cancelled"
    NODE_STARTED = "node_started"
    NODE_COMPLETED = "node_completed"
    NODE_FAILED = "node_failed"
    NODE_SKIPPED = "node_skipped"
    NODE_PAUSED = "node_paused"
    BREAKPOINT_HIT = "breakpoint_hit"
    ERROR_OCCURRED = "error_occurred"
    ERROR_RECOVERED = "error_recovered"
    RETRY_ATTEMPT = "retry_attempt"
    STATE_CAPTURED = "state_captured"
    TOOL_CALLED = "tool_called"
    HITL_REQUESTED = "hitl_requested"
    HITL_ANSWERED = "hitl_answered"
    BRANCH_STARTED = "branch_started"
    """A parallel child (a thread, for the debugger) started."""
    BRANCH_FINISHED = "branch_finished"
    LOG = "log"


class NodeStatus(StrEnum):
    PENDING = "pending"
    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"
    SKIPPED = "skipped"
    PAUSED = "paused"
    CANCELLED = "cancelled"


@dataclass(frozen=True, slots=True)
class ToolCall:
    """One tool or handler call made by a node, with its result."""

    tool_name: str
    inputs: Mapping[str, Any] = field(default_factory=dict)
    outputs: Any = None
    duration_seconds: float = 0.0
    success: bool = True
    error: str | None = None


@dataclass(frozen=True)
class ExecutionEvent:
    """One thing that happened during a run.

    `thread` is `"main"` for the run's own path and the child node id for a
    parallel branch. `state` carries a snapshot (a shallow, structurally
    shared copy) on STATE_CAPTURED and on workflow end events.

    Frozen like every event; its `__init__` is written by hand because a run
    emits three events per node and the generated frozen initialiser (one
    `object.__setattr__` per field) was the largest part of event cost.
    """

    event_type: ExecutionEventType
    execution_id: str
    workflow: str
    timestamp: float
    node_id: str | None = None
    node_type: str | None = None
    status: NodeStatus = NodeStatus.RUNNING
    duration_seconds: float = 0.0
    thread: str = "main"
    attempt: int = 0
    iteration: int = 0
    inputs: Mapping[str, Any] | None = None
    outputs: Any = None
    error: str | None = None
    state: Mapping[str, Any] | None = None
    tool_calls: tuple[ToolCall, ...] = ()
    metadata: Mapping[str, Any] = field(default_factory=dict)

    def __init__(
        self,
        event_type: ExecutionEventType,
        execution_id: str,
        workflow: str,
        timestamp: float,
        **optional: Any,
    ) -> None:
        values = self.__dict__
        values.update(_OPTIONAL_DEFAULTS)
        values["metadata"] = {}
        if optional:
            values.update(optional)
            if len(values) != _FIELD_COUNT:  # a misspelt field added a key
                unknown = sorted(optional.keys() - _OPTIONAL_DEFAULTS.keys())
                raise TypeError(f"ExecutionEvent got unexpected fields: {unknown}")
        values["event_type"] = event_type
        values["execution_id"] = execution_id
        values["workflow"] = workflow
        values["timestamp"] = timestamp


_OPTIONAL_DEFAULTS: dict[str, Any] = {
    "node_id": None,
    "node_type": None,
    "status": NodeStatus.RUNNING,
    "duration_seconds": 0.0,
    "thread": "main",
    "attempt": 0,
    "iteration": 0,
    "inputs": None,
    "outputs": None,
    "error": None,
    "state": None,
    "tool_calls": (),
    "metadata": None,  # replaced by a fresh dict per event
}
_FIELD_COUNT = len(_OPTIONAL_DEFAULTS)


EventSubscriber = Callable[[ExecutionEvent], None]
"""A listener. It must be quick and must not raise; the executor logs and drops errors."""
