"""`python -m victor_dap` as a real process: vanished clients, `--port`, `--log-file`.

Each test runs the adapter in a subprocess with VICTOR_HOME at a temporary
folder (see conftest) and checks what the history database says afterwards.
"""

from __future__ import annotations

import asyncio
import os
import socket
import sys
import textwrap
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager, suppress
from pathlib import Path
from typing import Any

import pytest

from engine.history import ExecutionRecord, WorkflowExecutionHistory, default_history_location
from tests.dap.fakes import SPIN_HANDLERS
from tests.dap.stream_client import StreamDapClient, split_frames
from tests.support import REPO_ROOT, marker_line

pytestmark = pytest.mark.timeout(60)
WAIT = 20.0

SPIN_WORKFLOW = textwrap.dedent(
    """\
    workflows:
      spin:
        nodes:
          - id: warm
            type: transform
            transform: "ready = true"
          - id: loop
            type: compute
            handler: spin
    """
)

SMALL = textwrap.dedent(
    """\
    workflows:
      small:
        nodes:
          - id: first           # @first
            type: transform
            transform: "count = 1"
          - id: second
            type: transform
            transform: "count = count + 1"
    """
)


@asynccontextmanager
async def adapter(*args: str) -> AsyncIterator[asyncio.subprocess.Process]:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "victor_dap",
        *args,
        cwd=str(REPO_ROOT),
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        yield process
    finally:
        if process.returncode is None:
            process.kill()
        await process.wait()


def stdio_client(process: asyncio.subprocess.Process) -> StreamDapClient:
    assert process.stdout is not None and process.stdin is not None
    return StreamDapClient(process.stdout, process.stdin)


async def initialize(client: StreamDapClient) -> None:
    await client.request("initialize", {"adapterID": "victor", "linesStartAt1": True})


async def until(check: Any, what: str, timeout: float = WAIT) -> Any:
    """Poll `check()` until it returns something truthy (the history has no events to await)."""

    async def poll() -> Any:
        while not (found := check()):
            await asyncio.sleep(0.05)
        return found

    try:
        return await asyncio.wait_for(poll(), timeout)
    except TimeoutError:
        raise AssertionError(f"timed out waiting for {what}") from None


def process_gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    try:  # a zombie nobody reaped yet has ended too
        return "\nState:\tZ" in Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return True


def runs_of(workflow: str, statuses: Iterable[str]) -> ExecutionRecord | None:
    if not Path(default_history_location()).exists():
        return None
    with WorkflowExecutionHistory() as history:
        runs = history.list_executions(workflow)
    return runs[0] if runs and runs[0].status in set(statuses) else None


async def start_spinning(client: StreamDapClient, tmp_path: Path) -> int:
    (tmp_path / "spin.py").write_text(SPIN_HANDLERS)
    program = tmp_path / "spin.yaml"
    program.write_text(SPIN_WORKFLOW)
    await initialize(client)
    await client.request(
        "launch", {"program": str(program), "registry": [str(tmp_path / "spin.py")]}
    )
    await client.request("configurationDone")
    spinning = await client.wait_for(
        lambda m: "spinning in" in (m.get("body") or {}).get("output", ""), "handler output"
    )
    await until(lambda: runs_of("spin", {"running"}), "the run recorded as running")
    return int(spinning["body"]["output"].split()[-1])


async def test_closing_the_adapter_stdin_interrupts_the_run(tmp_path: Path) -> None:
    async with adapter() as process:
        client = stdio_client(process)
        pid = await start_spinning(client, tmp_path)
        assert process.stdin is not None
        process.stdin.close()
        assert await asyncio.wait_for(process.wait(), WAIT) == 0
        await until(lambda: process_gone(pid), f"workflow process {pid} to end")
        record = await until(lambda: runs_of("spin", {"interrupted"}), "an interrupted run")
        assert record.workflow_name == "spin" and record.success is False
        assert record.nodes_executed[:1] == ("warm",)
        await client.close()


