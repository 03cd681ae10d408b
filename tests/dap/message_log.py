"""What the test DAP clients share: numbered requests out, every message in, waits.

`DapMessages` keeps what the adapter sent in `received`, in order, and lets a
test wait for a response, an event or any message. A client supplies how bytes
go out (`_write`) and calls `_add` for each message it reads.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from victor_dap.protocol import encode


class DapMessages:
    def __init__(self, timeout: float) -> None:
        self.received: list[dict[str, Any]] = []
        self.timeout = timeout
        self._seq = 0
        self._changed = asyncio.Condition()

    def _write(self, data: bytes) -> None:
        raise NotImplementedError

    def _closed(self) -> bool:
        """True once nothing more can arrive (waits then fail at once)."""
        return False

    def _add(self, message: dict[str, Any]) -> None:
        self.received.append(message)
        asyncio.get_running_loop().create_task(self._notify())

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    def send(self, command: str, arguments: dict[str, Any] | None = None) -> int:
        self._seq += 1
        message: dict[str, Any] = {"seq": self._seq, "type": "request", "command": command}
        if arguments is not None:
            message["arguments"] = arguments
        self._write(encode(message))
        return self._seq

    async def wait_for(
        self,
        predicate: Callable[[dict[str, Any]], bool],
        what: str,
        timeout: float | None = None,
    ) -> dict[str, Any]:
        async def scan() -> dict[str, Any]:
            async with self._changed:
                while True:
                    for message in self.received:
                        if predicate(message):
                            return message
                    if self._closed():
                        raise AssertionError(f"stream closed while waiting for {what}")
                    await self._changed.wait()

        try:
            return await asyncio.wait_for(scan(), timeout or self.timeout)
        except TimeoutError:
            raise AssertionError(
                f"timed out waiting for {what}; received: {self.received[-8:]}"
            ) from None

    async def response(self, seq: int, timeout: float | None = None) -> dict[str, Any]:
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
        self, name: str, *, after: int = -1, timeout: float | None = None, **match: Any
    ) -> dict[str, Any]:
        """The first `name` event after position `after` in `received` whose body matches."""

        def predicate(m: dict[str, Any]) -> bool:
            if m.get("type") != "event" or m.get("event") != name:
                return False
            if self.received.index(m) <= after:
                return False
            body = m.get("body") or {}
            return all(body.get(k) == v for k, v in match.items())

        return await self.wait_for(predicate, f"event {name} {match}", timeout)

    def mark(self) -> int:
        return len(self.received) - 1
