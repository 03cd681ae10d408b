"""Everything a run needs before its first node, shared by `run`, `trace`, `replay` and `debug`.

`prepare_execution` reads the initial context, compiles the file with its
project's settings (victor.toml: stage libraries, registry modules, profiles),
picks the workflow, loads the registry and the agent runners and sets up the
HITL responder. Every bad input raises `RunSetupError` whose message is one
user-facing line (`file:line:col: ...` for compile errors). A `PreparedRun`
then builds the `WorkflowExecutor` (`prepared.executor(...)`); callers add
their own gate, subscribers or HITL responder there. `open_history_recorder`
attaches the default history without ever failing a run.

Knows nothing of terminals, editors or protocols: the CLI's terminal prompt
and a debugger's HITL channel come in as `HitlResponder`s.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from engine.hitl import HitlResponder, NonInteractiveResponder
from engine.model import CompileResult, Problem, Severity, Workflow

if TYPE_CHECKING:
    from engine.agent_runners import AgentRunner
    from engine.events import EventSubscriber
    from engine.execution_engine import WorkflowExecutor
    from engine.history import WorkflowExecutionHistory
    from engine.project_config import ProjectConfig
    from engine.registry import Registry

__all__ = [
    "PreparedRun",
    "RunSetupError",
    "open_history_recorder",
    "prepare_execution",
    "read_context",
    "select_workflow",
]


class RunSetupError(Exception):
    """A run cannot start. `str(error)` is one line saying what is wrong and what to do.

    For compile errors `problems` holds every error (the message names the
    first one and counts the rest), so an adapter can show them all.

    When a run setting fixes it (`setting`: `profile`, `workflow`), `fix` says
    what to do with `{setting}` where the option goes: each adapter names its
    own option with `phrased` (the CLI `-p/--profile`, the DAP its launch
    argument); `str(error)` and `message` use the neutral "the `profile` setting".
    """

    def __init__(
        self,
        message: str,
        problems: Sequence[Problem] = (),
        *,
        setting: str | None = None,
        fix: str | None = None,
    ) -> None:
        self.problem = message
        self.setting = setting
        self.fix = fix
        self.problems = tuple(problems)
        self.message = self.phrased({})
        super().__init__(self.message)

    def phrased(self, setting_names: Mapping[str, str]) -> str:
        """The message with the adapter's own name for the setting that fixes it."""
        if self.fix is None:
            return self.problem
        name = self.setting and setting_names.get(self.setting)
        name = name or f"the `{self.setting}` setting"
        return f"{self.problem} {self.fix.replace('{setting}', name)}"


@dataclass(frozen=True)
class PreparedRun:
    """A compiled workflow with everything its executor needs."""

    path: Path
    workflow: Workflow
    compile_result: CompileResult
    registry: Registry
    project: ProjectConfig
    inputs: Mapping[str, Any]
    """The initial state: context file, then context JSON, then the context mapping."""
    hitl_responder: HitlResponder
    profile: str | None = None
    """The profile agent nodes without their own `profile:` use (None: no runner)."""
    default_runner: AgentRunner | None = None
    profile_runners: Mapping[str, AgentRunner] = field(default_factory=dict)
    project_root: Path | None = None
    """Where compute tools run; None when the workflow sets its own `project_root`."""

    @property
    def warnings(self) -> tuple[Problem, ...]:
        """Compile warnings (the run goes ahead); show them as `problem.format()`."""
        return tuple(p for p in self.compile_result.problems if p.severity is Severity.WARNING)

    def initial_state(self) -> dict[str, Any]:
        """A fresh copy of the inputs, for one `execute` call."""
        return dict(self.inputs)

    def executor(self, *, check_runners: bool = True, **options: Any) -> WorkflowExecutor:
        """A `WorkflowExecutor` for this run; `options` override or extend its arguments.

        Pass `gate=`, `subscribers=`, `hitl_responder=`, `debug_mode=`,
        `trace_mode=`, `recorded_outputs=`, `snapshots=`... as the caller needs.
        With `check_runners` (default) agent/team nodes left without a runner
        raise RunSetupError before anything runs.
        """
        from engine.execution_engine import WorkflowExecutor

        arguments: dict[str, Any] = {
            "registry": self.registry,
            "agent_runner": self.default_runner,
            "profile_runners": self.profile_runners,
            "hitl_responder": self.hitl_responder,
            "project_root": self.project_root,
        }
        arguments.update(options)
        executor = WorkflowExecutor(**arguments)
        if check_runners:
            missing = executor.missing_runners(self.workflow)
            if missing:
                raise RunSetupError(
                    f"workflow {self.workflow.name!r} has agent/team nodes with no agent "
                    f"runner: {', '.join(missing)}.",
                    setting="profile",
                    fix="Choose a profile with {setting} (declare [profiles.NAME] with runner = "
                    '"scripted", "openai" or "replay" in victor.toml).',
                )
        return executor


