"""`victor workflow trace|history|replay|metrics|inspect`: observability commands.

Translation only: tracing, history, metrics and state live in `engine.trace`,
`engine.history`, `engine.metrics` and `engine.state_manager`. Run options are parsed
with the run command's helpers. Every user error is one line on stderr and a non-zero
exit (1: not found / failed run, 2: usage); heavy imports stay inside the commands so
that `victor workflow history` starts fast.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer

from engine.cli import workflow_app
from engine.cli.run_cmd import (
    _build_executor,
    _prepare,
    configure_logging,
    execute_interruptibly,
)

if TYPE_CHECKING:
    from engine.history import ExecutionRecord, WorkflowExecutionHistory
    from engine.model import Workflow


def _fail(message: str, code: int = 1) -> NoReturn:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)


def _json(value: Any) -> str:
    from engine.trace_export.jsonsafe import to_json_text

    return to_json_text(value, indent=2)


def _open_history() -> WorkflowExecutionHistory:
    """The history of the current folder's project (see `default_history_location`)."""
    from engine.history import HistoryStoreError, open_default_history
    from engine.project_config import ProjectConfigError

    try:
        return open_default_history(create=False, start=Path.cwd())
    except (HistoryStoreError, ProjectConfigError) as error:
        _fail(str(error))


def _require(history: WorkflowExecutionHistory, execution_id: str) -> ExecutionRecord:
    from engine.history import UnknownExecutionError

    try:
        return history.require_execution(execution_id)
    except UnknownExecutionError as error:
        _fail(str(error))


def _check_writable(path: Path) -> None:
    """Fail before doing any work when `path` cannot be written."""
    import os

    if path.is_dir():
        _fail(f"cannot write {path}: it is a folder; give a file name")
    parent = path.parent if str(path.parent) else Path(".")
    try:
        parent.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        _fail(f"cannot write {path}: {error.strerror or error}")
    if not os.access(parent, os.W_OK) or (path.exists() and not os.access(path, os.W_OK)):
        _fail(f"cannot write {path}: permission denied")


def _write(path: Path, text: str) -> None:
    try:
        path.write_text(text, encoding="utf-8")
    except OSError as error:
        _fail(f"cannot write {path}: {error.strerror or error}")


# --------------------------------------------------------------------------- running


def _execute(executor: Any, workflow: Workflow, inputs: dict[str, Any]) -> Any:
    return execute_interruptibly(executor, workflow, inputs)


def _export_trace(executor: Any, workflow: Workflow, path: Path, fmt: str, **options: Any) -> Path:
    from engine.trace_export import TraceExportError

    tracer = executor.get_trace()
    tracer.set_workflow(workflow)
    try:
        written: Path = tracer.export_trace(path, format=fmt, **options)
    except TraceExportError as error:
        _fail(str(error))
    return written


def _print_analysis(analysis: dict[str, Any]) -> None:
    echo = typer.echo
    echo(
        f"{analysis['workflow']}: {'succeeded' if analysis['success'] else 'failed'} in "
        f"{analysis['total_duration_seconds']:.3f}s, {analysis['total_nodes']} node records, "
        f"{analysis['failed_nodes']} failed, {analysis['retries']} retries"
    )
    if analysis["slowest_nodes"]:
        slow = ", ".join(
            f"{n['node_id']} {n['duration_seconds']:.3f}s" for n in analysis["slowest_nodes"]
        )
        echo(f"slowest: {slow}")
    if analysis["most_used_tools"]:
        echo(
            "tools: "
            + ", ".join(f"{t['tool_name']} x{t['calls']}" for t in analysis["most_used_tools"])
        )
    for failure in analysis["failures"]:
        echo(f"failed: {failure['node_id']}: {failure['error']}")
    if analysis["critical_path"]:
        echo("critical path: " + " -> ".join(analysis["critical_path"]))


_FORMAT_EXTENSIONS = {
    "json": "json",
    "csv": "csv",
    "html": "html",
    "chrome": "json",
    "otlp": "json",
}


