"""The history schema and its migrations, as SQL that SQLite and PostgreSQL both accept.

Each migration is applied once, in order, inside one write transaction, and recorded in
`schema_version`. Add a new entry to `MIGRATIONS` to change the schema; never edit an old one.
"""

from __future__ import annotations

from engine.history_store import Cursor

VERSION_TABLE = "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)"

MIGRATIONS: tuple[tuple[str, ...], ...] = (
    (
        """CREATE TABLE executions (
            execution_id TEXT PRIMARY KEY,
            workflow_name TEXT NOT NULL,
            workflow_file TEXT,
            status TEXT NOT NULL,
            success INTEGER,
            started_at DOUBLE PRECISION NOT NULL,
            ended_at DOUBLE PRECISION,
            duration_seconds DOUBLE PRECISION,
            node_count INTEGER NOT NULL DEFAULT 0,
            inputs TEXT,
            outputs TEXT,
            final_state TEXT,
            error TEXT,
            host TEXT,
            pid INTEGER,
            heartbeat_at DOUBLE PRECISION,
            metadata TEXT
        )""",
        "CREATE INDEX executions_by_time ON executions (started_at)",
        "CREATE INDEX executions_by_workflow ON executions (workflow_name, started_at)",
        "CREATE INDEX executions_stats ON executions (workflow_name, status, duration_seconds)",
        "CREATE INDEX executions_by_status ON executions (status)",
        """CREATE TABLE node_records (
            execution_id TEXT NOT NULL,
            seq INTEGER NOT NULL,
            workflow_name TEXT NOT NULL,
            node_id TEXT NOT NULL,
            node_type TEXT,
            thread TEXT,
            status TEXT,
            success INTEGER,
            started_at DOUBLE PRECISION,
            ended_at DOUBLE PRECISION,
            duration_seconds DOUBLE PRECISION,
            attempts INTEGER,
            iteration INTEGER,
            inputs TEXT,
            outputs TEXT,
            error TEXT,
            tool_calls TEXT,
            metadata TEXT,
            PRIMARY KEY (execution_id, seq)
        )""",
        "CREATE INDEX node_records_by_workflow ON node_records (workflow_name, node_id)",
        """CREATE TABLE tool_calls (
            execution_id TEXT NOT NULL,
            node_seq INTEGER NOT NULL,
            seq INTEGER NOT NULL,
            workflow_name TEXT NOT NULL,
            node_id TEXT,
            tool_name TEXT NOT NULL,
            duration_seconds DOUBLE PRECISION,
            success INTEGER,
            error TEXT,
            PRIMARY KEY (execution_id, node_seq, seq)
        )""",
        "CREATE INDEX tool_calls_by_workflow ON tool_calls (workflow_name, tool_name)",
        """CREATE TABLE snapshots (
            execution_id TEXT NOT NULL,
            seq INTEGER NOT NULL,
            snapshot_id TEXT NOT NULL,
            node_id TEXT,
            created_at DOUBLE PRECISION,
            is_full INTEGER NOT NULL,
            changed TEXT,
            removed TEXT,
            metadata TEXT,
            PRIMARY KEY (execution_id, seq)
        )""",
        "CREATE UNIQUE INDEX snapshots_by_id ON snapshots (snapshot_id)",
        """CREATE TABLE recorded_outputs (
            execution_id TEXT NOT NULL,
            seq INTEGER NOT NULL,
            node_id TEXT NOT NULL,
            kind TEXT NOT NULL,
            outputs TEXT,
            PRIMARY KEY (execution_id, seq)
        )""",
    ),
)

CURRENT_VERSION = len(MIGRATIONS)


def migrate(cursor: Cursor, current: int) -> int:
    """Apply the migrations after version `current`; returns the new version."""
    for version in range(current + 1, CURRENT_VERSION + 1):
        for statement in MIGRATIONS[version - 1]:
            cursor.execute(statement)
    if current == 0:
        cursor.execute("INSERT INTO schema_version (version) VALUES (?)", (CURRENT_VERSION,))
    elif current < CURRENT_VERSION:
        cursor.execute("UPDATE schema_version SET version = ?", (CURRENT_VERSION,))
    return CURRENT_VERSION