async def test_killing_the_adapter_leaves_no_orphan_and_interrupts_the_run(
    tmp_path: Path,
) -> None:
    async with adapter() as process:
        client = stdio_client(process)
        pid = await start_spinning(client, tmp_path)
        process.kill()
        await asyncio.wait_for(process.wait(), WAIT)
        await until(lambda: process_gone(pid), f"orphan workflow process {pid} to end")
        record = await until(lambda: runs_of("spin", {"interrupted"}), "an interrupted run")
        assert record.workflow_name == "spin"
        await client.close()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def listening_addresses(port: int) -> list[str]:
    """Local addresses of LISTEN sockets on `port`, from /proc/net/tcp{,6} (hex, as the kernel)."""
    found = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with suppress(OSError):
            for row in Path(table).read_text().splitlines()[1:]:
                fields = row.split()
                address, port_hex = fields[1].rsplit(":", 1)
                if int(port_hex, 16) == port and fields[3] == "0A":
                    found.append(address)
    return found


async def connect_when_ready(process: asyncio.subprocess.Process, port: int) -> StreamDapClient:
    """Connect once the adapter logs that it listens (run it with `--log-level INFO`)."""
    assert process.stderr is not None
    stderr = process.stderr

    async def listening() -> None:
        while b"listening on" not in (line := await stderr.readline()):
            if not line:
                raise AssertionError("the adapter exited before listening")

    await asyncio.wait_for(listening(), WAIT)
    # Keep reading its log so a full pipe can never block the adapter.
    _DRAINS.add(asyncio.ensure_future(stderr.read()))
    return await StreamDapClient.connect("127.0.0.1", port)


_DRAINS: set[asyncio.Future[bytes]] = set()


async def run_small_session(client: StreamDapClient, program: Path) -> None:
    await initialize(client)
    await client.request("launch", {"program": str(program)})
    placed = await client.request(
        "setBreakpoints",
        {
            "source": {"path": str(program)},
            "breakpoints": [{"line": marker_line(SMALL, "first") + 1}],
        },
    )
    assert placed["breakpoints"][0]["verified"]
    await client.request("configurationDone")
    stopped = (await client.event("stopped"))["body"]
    await client.request("continue", {"threadId": stopped["threadId"]})
    exited = await client.event("exited")
    assert exited["body"]["exitCode"] == 0
    await client.request("disconnect", {})


async def test_port_serves_tcp_on_loopback_only_one_client_after_another(tmp_path: Path) -> None:
    program = tmp_path / "small.yaml"
    program.write_text(SMALL)
    port = free_port()
    async with adapter("--port", str(port), "--log-level", "INFO") as process:
        first = await connect_when_ready(process, port)
        if Path("/proc/net/tcp").exists():
            assert listening_addresses(port) == ["0100007F"]  # 127.0.0.1 only, no IPv6/any
        await run_small_session(first, program)
        await first.close()
        second = await StreamDapClient.connect("127.0.0.1", port)
        await run_small_session(second, program)
        await second.close()
        assert process.returncode is None  # the server outlives its sessions
    with WorkflowExecutionHistory() as history:
        runs = history.list_executions("small")
    assert [r.status for r in runs] == ["completed", "completed"]


async def test_log_file_gets_the_logs_and_stdout_carries_only_protocol(tmp_path: Path) -> None:
    program = tmp_path / "small.yaml"
    program.write_text(SMALL)
    log_file = tmp_path / "adapter.log"
    async with adapter("--log-file", str(log_file), "--log-level", "DEBUG") as process:
        client = stdio_client(process)
        await run_small_session(client, program)
        assert await asyncio.wait_for(process.wait(), WAIT) == 0
        await client.wait_for(lambda m: m.get("command") == "disconnect", "disconnect response")
        assert process.stderr is not None
        stderr = (await process.stderr.read()).decode()
        await client.close()
    frames = split_frames(bytes(client.raw))
    assert frames == client.received and not client.malformed
    assert any(m.get("event") == "stopped" for m in frames)
    logged = log_file.read_text()
    assert f"launch {program}" in logged
    assert "launch" not in stderr