def prepare_execution(
    path: str | Path,
    *,
    name: str | None = None,
    context_json: str | None = None,
    context_file: str | Path | None = None,
    context: Mapping[str, Any] | None = None,
    profile: str | None = None,
    registry_flags: Sequence[str] = (),
    stages: Iterable[str | Path] = (),
    hitl_answers: str | Path | None = None,
    hitl_fallback: HitlResponder | None = None,
    load_runners: bool = True,
    cwd: str | Path | None = None,
) -> PreparedRun:
    """Compile `path` and load everything a run of it needs; raises RunSetupError.

    - `name`: the workflow to run (required when the file holds several).
    - `context_json` / `context_file` / `context`: the initial state, merged
      in that order of precedence (the mapping wins).
    - `profile`: agent profile (default: the project's `default_profile`).
    - `registry_flags`: registry modules added after the project's.
    - `stages`: extra stage libraries.
    - `hitl_answers`: a JSON/YAML answers file; questions it does not answer
      go to `hitl_fallback` (default: each node's `fallback`, non-interactive).
    - `load_runners` False skips the agent runners (a dry run).
    - `cwd`: the folder relative paths are read from (default: the process's).
    """
    base = Path(cwd) if cwd is not None else None
    file = _resolve(path, base)
    if not file.is_file():
        what = "is a folder, not a file" if file.is_dir() else "not found"
        raise RunSetupError(f"workflow file {what}: {path}; give the path of a workflow YAML file")
    inputs = read_context(
        context_json, _resolve(context_file, base) if context_file is not None else None
    )
    if context:
        inputs.update(context)

    from engine.compiler import compile_file
    from engine.registry import Registry, RegistryError
    from engine.workspace import compile_config_for, project_config_for, registry_modules_for

    try:
        project = project_config_for(file)
        compile_config = compile_config_for(file, stages=stages)
        modules, base_dir = registry_modules_for(file, registry_flags)
        try:
            registry = Registry.builtin().merged(Registry.from_entry_points())
            extra = Registry.from_modules(modules, base_dir=base_dir, builtins=False)
        except RegistryError as exc:
            raise ValueError(str(exc)) from exc
    except ValueError as exc:
        raise RunSetupError(str(exc)) from exc
    registry = registry.merged(extra)
    if registry.sources != ("builtin",):
        compile_config = dataclasses.replace(compile_config, registry=registry.names())
    result = compile_file(file, compile_config)
    errors = result.errors
    if errors:
        more = f" (and {len(errors) - 1} more error(s))" if len(errors) > 1 else ""
        raise RunSetupError(errors[0].format() + more, errors)
    workflow = select_workflow(result.workflows, name, file, result.kind.value)

    selected: str | None = None
    default_runner: AgentRunner | None = None
    by_profile: dict[str, AgentRunner] = {}
    if load_runners:
        default_runner, by_profile, selected = _runners(project, workflow, profile)

    responder: HitlResponder = hitl_fallback or NonInteractiveResponder()
    if hitl_answers is not None:
        from engine.hitl import AnswersResponder, HitlError

        try:
            responder = AnswersResponder.from_file(_resolve(hitl_answers, base), fallback=responder)
        except HitlError as exc:
            raise RunSetupError(str(exc)) from exc

    project_root = None
    if not workflow.metadata.get("project_root"):
        project_root = project.root or file.resolve().parent
    return PreparedRun(
        path=file,
        workflow=workflow,
        compile_result=result,
        registry=registry,
        project=project,
        inputs=inputs,
        hitl_responder=responder,
        profile=selected,
        default_runner=default_runner,
        profile_runners=by_profile,
        project_root=project_root,
    )


def read_context(context_json: str | None, context_file: str | Path | None) -> dict[str, Any]:
    """The initial state: the file's JSON object, then `context_json`'s over it."""
    merged: dict[str, Any] = {}
    if context_file is not None:
        from engine.text_files import UnreadableFileError, read_text_file

        file = Path(context_file)
        try:
            text = read_text_file(file)
        except UnreadableFileError as exc:
            raise RunSetupError(f"cannot read context file {file}: {exc}") from exc
        if file.suffix.lower() in (".yaml", ".yml"):
            merged.update(_yaml_object(text, f"context file {file}"))
        else:
            merged.update(_json_object(text, f"context file {file}"))
    if context_json is not None:
        merged.update(_json_object(context_json, "--context"))
    return merged


