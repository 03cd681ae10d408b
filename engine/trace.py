"""Execution tracing: node records built from the executor's event stream, analysis, export.

`WorkflowTracer` is an `EventSubscriber` (`handle_event`) and also has the guide's manual
API (`start_trace`, `start_node`, `end_node`, `trace_node`, `trace_tool_call`, `end_trace`).
Exporters live in `engine.trace_export` and are loaded only when a trace is exported.
This module knows nothing of the executor's internals, storage, terminals or editors.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from engine.events import ExecutionEvent, ExecutionEventType, NodeStatus, ToolCall

if TYPE_CHECKING:
    from engine.model import Workflow

__all__ = [
    "NodeTraceRecord",
    "ToolCallRecord",
    "WorkflowTrace",
    "WorkflowTracer",
    "analyze",
    "graph_of_workflow",
    "iso_time",
    "register_trace_format",
    "trace_formats",
]


def iso_time(epoch_seconds: float | None) -> str | None:
    """UTC ISO 8601 with microseconds, or None."""
    if epoch_seconds is None:
        return None
    return datetime.fromtimestamp(epoch_seconds, tz=UTC).isoformat().replace("+00:00", "Z")


def parse_time(value: Any) -> float | None:
    """Inverse of `iso_time`; also accepts epoch numbers."""
    if value is None:
        return None
    if isinstance(value, int | float):
        return float(value)
    return datetime.fromisoformat(str(value).replace("Z", "+00:00")).timestamp()


@dataclass(frozen=True, slots=True)
class ToolCallRecord:
    """One tool or handler call made by a node."""

    tool_name: str
    inputs: Any = None
    outputs: Any = None
    duration_seconds: float = 0.0
    success: bool = True
    error: str | None = None
    timestamp: float | None = None
    """When the call started, if known."""

    @staticmethod
    def from_event_call(call: ToolCall, ended_at: float | None = None) -> ToolCallRecord:
        started = None if ended_at is None else ended_at - call.duration_seconds
        return ToolCallRecord(
            tool_name=call.tool_name,
            inputs=dict(call.inputs),
            outputs=call.outputs,
            duration_seconds=call.duration_seconds,
            success=call.success,
            error=call.error,
            timestamp=started,
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "tool_name": self.tool_name,
            "timestamp": iso_time(self.timestamp),
            "duration_seconds": self.duration_seconds,
            "success": self.success,
            "error": self.error,
            "inputs": self.inputs,
            "outputs": self.outputs,
        }

    @staticmethod
    def from_dict(data: Mapping[str, Any]) -> ToolCallRecord:
        return ToolCallRecord(
            tool_name=str(data.get("tool_name", "")),
            inputs=data.get("inputs"),
            outputs=data.get("outputs"),
            duration_seconds=float(data.get("duration_seconds") or 0.0),
            success=bool(data.get("success", True)),
            error=data.get("error"),
            timestamp=parse_time(data.get("timestamp")),
        )


@dataclass(frozen=True, slots=True)
class NodeTraceRecord:
    """One execution of one node (all its retry attempts together)."""

    node_id: str
    node_type: str = "unknown"
    start_time: float = 0.0
    end_time: float | None = None
    duration_seconds: float = 0.0
    inputs: Any = None
    outputs: Any = None
    success: bool = True
    status: str = "completed"
    """completed | failed | skipped | cancelled | interrupted

    `cancelled`: a parallel branch stopped because another branch succeeded first
    (join_strategy any); it did not fail."""
    error: str | None = None
    attempts: int = 1
    tool_calls: tuple[ToolCallRecord, ...] = ()
    thread: str = "main"
    iteration: int = 0
    metadata: Mapping[str, Any] = field(default_factory=dict)

    @property
    def timestamp(self) -> float:
        """Victor's name for the start time."""
        return self.start_time

    @property
    def retries(self) -> int:
        return max(self.attempts - 1, 0)

    def to_dict(self) -> dict[str, Any]:
        return {
            "node_id": self.node_id,
            "node_type": self.node_type,
            "start_time": iso_time(self.start_time),
            "end_time": iso_time(self.end_time),
            "duration_seconds": self.duration_seconds,
            "inputs": self.inputs,
            "outputs": self.outputs,
            "success": self.success,
            "status": self.status,
            "error": self.error,
            "attempts": self.attempts,
            "tool_calls": [call.to_dict() for call in self.tool_calls],
            "thread": self.thread,
            "iteration": self.iteration,
        }

    @staticmethod
    def from_dict(data: Mapping[str, Any]) -> NodeTraceRecord:
        return NodeTraceRecord(
            node_id=str(data.get("node_id", "")),
            node_type=str(data.get("node_type") or "unknown"),
            start_time=parse_time(data.get("start_time")) or 0.0,
            end_time=parse_time(data.get("end_time")),
            duration_seconds=float(data.get("duration_seconds") or 0.0),
            inputs=data.get("inputs"),
            outputs=data.get("outputs"),
            success=bool(data.get("success", True)),
            status=str(
                data.get("status") or ("completed" if data.get("success", True) else "failed")
            ),
            error=data.get("error"),
            attempts=int(data.get("attempts") or 1),
            tool_calls=tuple(ToolCallRecord.from_dict(c) for c in data.get("tool_calls") or ()),
            thread=str(data.get("thread") or "main"),
            iteration=int(data.get("iteration") or 0),
        )


