"""Execution history: every run recorded as it goes, queried and aggregated in SQL.

`WorkflowExecutionHistory` stores runs in SQLite (`$VICTOR_HOME/workflows.db`, default
`~/.victor/`, or the project's `history_url`) or, with `VICTOR_HISTORY_URL=postgresql://...`
(or such a `history_url`), in PostgreSQL through the same SQL.
`history.recorder(workflow)` returns an event subscriber that writes the execution row at
start, each node record when it finishes and the outcome at the end, so
a killed process leaves a readable run that reads back as `interrupted`.
State snapshots are stored as deltas of the top-level keys that changed (snapshots share
structure), with a full copy every `FULL_SNAPSHOT_EVERY` snapshots.
This module knows nothing of terminals, editors or how the executor runs nodes.
"""

from __future__ import annotations

import logging
import os
import socket
import time
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from engine.events import EventSubscriber, ExecutionEvent, ExecutionEventType
from engine.history_store import (
    Backend,
    HistoryStoreError,
    chunks,
    is_postgres_url,
    open_backend,
)
from engine.history_store.writer import BackgroundWriter, flush_writers
from engine.state import public_view
from engine.state_manager import diff_states, snapshot_id_for
from engine.trace import NodeTraceRecord, ToolCallRecord, WorkflowTrace
from engine.trace_export.jsonsafe import dumps, loads

if TYPE_CHECKING:
    from engine.model import Workflow
    from engine.project_config import ProjectConfig

__all__ = [
    "ExecutionComparison",
    "ExecutionRecord",
    "HistoryStoreError",
    "SnapshotInfo",
    "UnknownExecutionError",
    "WorkflowExecutionHistory",
    "default_history_location",
    "open_default_history",
]

log = logging.getLogger(__name__)

FULL_SNAPSHOT_EVERY = 32
FLUSH_SECONDS = 0.05
"""The background writer commits at least this often while a run is recording."""
MAX_PENDING_EVENTS = 10_000
"""Events queued for the writer at most; a run faster than the database waits beyond this."""
HEARTBEAT_SECONDS = 5.0
"""How often the writer stamps `heartbeat_at` on the runs this process is recording."""
STALE_AFTER_SECONDS = 30.0
"""A `running` run whose heartbeat is older than this reads back as `interrupted`."""
REPLAYABLE_KINDS = ("agent", "team", "hitl", "compute")
"""Node types whose outputs a deterministic replay feeds back instead of re-running."""

_HOST = socket.gethostname()
_MISSING = object()


