"""`victor workflow trace|history|replay|metrics|inspect` through the real command."""

from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e

WORKFLOW = """\
workflows:
  demo:
    nodes:
      - id: prepare
        type: transform
        transform: "count = 1"
      - id: check
        type: condition
        condition: "count > 0"
        branches:
          "true": finish
          "false": finish
      - id: finish
        type: transform
        transform: "verdict = 'done'"
"""


def victor_command() -> list[str]:
    script = shutil.which("victor", path=str(Path(sys.executable).parent))
    return [script] if script else [sys.executable, "-m", "engine.cli"]


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    environ = {k: v for k, v in os.environ.items() if k != "VICTOR_HISTORY_URL"}
    environ["VICTOR_HOME"] = str(tmp_path / "home")
    return environ


def victor(
    env: dict[str, str], *args: str, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*victor_command(), "workflow", *args], env=env, cwd=cwd,
                          capture_output=True, text=True, timeout=120, check=False)  # fmt: skip


def one_line_error(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    return lines[0]


@pytest.fixture
def traced(tmp_path: Path, env: dict[str, str]) -> tuple[Path, dict]:
    workflow = tmp_path / "demo.yaml"
    workflow.write_text(WORKFLOW)
    out = tmp_path / "trace.json"
    result = victor(env, "trace", str(workflow), "-c", '{"task": "t"}', "-o", str(out))
    assert result.returncode == 0, result.stderr
    return workflow, json.loads(out.read_text())


def test_trace_writes_the_json_layout(traced: tuple[Path, dict]) -> None:
    _, data = traced
    assert data["workflow"] == "demo" and data["success"] is True
    assert data["inputs"] == {"task": "t"}
    assert [n["node_id"] for n in data["nodes"]] == ["prepare", "check", "finish"]
    assert [n for n in data["nodes"] if n["success"] is False] == []
    assert {n["id"] for n in data["graph"]["nodes"]} == {"prepare", "check", "finish"}


def test_trace_html_and_bad_format(
    tmp_path: Path, env: dict[str, str], traced: tuple[Path, dict]
) -> None:
    workflow, _ = traced
    report = tmp_path / "report.html"
    result = victor(env, "trace", str(workflow), "-f", "html", "-o", str(report))
    assert result.returncode == 0, result.stderr
    assert report.read_text().startswith("<!DOCTYPE html>")
    bad = victor(env, "trace", str(workflow), "-f", "yaml")
    assert "unknown trace format 'yaml'" in one_line_error(bad)
    assert bad.returncode == 2


def test_history_table_json_and_csv_export(
    tmp_path: Path, env: dict[str, str], traced: tuple[Path, dict]
) -> None:
    _, data = traced
    exec_id = data["execution_id"]
    table = victor(env, "history", "--limit", "20")
    assert table.returncode == 0 and exec_id in table.stdout and "completed" in table.stdout
    records = json.loads(victor(env, "history", "--json", "-w", "demo").stdout)
    assert records[0]["execution_id"] == exec_id
    assert records[0]["nodes_executed"] == ["prepare", "check", "finish"]
    assert json.loads(victor(env, "history", "--json", "-w", "other").stdout) == []
    report = tmp_path / "history.csv"
    result = victor(env, "history", "-f", "csv", "-e", str(report))
    assert result.returncode == 0, result.stderr
    rows = list(csv.DictReader(report.open()))
    assert rows[0]["execution_id"] == exec_id and rows[0]["status"] == "completed"


def test_inspect_final_state_query_and_snapshot(
    env: dict[str, str], traced: tuple[Path, dict]
) -> None:
    exec_id = traced[1]["execution_id"]
    shown = victor(env, "inspect", exec_id)
    assert shown.returncode == 0 and 'verdict: "done"' in shown.stdout
    assert victor(env, "inspect", exec_id, "--query", "verdict").stdout.strip() == "done"
    full = json.loads(victor(env, "inspect", exec_id, "--json").stdout)
    first = full["snapshots"][0]["snapshot_id"]
    early = json.loads(victor(env, "inspect", exec_id, "--snapshot", first, "--json").stdout)
    assert early["state"].get("count") == 1 and "verdict" not in early["state"]
    missing = victor(env, "inspect", exec_id, "--snapshot", "snap_nope")
    assert "no snapshot 'snap_nope'" in one_line_error(missing)
    bad_path = victor(env, "inspect", exec_id, "--query", "verdict.x")
    assert "verdict.x" in one_line_error(bad_path)


def test_metrics_for_workflow_and_execution(
    tmp_path: Path, env: dict[str, str], traced: tuple[Path, dict]
) -> None:
    exec_id = traced[1]["execution_id"]
    out = tmp_path / "metrics.json"
    result = victor(env, "metrics", "-w", "demo", "-o", str(out), "--json")
    assert result.returncode == 0, result.stderr
    metrics = json.loads(out.read_text())
    assert metrics["total_executions"] == 1 and metrics["success_rate"] == 1.0
    assert {n["node_id"] for n in metrics["node_metrics"]} == {"prepare", "check", "finish"}
    one = json.loads(victor(env, "metrics", "-e", exec_id, "--json").stdout)
    assert one["execution_id"] == exec_id
    assert "no executions of workflow 'nope'" in one_line_error(
        victor(env, "metrics", "-w", "nope")
    )


def test_replay_recorded_matches_the_original(
    env: dict[str, str], traced: tuple[Path, dict]
) -> None:
    exec_id = traced[1]["execution_id"]
    result = victor(env, "replay", exec_id, "--recorded", "--json")
    assert result.returncode == 0, result.stderr
    comparison = json.loads(result.stdout)
    assert comparison["execution_id_1"] == exec_id
    assert comparison["outputs_equal"] is True
    assert comparison["node_diff"]["nodes_only_in_1"] == []


def test_errors_are_one_line(
    tmp_path: Path, env: dict[str, str], traced: tuple[Path, dict]
) -> None:
    assert "exec_nope" in one_line_error(victor(env, "inspect", "exec_nope"))
    assert "exec_nope" in one_line_error(victor(env, "replay", "exec_nope"))
    blocker = tmp_path / "blocker"
    blocker.write_text("")
    export = victor(env, "history", "-e", str(blocker / "h.json"))
    assert "cannot write" in one_line_error(export)
    fresh = dict(env, VICTOR_HOME=str(tmp_path / "empty"))
    assert "no execution history" in one_line_error(victor(fresh, "history"))
