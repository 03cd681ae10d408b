"""Recording off the run's path: the background writer, snapshot deltas from `written_keys`."""

from __future__ import annotations

import sqlite3
import threading
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from engine.events import ExecutionEvent, ExecutionEventType
from engine.history import WorkflowExecutionHistory, state_delta
from engine.history_store import open_backend
from engine.history_store.writer import BackgroundWriter
from tests.observability.conftest import run_events

T = ExecutionEventType


def with_written_keys(events: list[ExecutionEvent]) -> list[ExecutionEvent]:
    """The executor's STATE_CAPTURED metadata: the top-level keys each node wrote."""
    return [
        replace(e, metadata={"written_keys": (e.node_id,)})
        if e.event_type is T.STATE_CAPTURED
        else e
        for e in events
    ]


def test_state_delta_uses_written_keys_and_falls_back_when_they_do_not_add_up() -> None:
    shared = {"big": list(range(5))}
    before = {"a": 1, "b": shared, "c": 3}
    after = {"a": 1, "b": shared, "c": 4, "d": 5}
    assert state_delta(before, after, ("c", "d")) == ({"c": 4, "d": 5}, [])
    assert state_delta(before, after) == ({"c": 4, "d": 5}, [])
    # The keys written do not explain the new state ("a" vanished): compare everything.
    dropped = {"b": shared, "c": 4, "d": 5}
    assert state_delta(before, dropped, ("c", "d")) == ({"c": 4, "d": 5}, ["a"])
    # A written key that the node deleted.
    assert state_delta(before, {"a": 1, "b": shared}, ("c",)) == ({}, ["c"])


def test_written_keys_rebuild_the_same_snapshots(tmp_path: Path) -> None:
    plain = run_events("exec_plain", nodes=40, start=1.0)
    keyed = with_written_keys(run_events("exec_keyed", nodes=40, start=1.0))
    with WorkflowExecutionHistory(tmp_path / "h.db") as history:
        for events in (plain, keyed):
            recorder = history.recorder("wf")
            for event in events:
                recorder(event)
        expected = [dict(e.state or {}) for e in keyed if e.event_type is T.STATE_CAPTURED]
        for execution_id in ("exec_plain", "exec_keyed"):
            assert [s for _, s in history.load_snapshots(execution_id)] == expected


def test_interleaved_parallel_branches_rebuild_each_branch_state(tmp_path: Path) -> None:
    """written_keys are relative to a thread's own previous state, not the last snapshot."""
    base = {"task": "x"}
    left1 = {**base, "l1": 1}
    right1 = {**base, "r0": 0, "r1": 1}
    left2 = {**left1, "l2": 2}
    right2 = {**right1, "r2": 2}
    captures = [("left", left1, "l1"), ("right", right1, "r1"), ("left", left2, "l2"),
                ("right", right2, "r2")]  # fmt: skip
    events = [ExecutionEvent(T.WORKFLOW_STARTED, "exec_par", "wf", 1.0, inputs=base)]
    for index, (thread, state, key) in enumerate(captures):
        events.append(
            ExecutionEvent(T.STATE_CAPTURED, "exec_par", "wf", 2.0 + index, node_id=key,
                           thread=thread, state=state, metadata={"written_keys": (key,)})
        )  # fmt: skip
    events.append(ExecutionEvent(T.WORKFLOW_COMPLETED, "exec_par", "wf", 9.0, state=right2))
    with WorkflowExecutionHistory(tmp_path / "h.db") as history:
        recorder = history.recorder("wf")
        for event in events:
            recorder(event)
        rebuilt = [state for _, state in history.load_snapshots("exec_par")]
    assert rebuilt == [left1, right1, left2, right2]


def test_the_run_thread_never_waits_for_the_database(tmp_path: Path) -> None:
    """Another process holds the write lock for the whole run: recording still only queues."""
    path = tmp_path / "h.db"
    history = WorkflowExecutionHistory(path)
    blocker = sqlite3.connect(path, isolation_level=None, timeout=30)
    blocker.execute("BEGIN IMMEDIATE")
    try:
        recorder = history.recorder("wf")
        for event in run_events("exec_locked", nodes=50):
            recorder(event)  # would block for the busy timeout if it wrote synchronously
        assert blocker.execute("SELECT COUNT(*) FROM executions").fetchone()[0] == 0
    finally:
        blocker.execute("COMMIT")
        blocker.close()
    assert history.flush(timeout=30)
    record = history.require_execution("exec_locked")
    assert record.status == "completed" and len(record.nodes) == 50
    history.close()


def test_writer_commits_on_its_own_within_the_interval(tmp_path: Path) -> None:
    committed = threading.Event()
    seen: list[Any] = []

    def apply(cursor: Any, writes: list[Any]) -> None:
        seen.extend(writes)
        committed.set()

    backend = open_backend(tmp_path / "w.db")
    writer = BackgroundWriter(backend, apply=apply, flush_seconds=0.05,
                              is_active=lambda: True)  # fmt: skip
    writer.submit(lambda payload: [payload], "row-1")
    # Nobody calls flush(): the writer's own interval commits the row.
    assert committed.wait(timeout=10), "the writer never committed on its own"
    assert seen == ["row-1"]
    writer.close()
    backend.close()


def test_writer_queue_is_bounded(tmp_path: Path) -> None:
    release = threading.Event()
    started = threading.Event()

    def slow(payload: int) -> list[int]:
        started.set()
        assert release.wait(timeout=30)
        return [payload]

    backend = open_backend(tmp_path / "w.db")
    writer = BackgroundWriter(backend, apply=lambda cursor, writes: None, max_pending=4,
                              flush_seconds=0.01)  # fmt: skip
    writer.submit(slow, 0)
    assert started.wait(timeout=10)
    producer_done = threading.Event()

    def produce() -> None:
        for i in range(1, 10):
            writer.submit(lambda payload: [payload], i)
        producer_done.set()

    producer = threading.Thread(target=produce, daemon=True)
    producer.start()
    # The writer is stuck in `slow`: the producer must stop at the bound, not queue on.
    assert not producer_done.wait(timeout=0.5)
    assert len(writer._jobs) == 5
    release.set()
    assert producer_done.wait(timeout=30)
    assert writer.flush(timeout=30)
    writer.close()
    backend.close()


def test_flush_from_the_writer_thread_does_not_deadlock(tmp_path: Path) -> None:
    backend = open_backend(tmp_path / "w.db")
    writer = BackgroundWriter(backend, apply=lambda cursor, writes: None)
    inner: list[bool] = []

    def flush_inside(payload: object) -> list[object]:
        # Waiting for itself would hang forever (timeout=None): it must return instead.
        inner.append(writer.flush(timeout=None))
        return []

    writer.submit(flush_inside, None)
    assert writer.flush(timeout=30), "flush() called on the writer thread deadlocked"
    assert len(inner) == 1
    writer.close()
    backend.close()


@pytest.mark.parametrize("count", [1, 3])
def test_reads_see_everything_recorded_before_them(tmp_path: Path, count: int) -> None:
    with WorkflowExecutionHistory(tmp_path / "h.db") as history:
        for i in range(count):
            recorder = history.recorder("wf")
            for event in run_events(f"exec_{i}", nodes=2, start=float(i)):
                recorder(event)
        assert history.count() == count
        assert all(r.status == "completed" for r in history.list_executions())
