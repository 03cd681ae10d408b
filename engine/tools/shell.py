"""The built-in `shell` tool: run `inputs.commands` in the workflow's project root.

Each command runs through the system shell with captured output; the node's
timeout bounds the whole call (the process is killed on timeout). A non-zero
exit status fails the tool. Knows nothing of nodes or events.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
from collections.abc import Mapping
from typing import Any


async def shell_tool(inputs: Mapping[str, Any], context: Any) -> dict[str, Any]:
    """Run the commands in order; stop at the first failure (it raises)."""
    from engine.tools import ToolError

    commands = inputs.get("commands", inputs.get("command"))
    if isinstance(commands, str):
        commands = [commands]
    if not isinstance(commands, list) or not commands:
        got = "nothing" if commands is None or commands == [] else type(commands).__name__
        raise ToolError(
            f"shell: `inputs.commands` must be a command string or a list of them, got {got}"
        )
    for number, command in enumerate(commands, 1):
        if not isinstance(command, str):
            got = "null" if command is None else type(command).__name__
            raise ToolError(
                f"shell: command {number} of `inputs.commands` is {got}, not a string; "
                'if it reads $ctx.KEY, give KEY in the run\'s context (-c \'{"KEY": "..."}\')'
            )
    cwd = inputs.get("cwd") or context.project_root
    results: list[dict[str, Any]] = []
    for command in commands:
        process = await asyncio.create_subprocess_shell(
            command,
            cwd=str(cwd),
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            # Its own process group, so a timeout ends every process the command
            # started (`a; b`, pipelines), not only the shell.
            start_new_session=os.name == "posix",
        )
        try:
            stdout, stderr = await process.communicate()
        except asyncio.CancelledError:
            _kill_group(process)
            # With the whole group gone the pipes reach EOF: draining them closes the
            # transport now rather than in a garbage collection after the loop is gone.
            with contextlib.suppress(Exception):
                await process.communicate()
            raise
        result = {
            "command": command,
            "exit_code": process.returncode,
            "stdout": stdout.decode("utf-8", "replace"),
            "stderr": stderr.decode("utf-8", "replace"),
        }
        results.append(result)
        if process.returncode != 0:
            detail = result["stderr"].strip() or result["stdout"].strip()
            raise ToolError(
                f"shell: `{command}` exited with status {process.returncode}"
                + (f": {detail[-500:]}" if detail else "")
            )
    return {
        "exit_code": 0,
        "stdout": "".join(r["stdout"] for r in results),
        "stderr": "".join(r["stderr"] for r in results),
        "commands": results,
    }


# No declared capabilities: what a command does depends on the command, and real workflows
# run read-only checks (lint, type check, scans) through `shell` under `constraints:
# [llm, write]` (Victor's code_review.yaml). `blocked_tools: [shell]` blocks it outright.
shell_tool.capabilities = frozenset()  # type: ignore[attr-defined]


def _kill_group(process: asyncio.subprocess.Process) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        if os.name == "posix":
            os.killpg(process.pid, signal.SIGKILL)
        else:  # pragma: no cover - no process groups
            process.kill()