@dataclass(frozen=True, slots=True)
class WorkflowTrace:
    """A whole run: its records in completion order plus the workflow graph when known."""

    execution_id: str
    workflow_name: str
    start_time: float
    end_time: float | None = None
    inputs: Any = None
    outputs: Any = None
    success: bool | None = None
    error: str | None = None
    nodes: tuple[NodeTraceRecord, ...] = ()
    metadata: Mapping[str, Any] = field(default_factory=dict)
    graph: Mapping[str, Any] | None = None
    """`{"nodes": [{"id", "type"}], "edges": [{"source", "target", "kind", "label"}]}`."""

    @property
    def trace_id(self) -> str:
        return self.execution_id

    @property
    def duration_seconds(self) -> float:
        if self.end_time is not None:
            return max(self.end_time - self.start_time, 0.0)
        if self.nodes:
            last = max((n.end_time or n.start_time) for n in self.nodes)
            return max(last - self.start_time, 0.0)
        return 0.0

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "execution_id": self.execution_id,
            "workflow": self.workflow_name,
            "start_time": iso_time(self.start_time),
            "end_time": iso_time(self.end_time),
            "duration_seconds": self.duration_seconds,
            "success": self.success,
            "error": self.error,
            "inputs": self.inputs,
            "outputs": self.outputs,
            "metadata": dict(self.metadata),
            "nodes": [node.to_dict() for node in self.nodes],
        }
        data["graph"] = dict(self.graph) if self.graph is not None else graph_of_records(self.nodes)
        return data

    @staticmethod
    def from_dict(data: Mapping[str, Any]) -> WorkflowTrace:
        return WorkflowTrace(
            execution_id=str(data.get("execution_id") or data.get("trace_id") or ""),
            workflow_name=str(data.get("workflow") or data.get("workflow_name") or ""),
            start_time=parse_time(data.get("start_time")) or 0.0,
            end_time=parse_time(data.get("end_time")),
            inputs=data.get("inputs"),
            outputs=data.get("outputs"),
            success=data.get("success"),
            error=data.get("error"),
            nodes=tuple(NodeTraceRecord.from_dict(n) for n in data.get("nodes") or ()),
            metadata=dict(data.get("metadata") or {}),
            graph=data.get("graph"),
        )

    def get_summary(self) -> dict[str, Any]:
        return summarize(self)

    def analyze(self) -> dict[str, Any]:
        return analyze(self)


def graph_of_workflow(workflow: Workflow) -> dict[str, Any]:
    """The drawable graph of a compiled workflow (nodes in written order, every edge)."""
    nodes = [{"id": node.id, "type": str(node.type)} for node in workflow.nodes]
    edges = [
        {"source": node.id, "target": ref.target, "kind": str(ref.kind), "label": ref.label}
        for node in workflow.nodes
        for ref in node.refs
    ]
    return {"nodes": nodes, "edges": edges, "start": workflow.start_node}


