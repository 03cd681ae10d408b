"""State snapshots: capture, query, visualise, diff (also as RFC 6902 JSON Patch), rollback.

Snapshots share structure: a capture is a shallow copy of the top-level dict, so values
are shared with the live state and with other snapshots (the executor writes state
copy-on-write, so a shared value never changes under a snapshot). Paths use the
expression language's syntax (`items[0].id`). With `auto_capture=True`, `handle_event`
keeps one snapshot per STATE_CAPTURED event; `from_history` loads a past run's snapshots.
This module knows nothing of storage formats, terminals or editor protocols.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from engine.events import ExecutionEvent, ExecutionEventType
from engine.trace_export.jsonsafe import json_default

if TYPE_CHECKING:
    from engine.history import WorkflowExecutionHistory

__all__ = [
    "StateDiff",
    "StateQueryError",
    "StateSnapshot",
    "UnknownSnapshotError",
    "WorkflowStateManager",
    "diff_states",
    "render_tree",
]

_RAISE: Any = object()


class UnknownSnapshotError(KeyError):
    """No snapshot with that id; `str()` is the plain message."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


class StateQueryError(LookupError):
    """A path that does not resolve in a snapshot; the message names the missing part."""


@dataclass(frozen=True, slots=True)
class StateSnapshot:
    snapshot_id: str
    timestamp: float
    state: Mapping[str, Any]
    """A read-only view of the shallow copy taken at capture time."""
    node_id: str | None = None
    metadata: Mapping[str, Any] = field(default_factory=dict)
    parent_id: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "snapshot_id": self.snapshot_id,
            "timestamp": self.timestamp,
            "node_id": self.node_id,
            "parent_id": self.parent_id,
            "metadata": dict(self.metadata),
            "state": dict(self.state),
        }


@dataclass(frozen=True, slots=True)
class StateDiff:
    """What changed between two states: top-level keys, plus a deep RFC 6902 patch."""

    from_snapshot_id: str | None
    to_snapshot_id: str | None
    added: Mapping[str, Any]
    removed: Mapping[str, Any]
    changed: Mapping[str, Mapping[str, Any]]
    """key -> {"from": old, "to": new}"""
    unchanged: tuple[str, ...]
    patch: tuple[Mapping[str, Any], ...]
    """RFC 6902 operations turning the first state into the second."""

    @property
    def added_keys(self) -> list[str]:
        return list(self.added)

    @property
    def removed_keys(self) -> list[str]:
        return list(self.removed)

    @property
    def changed_keys(self) -> dict[str, Mapping[str, Any]]:
        return dict(self.changed)

    @property
    def is_empty(self) -> bool:
        return not (self.added or self.removed or self.changed)

    def to_dict(self) -> dict[str, Any]:
        return {
            "from_snapshot_id": self.from_snapshot_id,
            "to_snapshot_id": self.to_snapshot_id,
            "added": dict(self.added),
            "removed": dict(self.removed),
            "changed": {k: dict(v) for k, v in self.changed.items()},
            "unchanged": list(self.unchanged),
            "patch": [dict(op) for op in self.patch],
        }


def _jsonable(value: Any) -> Any:
    """Plain JSON data for jsonpatch (it cannot walk tuples, sets or objects)."""
    return json.loads(json.dumps(value, default=json_default))


def diff_states(
    before: Mapping[str, Any],
    after: Mapping[str, Any],
    *,
    from_id: str | None = None,
    to_id: str | None = None,
) -> StateDiff:
    import jsonpatch

    added = {k: after[k] for k in after if k not in before}
    removed = {k: before[k] for k in before if k not in after}
    changed: dict[str, Mapping[str, Any]] = {}
    unchanged: list[str] = []
    for key in before:
        if key not in after:
            continue
        old, new = before[key], after[key]
        if old is new or old == new:
            unchanged.append(key)
        else:
            changed[key] = {"from": old, "to": new}
    # Only the keys that differ go through jsonpatch: shared values cost nothing.
    left = _jsonable({k: before[k] for k in (*removed, *changed)})
    right = _jsonable({k: after[k] for k in (*added, *changed)})
    patch = tuple(jsonpatch.make_patch(left, right).patch)
    return StateDiff(
        from_snapshot_id=from_id,
        to_snapshot_id=to_id,
        added=added,
        removed=removed,
        changed=changed,
        unchanged=tuple(unchanged),
        patch=patch,
    )


def _short(value: Any, width: int = 80) -> str:
    text = json.dumps(value, default=json_default, ensure_ascii=False)
    return text if len(text) <= width else text[: width - 1] + "\u2026"


