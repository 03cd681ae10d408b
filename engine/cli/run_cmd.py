"""`victor workflow run WORKFLOW_PATH`: compile, then execute one workflow.

Progress goes to stderr (rich on a terminal, plain lines otherwise); the
result goes to stdout (`--json` prints exactly one object). Exit 0 on
success, 1 when the workflow failed, 2 on usage or validation errors. Bad
input is one clear line, never a traceback. Translation only: execution lives
in `engine.execution_engine`; heavy imports stay inside the command so the
process starts fast.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer

from engine.cli import workflow_app

if TYPE_CHECKING:
    from engine.events import ExecutionEvent
    from engine.execution_engine import WorkflowExecutor
    from engine.history import WorkflowExecutionHistory
    from engine.hitl import HitlRequest, HitlResponse
    from engine.model import Workflow
    from engine.run_setup import PreparedRun, RunSetupError

log = logging.getLogger("victor.run")


CLI_SETTINGS = {"profile": "-p/--profile", "workflow": "-n/--name"}
"""How the commands name the run settings a `RunSetupError` may ask for."""


def _usage_error(message: str) -> NoReturn:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(2)


def _setup_error(error: RunSetupError) -> NoReturn:
    _usage_error(error.phrased(CLI_SETTINGS))


def configure_logging(log_level: str) -> None:
    """Log to stderr at `--log-level`; an unknown level is a usage error (exit 2)."""
    level = logging.getLevelName(log_level.strip().upper())
    if not isinstance(level, int):
        _usage_error(
            f"--log-level {log_level!r} is not a logging level; "
            "use DEBUG, INFO, WARNING, ERROR or CRITICAL"
        )
    logging.basicConfig(
        level=level, stream=sys.stderr, format="%(levelname)s %(name)s: %(message)s"
    )


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
    """Asks HITL questions on the terminal (prompt on stderr, answer from stdin).

    The answer is read by a daemon thread, so a question that times out (the
    node's `fallback` applies) never keeps the process alive at exit.
    """

    async def ask(self, request: HitlRequest) -> HitlResponse:
        import asyncio
        import contextlib
        import threading

        from engine.hitl import response_from_answer
        from engine.trace_export.jsonsafe import to_json_text

        lines = [f"\n[{request.node_id}] {request.prompt or request.hitl_type}"]
        if request.context:
            lines.append("  context: " + to_json_text(dict(request.context))[:500])
        if request.choices:
            lines.append("  choices: " + ", ".join(str(c) for c in request.choices))
        if request.default_value is not None:
            lines.append(f"  (Enter for {request.default_value!r})")
        hint = "y/n" if request.hitl_type in ("approval", "confirmation") else "answer"
        sys.stderr.write("\n".join(lines) + f"\n  {hint}> ")
        sys.stderr.flush()
        loop = asyncio.get_running_loop()
        answer: asyncio.Future[str] = loop.create_future()

        def deliver(text: str) -> None:
            if not answer.done():  # the question may have timed out meanwhile
                answer.set_result(text)

        def read() -> None:
            text = sys.stdin.readline()
            with contextlib.suppress(RuntimeError):  # the loop may be closed by now
                loop.call_soon_threadsafe(deliver, text)

        threading.Thread(target=read, name="victor-hitl-prompt", daemon=True).start()
        text = (await answer).strip()
        if not text and request.default_value is not None:
            return response_from_answer(request, request.default_value)
        return response_from_answer(request, text)


def _prepare(
    workflow_path: Path,
    *,
    name: str | None,
    profile: str | None,
    registry: list[str] | None,
    hitl_answers: Path | None = None,
    context: str | None = None,
    context_file: Path | None = None,
    inputs: dict[str, Any] | None = None,
    load_runners: bool = True,
) -> PreparedRun:
    """Compile and load a run (engine.run_setup) for any command that runs a workflow.

    Bad input exits 2: every compile error on its own line, else one line.
    """
    from engine.run_setup import RunSetupError, prepare_execution

    interactive = sys.stdin.isatty() and sys.stderr.isatty()
    try:
        prepared = prepare_execution(
            workflow_path,
            name=name,
            context_json=context,
            context_file=context_file,
            context=inputs,
            profile=profile,
            registry_flags=registry or (),
            hitl_answers=hitl_answers,
            hitl_fallback=_TerminalResponder() if interactive else None,
            load_runners=load_runners,
        )
    except RunSetupError as exc:
        if not exc.problems:
            _setup_error(exc)
        if len(exc.problems) == 1:
            # The problem line already names the file, position and fix: one line.
            typer.echo(exc.problems[0].format(), err=True)
            raise typer.Exit(2) from None
        for problem in exc.problems:
            typer.echo(problem.format(), err=True)
        _usage_error(f"{workflow_path} has {len(exc.problems)} error(s); not run")
    for problem in prepared.warnings:
        typer.echo(problem.format(), err=True)
    return prepared


def _build_executor(
    prepared: PreparedRun,
    *,
    record: bool,
    progress: bool = True,
    history: WorkflowExecutionHistory | None = None,
    **options: Any,
) -> WorkflowExecutor:
    """The run's executor, with progress on stderr and, with `record`, history and
    snapshots (in `history`, default: the workflow project's history)."""
    from engine.run_setup import RunSetupError, open_history_recorder

    subscribers: list[Any] = [_Progress(rich_output=sys.stderr.isatty())] if progress else []
    if record:
        recorder, reason = open_history_recorder(prepared, history)
        if recorder is None:
            typer.echo(f"warning: this run is not recorded in the history: {reason}", err=True)
        else:
            subscribers.append(recorder)
    try:
        # Snapshots feed the history's state timeline (`inspect`, replay from a node).
        return prepared.executor(subscribers=subscribers, snapshots=record, **options)
    except RunSetupError as exc:
        _setup_error(exc)


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
            raised_at = event.metadata.get("raised_at")
            at = f" (raised at {raised_at})" if raised_at else ""
            self._line(f"FAILED {where}: {event.error}{at}", "red")
        elif kind == "node_skipped":
            cancelled = event.status.value == "cancelled"  # join_strategy any
            self._line(f"{'cancelled' if cancelled else 'skipped'} {where}", "yellow")
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
        Path | None,
        typer.Option("-f", "--context-file", help="Context file (JSON; YAML if .yaml/.yml)."),
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
    configure_logging(log_level)
    prepared = _prepare(
        workflow_path,
        name=name,
        context=context,
        context_file=context_file,
        profile=profile,
        registry=registry,
        hitl_answers=hitl_answers,
        load_runners=not dry_run,
    )
    workflow = prepared.workflow

    if dry_run:
        for line in _plan(workflow):
            typer.echo(line)
        typer.echo(f"{workflow_path}: {workflow.name} is valid ({len(workflow.nodes)} nodes)")
        raise typer.Exit(0)

    executor = _build_executor(
        prepared, record=not no_history, progress=not json_output or sys.stderr.isatty()
    )

    from engine.trace_export.jsonsafe import to_json_text

    failures = _FailureSites()
    executor.subscribe(failures)
    outcome = execute_interruptibly(executor, workflow, prepared.initial_state())
    error = dict(outcome.error) if outcome.error else None
    raised_at = failures.raised_at.get(str(error.get("node"))) if error else None
    if json_output:
        data = outcome.to_json_dict()
        if error is not None and raised_at:
            data["error"] = {**error, "raised_at": raised_at}
        typer.echo(to_json_text(data))
    else:
        verdict = "succeeded" if outcome.success else outcome.status
        typer.echo(
            f"workflow {outcome.workflow} {verdict} in {outcome.duration_seconds:.3f}s "
            f"({len(outcome.nodes_executed)} nodes, {outcome.execution_id})"
        )
        if error is not None and outcome.status != "cancelled":
            where = f" (raised at {raised_at})" if raised_at else ""
            typer.echo(f"error at {error.get('node')}: {error.get('message')}{where}")
        if outcome.resume_from:
            typer.echo(f"paused at {outcome.resume_from}")
        typer.echo("final state:")
        typer.echo(to_json_text(outcome.public_state(), indent=2))
    raise typer.Exit(0 if outcome.success else 1)


class _FailureSites:
    """Remembers where in user code each failed node raised (`raised_at` of NODE_FAILED)."""

    def __init__(self) -> None:
        self.raised_at: dict[str, str] = {}

    def __call__(self, event: ExecutionEvent) -> None:
        if event.event_type.value == "node_failed" and event.node_id:
            where = event.metadata.get("raised_at")
            if where:
                self.raised_at[event.node_id] = str(where)


_SIGNAL_WORDS = {"SIGINT": "cancelled (Ctrl-C)", "SIGTERM": "terminated (SIGTERM)"}


def execute_interruptibly(executor: WorkflowExecutor, workflow: Workflow, state: Any) -> Any:
    """Run `workflow`; Ctrl-C or SIGTERM cancels it cleanly (the run ends `cancelled`, its
    history record says so) and says where it stopped; a second signal exits at once."""
    import asyncio
    import os
    import signal

    received: list[str] = []

    def on_signal(name: str) -> None:
        if received:  # the run did not stop after the first: the user insists
            sys.stderr.write(f"\n{name} again: exiting now\n")
            sys.stderr.flush()
            os._exit(1)
        received.append(name)
        where = executor.current_node
        sys.stderr.write(
            f"\n{_SIGNAL_WORDS.get(name, name)}: stopping the run"
            + (f" at node {where}" if where else "")
            + " (again to exit at once)\n"
        )
        sys.stderr.flush()
        executor.cancel()

    async def main() -> Any:
        loop = asyncio.get_running_loop()
        installed = []
        for sig in (signal.SIGINT, signal.SIGTERM):
            try:
                loop.add_signal_handler(sig, on_signal, sig.name)
                installed.append(sig)
            except (NotImplementedError, RuntimeError, ValueError):  # no signals here
                pass
        try:
            return await executor.execute(workflow, state)
        finally:
            for sig in installed:
                loop.remove_signal_handler(sig)

    try:
        return asyncio.run(main())
    except KeyboardInterrupt:  # a signal before the handlers were in place
        typer.echo("cancelled", err=True)
        raise typer.Exit(1) from None
