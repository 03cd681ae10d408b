"""`victor workflow debug` driven through stdin in a subprocess."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.support import REPO_ROOT, marker_line

pytestmark = pytest.mark.timeout(60)

WORKFLOW = textwrap.dedent(
    """\
    workflows:
      demo:
        nodes:
          - id: first
            type: transform
            transform: "count = 1"
          - id: second          # @second
            type: transform
            transform: "count = count + 1"
          - id: third
            type: transform
            transform: "total = count * 10"
    """
)


def run_debug(tmp_path: Path, commands: list[str], *args: str) -> subprocess.CompletedProcess[str]:
    program = tmp_path / "demo.yaml"
    program.write_text(WORKFLOW)
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "engine.cli",
            "workflow",
            "debug",
            str(program),
            "--log-level",
            "WARNING",
            *args,
        ],
        input="\n".join(commands) + "\n",
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
        timeout=50,
    )


def test_breakpoint_print_set_next_and_continue(tmp_path: Path) -> None:
    result = run_debug(
        tmp_path,
        ["print count", "set count=5", "next", "print count", "continue"],
        "-b",
        "second",
    )
    assert result.returncode == 0, result.stderr
    out = result.stdout
    second_line = marker_line(WORKFLOW, "second") + 1
    assert (
        f"Stopped (breakpoint) before node 'second' at {tmp_path / 'demo.yaml'}:{second_line}"
        in out
    )
    assert re.search(rf"^>\s+{second_line} \|\s+- id: second", out, re.MULTILINE), out
    assert "count = 5" in out
    assert "Stopped (step) before node 'third'" in out
    assert '"total": 60' in out and "Workflow completed" in out


def test_stop_on_entry_back_stack_vars_break_and_quit(tmp_path: Path) -> None:
    result = run_debug(
        tmp_path,
        ["next", "back", "stack", "vars", "break third if count > 100", "break nowhere", "quit"],
        "--stop-on-entry",
        "-c",
        '{"seed": 7}',
    )
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "Stopped (entry) before node 'first'" in out
    assert out.count("before node 'first'") == 2  # entry, then back
    assert "#0 first (transform)" in out
    assert "seed = 7" in out
    assert "breakpoint 1 at third" in out
    assert "error: workflow 'demo' has no node 'nowhere'" in out
    assert "Workflow cancelled" in out


def test_compile_errors_exit_2_with_file_and_line(tmp_path: Path) -> None:
    program = tmp_path / "bad.yaml"
    program.write_text("workflows:\n  w:\n    nodes:\n      - id: a\n        type: wizard\n")
    result = subprocess.run(
        [sys.executable, "-m", "engine.cli", "workflow", "debug", str(program)],
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
        timeout=50,
        input="",
    )
    assert result.returncode == 2
    assert f"{program}:5:" in result.stderr


def test_debug_session_is_recorded_in_history(tmp_path: Path) -> None:
    result = run_debug(tmp_path, ["continue"], "-b", "second")
    assert result.returncode == 0, result.stderr
    listing = subprocess.run(
        [sys.executable, "-m", "engine.cli", "workflow", "history", "--json"],
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
        timeout=50,
    )
    assert listing.returncode == 0, listing.stderr
    records = json.loads(listing.stdout)
    runs = records if isinstance(records, list) else records.get("executions", records)
    demo = [r for r in runs if r.get("workflow") == "demo" or r.get("workflow_name") == "demo"]
    assert demo, listing.stdout
    assert demo[0].get("status") == "completed"


def test_set_reads_a_plain_word_as_text_and_the_end_names_the_node(tmp_path: Path) -> None:
    result = run_debug(
        tmp_path,
        ["set owner=alice", "print owner", "set count={bad", "quit"],
        "-b",
        "second",
    )
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "owner = 'alice'" in out  # a word that is no state key is text, not null
    assert "error:" in out  # broken JSON is refused, not stored as text
    assert "Workflow cancelled at node 'second'" in out
