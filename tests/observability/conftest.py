"""Fixtures for the observability tests: synthetic event streams and history stores.

`history_target` yields a fresh SQLite file and, when VICTOR_TEST_POSTGRES_URL is set
(scripts/postgres-test-server.sh), a fresh PostgreSQL database too.
"""

from __future__ import annotations

import os
import select
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

import pytest

from engine.events import ExecutionEvent, ExecutionEventType, ToolCall

T = ExecutionEventType
PG_URL_ENV = "VICTOR_TEST_POSTGRES_URL"


def read_line(pipe: IO[bytes], timeout: float) -> str:
    """The next line a child writes to `pipe`, waiting at most `timeout` seconds in all.

    Uses select() on the pipe's descriptor (no sleeping, no polling loop): fails with a
    clear message when the deadline passes or the child closes the pipe first.
    """
    deadline = time.monotonic() + timeout
    fd = pipe.fileno()
    data = b""
    while not data.endswith(b"\n"):
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise AssertionError(f"no line from the child within {timeout:g}s (got {data!r})")
        ready, _, _ = select.select([fd], [], [], remaining)
        if not ready:
            continue
        chunk = os.read(fd, 1)
        if not chunk:
            raise AssertionError(f"the child closed its output before a full line ({data!r})")
        data += chunk
    return data.decode().strip()


def run_events(
    execution_id: str = "exec_test",
    workflow: str = "wf",
    nodes: int = 3,
    *,
    fail_at: int | None = None,
    start: float | None = None,
    node_seconds: float = 0.5,
) -> list[ExecutionEvent]:
    """A linear run: each node calls one tool, completes and captures the state."""
    t0 = time.time() if start is None else start
    events = [ExecutionEvent(T.WORKFLOW_STARTED, execution_id, workflow, t0, inputs={"task": "x"})]
    state: dict[str, Any] = {"task": "x"}
    for i in range(nodes):
        node_id, at = f"n{i}", t0 + i * node_seconds
        events.append(
            ExecutionEvent(
                T.NODE_STARTED,
                execution_id,
                workflow,
                at,
                node_id=node_id,
                node_type="agent",
                attempt=1,
            )
        )
        call = ToolCall("search", {"q": i}, f"hit {i}", node_seconds / 4)
        events.append(
            ExecutionEvent(
                T.TOOL_CALLED,
                execution_id,
                workflow,
                at + node_seconds / 2,
                node_id=node_id,
                node_type="agent",
                tool_calls=(call,),
            )
        )
        end = at + node_seconds
        if fail_at == i:
            events.append(
                ExecutionEvent(
                    T.NODE_FAILED,
                    execution_id,
                    workflow,
                    end,
                    node_id=node_id,
                    node_type="agent",
                    error="boom",
                    duration_seconds=node_seconds,
                )
            )
            events.append(
                ExecutionEvent(
                    T.WORKFLOW_FAILED, execution_id, workflow, end, error="boom", state=state
                )
            )
            return events
        state = {**state, node_id: {"value": i}}
        events.append(
            ExecutionEvent(
                T.NODE_COMPLETED,
                execution_id,
                workflow,
                end,
                node_id=node_id,
                node_type="agent",
                outputs={"value": i},
                duration_seconds=node_seconds,
                tool_calls=(call,),
                attempt=1,
            )
        )
        events.append(
            ExecutionEvent(
                T.STATE_CAPTURED,
                execution_id,
                workflow,
                end,
                node_id=node_id,
                node_type="agent",
                state=state,
            )
        )
    events.append(
        ExecutionEvent(
            T.WORKFLOW_COMPLETED, execution_id, workflow, t0 + nodes * node_seconds, state=state
        )
    )
    return events


@pytest.fixture(params=["sqlite", "postgresql"])
def history_target(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield str(tmp_path / "workflows.db")
        return
    admin_url = os.environ.get(PG_URL_ENV)
    if not admin_url:
        pytest.skip(f"{PG_URL_ENV} is not set (start one with scripts/postgres-test-server.sh)")
    import psycopg

    name = f"victor_test_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    base = admin_url.rsplit("/", 1)[0]
    yield f"{base}/{name}"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