def graph_of_records(records: Iterable[NodeTraceRecord]) -> dict[str, Any]:
    """A graph guessed from execution order when the workflow itself is not known."""
    nodes: dict[str, str] = {}
    edges: dict[tuple[str, str], None] = {}
    last_by_thread: dict[str, str] = {}
    for record in sorted(records, key=lambda r: r.start_time):
        nodes.setdefault(record.node_id, record.node_type)
        previous = last_by_thread.get(record.thread) or last_by_thread.get("main")
        if previous is not None and previous != record.node_id:
            edges[(previous, record.node_id)] = None
        last_by_thread[record.thread] = record.node_id
    return {
        "nodes": [{"id": node_id, "type": node_type} for node_id, node_type in nodes.items()],
        "edges": [{"source": a, "target": b, "kind": "observed", "label": None} for a, b in edges],
        "start": next(iter(nodes), None),
    }


def summarize(trace: WorkflowTrace) -> dict[str, Any]:
    node_counts = Counter(record.node_id for record in trace.nodes)
    failed = [record for record in trace.nodes if not record.success]
    return {
        "execution_id": trace.execution_id,
        "workflow": trace.workflow_name,
        "duration_seconds": trace.duration_seconds,
        "success": trace.success,
        "total_nodes": len(trace.nodes),
        "successful_nodes": len(trace.nodes) - len(failed),
        "failed_nodes": len(failed),
        "total_tool_calls": sum(len(record.tool_calls) for record in trace.nodes),
        "total_node_duration": sum(record.duration_seconds for record in trace.nodes),
        "node_counts": dict(node_counts),
        "error_count": len(failed) + (1 if trace.error and not failed else 0),
    }


def critical_path(records: Iterable[NodeTraceRecord]) -> list[NodeTraceRecord]:
    """The chain of records that decided the run's end time.

    Walks back from the record that ended last, each time to the latest-ending record
    that had finished before the current one started (parallel siblings that ended
    earlier did not hold anything up).
    """
    closed = [r for r in records if r.end_time is not None]
    if not closed:
        return []
    closed.sort(key=lambda r: (r.end_time or 0.0, r.start_time))
    path = [closed[-1]]
    epsilon = 1e-6
    index = len(closed) - 1
    while True:
        current = path[-1]
        predecessor = None
        for j in range(index - 1, -1, -1):
            candidate = closed[j]
            if (candidate.end_time or 0.0) <= current.start_time + epsilon:
                predecessor, index = candidate, j
                break
        if predecessor is None:
            break
        path.append(predecessor)
    path.reverse()
    return path


def analyze(trace: WorkflowTrace, top: int = 5) -> dict[str, Any]:
    """Where the time went, what failed, what was retried, which tools were used."""
    records = trace.nodes
    slowest = sorted(records, key=lambda r: r.duration_seconds, reverse=True)[:top]
    tool_counts = Counter(call.tool_name for r in records for call in r.tool_calls)
    tool_errors = Counter(
        call.tool_name for r in records for call in r.tool_calls if not call.success
    )
    failed = [r for r in records if not r.success]
    retried = {r.node_id: r.retries for r in records if r.retries}
    path = critical_path(records)
    by_type: dict[str, float] = {}
    for record in records:
        by_type[record.node_type] = by_type.get(record.node_type, 0.0) + record.duration_seconds
    return {
        "execution_id": trace.execution_id,
        "workflow": trace.workflow_name,
        "success": trace.success,
        "total_duration_seconds": trace.duration_seconds,
        "total_nodes": len(records),
        "successful_nodes": len(records) - len(failed),
        "failed_nodes": len(failed),
        "failures": [
            {"node_id": r.node_id, "error": r.error, "attempts": r.attempts, "thread": r.thread}
            for r in failed
        ],
        "error_count": len(failed),
        "total_tool_calls": sum(tool_counts.values()),
        "slowest_nodes": [
            {"node_id": r.node_id, "node_type": r.node_type, "duration_seconds": r.duration_seconds}
            for r in slowest
        ],
        "most_used_tools": [
            {"tool_name": name, "calls": count, "errors": tool_errors.get(name, 0)}
            for name, count in tool_counts.most_common(top)
        ],
        "retries": sum(retried.values()),
        "retried_nodes": retried,
        "critical_path": [r.node_id for r in path],
        "critical_path_duration_seconds": (
            (path[-1].end_time or 0.0) - path[0].start_time if path else 0.0
        ),
        "duration_by_node_type": by_type,
        "threads": sorted({r.thread for r in records}),
    }


