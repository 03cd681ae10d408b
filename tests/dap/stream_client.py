"""A small DAP client over a real byte stream (TCP or a process's pipes).

It reads frames with the adapter's own reader, keeps every message in
`received` and every byte read in `raw` (to check that a stream carries only
protocol), and answers nothing by itself.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from tests.dap.message_log import DapMessages
from victor_dap.protocol import Malformed, read_message

TIMEOUT = 20.0


class StreamDapClient(DapMessages):
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        super().__init__(TIMEOUT)
        self.source = reader
        self.reader = asyncio.StreamReader(limit=2**22)
        self.writer = writer
        self.raw = bytearray()
        self.malformed: list[Malformed] = []
        loop = asyncio.get_running_loop()
        self._pump = loop.create_task(self._tee())
        self._task = loop.create_task(self._read())

    @classmethod
    async def connect(cls, host: str, port: int) -> StreamDapClient:
        reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port), TIMEOUT)
        return cls(reader, writer)

    async def _tee(self) -> None:
        while True:
            chunk = await self.source.read(65536)
            if not chunk:
                self.reader.feed_eof()
                return
            self.raw.extend(chunk)
            self.reader.feed_data(chunk)

    async def _read(self) -> None:
        while True:
            message = await read_message(self.reader)
            if message is None:
                break
            if isinstance(message, Malformed):
                self.malformed.append(message)
                continue
            self._add(message)
        await self._notify()

    def _write(self, data: bytes) -> None:
        self.writer.write(data)

    def _closed(self) -> bool:
        return self._task.done()

    async def close(self) -> None:
        self.writer.close()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self.writer.wait_closed(), 5.0)
        for task in (self._task, self._pump):
            task.cancel()
            with contextlib.suppress(BaseException):
                await task


def split_frames(data: bytes) -> list[dict[str, Any]]:
    """Parse a byte stream strictly as DAP frames; fails on any byte that is not protocol."""
    import json

    frames: list[dict[str, Any]] = []
    rest = bytes(data)
    while rest:
        head, sep, rest = rest.partition(b"\r\n\r\n")
        assert sep, f"bytes that are not a DAP frame: {head[:80]!r}"
        name, _, value = head.decode("ascii").partition(":")
        assert name == "Content-Length", f"unexpected header {head[:80]!r}"
        length = int(value)
        body, rest = rest[:length], rest[length:]
        assert len(body) == length, "truncated frame"
        frames.append(json.loads(body.decode("utf-8")))
    return frames
