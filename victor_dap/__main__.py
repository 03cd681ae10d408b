"""`python -m victor_dap`: the Victor workflow debug adapter.

stdio by default; `--port N` serves one client at a time over TCP on
127.0.0.1 only. stdout carries only protocol (anything else that writes to it
is redirected to stderr); logs go to stderr or `--log-file`.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import sys
import threading

from victor_dap.protocol import Channel, read_message
from victor_dap.session import DebugSession

log = logging.getLogger("victor_dap")


async def serve_streams(reader: asyncio.StreamReader, write: object) -> None:
    """Run one session until the client disconnects or the stream ends."""
    session = DebugSession(Channel(write))
    try:
        while not session.closed.is_set():
            read = asyncio.ensure_future(read_message(reader))
            closed = asyncio.ensure_future(session.closed.wait())
            done, _ = await asyncio.wait({read, closed}, return_when=asyncio.FIRST_COMPLETED)
            if read not in done:
                read.cancel()
                break
            closed.cancel()
            message = read.result()
            if message is None:
                log.info("client closed the stream")
                break
            session.handle(message)
    finally:
        await session.shutdown()


def _stdio_reader(loop: asyncio.AbstractEventLoop, fd: int) -> asyncio.StreamReader:
    """A StreamReader fed from a blocking thread (works for pipes, files and ttys)."""
    reader = asyncio.StreamReader(limit=2**20)

    def pump() -> None:
        while True:
            try:
                chunk = os.read(fd, 65536)
            except OSError:
                chunk = b""
            if not chunk:
                loop.call_soon_threadsafe(reader.feed_eof)
                return
            loop.call_soon_threadsafe(reader.feed_data, chunk)

    threading.Thread(target=pump, name="dap-stdin", daemon=True).start()
    return reader


async def serve_stdio() -> None:
    protocol_out = os.dup(1)
    os.dup2(2, 1)  # stray prints from libraries must not corrupt the protocol
    sys.stdout = sys.stderr

    def write(data: bytes) -> None:
        view = memoryview(data)
        while view:
            written = os.write(protocol_out, view)
            view = view[written:]

    reader = _stdio_reader(asyncio.get_running_loop(), 0)
    await serve_streams(reader, write)


async def serve_tcp(port: int) -> None:
    lock = asyncio.Lock()

    async def client(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        async with lock:
            try:
                await serve_streams(reader, writer.write)
            finally:
                writer.close()

    server = await asyncio.start_server(client, "127.0.0.1", port)
    for sock in server.sockets:
        log.info("listening on %s", sock.getsockname())
    async with server:
        await server.serve_forever()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m victor_dap", description=__doc__)
    parser.add_argument("--port", type=int, help="serve DAP over TCP on 127.0.0.1:PORT")
    parser.add_argument("--log-file", help="write logs here instead of stderr")
    parser.add_argument("--log-level", default="WARNING")
    args = parser.parse_args(argv)
    handler: logging.Handler = (
        logging.FileHandler(args.log_file) if args.log_file else logging.StreamHandler(sys.stderr)
    )
    logging.basicConfig(level=args.log_level.upper(), handlers=[handler])
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve_tcp(args.port) if args.port is not None else serve_stdio())


if __name__ == "__main__":
    main()