@dataclass
class _OpenNode:
    """A node record being built; frozen into a NodeTraceRecord when it closes."""

    node_id: str
    node_type: str
    start_time: float
    thread: str
    inputs: Any = None
    attempts: int = 1
    iteration: int = 0
    tool_calls: list[ToolCallRecord] = field(default_factory=list)
    metadata: dict[str, Any] = field(default_factory=dict)

    def close(
        self,
        *,
        end_time: float,
        outputs: Any,
        success: bool,
        status: str,
        error: str | None,
        duration: float | None = None,
    ) -> NodeTraceRecord:
        return NodeTraceRecord(
            node_id=self.node_id,
            node_type=self.node_type,
            start_time=self.start_time,
            end_time=end_time,
            duration_seconds=duration if duration else max(end_time - self.start_time, 0.0),
            inputs=self.inputs,
            outputs=outputs,
            success=success,
            status=status,
            error=error,
            attempts=self.attempts,
            tool_calls=tuple(self.tool_calls),
            thread=self.thread,
            iteration=self.iteration,
            metadata=dict(self.metadata),
        )


TraceExporter = Callable[[WorkflowTrace, Path], None]
"""Writes one trace to one file. Registered by name with `register_trace_format`."""


def register_trace_format(name: str, exporter: TraceExporter) -> None:
    """Make `export_trace(path, format=name)` call `exporter(trace, path)`."""
    from engine import trace_export

    trace_export.register_format(name, exporter)


def trace_formats() -> list[str]:
    from engine import trace_export

    return trace_export.available_formats()


