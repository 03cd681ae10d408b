"""`victor workflow debug`: an interactive terminal debugger over `engine.debugger`.

At each stop it shows the YAML around the node and reads commands from stdin
(continue, next, step, out, back, break NODE [if EXPR], delete, print EXPR,
vars, stack, set PATH=VALUE, quit). Only translates between the terminal and
`WorkflowDebugger`; all debugging logic lives in the engine.
"""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from engine.cli import workflow_app

HELP = """Commands:
  c, continue          run to the next breakpoint
  n, next              run this node, stop before the next one
  s, step              step into a parallel node's branches (else like next)
  o, out               finish the enclosing parallel node and stop after it
  b, back              step back to the state before the previous node
  break NODE [if EXPR] stop before NODE (or type:compute), optionally when EXPR holds
  delete [NODE]        remove the breakpoints on NODE (all when omitted)
  p, print EXPR        evaluate an expression against the state
  vars                 show the state, this node's inputs and the execution
  stack, bt            show where the run is
  set PATH=VALUE       change the state (VALUE is JSON or an expression)
  q, quit              stop the run and exit"""


async def _read_line(prompt: str) -> str | None:
    sys.stdout.write(prompt)
    sys.stdout.flush()
    line = await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
    return None if line == "" else line.strip()


def _yaml_excerpt(path: Path, first: int, last: int, mark: int, context: int = 2) -> str:
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError:
        return ""
    start, end = max(first - context, 0), min(last + context, len(lines) - 1)
    width = len(str(end + 1))
    return "\n".join(
        f"{'>' if i == mark else ' '} {i + 1:>{width}} | {lines[i]}" for i in range(start, end + 1)
    )


class TerminalHitl:
    """Asks HITL questions on the terminal (engine.hitl.HitlResponder)."""

    async def ask(self, request: Any) -> Any:
        from engine.hitl import APPROVED, REJECTED, HitlResponse

        typer.echo(f"\nHITL {request.hitl_type} at {request.node_id}: {request.prompt.strip()}")
        if request.choices:
            typer.echo(f"  choices: {', '.join(map(str, request.choices))}")
        answer = await _read_line("  approve? [y]es / [n]o / or type a value: ")
        if answer is None or answer.lower() in ("n", "no"):
            return HitlResponse(False, None, "rejected in terminal", REJECTED)
        if answer.lower() in ("", "y", "yes"):
            return HitlResponse(True, request.default_value, None, APPROVED)
        return HitlResponse(True, answer, None, APPROVED)


async def _interact(debugger: Any, program: Path) -> bool:
    """Handle commands at one stop. Returns False when the user quits."""
    from engine.debugger import DebuggerError, StepMode

    stop = debugger.stopped
    frames = debugger.get_stack_trace()
    top = frames[0]
    where = f"{top.source}:{top.span.line + 1}"
    typer.echo(f"\nStopped ({stop.reason.value}) before node {stop.node_id!r} at {where}")
    if stop.text:
        typer.echo(f"  error: {stop.text}")
    if Path(top.source).is_file():
        typer.echo(_yaml_excerpt(Path(top.source), top.span.line, top.span.end_line, top.span.line))
    while True:
        line = await _read_line("(victor-debug) ")
        if line is None:
            line = "quit"
        if not line:
            continue
        command, _, rest = line.partition(" ")
        rest = rest.strip()
        try:
            if command in ("c", "continue"):
                debugger.resume(StepMode.RUN)
                return True
            if command in ("n", "next"):
                debugger.resume(StepMode.OVER)
                return True
            if command in ("s", "step"):
                debugger.resume(StepMode.INTO)
                return True
            if command in ("o", "out"):
                debugger.resume(StepMode.OUT)
                return True
            if command in ("b", "back"):
                debugger.step_back()
                return True
            if command in ("q", "quit", "exit"):
                debugger.terminate()
                return False
            if command == "break":
                node, _, condition = rest.partition(" if ")
                if not node.strip():
                    raise DebuggerError("usage: break NODE [if EXPR]")
                bp = debugger.set_breakpoint(node.strip(), condition.strip() or None)
                typer.echo(f"breakpoint {bp.id} at {node.strip()}")
            elif command == "delete":
                removed = [
                    bp.id
                    for bp in debugger.breakpoints
                    if not rest or bp.node_id == rest or f"type:{bp.node_type}" == rest
                ]
                for bp_id in removed:
                    debugger.remove_breakpoint(bp_id)
                typer.echo(f"deleted {len(removed)} breakpoint(s)")
            elif command in ("p", "print"):
                typer.echo(debugger.evaluate(rest).text)
            elif command == "vars":
                from engine.trace_export.jsonsafe import to_json_text

                for scope, values in debugger.get_variables().items():
                    typer.echo(f"{scope}:")
                    for key, value in values.items():
                        typer.echo(f"  {key} = {to_json_text(value)[:200]}")
            elif command in ("stack", "bt"):
                for frame in debugger.get_stack_trace():
                    typer.echo(
                        f"  #{frame.index} {frame.name}  {frame.source}:{frame.span.line + 1}"
                    )
            elif command == "set":
                path, eq, value = rest.partition("=")
                if not eq or not path.strip():
                    raise DebuggerError("usage: set PATH=VALUE")
                debugger.set_state(path.strip(), debugger.parse_value(value.strip()))
                typer.echo(f"{path.strip()} = {debugger.evaluate(path.strip()).text}")
            elif command in ("h", "help", "?"):
                typer.echo(HELP)
            else:
                typer.echo(f"unknown command {command!r}; type `help`")
        except DebuggerError as exc:
            typer.echo(f"error: {exc}")