class UnknownExecutionError(KeyError):
    """No execution (or snapshot) with that id; `str()` is the plain message."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


def default_history_location(
    environ: Mapping[str, str] | None = None,
    *,
    project: ProjectConfig | None = None,
    start: str | Path | None = None,
) -> str:
    """Where runs are recorded; the first of these that is set wins:

    1. `VICTOR_HISTORY_URL`;
    2. the project's `history_url` (victor.toml or `[tool.victor]`): of `project`, or of
       the project found by walking up from `start` (a workflow file or a folder). A
       relative SQLite path is relative to the folder of the file that declares it;
    3. `$VICTOR_HOME/workflows.db`, else `~/.victor/workflows.db`.

    Raises `engine.project_config.ProjectConfigError` when `start`'s project file is broken.
    """
    env = os.environ if environ is None else environ
    url = env.get("VICTOR_HISTORY_URL", "").strip()
    if url:
        return url
    if project is None and start is not None:
        from engine.project_config import find_project_config

        project = find_project_config(start)
    configured = _project_history_location(project) if project is not None else None
    if configured:
        return configured
    home = env.get("VICTOR_HOME", "").strip()
    base = Path(home).expanduser() if home else Path.home() / ".victor"
    return str(base / "workflows.db")


def _project_history_location(project: ProjectConfig) -> str | None:
    url = (project.history_url or "").strip()
    if not url or is_postgres_url(url) or project.root is None:
        return url or None
    path = Path(url.removeprefix("sqlite:///")).expanduser()
    return str(path if path.is_absolute() else project.root / path)


def open_default_history(
    *,
    create: bool = True,
    project: ProjectConfig | None = None,
    start: str | Path | None = None,
) -> WorkflowExecutionHistory:
    """The history `default_history_location(project=..., start=...)` names;
    `create=False` refuses a missing SQLite file."""
    return WorkflowExecutionHistory(
        default_history_location(project=project, start=start), create=create
    )


@dataclass(frozen=True, slots=True)
class SnapshotInfo:
    snapshot_id: str
    execution_id: str
    seq: int
    node_id: str | None
    created_at: float | None
    metadata: Mapping[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "snapshot_id": self.snapshot_id,
            "seq": self.seq,
            "node_id": self.node_id,
            "created_at": self.created_at,
            "metadata": dict(self.metadata),
        }


@dataclass(frozen=True, slots=True)
class ExecutionRecord:
    """One run as stored. `nodes`, `snapshots` and `final_state` are filled by `get_execution`."""

    execution_id: str
    workflow_name: str
    timestamp: float
    status: str
    success: bool | None
    duration_seconds: float | None = None
    workflow_file: str | None = None
    inputs: Any = None
    outputs: Any = None
    error: str | None = None
    nodes_executed: tuple[str, ...] = ()
    node_count: int = 0
    ended_at: float | None = None
    host: str | None = None
    pid: int | None = None
    metadata: Mapping[str, Any] = field(default_factory=dict)
    nodes: tuple[NodeTraceRecord, ...] = ()
    snapshots: tuple[SnapshotInfo, ...] = ()
    final_state: Any = None

    @property
    def started_at(self) -> datetime:
        return datetime.fromtimestamp(self.timestamp).astimezone()

    def to_dict(self, *, full: bool = False) -> dict[str, Any]:
        data: dict[str, Any] = {
            "execution_id": self.execution_id,
            "workflow_name": self.workflow_name,
            "workflow_file": self.workflow_file,
            "timestamp": self.started_at.isoformat(),
            "status": self.status,
            "success": self.success,
            "duration_seconds": self.duration_seconds,
            "nodes_executed": list(self.nodes_executed),
            "inputs": self.inputs,
            "outputs": self.outputs,
            "error": self.error,
        }
        if full:
            data["nodes"] = [node.to_dict() for node in self.nodes]
            data["snapshots"] = [snap.to_dict() for snap in self.snapshots]
            data["final_state"] = self.final_state
            data["metadata"] = dict(self.metadata)
        return data

    def to_trace(self) -> WorkflowTrace:
        return WorkflowTrace(
            execution_id=self.execution_id,
            workflow_name=self.workflow_name,
            start_time=self.timestamp,
            end_time=self.ended_at,
            inputs=self.inputs,
            outputs=self.outputs,
            success=self.success,
            error=self.error,
            nodes=self.nodes,
            metadata=dict(self.metadata),
            graph=self.metadata.get("graph") if isinstance(self.metadata, Mapping) else None,
        )


@dataclass(frozen=True, slots=True)
class ExecutionComparison:
    execution_id_1: str
    execution_id_2: str
    output_diff: Mapping[str, Any]
    """added / removed / changed top-level output keys and the RFC 6902 patch."""
    performance_diff: Mapping[str, Any]
    """duration_1, duration_2, duration_delta, duration_ratio, node_duration_deltas."""
    node_diff: Mapping[str, Any]
    """nodes_only_in_1, nodes_only_in_2, common_nodes, status_changes, order_changed."""
    status_1: str = ""
    status_2: str = ""

    @property
    def outputs_equal(self) -> bool:
        return not (
            self.output_diff.get("added")
            or self.output_diff.get("removed")
            or self.output_diff.get("changed")
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "execution_id_1": self.execution_id_1,
            "execution_id_2": self.execution_id_2,
            "status_1": self.status_1,
            "status_2": self.status_2,
            "outputs_equal": self.outputs_equal,
            "output_diff": dict(self.output_diff),
            "performance_diff": dict(self.performance_diff),
            "node_diff": dict(self.node_diff),
        }


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _bool(value: Any) -> bool | None:
    return None if value is None else bool(value)


_EXECUTION_COLUMNS = (
    "execution_id, workflow_name, started_at, status, success, duration_seconds, workflow_file,"
    " inputs, outputs, error, node_count, ended_at, host, pid, metadata, heartbeat_at"
)


class WorkflowExecutionHistory:
    """The history store. Safe to share between threads; several processes may write."""

    def __init__(
        self,
        path_or_url: str | Path | None = None,
        *,
        create: bool = True,
        stale_after_seconds: float = STALE_AFTER_SECONDS,
        clock: Callable[[], float] = time.time,
    ) -> None:
        target = default_history_location() if path_or_url is None else path_or_url
        self._db: Backend = open_backend(target, create=create)
        self.location = self._db.location
        self.stale_after_seconds = stale_after_seconds
        self._clock = clock
        self._running: set[str] = set()
        """Runs this process is recording (touched only on the writer thread)."""
        self._writer = BackgroundWriter(
            self._db,
            flush_seconds=FLUSH_SECONDS,
            max_pending=MAX_PENDING_EVENTS,
            apply=_apply_rows,
            heartbeat=self._heartbeat_rows,
            heartbeat_seconds=HEARTBEAT_SECONDS,
            is_active=lambda: bool(self._running),
        )
        self._reap_interrupted()

    def flush(self, timeout: float | None = 30.0) -> bool:
        """Wait until everything this process recorded here so far is committed.

        Covers every history object of this process on the same database, so a run
        recorded through one is visible through another. False if `timeout` passed.
        """
        return flush_writers(self.location, timeout)

    def close(self) -> None:
        self._writer.close()
        self._db.close()

    def _query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        # Read-your-writes: runs this process recorded here are committed before reading.
        flush_writers(self.location)
        return self._db.query(sql, params)

    def _heartbeat_rows(self) -> list[_Row]:
        now = self._clock()
        return [(_RUN_HEARTBEAT, (now, execution_id)) for execution_id in self._running]

    def _is_stale(self, status: str, host: Any, pid: Any, heartbeat: Any) -> bool:
        """A `running` row nobody is recording any more: its process died or went silent."""
        if status != "running":
            return False
        if heartbeat is not None and float(heartbeat) < self._clock() - self.stale_after_seconds:
            return True  # any host: the writer stamps the heartbeat every HEARTBEAT_SECONDS
        return host == _HOST and pid is not None and not _pid_alive(int(pid))

    def __enter__(self) -> WorkflowExecutionHistory:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    # -- recording --------------------------------------------------------------------------
    def recorder(
        self,
        workflow: Workflow | str,
        workflow_file: str | None = None,
        *,
        record_snapshots: bool = True,
    ) -> EventSubscriber:
        """An event subscriber that records each run of `workflow` as it goes."""
        return _Recorder(self, workflow, workflow_file, record_snapshots=record_snapshots)

    def record_execution(
        self,
        workflow_name: str,
        *,
        inputs: Any = None,
        outputs: Any = None,
        success: bool = True,
        duration_seconds: float = 0.0,
        error: str | None = None,
        nodes: Sequence[NodeTraceRecord] | Sequence[str] = (),
        execution_id: str | None = None,
        timestamp: float | None = None,
        workflow_file: str | None = None,
        status: str | None = None,
        metadata: Mapping[str, Any] | None = None,
    ) -> str:
        """Store a whole finished run at once (Victor's API; also used for imports)."""
        execution_id = execution_id or new_execution_id()
        started = timestamp if timestamp is not None else time.time() - duration_seconds
        records = [
            NodeTraceRecord(node_id=n, start_time=started) if isinstance(n, str) else n
            for n in nodes
        ]
        with self._db.write() as cursor:
            cursor.execute(
                "INSERT INTO executions (execution_id, workflow_name, workflow_file, status,"
                " success, started_at, ended_at, duration_seconds, node_count, inputs, outputs,"
                " error, metadata) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    execution_id,
                    workflow_name,
                    workflow_file,
                    status or ("completed" if success else "failed"),
                    int(success),
                    started,
                    started + duration_seconds,
                    duration_seconds,
                    len(records),
                    dumps(inputs if inputs is not None else {}),
                    dumps(outputs),
                    error,
                    dumps(dict(metadata or {})),
                ),
            )
            rows = [
                row
                for seq, record in enumerate(records)
                for row in _node_rows(execution_id, workflow_name, seq, record)
            ]
            _apply_rows(cursor, rows)
        return execution_id

    def record_trace(self, trace: WorkflowTrace, workflow_file: str | None = None) -> str:
        return self.record_execution(
            trace.workflow_name,
            inputs=trace.inputs,
            outputs=trace.outputs,
            success=bool(trace.success),
            duration_seconds=trace.duration_seconds,
            error=trace.error,
            nodes=trace.nodes,
            execution_id=trace.execution_id or None,
            timestamp=trace.start_time,
            workflow_file=workflow_file,
        )

    # -- reading ------------------------------------------------------------------------------
    def _reap_interrupted(self) -> None:
        """Runs left `running` by a dead process (or one silent too long) become `interrupted`."""
        try:
            rows = self._query(
                "SELECT execution_id, host, pid, heartbeat_at FROM executions"
                " WHERE status = 'running'"
            )
            dead = [
                eid for eid, host, pid, beat in rows if self._is_stale("running", host, pid, beat)
            ]
            if not dead:
                return
            with self._db.write() as cursor:
                for batch in chunks(dead):
                    marks = ", ".join("?" for _ in batch)
                    cursor.execute(
                        "UPDATE executions SET status = 'interrupted', success = 0,"
                        " error = COALESCE(error, 'the process running it stopped')"
                        f" WHERE status = 'running' AND execution_id IN ({marks})",
                        tuple(batch),
                    )
        except Exception as error:  # reading must work even when the store is read-only
            log.debug("could not mark interrupted runs: %s", error)

    def _row_to_record(
        self, row: Sequence[Any], nodes_executed: Sequence[str] = ()
    ) -> ExecutionRecord:
        (eid, name, started, status, success, duration, wf_file, inputs, outputs, error,
         node_count, ended, host, pid, metadata, heartbeat) = row  # fmt: skip
        if self._is_stale(status, host, pid, heartbeat):
            status, success = "interrupted", 0
        return ExecutionRecord(
            execution_id=eid,
            workflow_name=name,
            timestamp=float(started),
            status=status,
            success=_bool(success),
            duration_seconds=duration,
            workflow_file=wf_file,
            inputs=loads(inputs),
            outputs=loads(outputs),
            error=error,
            nodes_executed=tuple(nodes_executed),
            node_count=int(node_count or 0),
            ended_at=ended,
            host=host,
            pid=pid,
            metadata=loads(metadata) or {},
        )

    def list_executions(
        self,
        workflow_name: str | None = None,
        limit: int | None = 50,
        *,
        success_only: bool = False,
        status: str | None = None,
        start_time: float | None = None,
        end_time: float | None = None,
    ) -> list[ExecutionRecord]:
        """Newest first."""
        where, params = self._filters(workflow_name, success_only, status, start_time, end_time)
        sql = f"SELECT {_EXECUTION_COLUMNS} FROM executions{where} ORDER BY started_at DESC"
        if limit is not None:
            sql += " LIMIT ?"
            params.append(int(limit))
        rows = self._query(sql, params)
        ids = [row[0] for row in rows]
        executed = self._nodes_executed(ids)
        return [self._row_to_record(row, executed.get(row[0], ())) for row in rows]

    @staticmethod
    def _filters(
        workflow_name: str | None,
        success_only: bool,
        status: str | None,
        start_time: float | None,
        end_time: float | None,
    ) -> tuple[str, list[Any]]:
        clauses: list[str] = []
        params: list[Any] = []
        if workflow_name is not None:
            clauses.append("workflow_name = ?")
            params.append(workflow_name)
        if success_only:
            clauses.append("success = 1")
        if status is not None:
            clauses.append("status = ?")
            params.append(status)
        if start_time is not None:
            clauses.append("started_at >= ?")
            params.append(start_time)
        if end_time is not None:
            clauses.append("started_at <= ?")
            params.append(end_time)
        return (" WHERE " + " AND ".join(clauses) if clauses else ""), params

    def _nodes_executed(self, execution_ids: Sequence[str]) -> dict[str, list[str]]:
        found: dict[str, list[str]] = {}
        for batch in chunks(list(execution_ids)):
            marks = ", ".join("?" for _ in batch)
            rows = self._query(
                f"SELECT execution_id, node_id FROM node_records WHERE execution_id IN ({marks})"
                " ORDER BY execution_id, seq",
                tuple(batch),
            )
            for eid, node_id in rows:
                found.setdefault(eid, []).append(node_id)
        return found

    def get_execution(self, execution_id: str) -> ExecutionRecord | None:
        """The full record (nodes, snapshots, final state), or None if unknown."""
        rows = self._query(
            f"SELECT {_EXECUTION_COLUMNS}, final_state FROM executions WHERE execution_id = ?",
            (execution_id,),
        )
        if not rows:
            return None
        row = rows[0]
        nodes = self.node_records(execution_id)
        record = self._row_to_record(row[:-1], [n.node_id for n in nodes])
        return replace(
            record,
            nodes=tuple(nodes),
            snapshots=tuple(self.snapshots(execution_id)),
            final_state=loads(row[-1]),
        )

    def require_execution(self, execution_id: str) -> ExecutionRecord:
        record = self.get_execution(execution_id)
        if record is None:
            raise UnknownExecutionError(
                f"no execution {execution_id!r} in the history at {self.location}; "
                "list executions with `victor workflow history`"
            )
        return record

    def node_records(self, execution_id: str) -> list[NodeTraceRecord]:
        rows = self._query(
            "SELECT node_id, node_type, thread, status, success, started_at, ended_at,"
            " duration_seconds, attempts, iteration, inputs, outputs, error, tool_calls, metadata"
            " FROM node_records WHERE execution_id = ? ORDER BY seq",
            (execution_id,),
        )
        records = []
        for (node_id, node_type, thread, status, success, started, ended, duration, attempts,
             iteration, inputs, outputs, error, tool_calls, metadata) in rows:  # fmt: skip
            records.append(
                NodeTraceRecord(
                    node_id=node_id,
                    node_type=node_type or "unknown",
                    start_time=started or 0.0,
                    end_time=ended,
                    duration_seconds=duration or 0.0,
                    inputs=loads(inputs),
                    outputs=loads(outputs),
                    success=bool(success),
                    status=status or "completed",
                    error=error,
                    attempts=attempts or 1,
                    tool_calls=tuple(ToolCallRecord.from_dict(c) for c in loads(tool_calls) or ()),
                    thread=thread or "main",
                    iteration=iteration or 0,
                    metadata=loads(metadata) or {},
                )
            )
        return records

    def recorded_outputs(
        self, execution_id: str, kinds: Iterable[str] | None = REPLAYABLE_KINDS
    ) -> dict[str, list[Any]]:
        """node id -> the outputs it produced, in order (for `recorded_outputs=` replay)."""
        rows = self._query(
            "SELECT node_id, kind, outputs FROM recorded_outputs WHERE execution_id = ?"
            " ORDER BY seq",
            (execution_id,),
        )
        wanted = None if kinds is None else set(kinds)
        outputs: dict[str, list[Any]] = {}
        for node_id, kind, value in rows:
            if wanted is None or kind in wanted:
                outputs.setdefault(node_id, []).append(loads(value))
        return outputs

    # -- snapshots -------------------------------------------------------------------------------
    def snapshots(self, execution_id: str) -> list[SnapshotInfo]:
        rows = self._query(
            "SELECT snapshot_id, seq, node_id, created_at, metadata FROM snapshots"
            " WHERE execution_id = ? ORDER BY seq",
            (execution_id,),
        )
        return [
            SnapshotInfo(sid, execution_id, seq, node_id, created, loads(meta) or {})
            for sid, seq, node_id, created, meta in rows
        ]

    def snapshot_state(self, snapshot_id: str) -> dict[str, Any]:
        """The full state of one stored snapshot (rebuilt from the nearest full copy)."""
        rows = self._query(
            "SELECT execution_id, seq FROM snapshots WHERE snapshot_id = ?", (snapshot_id,)
        )
        if not rows:
            raise UnknownExecutionError(
                f"no snapshot {snapshot_id!r} in the history at {self.location}; "
                "`victor workflow inspect EXECUTION_ID --json` lists a run's snapshots"
            )
        execution_id, seq = rows[0]
        return self._rebuild(execution_id, seq)

    def _rebuild(self, execution_id: str, seq: int) -> dict[str, Any]:
        deltas = self._query(
            "SELECT is_full, changed, removed FROM snapshots WHERE execution_id = ? AND seq <= ?"
            " AND seq >= (SELECT MAX(seq) FROM snapshots WHERE execution_id = ? AND seq <= ?"
            " AND is_full = 1) ORDER BY seq",
            (execution_id, seq, execution_id, seq),
        )
        state: dict[str, Any] = {}
        for is_full, changed, removed in deltas:
            if is_full:
                state = {}
            for key in loads(removed) or ():
                state.pop(key, None)
            state.update(loads(changed) or {})
        return state

    def load_snapshots(self, execution_id: str) -> list[tuple[SnapshotInfo, dict[str, Any]]]:
        """Every snapshot of a run with its rebuilt state, in order (values shared)."""
        infos = self.snapshots(execution_id)
        rows = self._query(
            "SELECT is_full, changed, removed FROM snapshots WHERE execution_id = ? ORDER BY seq",
            (execution_id,),
        )
        result = []
        state: dict[str, Any] = {}
        for info, (is_full, changed, removed) in zip(infos, rows, strict=True):
            state = {} if is_full else dict(state)
            for key in loads(removed) or ():
                state.pop(key, None)
            state.update(loads(changed) or {})
            result.append((info, state))
        return result

    def final_state(self, execution_id: str) -> dict[str, Any]:
        """The run's final state; for an unfinished run, its last snapshot."""
        rows = self._query(
            "SELECT final_state FROM executions WHERE execution_id = ?", (execution_id,)
        )
        if not rows:
            self.require_execution(execution_id)
        if rows and rows[0][0] is not None:
            value = loads(rows[0][0])
            return dict(value) if isinstance(value, Mapping) else {"result": value}
        last = self._query("SELECT MAX(seq) FROM snapshots WHERE execution_id = ?", (execution_id,))
        if last and last[0][0] is not None:
            return self._rebuild(execution_id, int(last[0][0]))
        return {}

    # -- analytics (aggregated in SQL) ---------------------------------------------------------
    def get_workflow_stats(self, workflow_name: str | None = None) -> dict[str, Any]:
        where, params = self._filters(workflow_name, False, None, None, None)
        rows = self._query(
            "SELECT status, COUNT(*), SUM(duration_seconds), MIN(duration_seconds),"
            f" MAX(duration_seconds), MIN(started_at), MAX(started_at) FROM executions{where}"
            " GROUP BY status",
            params,
        )
        counts = {status: int(count) for status, count, *_ in rows}
        total = sum(counts.values())
        finished = [r for r in rows if r[0] not in ("running",)]
        timed = sum(int(r[1]) for r in finished if r[2] is not None)
        total_duration = sum(float(r[2] or 0.0) for r in finished)
        mins = [float(r[3]) for r in finished if r[3] is not None]
        maxs = [float(r[4]) for r in finished if r[4] is not None]
        successful = counts.get("completed", 0)
        concluded = total - counts.get("running", 0)
        firsts = [r[5] for r in rows if r[5] is not None]
        lasts = [r[6] for r in rows if r[6] is not None]
        return {
            "workflow_name": workflow_name,
            "total_executions": total,
            "successful_executions": successful,
            "failed_executions": counts.get("failed", 0),
            "interrupted_executions": counts.get("interrupted", 0),
            "running_executions": counts.get("running", 0),
            "status_counts": counts,
            "success_rate": successful / concluded if concluded else 0.0,
            "average_duration": total_duration / timed if timed else 0.0,
            "min_duration": min(mins) if mins else 0.0,
            "max_duration": max(maxs) if maxs else 0.0,
            "total_duration": total_duration,
            "first_execution": min(firsts) if firsts else None,
            "last_execution": max(lasts) if lasts else None,
        }

    def get_execution_trends(self, workflow_name: str, window_size: int = 10) -> dict[str, Any]:
        """The last `window_size` finished runs against the `window_size` before them."""
        window_size = max(int(window_size), 1)

        def window(offset: int) -> tuple[int, float | None, int]:
            row = self._query(
                "SELECT COUNT(*), AVG(d), SUM(ok) FROM (SELECT duration_seconds AS d,"
                " CASE WHEN status = 'completed' THEN 1 ELSE 0 END AS ok FROM executions"
                " WHERE workflow_name = ? AND status <> 'running' ORDER BY started_at DESC"
                " LIMIT ? OFFSET ?) AS recent",
                (workflow_name, window_size, offset),
            )[0]
            return int(row[0] or 0), (None if row[1] is None else float(row[1])), int(row[2] or 0)

        recent_n, recent_avg, recent_ok = window(0)
        previous_n, previous_avg, previous_ok = window(window_size)
        change = 0.0
        trend = "insufficient_data"
        if recent_n and previous_n and recent_avg is not None and previous_avg:
            change = (recent_avg - previous_avg) / previous_avg * 100.0
            trend = "increasing" if change > 5.0 else "decreasing" if change < -5.0 else "stable"
        elif recent_n and previous_n:
            trend = "stable"
        return {
            "workflow_name": workflow_name,
            "window_size": window_size,
            "recent_executions": recent_n,
            "previous_executions": previous_n,
            "recent_average_duration": recent_avg or 0.0,
            "previous_average_duration": previous_avg or 0.0,
            "duration_trend": trend,
            "duration_change_percent": change,
            "recent_success_rate": recent_ok / recent_n if recent_n else 0.0,
            "previous_success_rate": previous_ok / previous_n if previous_n else 0.0,
        }

    def node_stats(
        self, workflow_name: str | None = None, execution_id: str | None = None
    ) -> list[dict[str, Any]]:
        where, params = _scope(workflow_name, execution_id)
        rows = self._query(
            "SELECT node_id, MAX(node_type), COUNT(*), SUM(duration_seconds),"
            " AVG(duration_seconds), MIN(duration_seconds), MAX(duration_seconds),"
            " SUM(CASE WHEN success = 1 THEN 1 ELSE 0 END), SUM(attempts) - COUNT(*)"
            f" FROM node_records{where} GROUP BY node_id ORDER BY SUM(duration_seconds) DESC",
            params,
        )
        return [
            {
                "node_id": node_id,
                "node_type": node_type,
                "execution_count": int(count),
                "total_duration": float(total or 0.0),
                "avg_duration": float(avg or 0.0),
                "min_duration": float(low or 0.0),
                "max_duration": float(high or 0.0),
                "success_count": int(ok or 0),
                "failure_count": int(count) - int(ok or 0),
                "retries": int(retries or 0),
            }
            for node_id, node_type, count, total, avg, low, high, ok, retries in rows
        ]

    def tool_stats(
        self, workflow_name: str | None = None, execution_id: str | None = None
    ) -> list[dict[str, Any]]:
        where, params = _scope(workflow_name, execution_id)
        rows = self._query(
            "SELECT tool_name, COUNT(*), SUM(duration_seconds), AVG(duration_seconds),"
            f" SUM(CASE WHEN success = 1 THEN 0 ELSE 1 END) FROM tool_calls{where}"
            " GROUP BY tool_name ORDER BY COUNT(*) DESC",
            params,
        )
        return [
            {
                "tool_name": name,
                "call_count": int(count),
                "total_duration": float(total or 0.0),
                "avg_duration": float(avg or 0.0),
                "error_count": int(errors or 0),
            }
            for name, count, total, avg, errors in rows
        ]

    def workflow_names(self) -> list[str]:
        return [r[0] for r in self._query("SELECT DISTINCT workflow_name FROM executions")]

    def compare_executions(self, execution_id_1: str, execution_id_2: str) -> ExecutionComparison:
        first = self.require_execution(execution_id_1)
        second = self.require_execution(execution_id_2)
        outputs_1 = (
            first.outputs if isinstance(first.outputs, Mapping) else {"result": first.outputs}
        )
        outputs_2 = (
            second.outputs if isinstance(second.outputs, Mapping) else {"result": second.outputs}
        )
        diff = diff_states(
            outputs_1 or {}, outputs_2 or {}, from_id=execution_id_1, to_id=execution_id_2
        )
        d1, d2 = first.duration_seconds or 0.0, second.duration_seconds or 0.0
        per_node_1: dict[str, float] = {}
        per_node_2: dict[str, float] = {}
        for node in first.nodes:
            per_node_1[node.node_id] = per_node_1.get(node.node_id, 0.0) + node.duration_seconds
        for node in second.nodes:
            per_node_2[node.node_id] = per_node_2.get(node.node_id, 0.0) + node.duration_seconds
        status_1 = {n.node_id: n.status for n in first.nodes}
        status_2 = {n.node_id: n.status for n in second.nodes}
        common = [n for n in dict.fromkeys(first.nodes_executed) if n in per_node_2]
        return ExecutionComparison(
            execution_id_1=execution_id_1,
            execution_id_2=execution_id_2,
            status_1=first.status,
            status_2=second.status,
            output_diff={
                "added": dict(diff.added),
                "removed": dict(diff.removed),
                "changed": {k: dict(v) for k, v in diff.changed.items()},
                "patch": [dict(op) for op in diff.patch],
            },
            performance_diff={
                "duration_1": d1,
                "duration_2": d2,
                "duration_delta": d2 - d1,
                "duration_ratio": (d2 / d1) if d1 else None,
                "node_duration_deltas": {n: per_node_2[n] - per_node_1[n] for n in common},
            },
            node_diff={
                "nodes_only_in_1": [
                    n for n in dict.fromkeys(first.nodes_executed) if n not in per_node_2
                ],
                "nodes_only_in_2": [
                    n for n in dict.fromkeys(second.nodes_executed) if n not in per_node_1
                ],
                "common_nodes": common,
                "status_changes": {
                    n: {"from": status_1[n], "to": status_2[n]}
                    for n in common
                    if status_1.get(n) != status_2.get(n)
                },
                "order_changed": list(first.nodes_executed) != list(second.nodes_executed),
            },
        )

    # -- retention -------------------------------------------------------------------------------
    def prune(
        self,
        *,
        keep: int | None = None,
        older_than: float | timedelta | datetime | None = None,
        workflow_name: str | None = None,
    ) -> int:
        """Delete finished runs beyond the newest `keep` and/or started before `older_than`.

        `older_than` is an age (seconds or timedelta) or a moment (datetime). Running
        executions are never deleted. Returns how many executions were deleted.
        """
        if keep is None and older_than is None:
            raise ValueError("prune needs keep=N and/or older_than=...")
        clauses = ["status <> 'running'"]
        params: list[Any] = []
        if workflow_name is not None:
            clauses.append("workflow_name = ?")
            params.append(workflow_name)
        if older_than is not None:
            if isinstance(older_than, datetime):
                cutoff = older_than.timestamp()
            elif isinstance(older_than, timedelta):
                cutoff = time.time() - older_than.total_seconds()
            else:
                cutoff = time.time() - float(older_than)
            age_clause = "started_at < ?"
            age_params: list[Any] = [cutoff]
        if keep is not None:
            scope = "" if workflow_name is None else " WHERE workflow_name = ?"
            keep_clause = (
                "execution_id NOT IN (SELECT execution_id FROM executions"
                f"{scope} ORDER BY started_at DESC LIMIT ?)"
            )
            keep_params: list[Any] = ([] if workflow_name is None else [workflow_name]) + [
                max(int(keep), 0)
            ]
        if keep is not None and older_than is not None:
            clauses.append(f"({keep_clause} OR {age_clause})")
            params += keep_params + age_params
        elif keep is not None:
            clauses.append(keep_clause)
            params += keep_params
        else:
            clauses.append(age_clause)
            params += age_params
        where = " AND ".join(clauses)
        self.flush()
        with self._db.write() as cursor:
            victims = cursor.execute(
                f"SELECT COUNT(*) FROM executions WHERE {where}", tuple(params)
            ).fetchone()[0]
            cursor.execute(f"DELETE FROM executions WHERE {where}", tuple(params))
            for table in ("node_records", "tool_calls", "snapshots", "recorded_outputs"):
                cursor.execute(
                    f"DELETE FROM {table} WHERE NOT EXISTS (SELECT 1 FROM executions e"
                    f" WHERE e.execution_id = {table}.execution_id)"
                )
        return int(victims)

    def clear_history(self) -> int:
        return self.prune(keep=0)

    def count(self, workflow_name: str | None = None) -> int:
        where, params = self._filters(workflow_name, False, None, None, None)
        return int(self._query(f"SELECT COUNT(*) FROM executions{where}", params)[0][0])


