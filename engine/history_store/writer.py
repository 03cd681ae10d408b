"""Background writer: runs queued jobs on its own thread and commits their writes in batches.

A job is `(handler, payload)`; the writer calls `handler(payload)` on its thread, collects
the writes the handlers return and hands them to `apply(cursor, writes)` in one
transaction per batch (BEGIN IMMEDIATE on SQLite),
at least every `flush_seconds` while work is pending. Submitting is an append to a deque,
so the caller's thread (the workflow run) never waits for the database unless the queue
is full (`max_pending`), which bounds memory. `flush()` waits until everything submitted
so far is committed; pending work is also flushed when the process exits normally.
This module knows nothing of events, workflows or the schema: writes are opaque to it.
"""

from __future__ import annotations

import atexit
import logging
import os
import threading
import time
import weakref
from collections import deque
from collections.abc import Callable, Iterable
from typing import Any

from engine.history_store import Backend, Cursor

__all__ = ["BackgroundWriter", "flush_writers"]

log = logging.getLogger(__name__)

Handler = Callable[[Any], Iterable[Any] | None]
Apply = Callable[[Cursor, list[Any]], None]


def _call_each(cursor: Cursor, writes: list[Any]) -> None:
    """The default `apply`: each write is a function of the cursor."""
    for write in writes:
        write(cursor)


_BATCH_LIMIT = 20_000
"""Jobs per transaction at most, so one huge backlog does not become one huge transaction."""

_YIELD_EVERY = 32
"""Jobs the writer prepares between two voluntary releases of the GIL."""

_writers: weakref.WeakSet[BackgroundWriter] = weakref.WeakSet()


class BackgroundWriter:
    """One writer thread for one backend; started on the first submitted job."""

    def __init__(
        self,
        backend: Backend,
        *,
        apply: Apply = _call_each,
        flush_seconds: float = 0.05,
        max_pending: int = 10_000,
        heartbeat: Callable[[], Iterable[Any]] | None = None,
        heartbeat_seconds: float = 5.0,
        is_active: Callable[[], bool] | None = None,
        name: str = "victor-history-writer",
    ) -> None:
        self._backend = backend
        self.location = backend.location
        self._apply = apply
        self._flush_seconds = flush_seconds
        self._max_pending = max(int(max_pending), 1)
        self._heartbeat = heartbeat
        self._heartbeat_seconds = heartbeat_seconds
        self._is_active = is_active or (lambda: False)
        self._name = name
        self._jobs: deque[tuple[Handler | None, Any]] = deque()
        self._wake = threading.Event()
        self._room = threading.Condition()
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()
        self._idle = False
        self._in_flight = False
        self._closing = False
        self._last_beat = 0.0
        _writers.add(self)

    # -- producer side (the run's threads) ---------------------------------------------------
    def submit(self, handler: Handler, payload: Any) -> None:
        """Queue `handler(payload)`; returns at once unless `max_pending` jobs are waiting."""
        self._jobs.append((handler, payload))
        if self._thread is None:
            self._start()
        elif self._idle:
            self._wake.set()
        if len(self._jobs) > self._max_pending:
            self._wait_for_room()

    def wake(self) -> None:
        """Commit what is queued now instead of at the next interval (e.g. at run end)."""
        self._wake.set()

    def flush(self, timeout: float | None = 30.0) -> bool:
        """Wait until every job submitted before this call is committed; False on timeout."""
        if not self._jobs and not self._in_flight:
            return True
        thread = self._thread
        if thread is None or thread is threading.current_thread() or not thread.is_alive():
            return not self._jobs
        done = threading.Event()
        self._jobs.append((None, done))
        self._wake.set()
        return done.wait(timeout)

    def close(self, timeout: float | None = 30.0) -> None:
        """Flush, then stop the thread. Further submits start a new one."""
        self.flush(timeout)
        self._closing = True
        self._wake.set()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)
        self._thread = None
        self._closing = False

    def _start(self) -> None:
        with self._start_lock:
            if self._thread is not None:
                return
            thread = threading.Thread(target=self._loop, name=self._name, daemon=True)
            self._thread = thread
            thread.start()

    def _wait_for_room(self) -> None:
        # Backpressure: the queue is bounded, so a run faster than the database waits here.
        with self._room:
            self._wake.set()
            self._room.wait_for(
                lambda: (
                    len(self._jobs) <= self._max_pending // 2
                    or self._thread is None
                    or not self._thread.is_alive()
                ),
                timeout=60.0,
            )

    # -- the writer thread ----------------------------------------------------------------------
    def _loop(self) -> None:
        while True:
            if self._jobs or self._is_active():
                # A run is going: collect its jobs for one interval, then commit them together.
                self._wake.wait(self._flush_seconds)
            else:
                if self._closing:
                    return
                # Nothing to do: sleep until a job arrives (no periodic wake-ups when idle).
                self._idle = True
                if not self._jobs:
                    self._wake.wait()
                self._idle = False
            self._wake.clear()
            try:
                self._run_batch()
            except Exception:  # the writer must survive anything a handler or the store does
                log.exception("history: background write failed")
                self._in_flight = False
            if self._closing and not self._jobs:
                return

    def _run_batch(self) -> None:
        self._in_flight = True
        writes: list[Any] = []
        markers: list[threading.Event] = []
        jobs = self._jobs
        count = 0
        while jobs and count < _BATCH_LIMIT:
            handler, payload = jobs.popleft()
            count += 1
            if not count % _YIELD_EVERY:
                # Hand the GIL back to the run's thread often: the run has priority, the
                # writer only needs to keep up (the run would otherwise wait ~5 ms per switch).
                time.sleep(0)
            if handler is None:
                markers.append(payload)
                continue
            try:
                produced = handler(payload)
            except Exception:
                log.exception("history: could not prepare a record")
                continue
            if produced:
                writes.extend(produced)
        now = time.monotonic()
        if self._heartbeat is not None and now - self._last_beat >= self._heartbeat_seconds:
            self._last_beat = now
            writes.extend(self._heartbeat())
        if writes:
            self._commit(writes)
        self._in_flight = False
        for marker in markers:
            marker.set()
        with self._room:
            self._room.notify_all()

    def _commit(self, writes: list[Any]) -> None:
        try:
            with self._backend.write() as cursor:
                self._apply(cursor, writes)
            return
        except Exception:
            if len(writes) == 1:
                log.exception("history: could not write a record")
                return
        # One bad record must not lose the whole batch: retry them one by one.
        for write in writes:
            try:
                with self._backend.write() as cursor:
                    self._apply(cursor, [write])
            except Exception:
                log.exception("history: could not write a record")

    def _after_fork(self) -> None:
        self._jobs.clear()
        self._thread = None
        self._idle = self._in_flight = self._closing = False
        self._wake = threading.Event()
        self._room = threading.Condition()
        self._start_lock = threading.Lock()


def flush_writers(location: str, timeout: float | None = 30.0) -> bool:
    """Wait for every writer of this process that writes to `location` (read-your-writes
    across history objects: a run recorded through one is visible to reads through another)."""
    done = True
    for writer in list(_writers):
        if writer.location == location:
            done = writer.flush(timeout) and done
    return done


@atexit.register
def _flush_all_writers() -> None:
    for writer in list(_writers):
        writer.close(timeout=30.0)


def _reset_after_fork() -> None:
    for writer in list(_writers):
        writer._after_fork()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_reset_after_fork)
