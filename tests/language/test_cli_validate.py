"""`victor workflow validate` through the real command in a subprocess."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

from tests.support import REPO_ROOT, corpus_dir, marker_line

VICTOR = [sys.executable, "-m", "engine.cli"]

BROKEN = textwrap.dedent(
    """\
    workflows:
      w:
        nodes:
          - id: a
            next: [bb]      # @target
          - id: bb2
    """
)


def _victor(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*VICTOR, "workflow", *args], capture_output=True, text=True, cwd=REPO_ROOT, timeout=60
    )


def test_text_output_has_one_based_positions_and_exit_1(tmp_path: Path) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text(BROKEN)
    done = _victor("validate", str(path))
    assert done.returncode == 1
    line = marker_line(BROKEN, "target") + 1
    column = BROKEN.splitlines()[line - 1].index("bb") + 1
    assert f"{path}:{line}:{column}: error VW201 " in done.stdout
    assert "did you mean 'bb2'" in done.stdout
    assert "Traceback" not in done.stderr


def test_json_output_shape(tmp_path: Path) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text(BROKEN)
    done = _victor("validate", "--format", "json", str(path))
    assert done.returncode == 1
    report = json.loads(done.stdout)
    file_report = report["files"][0]
    assert file_report["path"] == str(path) and file_report["workflows"] == ["w"]
    problem = next(p for p in file_report["problems"] if p["code"] == "VW201")
    assert set(problem) == {
        "line",
        "column",
        "end_line",
        "end_column",
        "severity",
        "code",
        "message",
        "workflow",
        "node",
    }
    assert problem["line"] == marker_line(BROKEN, "target") + 1
    assert problem["end_column"] - problem["column"] == 2
    assert problem["node"] == "a" and problem["workflow"] == "w"


def test_clean_corpus_exits_zero() -> None:
    files = [str(p) for p in sorted(corpus_dir().glob("*.yaml"))]
    done = _victor("validate", *files)
    assert done.returncode == 0, done.stdout
    assert " error " not in done.stdout


def test_usage_errors_exit_2(tmp_path: Path) -> None:
    path = tmp_path / "ok.yaml"
    path.write_text("workflows:\n  w:\n    nodes:\n      - id: a\n")
    assert _victor("validate", "--format", "xml", str(path)).returncode == 2
    assert _victor("validate").returncode == 2


def test_missing_file_is_one_clear_error(tmp_path: Path) -> None:
    done = _victor("validate", str(tmp_path / "nope.yaml"))
    assert done.returncode == 1
    assert "cannot read the file" in done.stdout and "Traceback" not in done.stderr
