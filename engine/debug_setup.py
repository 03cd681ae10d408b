"""What a debug session needs before the first node, on top of `engine.run_setup`.

Shared by the DAP debuggee and `victor workflow debug`. The set-up itself
(compile with the project's settings, pick the workflow, load the registry
and agent runners) is `engine.run_setup.prepare_execution`, as for `run`; this
module turns its one-line errors into the problem lists debug adapters show,
builds the executor with the debugger as its gate, compiles a file for
breakpoint binding, and finds a compute handler's Python code. Knows nothing
of DAP or terminals.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from engine.events import EventSubscriber
from engine.hitl import HitlResponder
from engine.model import CompileResult, ComputeNode, Node, Workflow
from engine.run_setup import PreparedRun, RunSetupError, prepare_execution, select_workflow


class DebugSetupError(Exception):
    """The session cannot start; `problems` are readable lines (file:line: ...)."""

    def __init__(self, problems: Sequence[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = list(problems)

    @classmethod
    def from_run_setup(
        cls, error: RunSetupError, setting_names: Mapping[str, str] | None = None
    ) -> DebugSetupError:
        """`setting_names`: how the adapter names run settings (see `RunSetupError.phrased`)."""
        return cls([p.format() for p in error.problems] or [error.phrased(setting_names or {})])


@dataclass(frozen=True)
class DebugTarget:
    """A prepared run (see `engine.run_setup.PreparedRun`) about to be debugged."""

    prepared: PreparedRun

    @property
    def program(self) -> str:
        return str(self.prepared.path)

    @property
    def workflow(self) -> Workflow:
        return self.prepared.workflow

    @property
    def result(self) -> CompileResult:
        return self.prepared.compile_result

    @property
    def registry(self) -> Any:
        return self.prepared.registry


def compile_program(program: str) -> CompileResult:
    """Compile a workflow file with its project's settings (for breakpoint binding).

    Never raises on user errors: an unreadable file or a broken victor.toml is
    a problem in the result or compiles with default settings.
    """
    from engine.compiler import compile_file
    from engine.workspace import compile_config_for

    try:
        config = compile_config_for(program)
    except ValueError:  # a broken victor.toml is reported when the session starts
        config = None
    return compile_file(program, config)


def choose_workflow(
    result: CompileResult,
    name: str | None,
    program: str,
    setting_names: Mapping[str, str] | None = None,
) -> Workflow:
    """The workflow called `name`, or the file's only one; raises DebugSetupError."""
    try:
        return select_workflow(result.workflows, name, program, result.kind.value)
    except RunSetupError as exc:
        raise DebugSetupError.from_run_setup(exc, setting_names) from exc


def prepare_debug_target(
    program: str,
    *,
    workflow_name: str | None = None,
    profile: str | None = None,
    registry_modules: Sequence[str] = (),
    setting_names: Mapping[str, str] | None = None,
) -> DebugTarget:
    """Compile and load everything; raises DebugSetupError listing every problem.

    Agent or team nodes without a runner fail here, before anything runs.
    `setting_names` names the adapter's options in the messages (`RunSetupError.phrased`).
    """
    try:
        prepared = prepare_execution(
            program, name=workflow_name, profile=profile, registry_flags=registry_modules
        )
        prepared.executor(check_runners=True)  # missing runners: a launch error, not a crash
    except RunSetupError as exc:
        raise DebugSetupError.from_run_setup(exc, setting_names) from exc
    return DebugTarget(prepared)


def executor_factory(target: DebugTarget, hitl_responder: HitlResponder | None) -> Any:
    """(gate, subscribers) -> WorkflowExecutor for `WorkflowDebugger(executor_factory=...)`."""

    def build(gate: Any, subscribers: list[EventSubscriber]) -> Any:
        options: dict[str, Any] = {"debug_mode": True, "gate": gate, "subscribers": subscribers}
        if hitl_responder is not None:
            options["hitl_responder"] = hitl_responder
        return target.prepared.executor(check_runners=False, **options)

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
