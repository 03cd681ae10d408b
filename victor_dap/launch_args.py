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


LAUNCH_SETTINGS: Mapping[str, str] = {
    "profile": "the `profile` launch argument",
    "workflow": "the `workflow` launch argument",
}
"""How set-up errors name the run settings in a debug session (`RunSetupError.phrased`)."""


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


class LaunchArgumentError(ValueError):
    """Launch arguments that cannot be used; `problems` are readable lines."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


_PYTHON_TYPES: Mapping[str, type | tuple[type, ...]] = {
    "string": str,
    "object": dict,
    "array": list,
    "boolean": bool,
}


def parse_launch_arguments(raw: Mapping[str, Any]) -> LaunchArguments:
    """Check types against LAUNCH_ARGUMENT_DOCS and resolve relative paths.

    Relative `program`, `contextFile` and `hitlAnswers` are resolved against
    `cwd` (or the adapter's working directory). Unknown keys (VS Code adds
    `type`, `request`, `name`, `__sessionId` ...) are ignored.
    """
    problems: list[str] = []
    values: dict[str, Any] = {}
    for name, (json_type, doc) in LAUNCH_ARGUMENT_DOCS.items():
        if name not in raw or raw[name] is None:
            continue
        value = raw[name]
        expected = _PYTHON_TYPES[json_type]
        if not isinstance(value, expected) or (json_type != "boolean" and isinstance(value, bool)):
            problems.append(f"launch argument `{name}` must be a {json_type} ({doc})")
            continue
        values[name] = value
    if not values.get("program"):
        problems.append("launch argument `program` is required: the workflow YAML file to debug")
    for item in values.get("registry", []):
        if not isinstance(item, str):
            problems.append("launch argument `registry` must list module names or .py paths")
            break
    for key, item in values.get("env", {}).items():
        if not isinstance(item, str):
            problems.append(f"launch argument `env.{key}` must be a string")
    if problems:
        raise LaunchArgumentError(problems)
    import os

    base = values.get("cwd") or os.getcwd()
    for name in ("program", "contextFile", "hitlAnswers"):
        if name in values:
            values[name] = os.path.normpath(os.path.join(base, os.path.expanduser(values[name])))
    if "cwd" in values:
        values["cwd"] = os.path.abspath(os.path.expanduser(values["cwd"]))
        if not os.path.isdir(values["cwd"]):
            problems.append(f"launch argument `cwd`: folder {values['cwd']} does not exist")
    if not os.path.isfile(values["program"]):
        problems.append(f"{values['program']}: file not found (launch argument `program`)")
    for name in ("contextFile", "hitlAnswers"):
        if name in values and not os.path.isfile(values[name]):
            problems.append(f"{values[name]}: file not found (launch argument `{name}`)")
    if problems:
        raise LaunchArgumentError(problems)
    if "registry" in values:
        values["registry"] = tuple(values["registry"])
    return LaunchArguments(**values)


def initial_state(args: LaunchArguments) -> dict[str, Any]:
    """`contextFile` (a JSON object) with `context` merged over it."""
    import json

    state: dict[str, Any] = {}
    if args.contextFile:
        try:
            with open(args.contextFile, encoding="utf-8") as handle:
                loaded = json.load(handle)
        except (OSError, json.JSONDecodeError) as exc:
            raise LaunchArgumentError([f"{args.contextFile}: cannot read context: {exc}"]) from exc
        if not isinstance(loaded, dict):
            raise LaunchArgumentError(
                [f"{args.contextFile}: the context file must hold a JSON object"]
            )
        state.update(loaded)
    state.update(args.context)
    return state
