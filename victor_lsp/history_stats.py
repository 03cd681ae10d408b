"""Execution-history statistics for hovers and inlay hints, loaded off the event loop.

Reads `engine.history.WorkflowExecutionHistory` only when that module imports
and the store exists. Lookups never block: `get` returns what is cached and
starts a background refresh; a failure just means "no history".
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

log = logging.getLogger(__name__)

REFRESH_SECONDS = 30.0


@dataclass(frozen=True)
class NodeStats:
    runs: int
    success_rate: float
    avg_duration: float


@dataclass(frozen=True)
class WorkflowStats:
    runs: int
    success_rate: float
    avg_duration: float
    nodes: Mapping[str, NodeStats] = field(default_factory=dict)


def default_history_location(start: str | None = None) -> str:
    """The engine's history location (env, the project's `history_url`, $VICTOR_HOME)."""
    from engine.history import default_history_location as engine_location

    try:
        return engine_location(start=start)
    except Exception:  # a broken victor.toml: fall back to the environment's store
        return engine_location()


def _read_stats(location: str, workflow: str) -> WorkflowStats | None:
    if "://" not in location and not os.path.exists(location):
        return None
    from engine.history import WorkflowExecutionHistory

    history = WorkflowExecutionHistory(location)
    try:
        raw = history.get_workflow_stats(workflow)
        node_rows = history.node_stats(workflow)
    finally:
        history.close()
    runs = int(raw.get("total_executions", 0))
    if runs == 0:
        return None
    nodes = {
        str(row["node_id"]): NodeStats(
            runs=int(row["execution_count"]),
            success_rate=row["success_count"] / row["execution_count"]
            if row["execution_count"]
            else 0.0,
            avg_duration=float(row["avg_duration"]),
        )
        for row in node_rows
    }
    return WorkflowStats(
        runs=runs,
        success_rate=float(raw.get("success_rate", 0.0)),
        avg_duration=float(raw.get("average_duration", 0.0)),
        nodes=nodes,
    )


class HistoryStats:
    """Cached per-workflow stats; refreshed in a daemon thread."""

    def __init__(
        self, location: str | None = None, on_update: Callable[[], None] | None = None
    ) -> None:
        self.location = location or default_history_location()
        self.on_update = on_update
        self._cache: dict[str, tuple[float, WorkflowStats | None]] = {}
        self._pending: set[str] = set()
        self._lock = threading.Lock()

    def set_location(self, location: str | None) -> None:
        with self._lock:
            self.location = location or default_history_location()
            self._cache.clear()

    def get(self, names: list[str]) -> dict[str, WorkflowStats]:
        found: dict[str, WorkflowStats] = {}
        now = time.monotonic()
        stale = []
        with self._lock:
            for name in names:
                cached = self._cache.get(name)
                if cached is not None and cached[1] is not None:
                    found[name] = cached[1]
                if (
                    cached is None or now - cached[0] > REFRESH_SECONDS
                ) and name not in self._pending:
                    self._pending.add(name)
                    stale.append(name)
        if stale:
            threading.Thread(target=self._refresh, args=(stale,), daemon=True).start()
        return found

    def _refresh(self, names: list[str]) -> None:
        changed = False
        for name in names:
            try:
                stats = _read_stats(self.location, name)
            except Exception:  # a broken history store must never disturb editing
                log.debug("history stats unavailable for %s", name, exc_info=True)
                stats = None
            with self._lock:
                old = self._cache.get(name)
                self._cache[name] = (time.monotonic(), stats)
                self._pending.discard(name)
                changed = changed or ((old is None or old[1] != stats) and stats is not None)
        if changed and self.on_update is not None:
            self.on_update()
