"""SQLite history backend: WAL, synchronous=NORMAL, busy timeout, BEGIN IMMEDIATE writes.

One connection per backend object, guarded by a lock so that parallel branches running in
threads can record through it. Several processes may write the same file at once.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from engine.history_store import HistoryStoreError
from engine.history_store.schema import CURRENT_VERSION, VERSION_TABLE, migrate

BUSY_TIMEOUT_MS = 30_000


class SqliteBackend:
    dialect = "sqlite"

    def __init__(self, path: Path) -> None:
        self.location = str(path)
        self._lock = threading.RLock()
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._conn = sqlite3.connect(
                str(path), isolation_level=None, check_same_thread=False, timeout=30.0
            )
        except (OSError, sqlite3.Error) as error:
            raise HistoryStoreError(f"cannot open the history database {path}: {error}") from error
        try:
            self._conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            self._set_wal()
            self._conn.execute("PRAGMA synchronous = NORMAL")
            self._conn.execute("PRAGMA foreign_keys = OFF")
            self._migrate()
        except sqlite3.DatabaseError as error:
            self._conn.close()
            raise HistoryStoreError(
                f"{path} is not a usable history database ({error}); move it away or set "
                "VICTOR_HOME to another folder"
            ) from error

    def _set_wal(self) -> None:
        # Switching to WAL needs a moment of exclusive access; other openers may hold it.
        deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
        while True:
            try:
                self._conn.execute("PRAGMA journal_mode = WAL")
                return
            except sqlite3.OperationalError as error:
                if "locked" not in str(error) or time.monotonic() > deadline:
                    raise
                time.sleep(0.01)

    def _migrate(self) -> None:
        rows = self.query("SELECT name FROM sqlite_master WHERE name = 'schema_version'")
        if rows:
            version = self.query("SELECT MAX(version) FROM schema_version")[0][0] or 0
            if version == CURRENT_VERSION:
                return
            if version > CURRENT_VERSION:
                raise HistoryStoreError(
                    f"{self.location} was written by a newer version (schema {version}); "
                    "upgrade victor-workflow-tools"
                )
        with self.write() as cursor:
            cursor.execute(VERSION_TABLE)
            found = cursor.execute("SELECT MAX(version) FROM schema_version").fetchone()[0] or 0
            migrate(cursor, found)

    @contextmanager
    def write(self) -> Iterator[sqlite3.Cursor]:
        with self._lock:
            cursor = self._conn.cursor()
            cursor.execute("BEGIN IMMEDIATE")
            try:
                yield cursor
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            else:
                self._conn.execute("COMMIT")
            finally:
                cursor.close()

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        with self._lock:
            return self._conn.execute(sql, tuple(params)).fetchall()

    def close(self) -> None:
        with self._lock:
            self._conn.close()