@workflow_app.command("trace")
def trace(
    workflow_path: Annotated[Path, typer.Argument(help="Workflow YAML file.")],
    context: Annotated[
        str | None, typer.Option("-c", "--context", help="Initial context as JSON.")
    ] = None,
    context_file: Annotated[
        Path | None, typer.Option("--context-file", help="Context file (JSON; YAML if .yaml/.yml).")
    ] = None,
    output: Annotated[
        Path | None, typer.Option("-o", "--output", help="Output trace file (default trace.<ext>).")
    ] = None,
    name: Annotated[str | None, typer.Option("-n", "--name", help="Workflow name.")] = None,
    fmt: Annotated[
        str, typer.Option("-f", "--format", help="json, csv, html, chrome or otlp.")
    ] = "json",
    profile: Annotated[
        str | None, typer.Option("-p", "--profile", help="Profile for agent nodes.")
    ] = None,
    registry: Annotated[
        list[str] | None, typer.Option("--registry", help="Python module with handlers.")
    ] = None,
    hitl_answers: Annotated[
        Path | None, typer.Option("--hitl-answers", help="Answers file for HITL nodes.")
    ] = None,
    otlp_endpoint: Annotated[
        str | None,
        typer.Option("--otlp-endpoint", help="Also send the spans to this OTLP/HTTP endpoint."),
    ] = None,
    no_history: Annotated[
        bool, typer.Option("--no-history", help="Do not record this run in the history.")
    ] = False,
    log_level: Annotated[str, typer.Option("--log-level", help="Logging level.")] = "WARNING",
) -> None:
    """Run a workflow with tracing and write the trace file."""

    from engine.trace_export import TraceExportError, exporter_for

    configure_logging(log_level)
    try:
        exporter_for(fmt)
    except TraceExportError as error:
        _fail(str(error), 2)
    if otlp_endpoint and fmt != "otlp":
        _fail("--otlp-endpoint needs --format otlp", 2)
    path = output or Path(f"trace.{_FORMAT_EXTENSIONS.get(fmt, fmt)}")
    _check_writable(path)
    prepared = _prepare(
        workflow_path,
        name=name,
        profile=profile,
        registry=registry,
        hitl_answers=hitl_answers,
        context=context,
        context_file=context_file,
    )
    workflow = prepared.workflow
    executor = _build_executor(prepared, record=not no_history, trace_mode=True)
    outcome = _execute(executor, workflow, prepared.initial_state())
    options = {"endpoint": otlp_endpoint} if otlp_endpoint else {}
    written = _export_trace(executor, workflow, path, fmt, **options)
    _print_analysis(executor.get_trace().analyze_trace())
    typer.echo(f"trace written to {written} ({fmt}); execution {outcome.execution_id}")
    raise typer.Exit(0 if outcome.success else 1)


# --------------------------------------------------------------------------- history


def _parse_age(text: str) -> float:
    units = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
    text = text.strip().lower()
    try:
        if text and text[-1] in units:
            return float(text[:-1]) * units[text[-1]]
        return float(text) * 86400
    except ValueError:
        _fail(f"--older-than {text!r}: use a number of days or e.g. 12h, 30d, 2w", 2)


def _format_time(timestamp: float) -> str:
    from datetime import datetime

    return datetime.fromtimestamp(timestamp).strftime("%Y-%m-%d %H:%M:%S")


def _history_rows(records: list[ExecutionRecord]) -> list[dict[str, Any]]:
    return [record.to_dict() for record in records]


def _export_history(records: list[ExecutionRecord], path: Path, fmt: str | None) -> None:
    import csv
    import io

    from engine.trace_export.jsonsafe import to_json_text

    fmt = (fmt or path.suffix.lstrip(".") or "json").lower()
    if fmt not in ("json", "csv"):
        _fail(f"export format {fmt!r}: use json or csv", 2)
    _check_writable(path)
    if fmt == "json":
        _write(path, _json(_history_rows(records)) + "\n")
        return
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    columns = [
        "execution_id", "workflow_name", "workflow_file", "timestamp", "status", "success",
        "duration_seconds", "nodes_executed", "error", "inputs", "outputs",
    ]  # fmt: skip
    writer.writerow(columns)
    for row in _history_rows(records):
        row["nodes_executed"] = " ".join(row["nodes_executed"])
        row["inputs"] = to_json_text(row["inputs"])
        row["outputs"] = to_json_text(row["outputs"])
        writer.writerow(["" if row[c] is None else row[c] for c in columns])
    _write(path, buffer.getvalue())


_STATUSES = ("completed", "failed", "cancelled", "interrupted", "paused", "running")
"""Every status a recorded run can have."""