class WorkflowTracer:
    """Builds node records for a run, from events or from manual calls.

    Subclass and override `on_node_complete(node_record)` to react to each record.
    Safe to feed from several threads (parallel branches).
    """

    def __init__(self, auto_tool_calls: bool = True, workflow: Workflow | None = None) -> None:
        self.auto_tool_calls = auto_tool_calls
        self._lock = threading.RLock()
        self._graph: dict[str, Any] | None = None
        self._current: WorkflowTrace | None = None
        self._records: list[NodeTraceRecord] = []
        self._open: dict[tuple[str, str], _OpenNode] = {}
        self._last_started: tuple[str, str] | None = None
        self._history: list[WorkflowTrace] = []
        if workflow is not None:
            self.set_workflow(workflow)

    # -- configuration -------------------------------------------------------------------
    def set_workflow(self, workflow: Workflow) -> None:
        """Draw this workflow's graph in exports (otherwise it is guessed from the run)."""
        self._graph = graph_of_workflow(workflow)
        with self._lock:
            if self._current is not None:
                self._current = replace(self._current, graph=self._graph)
            elif self._history and self._history[-1].workflow_name == workflow.name:
                self._history[-1] = replace(self._history[-1], graph=self._graph)

    # -- hook ------------------------------------------------------------------------------
    def on_node_complete(self, node_record: NodeTraceRecord) -> None:
        """Called once per finished node record. Override in a subclass."""

    # -- manual API --------------------------------------------------------------------------
    def start_trace(
        self,
        workflow_name: str,
        inputs: Mapping[str, Any] | None = None,
        metadata: Mapping[str, Any] | None = None,
        *,
        trace_id: str | None = None,
        timestamp: float | None = None,
    ) -> str:
        with self._lock:
            self._finish_current()
            trace_id = trace_id or f"exec_{uuid.uuid4().hex[:12]}"
            self._current = WorkflowTrace(
                execution_id=trace_id,
                workflow_name=workflow_name,
                start_time=timestamp if timestamp is not None else time.time(),
                inputs=dict(inputs) if inputs is not None else {},
                metadata=dict(metadata or {}),
                graph=self._graph,
            )
            self._records = []
            self._open = {}
            self._last_started = None
            return trace_id

    def end_trace(
        self,
        outputs: Any = None,
        *,
        success: bool | None = None,
        error: str | None = None,
        timestamp: float | None = None,
    ) -> WorkflowTrace | None:
        with self._lock:
            if self._current is None:
                return None
            end = timestamp if timestamp is not None else time.time()
            for key in list(self._open):
                opened = self._open.pop(key)
                self._close(
                    opened.close(
                        end_time=end,
                        outputs=None,
                        success=False,
                        status="interrupted",
                        error="the run ended before this node finished",
                    )
                )
            if success is None:
                success = error is None and all(r.success for r in self._records)
            finished = replace(
                self._current,
                end_time=end,
                outputs=outputs,
                success=success,
                error=error,
                nodes=tuple(self._records),
            )
            self._history.append(finished)
            self._current = None
            return finished

    def start_node(
        self,
        node_id: str,
        node_type: str = "unknown",
        inputs: Any = None,
        *,
        thread: str = "main",
        timestamp: float | None = None,
        iteration: int = 0,
    ) -> None:
        with self._lock:
            self._ensure_trace()
            key = (thread, node_id)
            opened = self._open.get(key)
            if opened is not None:  # a new attempt of a node still open
                opened.attempts += 1
            else:
                self._open[key] = _OpenNode(
                    node_id=node_id,
                    node_type=node_type or "unknown",
                    start_time=timestamp if timestamp is not None else time.time(),
                    thread=thread,
                    inputs=inputs,
                    iteration=iteration,
                )
            self._last_started = key

    def end_node(
        self,
        outputs: Any = None,
        success: bool = True,
        error: str | None = None,
        *,
        node_id: str | None = None,
        thread: str = "main",
        timestamp: float | None = None,
        duration_seconds: float | None = None,
        status: str | None = None,
        tool_calls: Iterable[ToolCallRecord] = (),
    ) -> NodeTraceRecord | None:
        with self._lock:
            key = (thread, node_id) if node_id is not None else self._last_started
            opened = self._open.pop(key, None) if key is not None else None
            if opened is None:
                return None
            for call in tool_calls:
                if call not in opened.tool_calls:
                    opened.tool_calls.append(call)
            record = opened.close(
                end_time=timestamp if timestamp is not None else time.time(),
                outputs=outputs,
                success=success,
                status=status or ("completed" if success else "failed"),
                error=error,
                duration=duration_seconds,
            )
            if key == self._last_started:
                self._last_started = None
            self._close(record)
            return record

    def trace_node(
        self,
        node_id: str,
        node_type: str = "unknown",
        inputs: Any = None,
        outputs: Any = None,
        duration_seconds: float = 0.0,
        success: bool = True,
        error: str | None = None,
        tool_calls: Iterable[ToolCallRecord] = (),
        *,
        thread: str = "main",
    ) -> NodeTraceRecord:
        """Record a finished node in one call."""
        end = time.time()
        with self._lock:
            self._ensure_trace()
            record = NodeTraceRecord(
                node_id=node_id,
                node_type=node_type,
                start_time=end - duration_seconds,
                end_time=end,
                duration_seconds=duration_seconds,
                inputs=inputs,
                outputs=outputs,
                success=success,
                status="completed" if success else "failed",
                error=error,
                tool_calls=tuple(tool_calls),
                thread=thread,
            )
            self._close(record)
            return record

    def trace_tool_call(
        self,
        tool_name: str,
        inputs: Any = None,
        outputs: Any = None,
        duration_seconds: float = 0.0,
        success: bool = True,
        error: str | None = None,
        *,
        node_id: str | None = None,
        thread: str = "main",
        timestamp: float | None = None,
    ) -> ToolCallRecord:
        """Attach a tool call to the open node (the given one, or the last started)."""
        end = timestamp if timestamp is not None else time.time()
        call = ToolCallRecord(
            tool_name=tool_name,
            inputs=inputs,
            outputs=outputs,
            duration_seconds=duration_seconds,
            success=success,
            error=error,
            timestamp=end - duration_seconds,
        )
        with self._lock:
            key = (thread, node_id) if node_id is not None else self._last_started
            opened = self._open.get(key) if key is not None else None
            if opened is not None:
                opened.tool_calls.append(call)
            elif self._records and (node_id is None or self._records[-1].node_id == node_id):
                last = self._records[-1]
                self._records[-1] = replace(last, tool_calls=(*last.tool_calls, call))
        return call

    # -- event subscriber --------------------------------------------------------------------
    def handle_event(self, event: ExecutionEvent) -> None:
        """Subscribe this to the executor (`trace_mode=True` does it)."""
        kind = event.event_type
        T = ExecutionEventType
        if kind is T.WORKFLOW_STARTED:
            self.start_trace(
                event.workflow,
                inputs=event.inputs,
                metadata=event.metadata,
                trace_id=event.execution_id,
                timestamp=event.timestamp,
            )
            return
        with self._lock:
            if self._current is None or self._current.execution_id != event.execution_id:
                if kind in (T.NODE_STARTED, T.NODE_COMPLETED, T.NODE_FAILED, T.NODE_SKIPPED):
                    self.start_trace(
                        event.workflow, trace_id=event.execution_id, timestamp=event.timestamp
                    )
                else:
                    return
            if kind is T.NODE_STARTED and event.node_id is not None:
                self._on_node_started(event)
            elif kind is T.RETRY_ATTEMPT and event.node_id is not None:
                self._on_retry(event)
            elif kind is T.TOOL_CALLED and self.auto_tool_calls and event.node_id is not None:
                opened = self._open.get((event.thread, event.node_id))
                if opened is not None:
                    for call in event.tool_calls:
                        opened.tool_calls.append(
                            ToolCallRecord.from_event_call(call, ended_at=event.timestamp)
                        )
            elif kind in (T.NODE_COMPLETED, T.NODE_FAILED, T.NODE_SKIPPED) and event.node_id:
                self._on_node_finished(event)
            elif kind in (T.WORKFLOW_COMPLETED, T.WORKFLOW_FAILED, T.WORKFLOW_CANCELLED):
                self.end_trace(
                    outputs=event.outputs if event.outputs is not None else _plain(event.state),
                    success=kind is T.WORKFLOW_COMPLETED,
                    error=event.error or ("cancelled" if kind is T.WORKFLOW_CANCELLED else None),
                    timestamp=event.timestamp,
                )

    def _on_node_started(self, event: ExecutionEvent) -> None:
        assert event.node_id is not None
        key = (event.thread, event.node_id)
        opened = self._open.get(key)
        if opened is None:
            self.start_node(
                event.node_id,
                event.node_type or "unknown",
                _plain(event.inputs),
                thread=event.thread,
                timestamp=event.timestamp,
                iteration=event.iteration,
            )
            opened = self._open[key]
        elif not opened.metadata.pop("_retry_counted", False):
            opened.attempts += 1  # started again without a RETRY_ATTEMPT event
        opened.attempts = max(opened.attempts, event.attempt or 0)

    def _on_retry(self, event: ExecutionEvent) -> None:
        """One more attempt: counted here once, whether or not a NODE_STARTED follows."""
        assert event.node_id is not None
        key = (event.thread, event.node_id)
        opened = self._open.get(key)
        if opened is None:
            opened = self._reopen_failed(key)
            if opened is None:
                return
        opened.attempts = max(opened.attempts + 1, event.attempt or 0)
        opened.metadata["_retry_counted"] = True

    def _reopen_failed(self, key: tuple[str, str]) -> _OpenNode | None:
        """A failed attempt already closed as a record: reopen it so all attempts stay one."""
        thread, node_id = key
        for index in range(len(self._records) - 1, -1, -1):
            record = self._records[index]
            if record.node_id != node_id or record.thread != thread:
                continue
            if record.success:
                return None
            del self._records[index]
            opened = _OpenNode(
                node_id=record.node_id,
                node_type=record.node_type,
                start_time=record.start_time,
                thread=record.thread,
                inputs=record.inputs,
                attempts=record.attempts,
                iteration=record.iteration,
                tool_calls=list(record.tool_calls),
            )
            self._open[key] = opened
            return opened
        return None

    def _on_node_finished(self, event: ExecutionEvent) -> None:
        assert event.node_id is not None
        T = ExecutionEventType
        key = (event.thread, event.node_id)
        if key not in self._open:
            start = event.timestamp - (event.duration_seconds or 0.0)
            self.start_node(
                event.node_id,
                event.node_type or "unknown",
                _plain(event.inputs),
                thread=event.thread,
                timestamp=start,
                iteration=event.iteration,
            )
        opened = self._open[key]
        opened.metadata.pop("_retry_counted", None)
        if event.attempt:
            opened.attempts = max(opened.attempts, event.attempt)
        if event.node_type and opened.node_type == "unknown":
            opened.node_type = event.node_type
        # Model, provider and token usage for agent nodes travel in event metadata.
        if event.metadata:
            opened.metadata.update(
                {k: v for k, v in event.metadata.items() if not k.startswith("_")}
            )
        fresh: list[ToolCallRecord] = []
        if event.tool_calls:
            calls = [ToolCallRecord.from_event_call(c, ended_at=None) for c in event.tool_calls]
            known = {(c.tool_name, c.duration_seconds, repr(c.inputs)) for c in opened.tool_calls}
            fresh = [
                c for c in calls if (c.tool_name, c.duration_seconds, repr(c.inputs)) not in known
            ]
        status = _FINISHED_STATUS[event.event_type]
        if event.status is NodeStatus.CANCELLED:
            status = "cancelled"  # sent as NODE_SKIPPED: no event type says cancelled
        self.end_node(
            outputs=_plain(event.outputs),
            success=event.event_type is not T.NODE_FAILED,
            error=event.error,
            node_id=event.node_id,
            thread=event.thread,
            timestamp=event.timestamp,
            duration_seconds=event.duration_seconds or None,
            status=status,
            tool_calls=fresh,
        )

    # -- results -------------------------------------------------------------------------------
    def _ensure_trace(self) -> None:
        if self._current is None:
            self.start_trace("workflow")

    def _close(self, record: NodeTraceRecord) -> None:
        self._records.append(record)
        self.on_node_complete(record)

    def _finish_current(self) -> None:
        if self._current is not None:
            self.end_trace(error="a new trace started before this one ended")

    def get_trace(self) -> WorkflowTrace | None:
        """The current trace (as recorded so far) or the last finished one."""
        with self._lock:
            if self._current is not None:
                return replace(self._current, nodes=tuple(self._records))
            return self._history[-1] if self._history else None

    def get_trace_history(self) -> list[WorkflowTrace]:
        with self._lock:
            return list(self._history)

    def get_trace_by_id(self, trace_id: str) -> WorkflowTrace | None:
        with self._lock:
            current = self.get_trace()
            if current is not None and current.execution_id == trace_id:
                return current
            return next((t for t in self._history if t.execution_id == trace_id), None)

    def _trace_or_empty(self) -> WorkflowTrace:
        trace = self.get_trace()
        if trace is None:
            now = time.time()
            trace = WorkflowTrace(execution_id="", workflow_name="", start_time=now, end_time=now)
        return trace

    def to_dict(self) -> dict[str, Any]:
        return self._trace_or_empty().to_dict()

    def get_summary(self) -> dict[str, Any]:
        return summarize(self._trace_or_empty())

    def analyze_trace(self, top: int = 5) -> dict[str, Any]:
        return analyze(self._trace_or_empty(), top=top)

    def export_trace(self, output_path: str | Path, format: str = "json", **options: Any) -> Path:
        """Write the trace as `format` (json, csv, html, chrome, otlp or a registered name)."""
        from engine import trace_export

        return trace_export.export(self._trace_or_empty(), Path(output_path), format, **options)


_FINISHED_STATUS = {
    ExecutionEventType.NODE_COMPLETED: "completed",
    ExecutionEventType.NODE_FAILED: "failed",
    ExecutionEventType.NODE_SKIPPED: "skipped",
}


def _plain(value: Any) -> Any:
    """Mappings from events (possibly read-only proxies) as plain dicts for export."""
    if isinstance(value, Mapping) and not isinstance(value, dict):
        return dict(value)
    return value
