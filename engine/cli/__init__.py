"""The `victor` command: a thin Typer app over the engine.

Each `victor workflow <command>` lives in its own module of this package and
registers itself on `workflow_app`. Heavy imports stay inside the command
functions so that a small command starts fast. Nothing in `engine` imports
this package.
"""

from __future__ import annotations

import importlib
import importlib.util

import typer

app = typer.Typer(
    name="victor",
    help="Run, validate, debug and inspect Victor YAML workflows.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
workflow_app = typer.Typer(
    name="workflow",
    help="Work with workflow files.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.add_typer(workflow_app, name="workflow")

_COMMAND_MODULES = (
    "engine.cli.validate_cmd",
    "engine.cli.run_cmd",
    "engine.cli.debug_cmd",
    "engine.cli.observe_cmd",
)


def _register_commands() -> None:
    for module in _COMMAND_MODULES:
        if importlib.util.find_spec(module) is not None:
            importlib.import_module(module)


_register_commands()


def main() -> None:
    """Console-script entry point."""
    app()
