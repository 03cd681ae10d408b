"""A small DAP client for protocol tests: runs the adapter in-process over memory streams.

Every message the adapter sends is kept in `received` in order, so tests can
check ordering rules (a `stopped` event only after the response that caused it).
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from tests.dap.message_log import DapMessages
from victor_dap.__main__ import serve_streams
from victor_dap.protocol import encode

TIMEOUT = 15.0


class DapClient(DapMessages):
    def __init__(self) -> None:
        super().__init__(TIMEOUT)
        self.reader = asyncio.StreamReader()
        self._buffer = bytearray()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(
            serve_streams(self.reader, self._on_bytes)
        )

    def _on_bytes(self, data: bytes) -> None:
        self._buffer.extend(data)
        while True:
            head, sep, rest = bytes(self._buffer).partition(b"\r\n\r\n")
            if not sep:
                return
            length = int(head.split(b":", 1)[1])
            if len(rest) < length:
                return
            body = rest[:length]
            del self._buffer[: len(head) + 4 + length]
            self._add(json.loads(body))

    def _write(self, data: bytes) -> None:
        self.send_raw(data)

    def send_raw(self, data: bytes) -> None:
        self.reader.feed_data(data)

    async def reverse_request(self, command: str, timeout: float = TIMEOUT) -> dict[str, Any]:
        """The first request the adapter sent to us with this command."""
        return await self.wait_for(
            lambda m: m.get("type") == "request" and m.get("command") == command,
            f"reverse request {command}",
            timeout,
        )

    def answer(
        self, request: dict[str, Any], *, success: bool = True, message: str | None = None
    ) -> None:
        self._seq += 1
        response: dict[str, Any] = {
            "seq": self._seq,
            "type": "response",
            "request_seq": request["seq"],
            "command": request["command"],
            "success": success,
        }
        if message is not None:
            response["message"] = message
        self.send_raw(encode(response))

    def index(self, message: dict[str, Any]) -> int:
        return self.received.index(message)

    async def close(self) -> None:
        self.reader.feed_eof()
        if self._task is not None:
            await asyncio.wait_for(self._task, TIMEOUT)

    # ------------------------------------------------------------ conveniences

    async def launch(
        self, program: str, *, capabilities: dict[str, Any] | None = None, **arguments: Any
    ) -> dict[str, Any]:
        await self.request(
            "initialize",
            {
                "adapterID": "victor",
                "linesStartAt1": True,
                "columnsStartAt1": True,
                "supportsInvalidatedEvent": True,
                **(capabilities or {}),
            },
        )
        await self.event("initialized")
        return await self.request("launch", {"program": program, **arguments})

    async def stopped(self, after: int = -1, **match: Any) -> dict[str, Any]:
        event = await self.event("stopped", after=after, **match)
        return event["body"]
