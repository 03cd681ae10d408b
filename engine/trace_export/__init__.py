"""Trace exporters by format name: json, csv, html, chrome, otlp, and custom registered ones.

Each built-in format lives in its own module and is imported only when used. An exporter
is `fn(trace, path, **options)` and writes one file. This package knows nothing of the
executor, history storage or terminals.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from engine.trace import WorkflowTrace

Exporter = Callable[..., None]

_BUILTIN = {
    "json": "engine.trace_export.json_format",
    "csv": "engine.trace_export.csv_format",
    "html": "engine.trace_export.html_format",
    "chrome": "engine.trace_export.chrome_format",
    "otlp": "engine.trace_export.otlp_format",
}
_custom: dict[str, Exporter] = {}


class TraceExportError(Exception):
    """An export that cannot be done; the message says why and what to do."""


def register_format(name: str, exporter: Exporter) -> None:
    """Register (or replace) a custom format; built-in names cannot be replaced."""
    key = name.strip().lower()
    if not key:
        raise ValueError("a trace format needs a non-empty name")
    if key in _BUILTIN:
        raise ValueError(f"{key!r} is a built-in trace format and cannot be replaced")
    _custom[key] = exporter


def unregister_format(name: str) -> None:
    _custom.pop(name.strip().lower(), None)


def available_formats() -> list[str]:
    return [*_BUILTIN, *sorted(_custom)]


def exporter_for(name: str) -> Exporter:
    key = (name or "json").strip().lower()
    if key in _custom:
        return _custom[key]
    module_name = _BUILTIN.get(key)
    if module_name is None:
        raise TraceExportError(
            f"unknown trace format {name!r}; available: {', '.join(available_formats())}"
        )
    exporter: Exporter = importlib.import_module(module_name).export
    return exporter


def export(trace: WorkflowTrace, path: Path, format: str = "json", **options: Any) -> Path:
    """Write `trace` to `path` as `format`; parent folders are created."""
    exporter = exporter_for(format)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        exporter(trace, path, **options)
    except OSError as error:
        reason = error.strerror or str(error)
        raise TraceExportError(f"cannot write trace to {path}: {reason}") from error
    return path


def write_text_atomically(path: Path, text: str) -> None:
    """Write via a temporary file in the same folder so readers never see half a file."""
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)
