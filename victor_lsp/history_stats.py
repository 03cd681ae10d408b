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
from typing import Any

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


def default_history_location() -> str:
    url = os.environ.get("VICTOR_HISTORY_URL")
    if url:
        return url
    home = os.environ.get("VICTOR_HOME") or os.path.join(os.path.expanduser("~"), ".victor")
    return os.path.join(home, "workflows.db")


def _number(data: Any, *names: str) -> float:
    for name in names:
        value = data.get(name) if isinstance(data, Mapping) else getattr(data, name, None)
        if isinstance(value, int | float) and not isinstance(value, bool):
            return float(value)
    return 0.0


def _read_stats(location: str, workflow: str) -> WorkflowStats | None:
    if "://" not in location and not os.path.exists(location):
        return None
    try:
        from engine.history import WorkflowExecutionHistory
    except ImportError:
        return None
    history = WorkflowExecutionHistory(location)
    try:
        raw = history.get_workflow_stats(workflow)
        nodes_raw: Any = None
        for getter in ("get_node_stats", "node_stats"):
            method: Callable[..., Any] | None = getattr(history, getter, None)
            if method is not None:
                nodes_raw = method(workflow)
                break
        if nodes_raw is None and isinstance(raw, Mapping):
            nodes_raw = raw.get("nodes") or raw.get("node_stats")
    finally:
        close = getattr(history, "close", None)
        if callable(close):
            close()
    runs = int(_number(raw, "total_executions", "executions", "runs", "count"))
    if runs == 0:
        return None
    nodes: dict[str, NodeStats] = {}
    if isinstance(nodes_raw, Mapping):
        for node_id, data in nodes_raw.items():
            nodes[str(node_id)] = NodeStats(
                runs=int(_number(data, "runs", "executions", "count", "execution_count")),
                success_rate=_number(data, "success_rate"),
                avg_duration=_number(
                    data, "avg_duration", "average_duration", "avg_duration_seconds"
                ),
            )
    return WorkflowStats(
        runs=runs,
        success_rate=_number(raw, "success_rate"),
        avg_duration=_number(raw, "avg_duration", "average_duration", "avg_duration_seconds"),
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