def render_tree(
    value: Any, *, title: str = "state", max_items: int = 50, max_depth: int = 8
) -> str:
    """A readable tree: one line per key or item, scalars inline, long lists cut."""
    lines = [title]

    def walk(node: Any, prefix: str, depth: int) -> None:
        if isinstance(node, Mapping):
            items: list[tuple[str, Any]] = [(str(k), v) for k, v in node.items()]
        else:
            items = [(f"[{i}]", v) for i, v in enumerate(node)]
        hidden = max(len(items) - max_items, 0)
        items = items[:max_items]
        for index, (label, child) in enumerate(items):
            last = index == len(items) - 1 and not hidden
            branch, indent = (
                ("\u2514\u2500\u2500 ", "    ") if last else ("\u251c\u2500\u2500 ", "\u2502   ")
            )
            is_container = isinstance(child, Mapping | list | tuple)
            if is_container and child and depth < max_depth:
                size = (
                    f"{{{len(child)} keys}}"
                    if isinstance(child, Mapping)
                    else f"[{len(child)} items]"
                )
                lines.append(f"{prefix}{branch}{label} {size}")
                walk(child, prefix + indent, depth + 1)
            else:
                lines.append(f"{prefix}{branch}{label}: {_short(child)}")
        if hidden:
            lines.append(f"{prefix}\u2514\u2500\u2500 \u2026 {hidden} more")

    if isinstance(value, Mapping | list | tuple) and value:
        walk(value, "", 0)
    else:
        lines[0] = f"{title}: {_short(value)}"
    return "\n".join(lines)


def _paths() -> tuple[Any, Any]:
    """The expression language's path functions (one syntax for every state query)."""
    try:
        from engine.expressions import get_path, parse_path
    except ImportError:  # the package does not re-export them yet
        from engine.expressions.paths import get_path, parse_path
    return get_path, parse_path


def query_path(state: Mapping[str, Any], path: str) -> Any:
    """The value at `path` in `state`; raises StateQueryError with the reason."""
    get_path, parse_path = _paths()
    try:
        return get_path(state, parse_path(path))
    except (KeyError, IndexError, ValueError, TypeError) as error:
        message = str(error.args[0]) if isinstance(error, KeyError) and error.args else str(error)
        raise StateQueryError(message) from None
    except Exception as error:  # ExpressionSyntaxError and friends
        raise StateQueryError(str(error)) from None


