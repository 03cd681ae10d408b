"""Workflow metrics: executions, success rate, durations, per-node and per-tool statistics.

`collect_metrics(history, ...)` aggregates stored runs in SQL (through the history);
`WorkflowMetricsCollector` is an event subscriber that keeps the same figures live in
memory. Knows nothing of storage details, terminals or editors.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from engine.events import ExecutionEvent, ExecutionEventType

if TYPE_CHECKING:
    from engine.history import WorkflowExecutionHistory

__all__ = ["WorkflowMetrics", "WorkflowMetricsCollector", "collect_metrics"]


@dataclass(frozen=True, slots=True)
class WorkflowMetrics:
    workflow_name: str | None
    execution_id: str | None
    total_executions: int
    successful_executions: int
    failed_executions: int
    success_rate: float
    average_duration: float
    min_duration: float
    max_duration: float
    total_duration: float
    status_counts: Mapping[str, int] = field(default_factory=dict)
    node_metrics: tuple[Mapping[str, Any], ...] = ()
    tool_metrics: tuple[Mapping[str, Any], ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "workflow_name": self.workflow_name,
            "execution_id": self.execution_id,
            "total_executions": self.total_executions,
            "successful_executions": self.successful_executions,
            "failed_executions": self.failed_executions,
            "success_rate": self.success_rate,
            "average_duration": self.average_duration,
            "min_duration": self.min_duration,
            "max_duration": self.max_duration,
            "total_duration": self.total_duration,
            "status_counts": dict(self.status_counts),
            "node_metrics": [dict(m) for m in self.node_metrics],
            "tool_metrics": [dict(m) for m in self.tool_metrics],
        }


def collect_metrics(
    history: WorkflowExecutionHistory,
    workflow_name: str | None = None,
    execution_id: str | None = None,
) -> WorkflowMetrics:
    """Metrics of one execution, of one workflow's executions, or of the whole history."""
    if execution_id is not None:
        record = history.require_execution(execution_id)
        duration = record.duration_seconds or 0.0
        ok = record.status == "completed"
        return WorkflowMetrics(
            workflow_name=record.workflow_name,
            execution_id=execution_id,
            total_executions=1,
            successful_executions=int(ok),
            failed_executions=int(record.status == "failed"),
            success_rate=1.0 if ok else 0.0,
            average_duration=duration,
            min_duration=duration,
            max_duration=duration,
            total_duration=duration,
            status_counts={record.status: 1},
            node_metrics=tuple(history.node_stats(execution_id=execution_id)),
            tool_metrics=tuple(history.tool_stats(execution_id=execution_id)),
        )
    stats = history.get_workflow_stats(workflow_name)
    return WorkflowMetrics(
        workflow_name=workflow_name,
        execution_id=None,
        total_executions=stats["total_executions"],
        successful_executions=stats["successful_executions"],
        failed_executions=stats["failed_executions"],
        success_rate=stats["success_rate"],
        average_duration=stats["average_duration"],
        min_duration=stats["min_duration"],
        max_duration=stats["max_duration"],
        total_duration=stats["total_duration"],
        status_counts=stats["status_counts"],
        node_metrics=tuple(history.node_stats(workflow_name=workflow_name)),
        tool_metrics=tuple(history.tool_stats(workflow_name=workflow_name)),
    )


@dataclass
class _Running:
    count: int = 0
    successes: int = 0
    failures: int = 0
    total: float = 0.0
    low: float | None = None
    high: float = 0.0

    def add(self, duration: float, success: bool) -> None:
        self.count += 1
        self.successes += int(success)
        self.failures += int(not success)
        self.total += duration
        self.low = duration if self.low is None else min(self.low, duration)
        self.high = max(self.high, duration)

    def as_dict(self) -> dict[str, Any]:
        return {
            "execution_count": self.count,
            "success_count": self.successes,
            "failure_count": self.failures,
            "total_duration": self.total,
            "avg_duration": self.total / self.count if self.count else 0.0,
            "min_duration": self.low or 0.0,
            "max_duration": self.high,
        }


class WorkflowMetricsCollector:
    """Live metrics from the event stream, per workflow name."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._runs: dict[str, _Running] = {}
        self._nodes: dict[str, dict[str, _Running]] = {}
        self._tools: dict[str, dict[str, _Running]] = {}
        self._started: dict[str, float] = {}
        self._seen_calls: set[tuple[Any, ...]] = set()

    def handle_event(self, event: ExecutionEvent) -> None:
        T = ExecutionEventType
        with self._lock:
            kind = event.event_type
            if kind is T.WORKFLOW_STARTED:
                self._started[event.execution_id] = event.timestamp
            elif kind in (T.WORKFLOW_COMPLETED, T.WORKFLOW_FAILED, T.WORKFLOW_CANCELLED):
                start = self._started.pop(event.execution_id, event.timestamp)
                duration = event.duration_seconds or max(event.timestamp - start, 0.0)
                self._runs.setdefault(event.workflow, _Running()).add(
                    duration, kind is T.WORKFLOW_COMPLETED
                )
            elif kind in (T.NODE_COMPLETED, T.NODE_FAILED) and event.node_id:
                nodes = self._nodes.setdefault(event.workflow, {})
                nodes.setdefault(event.node_id, _Running()).add(
                    event.duration_seconds, kind is T.NODE_COMPLETED
                )
                self._add_tools(event)
            elif kind is T.TOOL_CALLED:
                self._add_tools(event)

    def _add_tools(self, event: ExecutionEvent) -> None:
        """Counts each call once: it may come in TOOL_CALLED and again on node completion."""
        tools = self._tools.setdefault(event.workflow, {})
        node_done = event.event_type is not ExecutionEventType.TOOL_CALLED
        for call in event.tool_calls:
            key = (event.execution_id, event.thread, event.node_id, call.tool_name,
                   call.duration_seconds, repr(call.inputs))  # fmt: skip
            if key in self._seen_calls:
                continue
            if not node_done:
                self._seen_calls.add(key)
            tools.setdefault(call.tool_name, _Running()).add(call.duration_seconds, call.success)
        if node_done:
            self._seen_calls = {k for k in self._seen_calls if k[:3] != (
                event.execution_id, event.thread, event.node_id)}  # fmt: skip

    __call__ = handle_event

    def get_metrics(self, workflow_name: str) -> WorkflowMetrics:
        with self._lock:
            runs = self._runs.get(workflow_name, _Running())
            nodes = self._nodes.get(workflow_name, {})
            tools = self._tools.get(workflow_name, {})
            return WorkflowMetrics(
                workflow_name=workflow_name,
                execution_id=None,
                total_executions=runs.count,
                successful_executions=runs.successes,
                failed_executions=runs.failures,
                success_rate=runs.successes / runs.count if runs.count else 0.0,
                average_duration=runs.total / runs.count if runs.count else 0.0,
                min_duration=runs.low or 0.0,
                max_duration=runs.high,
                total_duration=runs.total,
                node_metrics=tuple(
                    {"node_id": node_id, **stats.as_dict()} for node_id, stats in nodes.items()
                ),
                tool_metrics=tuple(
                    {
                        "tool_name": name,
                        "call_count": stats.count,
                        "total_duration": stats.total,
                        "error_count": stats.failures,
                    }
                    for name, stats in tools.items()
                ),
            )
