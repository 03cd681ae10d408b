"""Storage for execution history: one SQL schema run on SQLite or PostgreSQL.

`open_backend(target)` returns a `Backend` for a file path, `sqlite:///path` or
`postgresql://...` URL, migrated to the current schema. The SQL text is shared; the
backends only differ in placeholders, connection settings and migration locking.
This package knows nothing of events, tracing or terminals.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any, Protocol


class HistoryStoreError(Exception):
    """The history database cannot be opened or used; the message says what to do."""


class Cursor(Protocol):
    def execute(self, sql: str, params: Sequence[Any] = ()) -> Any: ...

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> Any: ...


class Backend(Protocol):
    dialect: str
    location: str

    def write(self) -> AbstractContextManager[Cursor]:
        """One write transaction; commits on exit, rolls back on error."""

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]: ...

    def close(self) -> None: ...


def is_postgres_url(target: str) -> bool:
    return target.startswith(("postgresql://", "postgres://", "postgresql+psycopg://"))


def open_backend(target: str | Path, *, create: bool = True) -> Backend:
    """Open (and migrate) the store at `target`; `create=False` refuses a missing SQLite file."""
    text = str(target)
    if is_postgres_url(text):
        from engine.history_store.postgres_backend import PostgresBackend

        return PostgresBackend(text.replace("postgresql+psycopg://", "postgresql://", 1))
    if text.startswith("sqlite:///"):
        text = text[len("sqlite:///") :]  # sqlite:///rel/path or sqlite:////abs/path
    from engine.history_store.sqlite_backend import SqliteBackend

    path = Path(text).expanduser()
    blocker = next((p for p in path.parents if p.exists() and not p.is_dir()), None)
    if blocker is not None:
        raise HistoryStoreError(
            f"cannot use the history database {path}: {blocker} is a file, not a folder; "
            "point VICTOR_HOME (or VICTOR_HISTORY_URL, or the project's history_url) "
            "at a folder"
        )
    if not create and not path.exists():
        raise HistoryStoreError(
            f"no execution history at {path}; run a workflow first (victor workflow run ...)"
        )
    return SqliteBackend(path)


def chunks(items: Sequence[Any], size: int = 500) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