def _scope(workflow_name: str | None, execution_id: str | None) -> tuple[str, list[Any]]:
    if execution_id is not None:
        return " WHERE execution_id = ?", [execution_id]
    if workflow_name is not None:
        return " WHERE workflow_name = ?", [workflow_name]
    return "", []


def new_execution_id() -> str:
    return f"exec_{uuid.uuid4().hex[:12]}"


_NODE_INSERT = (
    "INSERT INTO node_records (execution_id, seq, workflow_name, node_id, node_type, thread,"
    " status, success, started_at, ended_at, duration_seconds, attempts, iteration, inputs,"
    " outputs, error, tool_calls, metadata)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
_TOOL_CALL_INSERT = (
    "INSERT INTO tool_calls (execution_id, node_seq, seq, workflow_name, node_id,"
    " tool_name, duration_seconds, success, error) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
_OUTPUT_INSERT = (
    "INSERT INTO recorded_outputs (execution_id, seq, node_id, kind, outputs)"
    " VALUES (?, ?, ?, ?, ?)"
)
_SNAPSHOT_INSERT = (
    "INSERT INTO snapshots (execution_id, seq, snapshot_id, node_id, created_at,"
    " is_full, changed, removed, metadata) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
    " ON CONFLICT (execution_id, seq) DO NOTHING"
)
_RUN_INSERT = (
    "INSERT INTO executions (execution_id, workflow_name, workflow_file, status,"
    " success, started_at, inputs, host, pid, heartbeat_at, metadata)"
    " VALUES (?, ?, ?, 'running', NULL, ?, ?, ?, ?, ?, ?)"
    " ON CONFLICT (execution_id) DO UPDATE SET status = 'running',"
    " host = excluded.host, pid = excluded.pid, heartbeat_at = excluded.heartbeat_at"
)
_RUN_STATUS = "UPDATE executions SET status = ?, heartbeat_at = ? WHERE execution_id = ?"
_RUN_FINISH = (
    "UPDATE executions SET status = ?, success = ?, ended_at = ?, duration_seconds = ?,"
    " outputs = ?, final_state = ?, error = ?, heartbeat_at = ?, node_count = ?"
    " WHERE execution_id = ?"
)
_RUN_HEARTBEAT = (
    "UPDATE executions SET heartbeat_at = ? WHERE execution_id = ?"
    " AND status IN ('running', 'paused')"
)
_NODE_COUNT = "UPDATE executions SET node_count = ? WHERE execution_id = ?"
_IN_ORDER = frozenset((_RUN_INSERT, _RUN_STATUS, _RUN_FINISH, _RUN_HEARTBEAT))
"""Statements on an execution's own row: applied in the order they were queued."""

_Row = tuple[str, tuple[Any, ...]]
"""One SQL statement and its parameters, queued for the background writer."""


def _apply_rows(cursor: Any, rows: list[_Row]) -> None:
    """Run one batch: the executions row changes in order, then each INSERT as one executemany.

    Inserted rows have unique keys and no order between them, so grouping them by
    statement is safe; `node_count` only ever needs the last value per execution.
    """
    grouped: dict[str, list[tuple[Any, ...]]] = {}
    counts: dict[Any, int] = {}
    for sql, params in rows:
        if sql in _IN_ORDER:
            cursor.execute(sql, params)
        elif sql == _NODE_COUNT:
            counts[params[1]] = params[0]
        else:
            grouped.setdefault(sql, []).append(params)
    for sql, many in grouped.items():
        cursor.executemany(sql, many)
    if counts:
        cursor.executemany(_NODE_COUNT, [(count, eid) for eid, count in counts.items()])


def _node_rows(
    execution_id: str, workflow_name: str, seq: int, record: NodeTraceRecord
) -> list[_Row]:
    rows: list[_Row] = [
        (
            _NODE_INSERT,
            (
                execution_id,
                seq,
                workflow_name,
                record.node_id,
                record.node_type,
                record.thread,
                record.status,
                int(record.success),
                record.start_time,
                record.end_time,
                record.duration_seconds,
                record.attempts,
                record.iteration,
                dumps(record.inputs),
                dumps(record.outputs),
                record.error,
                dumps([call.to_dict() for call in record.tool_calls]),
                dumps(dict(record.metadata)),
            ),
        )
    ]
    for index, call in enumerate(record.tool_calls):
        rows.append(
            (
                _TOOL_CALL_INSERT,
                (
                    execution_id,
                    seq,
                    index,
                    workflow_name,
                    record.node_id,
                    call.tool_name,
                    call.duration_seconds,
                    int(call.success),
                    call.error,
                ),
            )
        )
    return rows


class _Recorder:
    """Writes one workflow's runs to the history as their events arrive.

    The executor's thread only appends each event to the history's background writer;
    building node records (with a private tracer, so tracing and history agree on what a
    node record is), snapshot deltas and the SQL all happen on the writer thread, which
    commits them in batches. Errors are logged, never raised into the executor.
    """

    def __init__(
        self,
        history: WorkflowExecutionHistory,
        workflow: Workflow | str,
        workflow_file: str | None,
        *,
        record_snapshots: bool,
    ) -> None:
        from engine.trace import WorkflowTracer, graph_of_workflow

        self._history = history
        self._writer = history._writer
        self._workflow_name = workflow if isinstance(workflow, str) else workflow.name
        self._graph = None if isinstance(workflow, str) else graph_of_workflow(workflow)
        self._types: dict[str, str] = {
            n["id"]: n["type"] for n in (self._graph or {}).get("nodes", ())
        }
        source = None if isinstance(workflow, str) else workflow.source
        self._workflow_file = workflow_file or source
        self._record_snapshots = record_snapshots
        recorder = self

        class _NodeSink(WorkflowTracer):
            def on_node_complete(self, node_record: NodeTraceRecord) -> None:
                recorder._write_node(node_record)

        self._tracer = _NodeSink()
        self._rows: list[_Row] = []
        self._execution_id: str | None = None
        self._node_seq = 0
        self._output_seq = 0
        self._snapshot_seq = 0
        self._previous_state: Mapping[str, Any] | None = None
        self._previous_thread = "main"

    def __call__(self, event: ExecutionEvent) -> None:
        # The run's thread: one append, plus a nudge at run end so the outcome lands at once.
        self._writer.submit(self._prepare, event)
        if event.event_type in _RUN_END:
            self._writer.wake()

    # -- the writer thread ----------------------------------------------------------------------
    def _prepare(self, event: ExecutionEvent) -> list[_Row]:
        try:
            self._handle(event)
        except Exception:
            log.exception("history: could not record %s", event.event_type)
        rows, self._rows = self._rows, []
        return rows

    def _handle(self, event: ExecutionEvent) -> None:
        T = ExecutionEventType
        kind = event.event_type
        if kind is T.WORKFLOW_STARTED:
            self._start(event)
        if self._execution_id != event.execution_id:
            if self._execution_id is None and kind is not T.WORKFLOW_STARTED:
                self._start(event)  # subscribed late: record from here on
            elif kind is not T.WORKFLOW_STARTED:
                return
        if kind is T.STATE_CAPTURED and self._record_snapshots and event.state is not None:
            self._write_snapshot(event)
        elif kind in _RUN_END:
            self._tracer.handle_event(event)
            self._finish(event)
        elif kind is T.WORKFLOW_RESUMED:
            self._set_status("running")
        elif kind is not T.WORKFLOW_STARTED:
            self._tracer.handle_event(event)

    def _start(self, event: ExecutionEvent) -> None:
        self._execution_id = event.execution_id
        self._history._running.add(event.execution_id)
        self._node_seq = self._output_seq = self._snapshot_seq = 0
        self._previous_state = None
        self._tracer.handle_event(
            event
            if event.event_type is ExecutionEventType.WORKFLOW_STARTED
            else ExecutionEvent(
                ExecutionEventType.WORKFLOW_STARTED,
                event.execution_id,
                event.workflow,
                event.timestamp,
            )
        )
        metadata = dict(event.metadata)
        if self._graph is not None:
            metadata["graph"] = self._graph
        row = (
            event.execution_id,
            event.workflow or self._workflow_name,
            self._workflow_file,
            event.timestamp,
            dumps(dict(event.inputs) if event.inputs is not None else {}),
            _HOST,
            os.getpid(),
            self._history._clock(),
            dumps(metadata),
        )

        self._rows.append((_RUN_INSERT, row))

    def _write_node(self, record: NodeTraceRecord) -> None:
        if self._execution_id is None:
            return
        seq = self._node_seq
        self._node_seq += 1
        kind = record.node_type
        if kind == "unknown":
            kind = self._types.get(record.node_id, kind)
            record = replace(record, node_type=kind)
        execution_id, workflow_name, count = self._execution_id, self._workflow_name, self._node_seq
        output_seq = self._output_seq if record.status == "completed" else None
        if output_seq is not None:
            self._output_seq += 1

        rows = _node_rows(execution_id, workflow_name, seq, record)
        if output_seq is not None:
            outputs_json = rows[0][1][14]  # the node row's outputs, already encoded
            rows.append(
                (_OUTPUT_INSERT, (execution_id, output_seq, record.node_id, kind, outputs_json))
            )
        rows.append((_NODE_COUNT, (count, execution_id)))
        self._rows.extend(rows)

    def _write_snapshot(self, event: ExecutionEvent) -> None:
        assert event.state is not None and self._execution_id is not None
        state = event.state
        seq = self._snapshot_seq
        self._snapshot_seq += 1
        previous = self._previous_state
        removed: list[str] = []
        if previous is None or seq % FULL_SNAPSHOT_EVERY == 0:
            full, changed = True, dict(state)
        else:
            full = False
            # `written_keys` are relative to the same thread's previous state; deltas are
            # stored against the previous snapshot, so they only apply within one thread.
            written = (
                event.metadata.get("written_keys")
                if event.thread == self._previous_thread
                else None
            )
            changed, removed = state_delta(previous, state, written)
        # Event states are the executor's shallow snapshot copies and are never mutated
        # afterwards (copy-on-write), so keeping a reference is enough.
        self._previous_state = state
        self._previous_thread = event.thread
        row = (
            self._execution_id,
            seq,
            snapshot_id_for(event, seq),
            event.node_id,
            event.timestamp,
            int(full),
            dumps(changed),
            dumps(removed),
            dumps({"thread": event.thread, "iteration": event.iteration}),
        )

        self._rows.append((_SNAPSHOT_INSERT, row))

    def _set_status(self, status: str) -> None:
        self._rows.append((_RUN_STATUS, (status, self._history._clock(), self._execution_id)))

    def _finish(self, event: ExecutionEvent) -> None:
        status = _RUN_END[event.event_type]
        trace = self._tracer.get_trace()
        started = trace.start_time if trace is not None else event.timestamp
        duration = event.duration_seconds or max(event.timestamp - started, 0.0)
        final_state = dict(event.state) if event.state is not None else None
        outputs = event.outputs
        if outputs is None and final_state is not None:
            # Internal keys (`_node_results`, `_execution_id`, ...) are not outputs.
            outputs = public_view(final_state)
        row = (
            status,
            None if status == "paused" else int(status == "completed"),
            event.timestamp,
            duration,
            dumps(outputs),
            None if final_state is None else dumps(final_state),
            event.error,
            self._history._clock(),
            self._node_seq,
            self._execution_id,
        )
        self._rows.append((_RUN_FINISH, row))
        if self._execution_id is not None:
            self._history._running.discard(self._execution_id)
        self._execution_id = None
        self._previous_state = None


_RUN_END: dict[ExecutionEventType, str] = {
    ExecutionEventType.WORKFLOW_COMPLETED: "completed",
    ExecutionEventType.WORKFLOW_FAILED: "failed",
    ExecutionEventType.WORKFLOW_CANCELLED: "cancelled",
    ExecutionEventType.WORKFLOW_PAUSED: "paused",
}
"""How a run can end; `paused` runs stop where they are and can be resumed later."""


_KEY_COLLECTIONS = (tuple, list, set, frozenset)


def state_delta(
    previous: Mapping[str, Any], state: Mapping[str, Any], written_keys: Any = None
) -> tuple[dict[str, Any], list[str]]:
    """Top-level keys of `state` that differ from `previous`, and the keys it dropped.

    With the executor's `written_keys` (the keys the node wrote) this costs O(written);
    without them, or when the key counts show something else changed, it compares every
    key (identity first: unchanged values are the very same objects).
    """
    if isinstance(written_keys, _KEY_COLLECTIONS):
        changed = {key: state[key] for key in written_keys if key in state}
        added = sum(1 for key in changed if key not in previous)
        removed = [key for key in written_keys if key not in state and key in previous]
        if len(state) == len(previous) + added - len(removed):
            return changed, removed
    get = previous.get
    changed = {
        key: value
        for key, value in state.items()
        if (old := get(key, _MISSING)) is not value and (old is _MISSING or old != value)
    }
    return changed, [key for key in previous if key not in state]