@workflow_app.command("history")
def history(
    workflow: Annotated[
        str | None, typer.Option("-w", "--workflow", help="Filter by workflow name.")
    ] = None,
    limit: Annotated[int, typer.Option("-l", "--limit", help="Max executions to show.")] = 20,
    export: Annotated[Path | None, typer.Option("-e", "--export", help="Export to file.")] = None,
    fmt: Annotated[
        str | None, typer.Option("-f", "--format", help="Export format (json/csv).")
    ] = None,
    json_output: Annotated[bool, typer.Option("--json", help="Print the records as JSON.")] = False,
    status: Annotated[
        str | None, typer.Option("--status", help="Only runs with this status.")
    ] = None,
    keep: Annotated[
        int | None, typer.Option("--keep", help="Delete all but the newest N finished runs.")
    ] = None,
    older_than: Annotated[
        str | None, typer.Option("--older-than", help="Delete finished runs older than e.g. 30d.")
    ] = None,
) -> None:
    """Show (or export, or prune) the execution history."""
    for option, count in (("--limit", limit), ("--keep", keep)):
        if count is not None and count < 0:
            _fail(f"{option} {count}: give a number of runs, 0 or more", 2)
    if status is not None and status not in _STATUSES:
        _fail(f"--status {status!r}: use one of {', '.join(_STATUSES)}", 2)
    if fmt is not None and fmt.lower() not in ("json", "csv"):
        _fail(f"--format {fmt!r}: use json or csv (with --export PATH)", 2)
    store = _open_history()
    if keep is not None or older_than is not None:
        age = _parse_age(older_than) if older_than is not None else None
        deleted = store.prune(keep=keep, older_than=age, workflow_name=workflow)
        typer.echo(f"deleted {deleted} execution(s) from {store.location}")
        return
    records = store.list_executions(workflow, limit=limit if limit > 0 else None, status=status)
    if export is not None:
        _export_history(records, export, fmt)
        typer.echo(f"exported {len(records)} execution(s) to {export}")
        return
    if json_output:
        typer.echo(_json(_history_rows(records)))
        return
    if not records:
        scope = f" of {workflow}" if workflow else ""
        typer.echo(f"no executions{scope} recorded in {store.location}")
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"Execution history ({len(records)} shown)", title_justify="left")
    for column in ("Execution", "Workflow", "Started", "Status"):
        table.add_column(column, no_wrap=column != "Workflow")
    table.add_column("Duration", justify="right")
    table.add_column("Nodes", justify="right")
    colours = {"completed": "green", "failed": "red", "interrupted": "yellow", "running": "cyan"}
    for record in records:
        duration = "" if record.duration_seconds is None else f"{record.duration_seconds:.3f}s"
        table.add_row(
            record.execution_id,
            record.workflow_name,
            _format_time(record.timestamp),
            f"[{colours.get(record.status, 'white')}]{record.status}[/]",
            duration,
            str(record.node_count or len(record.nodes_executed)),
        )
    Console(highlight=False, width=None if sys.stdout.isatty() else 160).print(table)


# --------------------------------------------------------------------------- replay


@workflow_app.command("replay")
def replay(
    execution_id: Annotated[str, typer.Argument(help="Execution to replay (exec_...).")],
    export_trace: Annotated[
        bool, typer.Option("-e", "--export-trace", help="Export the replay's trace.")
    ] = False,
    trace_output: Annotated[
        Path | None, typer.Option("-o", "--output", help="Trace file (implies --export-trace).")
    ] = None,
    trace_format: Annotated[
        str, typer.Option("-f", "--format", help="Trace format for --export-trace.")
    ] = "json",
    recorded: Annotated[
        bool,
        typer.Option(
            "--recorded", help="Feed the recorded agent/tool/HITL outputs back (no model calls)."
        ),
    ] = False,
    workflow_file: Annotated[
        Path | None,
        typer.Option("--workflow-file", help="Use this file instead of the recorded one."),
    ] = None,
    profile: Annotated[
        str | None, typer.Option("-p", "--profile", help="Profile for agent nodes.")
    ] = None,
    registry: Annotated[
        list[str] | None, typer.Option("--registry", help="Python module with handlers.")
    ] = None,
    json_output: Annotated[
        bool, typer.Option("--json", help="Print the comparison as JSON.")
    ] = False,
) -> None:
    """Re-run an execution with the same inputs and compare the results."""
    from engine.trace_export import TraceExportError, exporter_for

    try:
        exporter_for(trace_format)
    except TraceExportError as error:
        _fail(str(error), 2)
    store = _open_history()
    original = _require(store, execution_id)
    source = workflow_file or (Path(original.workflow_file) if original.workflow_file else None)
    if source is None:
        _fail(f"{execution_id} has no recorded workflow file; pass --workflow-file PATH", 2)
    if not source.is_file():
        _fail(f"the workflow file of {execution_id} is gone: {source}; pass --workflow-file PATH")
    path = trace_output or (
        Path(f"trace_replay_{execution_id}.{_FORMAT_EXTENSIONS.get(trace_format, 'json')}")
        if export_trace
        else None
    )
    if path is not None:
        _check_writable(path)
    options: dict[str, Any] = {"trace_mode": path is not None}
    if recorded:
        options["recorded_outputs"] = store.recorded_outputs(execution_id)
    prepared = _prepare(
        source,
        name=original.workflow_name,
        profile=profile,
        registry=registry,
        inputs=dict(original.inputs or {}),
    )
    workflow = prepared.workflow
    # Recorded beside the original, so the two compare in one store.
    executor = _build_executor(prepared, record=True, history=store, **options)
    outcome = _execute(executor, workflow, prepared.initial_state())
    if path is not None:
        _export_trace(executor, workflow, path, trace_format)
    comparison = _compare(store, original, outcome)
    if json_output:
        typer.echo(_json(comparison))
    else:
        _print_comparison(comparison)
        if path is not None:
            typer.echo(f"trace written to {path}")
    raise typer.Exit(0 if outcome.success else 1)


