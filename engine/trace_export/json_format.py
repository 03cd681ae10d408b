"""Trace as JSON: the layout of `WorkflowTrace.to_dict()` (jq-friendly, one node per record)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from engine.trace_export import write_text_atomically
from engine.trace_export.jsonsafe import to_json_text

if TYPE_CHECKING:
    from engine.trace import WorkflowTrace


def export(trace: WorkflowTrace, path: Path, **_options: Any) -> None:
    text = to_json_text(trace.to_dict(), indent=2)
    write_text_atomically(path, text + "\n")
