"""DAP test fixtures: an in-process adapter client; history records kept out of ~/.victor."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.dap.dap_client import DapClient


@pytest.fixture(autouse=True)
def _isolated_victor_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VICTOR_HOME", str(tmp_path / "victor-home"))
    monkeypatch.delenv("VICTOR_HISTORY_URL", raising=False)


@pytest.fixture
async def client() -> AsyncIterator[DapClient]:
    """The adapter running in this process, spoken to over memory streams."""
    c = DapClient()
    c.start()
    yield c
    await c.close()