def _compare(
    store: WorkflowExecutionHistory, original: ExecutionRecord, outcome: Any
) -> dict[str, Any]:
    if store.get_execution(outcome.execution_id) is not None:
        return store.compare_executions(original.execution_id, outcome.execution_id).to_dict()
    # The replay was not recorded (history unavailable): compare what we have.
    from engine.state_manager import diff_states

    before = original.outputs if isinstance(original.outputs, dict) else {}
    diff = diff_states(before, outcome.public_state())
    d1 = original.duration_seconds or 0.0
    return {
        "execution_id_1": original.execution_id,
        "execution_id_2": outcome.execution_id,
        "status_1": original.status,
        "status_2": outcome.status,
        "outputs_equal": diff.is_empty,
        "output_diff": diff.to_dict(),
        "performance_diff": {
            "duration_1": d1,
            "duration_2": outcome.duration_seconds,
            "duration_delta": outcome.duration_seconds - d1,
        },
        "node_diff": {
            "nodes_only_in_1": [
                n for n in original.nodes_executed if n not in outcome.nodes_executed
            ],
            "nodes_only_in_2": [
                n for n in outcome.nodes_executed if n not in original.nodes_executed
            ],
        },
    }


def _print_comparison(c: dict[str, Any]) -> None:
    from engine.trace_export.jsonsafe import to_json_text

    echo = typer.echo
    perf = c["performance_diff"]
    echo(f"original {c['execution_id_1']}: {c['status_1']} in {perf['duration_1']:.3f}s")
    echo(f"replay   {c['execution_id_2']}: {c['status_2']} in {perf['duration_2']:.3f}s "
         f"({perf['duration_delta']:+.3f}s)")  # fmt: skip
    echo("outputs: identical" if c["outputs_equal"] else "outputs: differ")
    diff = c["output_diff"]
    for key, value in (diff.get("added") or {}).items():
        echo(f"  + {key}: {to_json_text(value)[:120]}")
    for key, value in (diff.get("removed") or {}).items():
        echo(f"  - {key}: {to_json_text(value)[:120]}")
    for key, change in (diff.get("changed") or {}).items():
        old = to_json_text(change["from"])[:55]
        new = to_json_text(change["to"])[:55]
        echo(f"  ~ {key}: {old} -> {new}")
    nodes = c["node_diff"]
    if nodes.get("nodes_only_in_1"):
        echo("nodes only in the original: " + ", ".join(nodes["nodes_only_in_1"]))
    if nodes.get("nodes_only_in_2"):
        echo("nodes only in the replay: " + ", ".join(nodes["nodes_only_in_2"]))
    for node_id, change in (nodes.get("status_changes") or {}).items():
        echo(f"node {node_id}: {change['from']} -> {change['to']}")


# --------------------------------------------------------------------------- metrics


