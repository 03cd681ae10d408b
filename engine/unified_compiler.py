"""`UnifiedWorkflowCompiler`: the guide's compile API, delegating to `engine.compile`.

`compile_yaml(path, name)` returns one compiled `Workflow` or raises
`WorkflowCompileError` listing every error as `file:line:col`. Knows nothing
of execution.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from engine.config import CompileConfig
from engine.model import CompileResult, Problem, Workflow


class WorkflowCompileError(Exception):
    """The file has errors (or the workflow name is wrong); `problems` has them all."""

    def __init__(self, message: str, problems: Sequence[Problem] = ()) -> None:
        super().__init__(message)
        self.problems = tuple(problems)


class UnifiedWorkflowCompiler:
    """Compile workflow files for execution, as in the user guide."""

    def __init__(self, config: CompileConfig | None = None) -> None:
        self.config = config

    def compile_file(self, path: str | Path) -> CompileResult:
        from engine.compiler import compile_file

        config = self.config
        if config is None:
            from engine.workspace import compile_config_for

            config = compile_config_for(path)
        return compile_file(path, config)

    def compile_yaml(self, path: str | Path, name: str | None = None) -> Workflow:
        """The named workflow of a file (the only one when `name` is None)."""
        result = self.compile_file(path)
        if result.errors:
            lines = "\n".join(p.format() for p in result.errors)
            raise WorkflowCompileError(
                f"{path} has {len(result.errors)} error(s):\n{lines}", result.errors
            )
        return select_workflow(result, name)


def select_workflow(result: CompileResult, name: str | None) -> Workflow:
    """Pick a workflow by name; raise WorkflowCompileError with the choices otherwise."""
    names = ", ".join(result.workflow_names) or "none"
    if name is None:
        if len(result.workflows) == 1:
            return result.workflows[0]
        if not result.workflows:
            raise WorkflowCompileError(f"{result.source} defines no workflows.")
        raise WorkflowCompileError(
            f"{result.source} defines several workflows ({names}); choose one by name (-n NAME)."
        )
    workflow = result.workflow(name)
    if workflow is None:
        raise WorkflowCompileError(
            f"{result.source} has no workflow '{name}'; it defines: {names}."
        )
    return workflow
