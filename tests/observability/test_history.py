"""Execution history on SQLite and PostgreSQL: live recording, crash safety, SQL analytics."""

from __future__ import annotations

import multiprocessing
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from engine.history import (
    FULL_SNAPSHOT_EVERY,
    UnknownExecutionError,
    WorkflowExecutionHistory,
)
from tests.observability.conftest import read_line, run_events

REPO = Path(__file__).resolve().parents[2]


def record(history: WorkflowExecutionHistory, events: list) -> None:
    recorder = history.recorder("wf")
    for event in events:
        recorder(event)


def test_recorder_stores_runs_nodes_outputs_and_snapshots(history_target: str) -> None:
    with WorkflowExecutionHistory(history_target) as history:
        record(history, run_events("exec_ok", nodes=3, start=1000.0))
        record(history, run_events("exec_bad", nodes=3, fail_at=1, start=2000.0))
        listed = history.list_executions()
        assert [r.execution_id for r in listed] == ["exec_bad", "exec_ok"]
        ok = history.require_execution("exec_ok")
        assert ok.status == "completed" and ok.success is True
        assert ok.nodes_executed == ("n0", "n1", "n2")
        assert ok.inputs == {"task": "x"}
        assert ok.outputs == {"task": "x", "n0": {"value": 0}, "n1": {"value": 1},
                              "n2": {"value": 2}}  # fmt: skip
        assert ok.nodes[0].tool_calls[0].tool_name == "search"
        bad = history.require_execution("exec_bad")
        assert bad.status == "failed" and bad.nodes[-1].error == "boom"
        assert history.recorded_outputs("exec_ok") == {
            "n0": [{"value": 0}], "n1": [{"value": 1}], "n2": [{"value": 2}]}  # fmt: skip
        snaps = ok.snapshots
        assert [s.node_id for s in snaps] == ["n0", "n1", "n2"]
        assert history.snapshot_state(snaps[0].snapshot_id) == {"task": "x", "n0": {"value": 0}}
        assert history.get_execution("exec_missing") is None
        with pytest.raises(UnknownExecutionError, match="exec_missing"):
            history.require_execution("exec_missing")


def test_snapshot_deltas_rebuild_every_state(history_target: str) -> None:
    count = FULL_SNAPSHOT_EVERY * 2 + 5
    with WorkflowExecutionHistory(history_target) as history:
        record(history, run_events("exec_long", nodes=count, start=10.0))
        loaded = history.load_snapshots("exec_long")
        assert len(loaded) == count
        for index, (info, state) in enumerate(loaded):
            assert state == history.snapshot_state(info.snapshot_id)
            assert len(state) == index + 2  # "task" plus one key per finished node
        assert history.final_state("exec_long") == loaded[-1][1]


def test_stats_trends_and_comparison_are_computed(history_target: str) -> None:
    with WorkflowExecutionHistory(history_target) as history:
        for i in range(10):  # older runs take 1 s per node, newer ones 2 s
            seconds = 1.0 if i < 5 else 2.0
            fail = 0 if i == 9 else None
            record(history, run_events(f"exec_{i}", nodes=2, start=100.0 * i,
                                       node_seconds=seconds, fail_at=fail))  # fmt: skip
        stats = history.get_workflow_stats("wf")
        assert stats["total_executions"] == 10
        assert stats["success_rate"] == pytest.approx(0.9)
        assert stats["min_duration"] == pytest.approx(2.0)
        assert stats["max_duration"] == pytest.approx(4.0)
        trends = history.get_execution_trends("wf", window_size=5)
        assert trends["duration_trend"] == "increasing"
        assert trends["duration_change_percent"] > 50
        comparison = history.compare_executions("exec_0", "exec_9")
        assert comparison.performance_diff["duration_delta"] == pytest.approx(0.0)
        assert comparison.node_diff["nodes_only_in_1"] == ["n1"]
        assert comparison.node_diff["status_changes"] == {
            "n0": {"from": "completed", "to": "failed"}}  # fmt: skip
        assert "n0" in comparison.output_diff["removed"]
        nodes = {n["node_id"]: n for n in history.node_stats("wf")}
        assert nodes["n0"]["execution_count"] == 10 and nodes["n0"]["failure_count"] == 1
        assert history.tool_stats("wf")[0]["call_count"] == 19
        with pytest.raises(UnknownExecutionError):
            history.compare_executions("exec_0", "exec_nope")


