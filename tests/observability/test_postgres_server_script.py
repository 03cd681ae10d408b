"""scripts/postgres-test-server.sh: usable from `$(...)` in CI and gone when its owner exits."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "scripts" / "postgres-test-server.sh"


def _has_postgres() -> bool:
    packaged = Path("/usr/lib/postgresql").glob("*/bin/initdb")
    return shutil.which("initdb") is not None or any(packaged)


pytestmark = pytest.mark.skipif(
    not _has_postgres(),
    reason="PostgreSQL server binaries not installed (run scripts/ensure-system-deps.sh)",
)


def test_server_does_not_hold_the_callers_pipes_and_stops_with_its_owner() -> None:
    psycopg = pytest.importorskip("psycopg")
    owner = subprocess.Popen(["cat"], stdin=subprocess.PIPE)  # lives until its stdin closes
    try:
        env = dict(os.environ, VICTOR_TEST_POSTGRES_OWNER_PID=str(owner.pid))
        # If the server or its watchdog inherited the pipe, run() would wait for the timeout.
        started = subprocess.run(
            ["bash", "-c", f'url="$(bash {SCRIPT})" && echo "$url"'],
            env=env, capture_output=True, text=True, timeout=120, check=False,
        )  # fmt: skip
        assert started.returncode == 0, started.stderr
        url = started.stdout.strip()
        assert url.startswith("postgresql://postgres@127.0.0.1:")
        connection = psycopg.connect(url, autocommit=True)
        assert connection.execute("SELECT 1").fetchone() == (1,)
    finally:
        assert owner.stdin is not None
        owner.stdin.close()
        owner.wait(timeout=30)
    # The owner is gone: the watchdog's fast shutdown ends this query long before it would.
    connection.execute("SET statement_timeout = '60s'")
    with pytest.raises(psycopg.Error) as stopped:
        connection.execute("SELECT pg_sleep(55)")
    assert not isinstance(stopped.value, psycopg.errors.QueryCanceled), "server never stopped"
    with pytest.raises(psycopg.OperationalError):
        psycopg.connect(url, connect_timeout=10).close()
