"""A small DAP client over a real byte stream (TCP or a process's pipes).

It reads frames with the adapter's own reader, keeps every message in
`received` and every byte read in `raw` (to check that a stream carries only
protocol), and answers nothing by itself.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from victor_dap.protocol import Malformed, encode, read_message

TIMEOUT = 20.0


class StreamDapClient:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.source = reader
        self.reader = asyncio.StreamReader(limit=2**22)
        self.writer = writer
        self.raw = bytearray()
        self.received: list[dict[str, Any]] = []
        self.malformed: list[Malformed] = []
        self._seq = 0
        self._changed = asyncio.Condition()
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
            self.received.append(message)
            async with self._changed:
                self._changed.notify_all()
        async with self._changed:
            self._changed.notify_all()

    def send(self, command: str, arguments: dict[str, Any] | None = None) -> int:
        self._seq += 1
        message: dict[str, Any] = {"seq": self._seq, "type": "request", "command": command}
        if arguments is not None:
            message["arguments"] = arguments
        self.writer.write(encode(message))
        return self._seq

    async def wait_for(self, predicate: Any, what: str, timeout: float = TIMEOUT) -> dict[str, Any]:
        async def scan() -> dict[str, Any]:
            async with self._changed:
                while True:
                    for message in self.received:
                        if predicate(message):
                            return message
                    if self._task.done():
                        raise AssertionError(f"stream closed while waiting for {what}")
                    await self._changed.wait()

        try:
            return await asyncio.wait_for(scan(), timeout)
        except TimeoutError:
            raise AssertionError(
                f"timed out waiting for {what}; received: {self.received[-8:]}"
            ) from None

    async def response(self, seq: int, timeout: float = TIMEOUT) -> dict[str, Any]:
        return await self.wait_for(
            lambda m: m.get("type") == "response" and m.get("request_seq") == seq,
            f"response to {seq}",
            timeout,
        )

    async def request(
        self, command: str, arguments: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        response = await self.response(self.send(command, arguments))
        assert response["success"], f"{command} failed: {response.get('message')}"
        return response.get("body") or {}

    async def event(
        self, name: str, *, after: int = -1, timeout: float = TIMEOUT
    ) -> dict[str, Any]:
        return await self.wait_for(
            lambda m: (
                m.get("type") == "event"
                and m.get("event") == name
                and self.received.index(m) > after
            ),
            f"event {name}",
            timeout,
        )

    def mark(self) -> int:
        return len(self.received) - 1

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
