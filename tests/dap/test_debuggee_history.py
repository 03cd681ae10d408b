"""The debuggee records a debug session in the history of the workflow's project."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from victor_dap.debuggee import Debuggee

WORKFLOW = """\
workflows:
  demo:
    nodes:
      - id: only
        type: transform
        transform: "done = True"
"""


def test_debug_session_uses_the_projects_history_url(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("VICTOR_HISTORY_URL", raising=False)
    monkeypatch.setenv("VICTOR_HOME", str(tmp_path / "home"))
    (tmp_path / "victor.toml").write_text('history_url = "runs/debug.db"\n')
    program = tmp_path / "flows" / "demo.yaml"
    program.parent.mkdir()
    program.write_text(WORKFLOW)
    notes: list[tuple[str, Any]] = []
    debuggee = Debuggee(lambda event, body: notes.append((event, body)))
    debuggee.rpc_prepare(str(program))
    try:
        assert debuggee.history is not None, notes
        assert Path(debuggee.history.location) == tmp_path / "runs" / "debug.db"
    finally:
        debuggee.history.close()
