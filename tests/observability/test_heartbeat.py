"""Runs left `running` by a process on any host read back as `interrupted` once silent."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

import engine.history
from engine.events import ExecutionEvent, ExecutionEventType
from engine.history import STALE_AFTER_SECONDS, WorkflowExecutionHistory

T = ExecutionEventType


class FakeClock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def insert_running(history: WorkflowExecutionHistory, execution_id: str, heartbeat: float) -> None:
    """A run some other machine is (or was) recording: its pid means nothing here."""
    with history._db.write() as cursor:
        cursor.execute(
            "INSERT INTO executions (execution_id, workflow_name, status, started_at, host, pid,"
            " heartbeat_at) VALUES (?, 'wf', 'running', ?, 'another-host', 1, ?)",
            (execution_id, heartbeat - 100.0, heartbeat),
        )


def test_a_silent_run_from_another_host_is_interrupted(history_target: str) -> None:
    now = time.time()
    with WorkflowExecutionHistory(history_target) as writer:
        insert_running(writer, "exec_silent", now - STALE_AFTER_SECONDS - 5)
        insert_running(writer, "exec_alive", now - 2)
    with WorkflowExecutionHistory(history_target) as history:
        statuses = {r.execution_id: r.status for r in history.list_executions()}
        assert statuses == {"exec_silent": "interrupted", "exec_alive": "running"}
        # Opening the store also wrote it down, so SQL filters and stats agree.
        assert [r.execution_id for r in history.list_executions(status="interrupted")] == [
            "exec_silent"
        ]
        assert history.get_workflow_stats("wf")["interrupted_executions"] == 1


def test_the_writer_keeps_a_live_run_fresh_and_silence_makes_it_stale(
    history_target: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(engine.history, "HEARTBEAT_SECONDS", 0.0)  # a beat in every batch
    clock = FakeClock(1_000_000.0)
    with WorkflowExecutionHistory(history_target, clock=clock) as recording:
        recorder = recording.recorder("wf")
        recorder(ExecutionEvent(T.WORKFLOW_STARTED, "exec_live", "wf", clock.now))
        assert recording.flush()
        clock.now += 600.0  # ten minutes on, the process still records the run
        recorder(ExecutionEvent(T.NODE_STARTED, "exec_live", "wf", clock.now, node_id="slow"))
        assert recording.flush()
        reader_clock = FakeClock(clock.now + STALE_AFTER_SECONDS - 1)
        with WorkflowExecutionHistory(history_target, clock=reader_clock) as reader:
            assert reader.require_execution("exec_live").status == "running"
            reader_clock.now = clock.now + STALE_AFTER_SECONDS + 1  # no beat since: silent
            assert reader.require_execution("exec_live").status == "interrupted"
        recorder(ExecutionEvent(T.WORKFLOW_COMPLETED, "exec_live", "wf", clock.now, state={}))
        assert recording.require_execution("exec_live").status == "completed"


def test_heartbeats_stop_when_the_run_ends(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(engine.history, "HEARTBEAT_SECONDS", 0.0)
    clock = FakeClock(5_000.0)
    with WorkflowExecutionHistory(tmp_path / "h.db", clock=clock) as history:
        recorder = history.recorder("wf")
        recorder(ExecutionEvent(T.WORKFLOW_STARTED, "exec_done", "wf", clock.now))
        recorder(ExecutionEvent(T.WORKFLOW_COMPLETED, "exec_done", "wf", clock.now, state={}))
        assert history.flush()
        clock.now += 100.0
        recorder2 = history.recorder("wf")
        recorder2(ExecutionEvent(T.WORKFLOW_STARTED, "exec_next", "wf", clock.now))
        assert history.flush()
        rows = dict(history._db.query("SELECT execution_id, heartbeat_at FROM executions"))
        assert rows == {"exec_done": 5_000.0, "exec_next": 5_100.0}


def test_the_writer_beats_while_a_run_is_active_even_without_events(tmp_path: Path) -> None:
    """A long agent call emits nothing for minutes: the heartbeat must not depend on events."""
    from engine.history_store import open_backend
    from engine.history_store.writer import BackgroundWriter

    beats: list[int] = []
    third_beat = threading.Event()

    def heartbeat() -> list[object]:
        beats.append(len(beats))
        if len(beats) >= 3:
            third_beat.set()
        return []

    backend = open_backend(tmp_path / "w.db")
    writer = BackgroundWriter(backend, apply=lambda cursor, writes: None, heartbeat=heartbeat,
                              heartbeat_seconds=0.0, flush_seconds=0.01,
                              is_active=lambda: True)  # fmt: skip
    writer.submit(lambda payload: [], None)  # the run starts; then silence
    assert third_beat.wait(timeout=30), f"only {len(beats)} heartbeat(s)"
    writer.close(timeout=5)
    backend.close()


def test_a_paused_run_keeps_its_state_and_is_never_reported_interrupted(tmp_path: Path) -> None:
    clock = FakeClock(10_000.0)
    state = {"task": "x", "draft": "v1"}
    with WorkflowExecutionHistory(tmp_path / "h.db", clock=clock) as history:
        recorder = history.recorder("wf")
        recorder(ExecutionEvent(T.WORKFLOW_STARTED, "exec_p", "wf", clock.now))
        recorder(ExecutionEvent(T.WORKFLOW_PAUSED, "exec_p", "wf", clock.now + 2, state=state,
                                metadata={"resume_from": "review"}))  # fmt: skip
        assert history.flush()
        assert history._running == set()  # no more heartbeats for it
        clock.now += 10 * STALE_AFTER_SECONDS
        record = history.require_execution("exec_p")
        assert record.status == "paused" and record.success is None
        assert history.final_state("exec_p") == state
