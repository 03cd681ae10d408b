"""`victor workflow run WORKFLOW_PATH`: compile, then execute one workflow.

Progress goes to stderr (rich on a terminal, plain lines otherwise); the
result goes to stdout (`--json` prints exactly one object). Exit 0 on
success, 1 when the workflow failed, 2 on usage or validation errors. Bad
input is one clear line, never a traceback. Translation only: execution lives
in `engine.execution_engine`; heavy imports stay inside the command so the
process starts fast.
"""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer

from engine.cli import workflow_app

if TYPE_CHECKING:
    from engine.events import ExecutionEvent
    from engine.hitl import HitlRequest, HitlResponse
    from engine.model import Workflow

log = logging.getLogger("victor.run")


def _usage_error(message: str) -> NoReturn:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(2)


def _read_context(context: str | None, context_file: Path | None) -> dict[str, Any]:
    merged: dict[str, Any] = {}
    if context_file is not None:
        try:
            text = context_file.read_text(encoding="utf-8")
        except OSError as exc:
            _usage_error(f"cannot read context file {context_file}: {exc.strerror or exc}")
        try:
            data = json.loads(text)
        except ValueError as exc:
            _usage_error(f"{context_file}: not valid JSON: {exc}")
        if not isinstance(data, dict):
            _usage_error(f"{context_file}: the context must be a JSON object")
        merged.update(data)
    if context is not None:
        try:
            data = json.loads(context)
        except ValueError as exc:
            _usage_error(f"--context is not valid JSON: {exc}")
        if not isinstance(data, dict):
            _usage_error('--context must be a JSON object, e.g. \'{"task": "fix bug"}\'')
        merged.update(data)
    return merged


def _select(workflows: tuple[Workflow, ...], name: str | None, path: Path) -> Workflow:
    names = [wf.name for wf in workflows]
    if not workflows:
        _usage_error(f"{path}: no workflows found in this file")
    if name is not None:
        for wf in workflows:
            if wf.name == name:
                return wf
        _usage_error(f"{path}: no workflow named {name!r} (workflows: {', '.join(names)})")
    if len(workflows) > 1:
        _usage_error(
            f"{path} holds several workflows ({', '.join(names)}); choose one with -n NAME"
        )
    return workflows[0]


def _plan(workflow: Workflow) -> list[str]:
    from engine.model import ConditionNode, ParallelNode

    lines = [f"workflow {workflow.name} (start: {workflow.start_node})"]
    for node in workflow.nodes:
        edges: list[str] = []
        if isinstance(node, ConditionNode):
            edges.append(", ".join(f"{key} -> {target}" for key, target in node.branches))
        if isinstance(node, ParallelNode):
            edges.append("parallel: " + ", ".join(node.parallel_nodes))
        if node.next:
            edges.append(("next: " if not node.auto_chained else "then: ") + node.next[0])
        if not edges:
            edges.append("end")
        lines.append(f"  {node.index + 1:>3}. {node.id} [{node.type.value}]  " + "; ".join(edges))
    return lines


class _TerminalResponder:
    """Asks HITL questions on the terminal (stdin/stderr)."""

    async def ask(self, request: HitlRequest) -> HitlResponse:
        import asyncio

        from engine.hitl import response_from_answer

        lines = [f"\n[{request.node_id}] {request.prompt or request.hitl_type}"]
        if request.context:
            lines.append("  context: " + json.dumps(dict(request.context), default=str)[:500])
        if request.choices:
            lines.append("  choices: " + ", ".join(str(c) for c in request.choices))
        hint = "y/n" if request.hitl_type in ("approval", "confirmation") else "answer"
        sys.stderr.write("\n".join(lines) + f"\n  {hint}> ")
        sys.stderr.flush()
        answer = await asyncio.to_thread(sys.stdin.readline)
        text = answer.strip()
        if not text and request.default_value is not None:
            return response_from_answer(request, request.default_value)
        return response_from_answer(request, text)


