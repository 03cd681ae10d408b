"""History statistics behind node hovers and inlay hints, read from a real history store."""

from __future__ import annotations

import asyncio
import textwrap
from pathlib import Path

from engine import compile
from engine.execution_engine import WorkflowExecutor
from engine.history import WorkflowExecutionHistory
from victor_lsp.history_stats import _read_stats, default_history_location

WORKFLOW = textwrap.dedent(
    """\
    workflows:
      stats_demo:
        nodes:
          - id: first
            type: transform
            transform: "count = 1"
          - id: second
            type: transform
            transform: "count = count + 1"
    """
)


def test_stats_come_from_recorded_runs(tmp_path: Path) -> None:
    location = str(tmp_path / "workflows.db")
    workflow = compile(WORKFLOW, source=str(tmp_path / "w.yaml")).workflows[0]
    history = WorkflowExecutionHistory(location)
    for _ in range(2):
        executor = WorkflowExecutor(subscribers=[history.recorder(workflow)])
        asyncio.run(executor.execute(workflow, inputs={}))
    assert history.flush(10.0)
    history.close()
    stats = _read_stats(location, "stats_demo")
    assert stats is not None
    assert stats.runs == 2 and stats.success_rate == 1.0
    assert set(stats.nodes) == {"first", "second"}
    assert stats.nodes["first"].runs == 2 and stats.nodes["first"].success_rate == 1.0
    assert _read_stats(location, "unknown") is None


def test_location_follows_the_project_history_url(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.delenv("VICTOR_HISTORY_URL", raising=False)
    (tmp_path / "victor.toml").write_text('history_url = "runs/history.db"\n')
    assert Path(default_history_location(str(tmp_path))) == tmp_path / "runs" / "history.db"
