"""The built-in shell tool: a timeout ends every process it started; bad commands are named."""

from __future__ import annotations

import asyncio
import os
import time
import types
from pathlib import Path

import pytest

from engine.tools.shell import shell_tool

pytestmark = pytest.mark.skipif(os.name != "posix", reason="process groups are POSIX")


def _alive(pid: int) -> bool:
    """Running (a killed process may linger as a zombie until its new parent reaps it)."""
    stat = Path(f"/proc/{pid}/stat")
    if stat.exists():
        try:
            return stat.read_text().rsplit(")", 1)[1].split()[0] not in ("Z", "X")
        except (OSError, IndexError):
            return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


async def test_timeout_kills_the_whole_command_and_returns_promptly(tmp_path: Path) -> None:
    pid_file = tmp_path / "child.pid"
    # A compound command: the shell forks `sleep`, which would keep the pipes open
    # (and keep running) if only the shell were killed.
    command = f"sleep 30 & echo $! > {pid_file}; wait"
    context = types.SimpleNamespace(project_root=str(tmp_path))
    started = time.monotonic()
    with pytest.raises(TimeoutError):
        async with asyncio.timeout(0.5):
            await shell_tool({"commands": [command]}, context)
    assert time.monotonic() - started < 5
    child = int(pid_file.read_text())
    assert not _alive(child)  # SIGKILL went to the whole group before the tool returned


async def test_missing_command_names_the_item_and_the_fix(tmp_path: Path) -> None:
    from engine.tools import ToolError

    context = types.SimpleNamespace(project_root=str(tmp_path))
    with pytest.raises(ToolError) as caught:
        await shell_tool({"commands": ["true", None]}, context)  # $ctx.lint_command unset
    message = str(caught.value)
    assert "command 2" in message and "null" in message and "$ctx" in message
