"""Victor workflow engine: load, validate, execute and record YAML workflows.

Pure Python. It never imports pygls, lsprotocol, victor_lsp, victor_dap, or the
terminal UI (typer/rich live only in `engine.cli`). Public names are loaded
lazily so that a small command starts fast.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from engine.compiler import compile
    from engine.model import CompileResult, Problem, Severity, SourceSpan, Workflow

__all__ = ["CompileResult", "Problem", "Severity", "SourceSpan", "Workflow", "compile"]

_LAZY = {
    "compile": "engine.compiler",
    "CompileResult": "engine.model",
    "Problem": "engine.model",
    "Severity": "engine.model",
    "SourceSpan": "engine.model",
    "Workflow": "engine.model",
}


def __getattr__(name: str) -> Any:
    module_name = _LAZY.get(name)
    if module_name is None:
        raise AttributeError(f"module 'engine' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(module_name), name)
