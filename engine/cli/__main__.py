"""`python -m engine.cli` runs the `victor` command."""

from engine.cli import main

main()
