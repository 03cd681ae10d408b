"""Hostile inputs through the real `victor workflow ...` command: one clear line, right exit code.

Every case must name the file (and line where there is one), say what to do, exit 2
for usage/validation errors and never print a traceback.
"""

from __future__ import annotations

import errno
import json
from pathlib import Path

import pytest

from engine.compiler import compile_file
from engine.text_files import UnreadableFileError, read_text_file
from tests.executor.test_run_cli import victor
from tests.support import marker_line

pytestmark = pytest.mark.e2e

OK = LATIN = (
    "workflows:\n"
    "  w:\n"
    "    nodes:\n"
    "      - id: a  # @bad\n"
    "        type: transform\n"
    "        transform: x = 1\n"
)


def _error_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.strip()]


def _one_line(proc_stderr: str) -> str:
    lines = _error_lines(proc_stderr)
    assert len(lines) == 1, proc_stderr
    assert "Traceback" not in proc_stderr
    return lines[0]


def _write_latin(path: Path) -> tuple[int, int]:
    """LATIN with an ISO-8859-1 'é' before the marker; returns its 1-based line and column."""
    line = marker_line(LATIN, "bad")
    column = LATIN.splitlines()[line].index("  #")
    data = LATIN.encode("utf-8")
    offset = sum(len(text) + 1 for text in LATIN.splitlines()[:line]) + column
    path.write_bytes(data[:offset] + b"\xe9" + data[offset:])
    return line + 1, column + 1


@pytest.mark.parametrize("command", ["run", "trace"])
@pytest.mark.parametrize(
    ("make", "expected"),
    [
        (lambda p: p.write_bytes(b"\x00\x01\x02\xff"), "binary data, not text"),
        (lambda p: p.write_text(""), "no workflows"),
        (lambda p: p.write_text("- a\n- b\n"), "no workflows"),
    ],
    ids=["binary", "empty", "list"],
)
def test_unusable_workflow_file_is_one_line_exit_2(
    tmp_path: Path, command: str, make: object, expected: str
) -> None:
    path = tmp_path / "wf.yaml"
    make(path)  # type: ignore[operator]
    proc = victor(str(path), cwd=tmp_path, command=command)
    assert proc.returncode == 2, (proc.stdout, proc.stderr)
    line = _one_line(proc.stderr)
    assert str(path) in line or "wf.yaml" in line
    assert expected in line


def test_non_utf8_workflow_names_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "latin.yaml"
    line, column = _write_latin(path)
    proc = victor(str(path), cwd=tmp_path)
    assert proc.returncode == 2
    message = _one_line(proc.stderr)
    assert message.startswith(f"{path}:{line}:{column}: error VW000 ")
    assert "not UTF-8" in message and "save the file as UTF-8" in message
    validated = victor(str(path), cwd=tmp_path, command="validate")
    assert f"{path}:{line}:{column}: error VW000 " in validated.stdout
    assert "1 error(s)" in validated.stderr


def test_validate_counts_a_file_without_workflows_as_an_error(tmp_path: Path) -> None:
    path = tmp_path / "list.yaml"
    path.write_text("- a\n- b\n")
    proc = victor(str(path), cwd=tmp_path, command="validate")
    assert proc.returncode == 1
    assert f"{path}:1:1: error VW010 " in proc.stdout
    assert "0 workflow(s): 1 error(s)" in proc.stderr


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("-c", "[1, 2]"), "--context must be a JSON object"),
        (("--context-file", "missing.json"), "missing.json: no such file"),
        (("--context-file", "folder"), "folder, not a file"),
        (("--context-file", "binary.json"), "binary data, not text"),
        (("--registry", "raising_registry.py"), "raising_registry.py: import failed"),
    ],
    ids=["context-array", "context-missing", "context-folder", "context-binary", "registry"],
)
def test_bad_run_options_are_one_line_exit_2(
    tmp_path: Path, args: tuple[str, ...], expected: str
) -> None:
    (tmp_path / "wf.yaml").write_text(OK)
    (tmp_path / "folder").mkdir()
    (tmp_path / "binary.json").write_bytes(b"\x00{}")
    (tmp_path / "raising_registry.py").write_text("raise RuntimeError('broken at import')\n")
    proc = victor("wf.yaml", *args, cwd=tmp_path)
    assert proc.returncode == 2, (proc.stdout, proc.stderr)
    assert expected in _one_line(proc.stderr)


