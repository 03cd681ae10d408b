"""A small DAP client for protocol tests: runs the adapter in-process over memory streams.

Every message the adapter sends is kept in `received` in order, so tests can
check ordering rules (a `stopped` event only after the response that caused it).
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from typing import Any

from victor_dap.__main__ import serve_streams
from victor_dap.protocol import encode

TIMEOUT = 15.0


@dataclass
class DapClient:
    reader: asyncio.StreamReader = field(default_factory=asyncio.StreamReader)
    received: list[dict[str, Any]] = field(default_factory=list)
    _buffer: bytearray = field(default_factory=bytearray)
    _seq: int = 0
    _changed: asyncio.Condition = field(default_factory=asyncio.Condition)
    _task: asyncio.Task[None] | None = None
    _consumed_events: int = 0

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
            self.received.append(json.loads(body))
            asyncio.get_running_loop().create_task(self._notify())

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    def send_raw(self, data: bytes) -> None:
        self.reader.feed_data(data)

    def send(self, command: str, arguments: dict[str, Any] | None = None) -> int:
        self._seq += 1
        message: dict[str, Any] = {"seq": self._seq, "type": "request", "command": command}
        if arguments is not None:
            message["arguments"] = arguments
        self.send_raw(encode(message))
        return self._seq

    async def _wait_for(
        self, predicate: Any, what: str, timeout: float = TIMEOUT
    ) -> dict[str, Any]:
        async def scan() -> dict[str, Any]:
            async with self._changed:
                while True:
                    for message in self.received:
                        if predicate(message):
                            return message
                    await self._changed.wait()

        try:
            return await asyncio.wait_for(scan(), timeout)
        except TimeoutError:
            raise AssertionError(
                f"timed out waiting for {what}; received: {self.received[-8:]}"
            ) from None

    async def response(self, seq: int, timeout: float = TIMEOUT) -> dict[str, Any]:
        return await self._wait_for(
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
        self, name: str, *, after: int = -1, timeout: float = TIMEOUT, **match: Any
    ) -> dict[str, Any]:
        """The first `name` event after position `after` in `received` whose body matches."""

        def predicate(m: dict[str, Any]) -> bool:
            if m.get("type") != "event" or m.get("event") != name:
                return False
            if self.received.index(m) <= after:
                return False
            body = m.get("body") or {}
            return all(body.get(k) == v for k, v in match.items())

        return await self._wait_for(predicate, f"event {name} {match}", timeout)

    async def reverse_request(self, command: str, timeout: float = TIMEOUT) -> dict[str, Any]:
        """The first request the adapter sent to us with this command."""
        return await self._wait_for(
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

    def mark(self) -> int:
        return len(self.received) - 1

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
