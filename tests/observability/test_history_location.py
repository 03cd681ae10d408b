"""Where runs are recorded: VICTOR_HISTORY_URL, then the project's `history_url`, then
$VICTOR_HOME; `run`/`trace`/`replay` use the workflow's project, `history`/`metrics`/
`inspect` the current folder's."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from engine.history import default_history_location
from engine.project_config import ProjectConfigError, find_project_config
from tests.observability.test_cli_observe import WORKFLOW, one_line_error, victor


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    environ = {k: v for k, v in os.environ.items() if k != "VICTOR_HISTORY_URL"}
    environ["VICTOR_HOME"] = str(tmp_path / "home")
    return environ


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    (root / "flows").mkdir(parents=True)
    (root / "victor.toml").write_text('history_url = "runs/history.db"\n')
    (root / "flows" / "demo.yaml").write_text(WORKFLOW)
    return root


def test_location_order_env_then_project_then_home(project: Path, tmp_path: Path) -> None:
    home = {"VICTOR_HOME": str(tmp_path / "home")}
    from_project = str(project / "runs" / "history.db")
    flows = project / "flows"
    assert default_history_location(home, start=flows / "demo.yaml") == from_project
    assert default_history_location(home, project=find_project_config(flows)) == from_project
    with_url = {**home, "VICTOR_HISTORY_URL": "sqlite:////elsewhere/h.db"}
    assert default_history_location(with_url, start=flows) == "sqlite:////elsewhere/h.db"
    outside = tmp_path / "outside"
    outside.mkdir()
    assert default_history_location(home, start=outside) == str(tmp_path / "home" / "workflows.db")
    (project / "victor.toml").write_text('history_url = "sqlite:///sub/h.db"\n')
    assert default_history_location(home, start=flows) == str(project / "sub" / "h.db")
    (project / "victor.toml").write_text('history_url = "postgresql://db/victor"\n')
    assert default_history_location(home, start=flows) == "postgresql://db/victor"
    (project / "victor.toml").write_text("history_url = [1]\n")
    with pytest.raises(ProjectConfigError, match="history_url"):
        default_history_location(home, start=flows)


@pytest.mark.e2e
def test_commands_record_and_read_the_projects_history(
    project: Path, tmp_path: Path, env: dict[str, str]
) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    run = victor(env, "run", str(project / "flows" / "demo.yaml"), "--json", cwd=outside)
    assert run.returncode == 0, run.stderr
    exec_id = json.loads(run.stdout)["execution_id"]
    assert (project / "runs" / "history.db").is_file()
    assert not (Path(env["VICTOR_HOME"]) / "workflows.db").exists()

    listed = victor(env, "history", "--json", cwd=project / "flows")
    assert listed.returncode == 0, listed.stderr
    assert [r["execution_id"] for r in json.loads(listed.stdout)] == [exec_id]
    shown = victor(env, "inspect", exec_id, "--query", "verdict", cwd=project)
    assert shown.returncode == 0 and shown.stdout.strip() == "done", shown.stderr

    replayed = victor(env, "replay", exec_id, "--recorded", "--json", cwd=project)
    assert replayed.returncode == 0, replayed.stderr
    replay_id = json.loads(replayed.stdout)["execution_id_2"]
    metrics = victor(env, "metrics", "-w", "demo", "--json", cwd=project)
    assert metrics.returncode == 0, metrics.stderr
    assert json.loads(metrics.stdout)["total_executions"] == 2
    assert replay_id != exec_id

    # Outside the project: $VICTOR_HOME, where nothing was recorded.
    assert "no execution history" in one_line_error(victor(env, "history", cwd=outside))