def test_prune_keeps_the_newest_runs(history_target: str) -> None:
    with WorkflowExecutionHistory(history_target) as history:
        for i in range(6):
            record(history, run_events(f"exec_{i}", nodes=1, start=1000.0 + i))
        assert history.prune(keep=2) == 4
        assert [r.execution_id for r in history.list_executions()] == ["exec_5", "exec_4"]
        assert history.get_execution("exec_0") is None
        assert history.recorded_outputs("exec_0") == {}
        assert history.prune(older_than=0) == 2


_KILLED_RUN = """
import sys
sys.path.insert(0, {repo!r})
from engine.history import WorkflowExecutionHistory
from tests.observability.conftest import read_line, run_events
history = WorkflowExecutionHistory({target!r})
recorder = history.recorder("wf")
events = run_events("exec_killed", nodes=4)
# Stop right after the second node's state capture, as if killed mid-run.
cut = [i for i, e in enumerate(events) if e.event_type.value == "state_captured"][1]
for event in events[: cut + 1]:
    recorder(event)
assert history.flush(timeout=60), "the background writer did not commit"
print("recorded", flush=True)
sys.stdin.read()
"""


def test_sigkilled_run_reads_back_as_interrupted_with_finished_nodes(history_target: str) -> None:
    script = _KILLED_RUN.format(repo=str(REPO), target=history_target)
    child = subprocess.Popen([sys.executable, "-c", script], stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE)  # fmt: skip
    try:
        assert child.stdout is not None
        # The child prints once its two finished nodes are committed; then it is killed.
        line = read_line(child.stdout, timeout=60)
        assert line == "recorded", f"child said {line!r} (exit code {child.poll()})"
    finally:
        os.kill(child.pid, signal.SIGKILL)
        child.wait(timeout=30)
    with WorkflowExecutionHistory(history_target) as history:
        run = history.require_execution("exec_killed")
        assert run.status == "interrupted"
        assert run.nodes_executed == ("n0", "n1")
        assert history.final_state("exec_killed") == {"task": "x", "n0": {"value": 0},
                                                      "n1": {"value": 1}}  # fmt: skip
        assert [r.status for r in history.list_executions()] == ["interrupted"]


def _write_many(target: str, worker: int, count: int) -> None:
    history = WorkflowExecutionHistory(target)
    for i in range(count):
        record(history, run_events(f"exec_w{worker}_{i}", nodes=1, start=float(i)))
    history.close()


def test_four_processes_writing_concurrently_lose_nothing(history_target: str) -> None:
    context = multiprocessing.get_context("spawn")
    workers = [context.Process(target=_write_many, args=(history_target, w, 250))
               for w in range(4)]  # fmt: skip
    for process in workers:
        process.start()
    for process in workers:
        process.join(timeout=240)
    assert [p.exitcode for p in workers] == [0, 0, 0, 0]
    with WorkflowExecutionHistory(history_target) as history:
        assert history.count() == 1000
        assert history.get_workflow_stats("wf")["successful_executions"] == 1000
        assert sum(n["execution_count"] for n in history.node_stats("wf")) == 1000


def test_sqlite_settings_and_schema_version(tmp_path: Path) -> None:
    import sqlite3

    path = tmp_path / "w.db"
    WorkflowExecutionHistory(path).close()
    WorkflowExecutionHistory(path).close()  # reopening does not migrate twice
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert conn.execute("SELECT version FROM schema_version").fetchall() == [(1,)]


def test_default_location_follows_victor_home(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from engine.history import HistoryStoreError, open_default_history

    monkeypatch.delenv("VICTOR_HISTORY_URL", raising=False)
    monkeypatch.setenv("VICTOR_HOME", str(tmp_path / "home"))
    with pytest.raises(HistoryStoreError, match="no execution history"):
        open_default_history(create=False)
    history = open_default_history()
    assert history.location == str(tmp_path / "home" / "workflows.db")
    history.close()


def test_not_a_database_is_a_clear_error(tmp_path: Path) -> None:
    from engine.history import HistoryStoreError

    bad = tmp_path / "workflows.db"
    bad.write_text(textwrap.dedent("this is not sqlite\n" * 100))
    with pytest.raises(HistoryStoreError, match="not a usable history database"):
        WorkflowExecutionHistory(bad)
