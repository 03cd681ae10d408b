"""Start, talk to and end the workflow process (`victor_dap.debuggee`).

The adapter listens on an ephemeral 127.0.0.1 port, starts the child with the
port and a one-time token, and accepts only a connection that presents the
token. The child's stdout/stderr are read as program output. `kill()` always
ends it. Knows nothing of DAP messages.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import secrets
import socket
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from victor_dap.rpc import LINE_LIMIT, EventHandler, RpcConnection

log = logging.getLogger(__name__)

_REPO_ROOT = str(Path(__file__).resolve().parents[1])


class ChildStartError(Exception):
    pass


class DebuggeeProcess:
    def __init__(self, process: asyncio.subprocess.Process, rpc: RpcConnection) -> None:
        self.process = process
        self.rpc = rpc
        self._tasks: list[asyncio.Task[Any]] = []

    @property
    def pid(self) -> int:
        return self.process.pid

    @property
    def alive(self) -> bool:
        return self.process.returncode is None

    async def end(self, grace: float = 1.0) -> None:
        """Close the connection (the child exits by itself); kill it after `grace` seconds."""
        self.rpc.close()
        if self.process.returncode is None:
            try:
                await asyncio.wait_for(self.process.wait(), grace)
            except TimeoutError:
                self.kill()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self.process.wait(), 2.0)
        for task in self._tasks:
            task.cancel()

    def kill(self) -> None:
        if self.process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                self.process.kill()


async def start_debuggee(
    *,
    cwd: str | None,
    env: Mapping[str, str],
    on_event: EventHandler,
    on_output: Callable[[str, str], None],
    timeout: float = 15.0,
) -> DebuggeeProcess:
    """Start the child and wait until it connected back; raises ChildStartError."""
    token = secrets.token_hex(16)
    connected: asyncio.Future[tuple[asyncio.StreamReader, asyncio.StreamWriter]]
    connected = asyncio.get_running_loop().create_future()

    async def accept(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            line = await asyncio.wait_for(reader.readline(), 5.0)
            hello = json.loads(line)
        except (TimeoutError, json.JSONDecodeError, ConnectionError):
            writer.close()
            return
        if hello.get("body", {}).get("token") != token or connected.done():
            writer.close()
            return
        sock = writer.get_extra_info("socket")
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        connected.set_result((reader, writer))

    server = await asyncio.start_server(accept, "127.0.0.1", 0, limit=LINE_LIMIT)
    port = server.sockets[0].getsockname()[1]
    child_env = dict(os.environ)
    child_env.update(env)
    child_env["PYTHONPATH"] = os.pathsep.join(
        p for p in (_REPO_ROOT, child_env.get("PYTHONPATH", "")) if p
    )
    child_env.setdefault("PYTHONUNBUFFERED", "1")
    # debugpy (handler debugging) warns about frozen stdlib modules; handlers are not frozen.
    child_env.setdefault("PYDEVD_DISABLE_FILE_VALIDATION", "1")
    try:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "victor_dap.debuggee",
            "--port",
            str(port),
            "--token",
            token,
            cwd=cwd,
            env=child_env,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
    except OSError as exc:
        server.close()
        raise ChildStartError(f"cannot start the workflow process: {exc}") from exc

    async def pump(stream: asyncio.StreamReader | None, category: str) -> None:
        if stream is None:
            return
        while True:
            chunk = await stream.read(65536)
            if not chunk:
                return
            on_output(category, chunk.decode("utf-8", "replace"))

    pumps = [
        asyncio.ensure_future(pump(process.stdout, "stdout")),
        asyncio.ensure_future(pump(process.stderr, "stderr")),
    ]
    exited: asyncio.Future[Any] = asyncio.ensure_future(process.wait())
    try:
        waiting: set[asyncio.Future[Any]] = {connected, exited}
        done, _ = await asyncio.wait(waiting, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
    finally:
        server.close()
    if connected not in done:
        exited.cancel()
        with contextlib.suppress(ProcessLookupError):
            process.kill()
        reason = (
            f"exited with code {process.returncode}"
            if exited in done
            else f"did not connect within {timeout:g}s"
        )
        raise ChildStartError(f"the workflow process {reason}")
    exited.cancel()
    reader, writer = connected.result()
    rpc = RpcConnection(reader, writer, on_event=on_event)
    child = DebuggeeProcess(process, rpc)
    child._tasks = [*pumps, asyncio.ensure_future(rpc.serve())]
    return child
