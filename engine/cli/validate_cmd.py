"""`victor workflow validate FILE...`: compile files and print their problems.

Text output is `file:line:col: severity code message` (1-based); JSON output
is one object with every file. Exit 0 without errors, 1 with errors, 2 on
usage errors. Translation only: the rules live in the engine.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from engine.cli import workflow_app

if TYPE_CHECKING:
    from engine.model import Problem


def _problem_json(problem: object) -> dict[str, object]:
    from engine.model import Problem

    assert isinstance(problem, Problem)
    return {
        "line": problem.span.line + 1,
        "column": problem.span.column + 1,
        "end_line": problem.span.end_line + 1,
        "end_column": problem.span.end_column + 1,
        "severity": problem.severity.value,
        "code": problem.code,
        "message": problem.message,
        "workflow": problem.workflow,
        "node": problem.node,
    }


def _not_workflow_problem(source: str) -> Problem:
    from engine.model import Problem, Severity, SourceSpan
    from engine.run_setup import NO_WORKFLOWS

    return Problem("VW010", Severity.ERROR, NO_WORKFLOWS, source, SourceSpan.point(0, 0))


@workflow_app.command("validate")
def validate(
    files: Annotated[list[Path], typer.Argument(help="Workflow YAML files to check.")],
    output_format: Annotated[
        str, typer.Option("--format", help="Output format: text or json.")
    ] = "text",
    registry: Annotated[
        list[str] | None,
        typer.Option("--registry", help="Python module with HANDLERS/CONDITIONS/TRANSFORMS/TOOLS."),
    ] = None,
    stages: Annotated[
        list[Path] | None, typer.Option("--stages", help="Extra stage template library file.")
    ] = None,
    hints: Annotated[bool, typer.Option("--hints", help="Also print hints.")] = False,
) -> None:
    """Check workflow files and report problems with file:line:col positions."""
    if output_format not in ("text", "json"):
        typer.echo(f"error: --format must be 'text' or 'json', not {output_format!r}", err=True)
        raise typer.Exit(2)
    from engine.workspace import compile_config_for, registry_names_for

    reports: list[dict[str, object]] = []
    any_error = False
    for path in files:
        try:
            config = compile_config_for(path, stages=stages or (), registry=None)
            names = registry_names_for(path, registry or ())
        except ValueError as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(2) from exc
        if names is not None:
            import dataclasses

            config = dataclasses.replace(config, registry=names)
        from engine.compiler import compile_file

        result = compile_file(path, config)
        problems = [p for p in result.problems if hints or p.severity.value != "hint"]
        any_error = any_error or not result.ok
        if result.kind.value == "not_workflow" and result.ok:
            any_error = True
            problems = [_not_workflow_problem(str(path))]
        reports.append(
            {
                "path": str(path),
                "kind": result.kind.value,
                "workflows": list(result.workflow_names),
                "problems": [_problem_json(p) for p in problems],
            }
        )
        if output_format == "text":
            for problem in problems:
                typer.echo(problem.format())
    if output_format == "json":
        json.dump({"files": reports}, sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        _summary(reports)
    raise typer.Exit(1 if any_error else 0)


def _summary(reports: list[dict[str, object]]) -> None:
    counts = {"error": 0, "warning": 0}
    workflows = 0
    for report in reports:
        problems = report["problems"]
        names = report["workflows"]
        assert isinstance(problems, list) and isinstance(names, list)
        workflows += len(names)
        for problem in problems:
            severity = problem["severity"]
            if severity in counts:
                counts[severity] += 1
    typer.echo(
        f"{len(reports)} file(s), {workflows} workflow(s): "
        f"{counts['error']} error(s), {counts['warning']} warning(s)",
        err=True,
    )