@workflow_app.command("metrics")
def metrics(
    workflow: Annotated[str | None, typer.Option("-w", "--workflow", help="Workflow name.")] = None,
    execution: Annotated[
        str | None, typer.Option("-e", "--execution", help="Execution ID.")
    ] = None,
    export: Annotated[
        Path | None, typer.Option("-o", "--export", help="Export metrics (JSON).")
    ] = None,
    json_output: Annotated[bool, typer.Option("--json", help="Print the metrics as JSON.")] = False,
) -> None:
    """Show execution metrics for a workflow, one execution, or the whole history."""
    from engine.history import UnknownExecutionError
    from engine.metrics import collect_metrics

    store = _open_history()
    try:
        result = collect_metrics(store, workflow_name=workflow, execution_id=execution)
    except UnknownExecutionError as error:
        _fail(str(error))
    if workflow is not None and result.total_executions == 0:
        known = ", ".join(sorted(store.workflow_names())[:10]) or "none"
        _fail(f"no executions of workflow {workflow!r} in {store.location} (workflows: {known})")
    data = result.to_dict()
    if export is not None:
        _check_writable(export)
        _write(export, _json(data) + "\n")
    if json_output:
        typer.echo(_json(data))
        return
    scope = (
        f"execution {execution}"
        if execution
        else f"workflow {workflow}"
        if workflow
        else "all workflows"
    )
    echo = typer.echo
    echo(f"Metrics for {scope}")
    echo(f"  total executions: {result.total_executions}")
    echo(f"  success rate:     {result.success_rate:.1%}")
    echo(f"  average duration: {result.average_duration:.3f}s")
    echo(f"  min / max:        {result.min_duration:.3f}s / {result.max_duration:.3f}s")
    if result.node_metrics:
        echo("  nodes (runs, avg, max, failures):")
        for node in result.node_metrics[:50]:
            echo(
                f"    {node['node_id']:<28} {node['execution_count']:>6} "
                f"{node['avg_duration']:>9.3f}s {node['max_duration']:>9.3f}s "
                f"{node['failure_count']:>4}"
            )
    if result.tool_metrics:
        echo("  tools (calls, avg, errors):")
        for tool in result.tool_metrics[:50]:
            echo(
                f"    {tool['tool_name']:<28} {tool['call_count']:>6} "
                f"{tool['avg_duration']:>9.3f}s {tool['error_count']:>4}"
            )
    if export is not None:
        echo(f"metrics written to {export}")


# --------------------------------------------------------------------------- inspect


@workflow_app.command("inspect")
def inspect(
    execution_id: Annotated[str, typer.Argument(help="Execution to inspect (exec_...).")],
    query: Annotated[
        str | None, typer.Option("--query", "-q", help="A state path such as user.name.")
    ] = None,
    snapshot: Annotated[
        str | None, typer.Option("--snapshot", "-s", help="A snapshot id (snap_...).")
    ] = None,
    json_output: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Show an execution's final (or snapshot) state, or one value in it."""
    from engine.history import UnknownExecutionError
    from engine.state_manager import StateQueryError, query_path, render_tree

    store = _open_history()
    record = _require(store, execution_id)
    if snapshot is not None:
        if snapshot not in {s.snapshot_id for s in record.snapshots}:
            known = ", ".join(s.snapshot_id for s in record.snapshots[-5:]) or "none recorded"
            _fail(f"execution {execution_id} has no snapshot {snapshot!r} (latest: {known})")
        try:
            state = store.snapshot_state(snapshot)
        except UnknownExecutionError as error:
            _fail(str(error))
        label = f"{execution_id} snapshot {snapshot}"
    else:
        state = store.final_state(execution_id)
        label = f"{execution_id} ({record.status}) final state"
    from engine.state import public_view

    public = public_view(state)
    if query is not None:
        try:
            value = query_path(state, query)
        except StateQueryError as error:
            _fail(f"{query}: {error}")
        typer.echo(_json(value) if json_output or not isinstance(value, str) else value)
        return
    if json_output:
        typer.echo(
            _json(
                {
                    "execution_id": execution_id,
                    "workflow_name": record.workflow_name,
                    "status": record.status,
                    "snapshot_id": snapshot,
                    "state": public,
                    "snapshots": [s.to_dict() for s in record.snapshots],
                }
            )
        )
        return
    typer.echo(render_tree(public, title=label))
    if record.snapshots and snapshot is None:
        shown = record.snapshots[-20:]
        typer.echo(f"snapshots ({len(record.snapshots)}, use --snapshot ID):")
        for snap in shown:
            typer.echo(f"  {snap.snapshot_id}  after {snap.node_id}")
