"""Everything a debug session needs before the first node: compile, registry, runners.

Shared by the DAP debuggee and `victor workflow debug`: compiles the file with
the project's settings (victor.toml), picks the workflow, loads the registry
modules and agent runners, and returns a factory that builds the executor with
the debugger as its gate. Problems come back as readable `file:line: ...`
lines in a `DebugSetupError`. Knows nothing of DAP or terminals.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from engine.events import EventSubscriber
from engine.hitl import HitlResponder
from engine.model import CompileResult, ComputeNode, Node, Workflow


class DebugSetupError(Exception):
    """The session cannot start; `problems` are readable lines (file:line: ...)."""

    def __init__(self, problems: Sequence[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = list(problems)


@dataclass
class DebugTarget:
    program: str
    workflow: Workflow
    result: CompileResult
    registry: Any
    default_runner: Any = None
    profile_runners: dict[str, Any] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)


def compile_program(program: str) -> CompileResult:
    """Compile a workflow file with its project's settings; never raises on user errors."""
    from engine.compiler import compile as compile_text

    path = Path(program)
    text = path.read_text(encoding="utf-8")
    config = None
    try:
        from engine.config import CompileConfig
        from engine.project_config import find_project_config

        project = find_project_config(path)
        if project.stage_libraries:
            config = CompileConfig(stage_libraries=project.stage_libraries)
    except Exception:  # a broken victor.toml is reported by prepare_debug_target
        config = None
    return compile_text(text, source=str(path), config=config)


def choose_workflow(result: CompileResult, name: str | None, program: str) -> Workflow:
    if name:
        found = result.workflow(name)
        if found is None:
            names = ", ".join(result.workflow_names) or "none"
            raise DebugSetupError([f"{program}: no workflow named {name!r}; workflows: {names}"])
        return found
    if not result.workflows:
        raise DebugSetupError([f"{program}:1: no workflow found in this file"])
    if len(result.workflows) > 1:
        names = ", ".join(result.workflow_names)
        raise DebugSetupError(
            [f"{program}: the file defines several workflows ({names}); choose one by name"]
        )
    return result.workflows[0]


def prepare_debug_target(
    program: str,
    *,
    workflow_name: str | None = None,
    profile: str | None = None,
    registry_modules: Sequence[str] = (),
) -> DebugTarget:
    """Compile and load everything; raises DebugSetupError listing every problem."""
    path = Path(program)
    if not path.is_file():
        raise DebugSetupError([f"{program}: file not found; set `program` to a workflow YAML file"])
    result = compile_program(str(path))
    if result.errors:
        raise DebugSetupError([p.format() for p in result.errors])
    workflow = choose_workflow(result, workflow_name, str(path))
    problems: list[str] = []
    modules: list[str] = list(registry_modules)
    profiles: dict[str, Any] = {}
    selected = profile
    try:
        from engine.project_config import find_project_config

        project = find_project_config(path)
        modules = [*project.registry, *modules]
        profiles = dict(project.profiles)
        selected = profile or project.default_profile
        base_dir = str(project.root or path.parent)
    except Exception as exc:
        problems.append(str(exc))
        base_dir = str(path.parent)
    registry = None
    try:
        from engine.registry import Registry

        registry = Registry.from_modules(modules, base_dir=base_dir)
    except Exception as exc:
        problems.append(f"{program}: registry: {exc}")
    default_runner: Any = None
    runners: dict[str, Any] = {}
    try:
        from engine.agent_runners import runners_from_profiles

        default_runner, runners = runners_from_profiles(profiles, selected)
    except Exception as exc:
        problems.append(f"{program}: profile: {exc}")
    if problems:
        raise DebugSetupError(problems)
    return DebugTarget(str(path), workflow, result, registry, default_runner, runners)


def executor_factory(target: DebugTarget, hitl_responder: HitlResponder | None) -> Any:
    """(gate, subscribers) -> WorkflowExecutor for `WorkflowDebugger(executor_factory=...)`."""

    def build(gate: Any, subscribers: list[EventSubscriber]) -> Any:
        from engine.execution_engine import WorkflowExecutor

        return WorkflowExecutor(
            debug_mode=True,
            registry=target.registry,
            agent_runner=target.default_runner,
            profile_runners=target.profile_runners,
            hitl_responder=hitl_responder,
            subscribers=subscribers,
            gate=gate,
            project_root=os.path.dirname(os.path.abspath(target.program)),
        )

    return build


@dataclass(frozen=True, slots=True)
class HandlerCode:
    """Where the Python code of a compute node's handler is (for a Python debugger)."""

    node_id: str
    handler: str
    file: str
    line: int
    """0-based line of the function's `def`."""
    is_async: bool


def handler_code(registry: Any, node: Node) -> HandlerCode | None:
    """The Python function behind a compute node's `handler`, or None.

    None when the node is not a compute node with a handler, the handler is not
    registered, or it has no Python source file (a builtin or C function).
    """
    import inspect

    if not isinstance(node, ComputeNode) or not node.handler or registry is None:
        return None
    function = getattr(registry, "handlers", {}).get(node.handler)
    if function is None:
        return None
    target = inspect.unwrap(function)
    if not inspect.isfunction(target) and not inspect.ismethod(target):
        target = type(target).__call__  # a callable object: debug its __call__
        if not inspect.isfunction(target):
            return None
    try:
        file = inspect.getsourcefile(target)
        _, line = inspect.getsourcelines(target)
    except (OSError, TypeError):
        return None
    if file is None:
        return None
    return HandlerCode(
        node.id,
        node.handler,
        os.path.abspath(file),
        max(line - 1, 0),
        inspect.iscoroutinefunction(target),
    )
