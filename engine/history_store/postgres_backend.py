"""PostgreSQL history backend (psycopg 3, optional extra `postgres`), same SQL as SQLite.

Our SQL uses `?` placeholders; they become `%s` here. Migrations run under a
transaction-scoped advisory lock so that several machines can open the store at once.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from engine.history_store import HistoryStoreError
from engine.history_store.schema import CURRENT_VERSION, VERSION_TABLE, migrate

_MIGRATION_LOCK = 74520190


def _pg(sql: str) -> str:
    return sql.replace("?", "%s")


class _Cursor:
    """Adapts psycopg's cursor to `?` placeholders."""

    def __init__(self, cursor: Any) -> None:
        self._cursor = cursor

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Any:
        return self._cursor.execute(_pg(sql), tuple(params))

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> Any:
        return self._cursor.executemany(_pg(sql), [tuple(r) for r in rows])

    def fetchone(self) -> Any:
        return self._cursor.fetchone()


class PostgresBackend:
    dialect = "postgresql"

    def __init__(self, url: str) -> None:
        try:
            import psycopg
        except ImportError as error:
            raise HistoryStoreError(
                "VICTOR_HISTORY_URL points at PostgreSQL but psycopg is not installed: "
                "pip install 'victor-workflow-tools[postgres]'"
            ) from error
        self.location = _redact(url)
        self._lock = threading.RLock()
        try:
            self._conn = psycopg.connect(url, autocommit=True, connect_timeout=10)
        except psycopg.Error as error:
            raise HistoryStoreError(
                f"cannot connect to the history database {self.location}: {error}".strip()
            ) from error
        self._migrate()

    def _migrate(self) -> None:
        with self.write() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(?)", (_MIGRATION_LOCK,))
            cursor.execute(VERSION_TABLE)
            found = cursor.execute("SELECT MAX(version) FROM schema_version").fetchone()[0] or 0
            if found > CURRENT_VERSION:
                raise HistoryStoreError(
                    f"{self.location} was written by a newer version (schema {found}); "
                    "upgrade victor-workflow-tools"
                )
            migrate(cursor, found)

    @contextmanager
    def write(self) -> Iterator[_Cursor]:
        with self._lock, self._conn.transaction(), self._conn.cursor() as cursor:
            yield _Cursor(cursor)

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        with self._lock, self._conn.cursor() as cursor:
            cursor.execute(_pg(sql), tuple(params))
            return list(cursor.fetchall())

    def close(self) -> None:
        with self._lock:
            self._conn.close()


def _redact(url: str) -> str:
    """The URL without its password, for messages."""
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
    return urlunsplit(parts._replace(netloc=netloc))