class WorkflowStateManager:
    """Keeps up to `max_snapshots` snapshots in capture order (oldest dropped first)."""

    def __init__(self, max_snapshots: int = 1000, auto_capture: bool = False) -> None:
        self.max_snapshots = max_snapshots
        self.auto_capture = auto_capture
        self._snapshots: OrderedDict[str, StateSnapshot] = OrderedDict()
        self._lock = threading.RLock()
        self._captured_per_execution: dict[str, int] = {}

    # -- capture -----------------------------------------------------------------------------
    def capture_state(
        self,
        state: Mapping[str, Any],
        node_id: str | None = None,
        metadata: Mapping[str, Any] | None = None,
        *,
        snapshot_id: str | None = None,
        timestamp: float | None = None,
    ) -> str:
        """Snapshot `state` (a shallow copy; values are shared) and return its id."""
        with self._lock:
            snapshot_id = snapshot_id or f"snap_{uuid.uuid4().hex[:12]}"
            parent = next(reversed(self._snapshots)) if self._snapshots else None
            snapshot = StateSnapshot(
                snapshot_id=snapshot_id,
                timestamp=timestamp if timestamp is not None else time.time(),
                state=MappingProxyType(dict(state)),
                node_id=node_id,
                metadata=dict(metadata or {}),
                parent_id=parent,
            )
            self._snapshots[snapshot_id] = snapshot
            while len(self._snapshots) > self.max_snapshots > 0:
                self._snapshots.popitem(last=False)
            return snapshot_id

    def handle_event(self, event: ExecutionEvent) -> None:
        """Subscriber: with auto_capture, one snapshot per STATE_CAPTURED event."""
        if not self.auto_capture or event.event_type is not ExecutionEventType.STATE_CAPTURED:
            return
        if event.state is None:
            return
        with self._lock:
            seq = self._captured_per_execution.get(event.execution_id, 0)
            self._captured_per_execution[event.execution_id] = seq + 1
        self.capture_state(
            event.state,
            event.node_id,
            {
                "execution_id": event.execution_id,
                "thread": event.thread,
                "iteration": event.iteration,
            },
            snapshot_id=snapshot_id_for(event, seq),
            timestamp=event.timestamp,
        )

    # -- lookup --------------------------------------------------------------------------------
    def get_snapshot(self, snapshot_id: str) -> StateSnapshot:
        with self._lock:
            snapshot = self._snapshots.get(snapshot_id)
            if snapshot is None:
                known = ", ".join(list(self._snapshots)[-5:]) or "none"
                raise UnknownSnapshotError(
                    f"no snapshot {snapshot_id!r} (latest snapshots: {known})"
                )
            return snapshot

    def get_latest_snapshot(self) -> StateSnapshot | None:
        with self._lock:
            return self._snapshots[next(reversed(self._snapshots))] if self._snapshots else None

    def list_snapshots(self, limit: int | None = None) -> list[StateSnapshot]:
        with self._lock:
            snapshots = list(self._snapshots.values())
        return snapshots[-limit:] if limit else snapshots

    def remove_snapshot(self, snapshot_id: str) -> bool:
        with self._lock:
            return self._snapshots.pop(snapshot_id, None) is not None

    def clear_snapshots(self) -> None:
        with self._lock:
            self._snapshots.clear()

    def __len__(self) -> int:
        return len(self._snapshots)

    def _state(self, snapshot_id: str | None) -> tuple[str | None, Mapping[str, Any]]:
        if snapshot_id is None:
            latest = self.get_latest_snapshot()
            if latest is None:
                raise UnknownSnapshotError("no snapshots have been captured yet")
            return latest.snapshot_id, latest.state
        return snapshot_id, self.get_snapshot(snapshot_id).state

    # -- views ---------------------------------------------------------------------------------
    def query_state(self, snapshot_id: str | None, path: str, default: Any = _RAISE) -> Any:
        """The value at `path` (`user.name`, `items[0].id`) in a snapshot (None: the latest)."""
        _, state = self._state(snapshot_id)
        try:
            return query_path(state, path)
        except StateQueryError:
            if default is _RAISE:
                raise
            return default

    def visualize_state(self, snapshot_id: str | None = None, format: str = "text") -> str:
        snapshot = self.get_snapshot(snapshot_id) if snapshot_id else self.get_latest_snapshot()
        if snapshot is None:
            raise UnknownSnapshotError("no snapshots have been captured yet")
        if format == "json":
            return json.dumps(dict(snapshot.state), indent=2, default=json_default)
        if format == "yaml":
            import yaml

            return str(yaml.safe_dump(_jsonable(dict(snapshot.state)), sort_keys=False))
        where = f" at {snapshot.node_id}" if snapshot.node_id else ""
        return render_tree(snapshot.state, title=f"state {snapshot.snapshot_id}{where}")

    def compute_diff(self, from_snapshot_id: str, to_snapshot_id: str) -> StateDiff:
        before = self.get_snapshot(from_snapshot_id).state
        after = self.get_snapshot(to_snapshot_id).state
        return diff_states(before, after, from_id=from_snapshot_id, to_id=to_snapshot_id)

    def visualize_diff(self, from_snapshot_id: str, to_snapshot_id: str) -> str:
        return render_diff(self.compute_diff(from_snapshot_id, to_snapshot_id))

    # -- rollback --------------------------------------------------------------------------------
    def rollback_to(self, snapshot_id: str) -> dict[str, Any]:
        """The snapshot's state as a new dict; also recorded as a new snapshot."""
        snapshot = self.get_snapshot(snapshot_id)
        restored = dict(snapshot.state)
        self.capture_state(restored, snapshot.node_id, {"rollback_from": snapshot_id})
        return restored

    # -- persistence -------------------------------------------------------------------------------
    @classmethod
    def from_history(
        cls, history: WorkflowExecutionHistory, execution_id: str
    ) -> WorkflowStateManager:
        """A manager holding the recorded snapshots of a past execution."""
        snapshots = history.load_snapshots(execution_id)
        manager = cls(max_snapshots=max(len(snapshots), 1))
        for info, state in snapshots:
            manager.capture_state(
                state,
                info.node_id,
                dict(info.metadata),
                snapshot_id=info.snapshot_id,
                timestamp=info.created_at,
            )
        return manager


def snapshot_id_for(event: ExecutionEvent, seq: int) -> str:
    """The id of the `seq`-th snapshot of a run: the executor's if given, else derived.

    The history recorder uses the same rule, so ids seen live match ids stored.
    """
    given = event.metadata.get("snapshot_id")
    if isinstance(given, str) and given:
        return given
    suffix = event.execution_id.removeprefix("exec_")
    return f"snap_{suffix}_{seq:04d}"


def render_diff(diff: StateDiff) -> str:
    lines = [f"diff {diff.from_snapshot_id or '?'} -> {diff.to_snapshot_id or '?'}"]
    if diff.is_empty:
        lines.append("  (no changes)")
    for key, value in diff.added.items():
        lines.append(f"+ {key}: {_short(value)}")
    for key, value in diff.removed.items():
        lines.append(f"- {key}: {_short(value)}")
    for key, change in diff.changed.items():
        lines.append(f"~ {key}: {_short(change['from'], 38)} -> {_short(change['to'], 38)}")
    if diff.patch:
        lines.append("JSON Patch (RFC 6902):")
        lines.extend(f"  {_short(dict(op), 100)}" for op in diff.patch)
    return "\n".join(lines)
