"""The `launch` request arguments the adapter accepts, with their documentation.

This is the single model that the VS Code extension's `configurationAttributes`
must match (a test compares the two). It knows nothing of the DAP wire format.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

LAUNCH_ARGUMENT_DOCS: Mapping[str, tuple[str, str]] = {
    # name: (JSON type, description)
    "program": ("string", "Path of the workflow YAML file to debug."),
    "workflow": ("string", "Workflow name; needed when the file defines several."),
    "context": ("object", "Initial workflow state (the run's inputs) as a JSON object."),
    "contextFile": (
        "string",
        "Path of a JSON file with the initial state; merged under `context`.",
    ),
    "profile": ("string", "Agent runner profile for agent nodes (from victor.toml)."),
    "registry": ("array", "Python modules exposing HANDLERS/CONDITIONS/TRANSFORMS/TOOLS."),
    "stopOnEntry": ("boolean", "Stop before the first node."),
    "cwd": ("string", "Working directory of the workflow process."),
    "env": ("object", "Extra environment variables for the workflow process."),
    "hitlAnswers": ("string", "Path of a YAML/JSON file answering HITL nodes by node id."),
    "noDebug": ("boolean", "Run without stopping at breakpoints."),
}


@dataclass(frozen=True)
class LaunchArguments:
    """Validated launch arguments (see LAUNCH_ARGUMENT_DOCS for each field)."""

    program: str
    workflow: str | None = None
    context: Mapping[str, Any] = field(default_factory=dict)
    contextFile: str | None = None
    profile: str | None = None
    registry: tuple[str, ...] = ()
    stopOnEntry: bool = False
    cwd: str | None = None
    env: Mapping[str, str] = field(default_factory=dict)
    hitlAnswers: str | None = None
    noDebug: bool = False