@pytest.mark.parametrize("command", ["history", "metrics"])
def test_corrupt_history_is_one_line(tmp_path: Path, command: str) -> None:
    (tmp_path / "workflows.db").write_text("this is not a database")
    proc = victor(cwd=tmp_path, home=tmp_path, command=command)
    assert proc.returncode == 1
    line = _one_line(proc.stderr)
    assert "workflows.db" in line and "not a usable history database" in line


@pytest.mark.parametrize("command", ["inspect", "replay"])
def test_unknown_execution_id_is_one_line(tmp_path: Path, command: str) -> None:
    (tmp_path / "wf.yaml").write_text(OK)
    assert victor("wf.yaml", cwd=tmp_path, home=tmp_path).returncode == 0
    proc = victor("exec_nope", cwd=tmp_path, home=tmp_path, command=command)
    assert proc.returncode == 1
    line = _one_line(proc.stderr)
    assert "exec_nope" in line and "victor workflow history" in line


@pytest.mark.parametrize(
    ("error_number", "expected"),
    [(errno.EACCES, "permission denied"), (errno.EISDIR, "folder"), (errno.ENOENT, "no such")],
)
def test_os_errors_become_reasons(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, error_number: int, expected: str
) -> None:
    # Root reads a chmod-000 file, so the permission case is simulated at the OS call.
    def refuse(self: Path) -> bytes:
        raise OSError(error_number, "refused", str(self))

    monkeypatch.setattr(Path, "read_bytes", refuse)
    with pytest.raises(UnreadableFileError, match=expected):
        read_text_file(tmp_path / "wf.yaml")
    problem = compile_file(tmp_path / "wf.yaml").problems[0]
    assert problem.code == "VW000" and expected in problem.message


@pytest.mark.parametrize("command", ["run", "trace"])
@pytest.mark.parametrize(
    ("text", "kind", "how"),
    [
        ("nodes:\n  - id: ask\n    type: hitl\n    prompt: ok?\n", "node library", "$ref"),
        (
            "stage_templates:\n  lint:\n    nodes:\n      - id: a\n        type: transform\n"
            "        transform: x = 1\n",
            "stage library",
            "stage:",
        ),
    ],
    ids=["node-library", "stage-library"],
)
def test_library_file_says_it_is_a_library(
    tmp_path: Path, command: str, text: str, kind: str, how: str
) -> None:
    path = tmp_path / "lib.yaml"
    path.write_text(text, encoding="utf-8")
    proc = victor(str(path), cwd=tmp_path, command=command)
    assert proc.returncode == 2, (proc.stdout, proc.stderr)
    line = _one_line(proc.stderr)
    assert "lib.yaml" in line and kind in line and how in line, line


def test_yaml_context_file(tmp_path: Path) -> None:
    (tmp_path / "wf.yaml").write_text(OK, encoding="utf-8")
    (tmp_path / "ctx.yaml").write_text("task: fix bug\nlimits:\n  retries: 2\n", encoding="utf-8")
    proc = victor("wf.yaml", "-f", "ctx.yaml", "--json", "--no-history", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    state = json.loads(proc.stdout)["final_state"]
    assert state["task"] == "fix bug" and state["limits"] == {"retries": 2}


def test_broken_yaml_context_file_names_line(tmp_path: Path) -> None:
    (tmp_path / "wf.yaml").write_text(OK, encoding="utf-8")
    (tmp_path / "ctx.yml").write_text("task: ok\nlimits: [1, 2\n", encoding="utf-8")
    proc = victor("wf.yaml", "-f", "ctx.yml", cwd=tmp_path)
    assert proc.returncode == 2
    line = _one_line(proc.stderr)
    assert "ctx.yml" in line and "line " in line and "YAML" in line, line


def test_shell_tool_runs_under_the_corpus_constraints(tmp_path: Path) -> None:
    # code_review.yaml runs its read-only checks (lint, type check, scans) through the
    # built-in shell tool with `constraints: [llm, write]` on every such node.
    (tmp_path / "wf.yaml").write_text(
        "workflows:\n"
        "  checks:\n"
        "    nodes:\n"
        "      - id: lint_check\n"
        "        type: compute\n"
        "        tools: [shell]\n"
        "        inputs:\n"
        "          commands: [echo linted]\n"
        "        output: lint_results\n"
        "        constraints: [llm, write]\n"
        "        timeout: 30\n",
        encoding="utf-8",
    )
    proc = victor("wf.yaml", "--json", "--no-history", cwd=tmp_path)
    assert proc.returncode == 0, (proc.stdout, proc.stderr)
    assert json.loads(proc.stdout)["final_state"]["lint_results"]["shell"]["stdout"] == "linted\n"
