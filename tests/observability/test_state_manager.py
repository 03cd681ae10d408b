"""State manager: snapshots, path queries, tree view, diffs with JSON Patch, rollback, sharing."""

from __future__ import annotations

import copy
import tracemalloc

import jsonpatch
import pytest

from engine.events import ExecutionEvent, ExecutionEventType
from engine.state_manager import (
    StateQueryError,
    UnknownSnapshotError,
    WorkflowStateManager,
)

STATE = {
    "user": {"name": "john", "roles": ["admin"]},
    "items": [{"id": "a1"}, {"id": "b2"}],
    "data": {"results": {"summary": "ok"}},
}


def test_queries_use_the_expression_path_syntax() -> None:
    manager = WorkflowStateManager()
    snap = manager.capture_state(STATE, node_id="node_1")
    assert snap.startswith("snap_")
    assert manager.query_state(snap, "user.name") == "john"
    assert manager.query_state(snap, "items[0].id") == "a1"
    assert manager.query_state(snap, "data.results.summary") == "ok"
    assert manager.query_state(snap, "items[1]['id']") == "b2"
    with pytest.raises(StateQueryError, match="out of range"):
        manager.query_state(snap, "items[5].id")
    assert manager.query_state(snap, "user.email", default=None) is None
    with pytest.raises(UnknownSnapshotError, match="snap_nope"):
        manager.query_state("snap_nope", "user")


def test_visualize_state_is_a_readable_tree() -> None:
    manager = WorkflowStateManager()
    snap = manager.capture_state(STATE, node_id="node_1")
    text = manager.visualize_state(snap)
    lines = text.splitlines()
    assert lines[0] == f"state {snap} at node_1"
    assert any(line.endswith('name: "john"') for line in lines)
    assert any("items [2 items]" in line for line in lines)


def test_diff_reports_changes_and_a_patch_that_applies() -> None:
    manager = WorkflowStateManager()
    before = manager.capture_state(STATE, "n1")
    after_state = {**STATE, "user": {"name": "jane", "roles": ["admin"]}, "new": 1}
    del after_state["data"]
    after = manager.capture_state(after_state, "n2")
    diff = manager.compute_diff(before, after)
    assert diff.added_keys == ["new"]
    assert diff.removed_keys == ["data"]
    assert list(diff.changed_keys) == ["user"]
    assert diff.unchanged == ("items",)
    patched = jsonpatch.apply_patch(copy.deepcopy(STATE), [dict(op) for op in diff.patch])
    assert patched == after_state
    assert {"op": "replace", "path": "/user/name", "value": "jane"} in diff.patch
    text = manager.visualize_diff(before, after)
    assert "+ new: 1" in text and "- data:" in text and "~ user:" in text


def test_rollback_returns_the_old_state_and_records_it() -> None:
    manager = WorkflowStateManager()
    first = manager.capture_state({"step": 1}, "a")
    manager.capture_state({"step": 2}, "b")
    restored = manager.rollback_to(first)
    assert restored == {"step": 1}
    latest = manager.get_latest_snapshot()
    assert latest is not None and latest.metadata["rollback_from"] == first


def test_auto_capture_keeps_one_snapshot_per_state_event() -> None:
    manager = WorkflowStateManager(auto_capture=True)
    for i in range(3):
        manager.handle_event(
            ExecutionEvent(
                ExecutionEventType.STATE_CAPTURED,
                "exec_abc",
                "wf",
                float(i),
                node_id=f"n{i}",
                state={"i": i},
            )
        )
    manager.handle_event(ExecutionEvent(ExecutionEventType.NODE_STARTED, "exec_abc", "wf", 9.0))
    ids = [s.snapshot_id for s in manager.list_snapshots()]
    assert ids == ["snap_abc_0000", "snap_abc_0001", "snap_abc_0002"]
    assert manager.query_state(None, "i") == 2


def test_max_snapshots_drops_the_oldest() -> None:
    manager = WorkflowStateManager(max_snapshots=3)
    ids = [manager.capture_state({"i": i}) for i in range(5)]
    assert [s.snapshot_id for s in manager.list_snapshots()] == ids[2:]


def test_thousand_snapshots_of_a_large_state_share_structure() -> None:
    big: dict[str, object] = {f"key_{i}": "x" * 1000 for i in range(1000)}  # about 1 MB
    manager = WorkflowStateManager(max_snapshots=2000)
    tracemalloc.start()
    try:
        baseline = tracemalloc.get_traced_memory()[0]
        state = dict(big)
        for i in range(1000):
            state = {**state, "counter": i}  # copy-on-write, as the executor does
            manager.capture_state(state, f"n{i}")
        used = tracemalloc.get_traced_memory()[0] - baseline
    finally:
        tracemalloc.stop()
    assert len(manager) == 1000
    # Deep copies would cost about 1 GB; shallow snapshots cost one dict each.
    assert used < 200 * 1024 * 1024, f"{used / 1e6:.0f} MB"