def _json_object(text: str, what: str) -> dict[str, Any]:
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise RunSetupError(f"{what} is not valid JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise RunSetupError(
            f'{what} must be a JSON object such as {{"task": "fix bug"}}, not {_kind(data)}'
        )
    return data


def _yaml_object(text: str, what: str) -> dict[str, Any]:
    import yaml

    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or exc
        raise RunSetupError(f"{what} is not valid YAML{where}: {problem}") from exc
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise RunSetupError(f"{what} must be a mapping such as `task: fix bug`, not {_kind(data)}")
    return {str(key): value for key, value in data.items()}


def _kind(value: Any) -> str:
    names = {list: "a list", str: "a string", type(None): "null", bool: "a boolean"}
    return names.get(type(value), "a number" if isinstance(value, int | float) else "a value")


NO_WORKFLOWS = (
    "no workflows, node library or stage library found in this file; a workflow file is a "
    "mapping such as `workflows: {my_flow: {nodes: [...]}}`"
)
"""What to say about a file that compiles to nothing runnable (empty, a list, plain data)."""


_LIBRARY_FILES = {
    "node_library": (
        "is a node library (top-level `nodes:`), not a workflow, so there is nothing to run; "
        "workflows use its nodes with `$ref: {name}#NODE_ID`"
    ),
    "stage_library": (
        "is a stage library (`stage_templates:`), not a workflow, so there is nothing to run; "
        "workflows use its templates with `stage: TEMPLATE`"
    ),
}
"""What to say about a library file given to a command that runs a workflow, by FileKind."""


def select_workflow(
    workflows: Sequence[Workflow], name: str | None, path: str | Path, kind: str | None = None
) -> Workflow:
    """The workflow called `name`, or the file's only one; raises RunSetupError.
    `kind` (the file's FileKind value) explains a library file given instead of a workflow."""
    names = ", ".join(wf.name for wf in workflows)
    if not workflows:
        library = _LIBRARY_FILES.get(kind or "")
        if library is not None:
            raise RunSetupError(f"{path} " + library.format(name=Path(path).name))
        raise RunSetupError(f"{path}: {NO_WORKFLOWS}")
    if name is not None:
        for workflow in workflows:
            if workflow.name == name:
                return workflow
        raise RunSetupError(f"{path}: no workflow named {name!r} (workflows: {names})")
    if len(workflows) > 1:
        raise RunSetupError(
            f"{path} holds several workflows ({names}).",
            setting="workflow",
            fix="Choose one with {setting}.",
        )
    return workflows[0]


def _runners(
    project: ProjectConfig, workflow: Workflow, profile: str | None
) -> tuple[AgentRunner | None, dict[str, AgentRunner], str | None]:
    """Build only the runners this workflow can use, so unused ones are never imported."""
    from engine.agent_runners import AgentRunnerError, runners_from_profiles
    from engine.model import AgentNode, TeamNode

    agent_nodes = [n for n in workflow.nodes if isinstance(n, AgentNode | TeamNode)]
    selected = profile or project.default_profile
    if not agent_nodes and profile is None:
        selected = None
    try:
        default_runner, by_profile = runners_from_profiles(
            project.profiles, selected, needed={n.profile for n in agent_nodes if n.profile}
        )
    except AgentRunnerError as exc:
        where = f"{project.path}: " if project.path else ""
        raise RunSetupError(where + str(exc)) from exc
    return default_runner, by_profile, selected


def open_history_recorder(
    prepared: PreparedRun, history: WorkflowExecutionHistory | None = None
) -> tuple[EventSubscriber | None, str | None]:
    """A subscriber recording the run in `history`, or (None, why not).

    Without `history`, the run's default history: `VICTOR_HISTORY_URL`, else the
    project's `history_url`, else `$VICTOR_HOME/workflows.db` (see
    `engine.history.default_history_location`). Never raises: a history that cannot
    be opened must not stop a run.
    """
    try:
        if history is None:
            from engine.history import open_default_history

            history = open_default_history(project=prepared.project)
        recorder = history.recorder(prepared.workflow, workflow_file=str(prepared.path.resolve()))
    except Exception as exc:  # any store failure: the run goes on unrecorded
        return None, str(exc) or type(exc).__name__
    return recorder, None


def _resolve(path: str | Path, base: Path | None) -> Path:
    file = Path(path).expanduser()
    if base is not None and not file.is_absolute():
        return base / file
    return file