async def _debug(
    program: Path,
    name: str | None,
    inputs: dict[str, Any],
    breakpoints: list[str],
    stop_on_entry: bool,
    profile: str | None,
    registry: list[str],
) -> int:
    from engine.cli.run_cmd import CLI_SETTINGS
    from engine.debug_setup import DebugSetupError, executor_factory, prepare_debug_target
    from engine.debugger import DebuggerError, Finished, Output, WorkflowDebugger
    from engine.run_setup import open_history_recorder

    try:
        target = prepare_debug_target(
            str(program),
            workflow_name=name,
            profile=profile,
            registry_modules=registry,
            setting_names=CLI_SETTINGS,
        )
    except DebugSetupError as exc:
        for problem in exc.problems:
            typer.echo(problem, err=True)
        return 2

    def on_event(event: Any) -> None:
        if isinstance(event, Output):
            typer.echo(event.text.rstrip("\n"))

    debugger = WorkflowDebugger(target.workflow, stop_on_entry=stop_on_entry, listener=on_event)
    debugger.use_executor_factory(executor_factory(target, TerminalHitl()))
    recorder, why_not = open_history_recorder(target.prepared)
    if recorder is not None:
        debugger.add_subscriber(recorder)
    else:
        typer.echo(
            f"warning: this debug session is not recorded in the history: {why_not}", err=True
        )
    for node in breakpoints:
        try:
            debugger.set_breakpoint(node)
        except DebuggerError as exc:
            typer.echo(f"error: {exc}", err=True)
            return 2
    typer.echo(f"Debugging workflow {target.workflow.name!r} ({program}); type `help` at a stop.")
    result = await debugger.start(inputs=inputs)
    while not isinstance(result, Finished):
        if not await _interact(debugger, program):
            result = await debugger.stop()
            break
        result = await debugger.wait()
    at_node = f" at node {result.node_id!r}" if result.node_id else ""
    typer.echo(
        f"\nWorkflow {result.status}{at_node}" + (f": {result.error}" if result.error else "")
    )
    if result.state is not None:
        from engine.state import public_view
        from engine.trace_export.jsonsafe import to_json_text

        public = public_view(result.state)
        typer.echo("Final state: " + to_json_text(public, indent=2))
    return 0 if result.status in ("completed", "cancelled") else 1


@workflow_app.command("debug")
def debug_command(
    workflow_path: Annotated[Path, typer.Argument(help="Workflow YAML file.")],
    context: Annotated[
        str | None, typer.Option("-c", "--context", help="Initial context as JSON.")
    ] = None,
    breakpoints: Annotated[
        str | None,
        typer.Option("-b", "--breakpoints", help="Comma-separated node IDs (or type:compute)."),
    ] = None,
    name: Annotated[str | None, typer.Option("-n", "--name", help="Workflow name.")] = None,
    stop_on_entry: Annotated[
        bool, typer.Option("--stop-on-entry", help="Stop before the first node.")
    ] = False,
    log_level: Annotated[str, typer.Option("--log-level", help="Logging level.")] = "DEBUG",
    profile: Annotated[
        str | None, typer.Option("-p", "--profile", help="Profile for agent nodes.")
    ] = None,
    registry: Annotated[
        list[str] | None,
        typer.Option("-r", "--registry", help="Registry module or .py path; repeatable."),
    ] = None,
) -> None:
    """Debug a workflow interactively: breakpoints, stepping, state, step back."""
    from engine.cli.run_cmd import configure_logging

    configure_logging(log_level)
    inputs: dict[str, Any] = {}
    if context:
        try:
            loaded = json.loads(context)
        except json.JSONDecodeError as exc:
            typer.echo(f"--context: not valid JSON: {exc}", err=True)
            raise typer.Exit(2) from None
        if not isinstance(loaded, dict):
            typer.echo("--context: must be a JSON object", err=True)
            raise typer.Exit(2)
        inputs = loaded
    nodes = [b.strip() for b in (breakpoints or "").split(",") if b.strip()]
    code = asyncio.run(
        _debug(workflow_path, name, inputs, nodes, stop_on_entry, profile, list(registry or []))
    )
    raise typer.Exit(code)