class _Progress:
    """Prints node progress to stderr."""

    def __init__(self, rich_output: bool) -> None:
        self._console: Any = None
        if rich_output:
            from rich.console import Console

            self._console = Console(stderr=True, highlight=False)

    def _line(self, text: str, style: str | None = None) -> None:
        if self._console is not None:
            self._console.print(text, style=style, markup=False)
        else:
            sys.stderr.write(text + "\n")

    def __call__(self, event: ExecutionEvent) -> None:
        kind = event.event_type.value
        where = event.node_id if event.thread == "main" else f"{event.thread}/{event.node_id}"
        if kind == "node_started":
            self._line(f"-> {where} ({event.node_type})", "cyan")
        elif kind == "node_completed":
            self._line(f"ok {where} {event.duration_seconds:.3f}s", "green")
        elif kind == "node_failed":
            self._line(f"FAILED {where}: {event.error}", "red")
        elif kind == "node_skipped":
            self._line(f"skipped {where}", "yellow")
        elif kind == "retry_attempt":
            delay = event.metadata.get("delay", 0.0)
            self._line(f"retry {where} attempt {event.attempt} in {delay:.2f}s", "yellow")
        elif kind == "error_recovered":
            self._line(f"recovered {where} ({event.metadata.get('strategy')})", "yellow")


