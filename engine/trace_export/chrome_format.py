"""Trace as Chrome Trace Event JSON (Perfetto, speedscope, chrome://tracing).

Complete ("X") events in microseconds from the run's start; one tid per thread lane (the
main path, then each parallel branch), named with "M" thread_name metadata events. Tool
calls are nested X events inside their node on the same lane.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from engine.trace_export import write_text_atomically
from engine.trace_export.jsonsafe import to_json_text

if TYPE_CHECKING:
    from engine.trace import WorkflowTrace

_PID = 1


def lanes(trace: WorkflowTrace) -> dict[str, int]:
    """Thread name -> tid: "main" is 1, branches follow in order of first start."""
    order: dict[str, int] = {"main": 1}
    for node in sorted(trace.nodes, key=lambda n: n.start_time):
        order.setdefault(node.thread, len(order) + 1)
    return order


def to_events(trace: WorkflowTrace) -> dict[str, Any]:
    origin = trace.start_time

    def micros(seconds: float) -> float:
        return round((seconds - origin) * 1_000_000, 3)

    tids = lanes(trace)
    events: list[dict[str, Any]] = [
        {"ph": "M", "pid": _PID, "name": "process_name", "args": {"name": trace.workflow_name}},
    ]
    for thread, tid in tids.items():
        events.append(
            {"ph": "M", "pid": _PID, "tid": tid, "name": "thread_name", "args": {"name": thread}}
        )
        events.append(
            {
                "ph": "M",
                "pid": _PID,
                "tid": tid,
                "name": "thread_sort_index",
                "args": {"sort_index": tid},
            }
        )
    events.append(
        {
            "name": trace.workflow_name or "workflow",
            "cat": "workflow",
            "ph": "X",
            "pid": _PID,
            "tid": 0,
            "ts": 0,
            "dur": round(trace.duration_seconds * 1_000_000, 3),
            "args": {"execution_id": trace.execution_id, "success": trace.success},
        }
    )
    events.append(
        {"ph": "M", "pid": _PID, "tid": 0, "name": "thread_name", "args": {"name": "workflow"}}
    )
    for node in trace.nodes:
        tid = tids[node.thread]
        events.append(
            {
                "name": node.node_id,
                "cat": node.node_type,
                "ph": "X",
                "pid": _PID,
                "tid": tid,
                "ts": micros(node.start_time),
                "dur": round(node.duration_seconds * 1_000_000, 3),
                "args": {
                    "status": node.status,
                    "success": node.success,
                    "error": node.error,
                    "attempts": node.attempts,
                    "iteration": node.iteration,
                },
            }
        )
        cursor = node.start_time
        for call in node.tool_calls:
            start = call.timestamp if call.timestamp is not None else cursor
            cursor = start + call.duration_seconds
            events.append(
                {
                    "name": call.tool_name,
                    "cat": "tool",
                    "ph": "X",
                    "pid": _PID,
                    "tid": tid,
                    "ts": micros(start),
                    "dur": round(call.duration_seconds * 1_000_000, 3),
                    "args": {"node_id": node.node_id, "success": call.success, "error": call.error},
                }
            )
    return {
        "traceEvents": events,
        "displayTimeUnit": "ms",
        "otherData": {"execution_id": trace.execution_id, "workflow": trace.workflow_name},
    }


def export(trace: WorkflowTrace, path: Path, **_options: Any) -> None:
    write_text_atomically(path, to_json_text(to_events(trace)))
