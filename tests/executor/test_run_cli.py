"""`victor workflow run` through the real command in a subprocess."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support import REPO_ROOT

pytestmark = pytest.mark.e2e

VICTOR = Path(sys.executable).parent / "victor"
EXAMPLES = REPO_ROOT / "examples"


def victor(
    *args: str, cwd: Path | None = None, home: Path | None = None, command: str = "run"
) -> subprocess.CompletedProcess[str]:
    if not VICTOR.exists():
        pytest.skip(f"{VICTOR} not installed: run `.venv/bin/pip install -e . --no-deps`")
    victor_home = home or cwd or REPO_ROOT / ".pytest_cache" / "victor_home"
    env = {**os.environ, "VICTOR_HOME": str(victor_home)}
    env.pop("VICTOR_HISTORY_URL", None)
    return subprocess.run(
        [str(VICTOR), "workflow", command, *args],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=cwd,
        env=env,
    )


def test_json_result_of_example() -> None:
    proc = victor(
        str(EXAMPLES / "quick.yaml"), "-c", '{"text": "a b c d e"}', "--json", "--no-history"
    )
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert set(data) == {
        "execution_id",
        "workflow",
        "success",
        "status",
        "duration_seconds",
        "nodes_executed",
        "final_state",
        "error",
    }
    assert data["nodes_executed"] == ["prepare", "measure", "check", "long_text"]
    assert data["final_state"]["verdict"] == "long"
    assert not any(key.startswith("_") for key in data["final_state"])
    assert data["error"] is None and data["execution_id"].startswith("exec_")


def test_every_node_type_example_with_context_file(tmp_path: Path) -> None:
    context = tmp_path / "ctx.json"
    context.write_text(json.dumps({"topic": "caching", "text": "TODO one\nTODO two\nTODO 3"}))
    answers = tmp_path / "answers.yaml"
    answers.write_text("approve: 'yes'\n")
    proc = victor(
        str(EXAMPLES / "document_review.yaml"),
        "-f",
        str(context),
        "--hitl-answers",
        str(answers),
        "--no-history",
    )
    assert proc.returncode == 0, proc.stderr
    assert "succeeded" in proc.stdout and '"summary": "6 words, 3 TODOs"' in proc.stdout
    assert "-> approve (hitl)" in proc.stderr  # plain progress lines when not a TTY


def test_failed_workflow_exits_1(tmp_path: Path) -> None:
    wf = tmp_path / "fail.yaml"
    wf.write_text(
        "workflows:\n  w:\n    nodes:\n      - id: boom\n        type: transform\n"
        "        transform: 'x = missing_key + 1'\n"
    )
    proc = victor(str(wf), "--json", "--no-history")
    assert proc.returncode == 1, proc.stderr
    data = json.loads(proc.stdout)
    assert data["status"] == "failed" and data["error"]["node"] == "boom"


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["{wf}", "-c", "{{not json"], "--context is not valid JSON"),
        (["{wf}", "-c", "[1]"], "must be a JSON object"),
        (["{dir}/missing.yaml"], "workflow file not found"),
        (["{multi}"], "several workflows (one, two). Choose one with -n/--name."),
        (["{multi}", "-n", "nope"], "no workflow named 'nope'"),
        (["{broken}"], "broken.yaml:"),
        (["{agent}"], "no agent runner: think. Choose a profile with -p/--profile"),
        (["{wf}", "-p", "ghost"], "unknown profile 'ghost'"),
    ],
)
def test_usage_errors_exit_2_with_one_line(tmp_path: Path, args: list[str], needle: str) -> None:
    (tmp_path / "wf.yaml").write_text(
        "workflows:\n  w:\n    nodes:\n      - id: a\n        type: transform\n"
        "        transform: 'x = 1'\n"
    )
    (tmp_path / "multi.yaml").write_text(
        "workflows:\n  one:\n    nodes:\n      - id: a\n        type: transform\n"
        "        transform: 'x = 1'\n  two:\n    nodes:\n      - id: b\n"
        "        type: transform\n        transform: 'x = 2'\n"
    )
    (tmp_path / "broken.yaml").write_text(
        "workflows:\n  w:\n    nodes:\n      - id: a\n        next: [nowhere]\n"
    )
    (tmp_path / "agent.yaml").write_text(
        "workflows:\n  w:\n    nodes:\n      - id: think\n        type: agent\n        goal: go\n"
    )
    names = {
        "wf": tmp_path / "wf.yaml",
        "multi": tmp_path / "multi.yaml",
        "broken": tmp_path / "broken.yaml",
        "agent": tmp_path / "agent.yaml",
        "dir": tmp_path,
    }
    proc = victor(*(arg.format(**names) for arg in args), "--no-history", cwd=tmp_path)
    assert proc.returncode == 2, (proc.stdout, proc.stderr)
    assert needle in proc.stderr
    assert "Traceback" not in proc.stderr


def test_dry_run_prints_plan_without_executing(tmp_path: Path) -> None:
    proc = victor(str(EXAMPLES / "document_review.yaml"), "--dry-run")
    assert proc.returncode == 0, proc.stderr
    assert "triage [agent]" in proc.stdout and "parallel: stats, todo_scan" in proc.stdout
    assert "true -> write_summary" in proc.stdout
    assert "-> triage" not in proc.stderr


def test_runs_are_recorded_in_history_unless_no_history(tmp_path: Path) -> None:
    home = tmp_path / "home"
    quick = str(EXAMPLES / "quick.yaml")
    recorded = victor(quick, "-c", '{"text": "a b c d e"}', "--json", home=home)
    assert recorded.returncode == 0, recorded.stderr
    assert "warning" not in recorded.stderr
    run_id = json.loads(recorded.stdout)["execution_id"]
    skipped = victor(quick, "-c", '{"text": "a"}', "--json", "--no-history", home=home)
    assert skipped.returncode == 0, skipped.stderr

    listing = victor("--json", home=home, command="history")
    assert listing.returncode == 0, listing.stderr
    rows = json.loads(listing.stdout)
    assert [row["execution_id"] for row in rows] == [run_id]
    row = rows[0]
    assert row["status"] == "completed" and row["workflow_name"] == "quick"
    assert row["nodes_executed"] == ["prepare", "measure", "check", "long_text"]
    assert row["inputs"] == {"text": "a b c d e"}
    assert Path(row["workflow_file"]) == EXAMPLES.resolve() / "quick.yaml"

    from engine.history import WorkflowExecutionHistory

    with WorkflowExecutionHistory(home / "workflows.db", create=False) as history:
        snapshots = history.snapshots(run_id)
        assert [s.node_id for s in snapshots] == row["nodes_executed"]
        assert history.snapshot_state(snapshots[-1].snapshot_id)["verdict"] == "long"


def test_unusable_history_warns_once_and_the_run_succeeds(tmp_path: Path) -> None:
    not_a_folder = tmp_path / "home"
    not_a_folder.write_text("a file where the history folder should be")
    proc = victor(str(EXAMPLES / "quick.yaml"), "-c", '{"text": "a"}', "--json", home=not_a_folder)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["success"] is True
    warnings = [line for line in proc.stderr.splitlines() if line.startswith("warning:")]
    assert len(warnings) == 1 and "not recorded in the history" in warnings[0]
    assert "Traceback" not in proc.stderr