@workflow_app.command("run")
def run(
    workflow_path: Annotated[Path, typer.Argument(help="Workflow YAML file.")],
    context: Annotated[
        str | None, typer.Option("-c", "--context", help="Initial context as JSON.")
    ] = None,
    context_file: Annotated[
        Path | None, typer.Option("-f", "--context-file", help="Context JSON file.")
    ] = None,
    name: Annotated[
        str | None, typer.Option("-n", "--name", help="Workflow name (if multiple).")
    ] = None,
    profile: Annotated[
        str | None, typer.Option("-p", "--profile", help="Profile for agent nodes.")
    ] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Validate without executing.")] = False,
    log_level: Annotated[
        str, typer.Option("--log-level", help="Set logging level (DEBUG, INFO, ...).")
    ] = "WARNING",
    registry: Annotated[
        list[str] | None,
        typer.Option(
            "--registry",
            help="Python module (or .py file) with HANDLERS/CONDITIONS/TRANSFORMS/TOOLS.",
        ),
    ] = None,
    hitl_answers: Annotated[
        Path | None,
        typer.Option("--hitl-answers", help="YAML/JSON file of answers by HITL node id."),
    ] = None,
    json_output: Annotated[
        bool, typer.Option("--json", help="Print the result as one JSON object.")
    ] = False,
    no_history: Annotated[
        bool, typer.Option("--no-history", help="Do not record this run in the history.")
    ] = False,
) -> None:
    """Execute a workflow."""
    level = logging.getLevelName(log_level.upper())
    if not isinstance(level, int):
        _usage_error(f"--log-level {log_level!r} is not a logging level (DEBUG, INFO, WARNING...)")
    logging.basicConfig(
        level=level, stream=sys.stderr, format="%(levelname)s %(name)s: %(message)s"
    )
    if not workflow_path.is_file():
        _usage_error(f"workflow file not found: {workflow_path}")
    inputs = _read_context(context, context_file)

    import dataclasses

    from engine.compiler import compile_file
    from engine.workspace import compile_config_for, project_config_for, registry_modules_for

    try:
        project = project_config_for(workflow_path)
        compile_config = compile_config_for(workflow_path)
        modules, base = registry_modules_for(workflow_path, registry or ())
        from engine.registry import Registry, RegistryError

        try:
            loaded = Registry.builtin().merged(Registry.from_entry_points())
            loaded = loaded.merged(Registry.from_modules(modules, base_dir=base, builtins=False))
        except RegistryError as exc:
            raise ValueError(str(exc)) from exc
    except ValueError as exc:
        _usage_error(str(exc))
    if modules:
        compile_config = dataclasses.replace(compile_config, registry=loaded.names())
    result = compile_file(workflow_path, compile_config)
    for problem in result.problems:
        if problem.severity.value in ("error", "warning"):
            typer.echo(problem.format(), err=True)
    if not result.ok:
        typer.echo(f"error: {workflow_path} has {len(result.errors)} error(s); not run", err=True)
        raise typer.Exit(2)
    workflow = _select(result.workflows, name, workflow_path)

    if dry_run:
        for line in _plan(workflow):
            typer.echo(line)
        typer.echo(f"{workflow_path}: {workflow.name} is valid ({len(workflow.nodes)} nodes)")
        raise typer.Exit(0)

    from engine.agent_runners import AgentRunnerError, runners_from_profiles
    from engine.execution_engine import WorkflowExecutor
    from engine.hitl import AnswersResponder, HitlError, NonInteractiveResponder

    selected = profile or project.default_profile
    agent_nodes = [n for n in workflow.nodes if n.type.value in ("agent", "team")]
    if not agent_nodes and profile is None:
        selected = None  # nothing to run agents for: load no runner at all
    try:
        default_runner, by_profile = runners_from_profiles(
            project.profiles, selected, needed={n.profile for n in agent_nodes if n.profile}
        )
    except AgentRunnerError as exc:
        where = f"{project.path}: " if project.path else ""
        _usage_error(where + str(exc))
    interactive = sys.stdin.isatty() and sys.stderr.isatty()
    fallback: Any = _TerminalResponder() if interactive else NonInteractiveResponder()
    responder: Any = fallback
    if hitl_answers is not None:
        try:
            responder = AnswersResponder.from_file(hitl_answers, fallback=fallback)
        except HitlError as exc:
            _usage_error(str(exc))
    subscribers: list[Any] = []
    if not json_output or sys.stderr.isatty():
        subscribers.append(_Progress(rich_output=sys.stderr.isatty()))
    project_root = None
    if not workflow.metadata.get("project_root"):
        project_root = project.root or workflow_path.resolve().parent
    executor = WorkflowExecutor(
        registry=loaded,
        agent_runner=default_runner,
        profile_runners=by_profile,
        hitl_responder=responder,
        subscribers=subscribers,
        project_root=project_root,
    )
    problems = executor.preflight(workflow)
    if problems:
        _usage_error(problems[0])
    if not no_history:
        _attach_history(executor, workflow, workflow_path)

    import asyncio

    try:
        outcome = asyncio.run(executor.execute(workflow, inputs))
    except KeyboardInterrupt:
        typer.echo("cancelled", err=True)
        raise typer.Exit(1) from None
    if json_output:
        typer.echo(json.dumps(outcome.to_json_dict(), default=str, ensure_ascii=False))
    else:
        verdict = "succeeded" if outcome.success else outcome.status
        typer.echo(
            f"workflow {outcome.workflow} {verdict} in {outcome.duration_seconds:.3f}s "
            f"({len(outcome.nodes_executed)} nodes, {outcome.execution_id})"
        )
        if outcome.error:
            typer.echo(f"error at {outcome.error.get('node')}: {outcome.error.get('message')}")
        if outcome.resume_from:
            typer.echo(f"paused at {outcome.resume_from}")
        typer.echo("final state:")
        typer.echo(json.dumps(outcome.public_state(), indent=2, default=str, ensure_ascii=False))
    raise typer.Exit(0 if outcome.success else 1)


def _attach_history(executor: Any, workflow: Workflow, path: Path) -> None:
    try:
        from engine.history import open_default_history
    except ImportError:
        log.debug("history recording unavailable (engine.history not importable)")
        return
    try:
        history = open_default_history()
        executor.subscribe(history.recorder(workflow, workflow_file=str(path)))
    except Exception as exc:  # history must never stop a run
        log.warning("history recording disabled: %s", exc)
