"""Trace as CSV: one row per node record (inputs/outputs as compact JSON cells)."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import TYPE_CHECKING, Any

from engine.trace import iso_time
from engine.trace_export import write_text_atomically
from engine.trace_export.jsonsafe import to_json_text

if TYPE_CHECKING:
    from engine.trace import WorkflowTrace

COLUMNS = (
    "execution_id",
    "workflow",
    "node_id",
    "node_type",
    "thread",
    "start_time",
    "end_time",
    "duration_seconds",
    "success",
    "status",
    "attempts",
    "error",
    "tool_calls_count",
    "tools",
    "inputs",
    "outputs",
)


def _cell(value: Any) -> str:
    return to_json_text(value, separators=(",", ":"))


def export(trace: WorkflowTrace, path: Path, **_options: Any) -> None:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(COLUMNS)
    for node in trace.nodes:
        writer.writerow(
            [
                trace.execution_id,
                trace.workflow_name,
                node.node_id,
                node.node_type,
                node.thread,
                iso_time(node.start_time),
                iso_time(node.end_time),
                f"{node.duration_seconds:.6f}",
                "true" if node.success else "false",
                node.status,
                node.attempts,
                node.error or "",
                len(node.tool_calls),
                ";".join(call.tool_name for call in node.tool_calls),
                _cell(node.inputs),
                _cell(node.outputs),
            ]
        )
    write_text_atomically(path, buffer.getvalue())
