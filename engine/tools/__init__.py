"""Tools callable from compute nodes, and the built-in ones.

A tool is `tool(inputs: Mapping, context: ToolContext) -> output`, sync or
async. It raises `ToolError` (or any exception) to fail. A tool may declare
`tool.capabilities = frozenset({"network", "write", ...})`; compute-node
`constraints` that block one of them stop the call. Knows nothing of the
executor's events or of the CLI.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from engine.tools.shell import shell_tool


class ToolError(Exception):
    """A tool failed; the message says why."""


@dataclass(frozen=True, slots=True)
class ToolContext:
    """What a tool may know about where it runs."""

    node_id: str
    workflow: str
    project_root: Path
    timeout: float | None = None


BUILTIN_TOOLS: dict[str, Callable[..., Any]] = {"shell": shell_tool}

__all__ = ["BUILTIN_TOOLS", "ToolContext", "ToolError", "shell_tool"]
