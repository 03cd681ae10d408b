"""Keep debug sessions' history records out of the user's ~/.victor."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def _isolated_victor_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VICTOR_HOME", str(tmp_path / "victor-home"))
    monkeypatch.delenv("VICTOR_HISTORY_URL", raising=False)
