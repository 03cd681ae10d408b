"""The adapter <-> debuggee wire: JSON lines over a local socket.

Requests `{"id", "method", "params"}` get `{"id", "result"}` or
`{"id", "error"}`; either side may send `{"event", "body"}` at any time.
Knows nothing of DAP or of workflows.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

log = logging.getLogger(__name__)

LINE_LIMIT = 1 << 30
"""Stream buffer limit for both ends: one message is one line, and a large workflow
state (launch inputs, a `variables` page of 10,000 keys) makes lines of megabytes;
asyncio's default of 64 KiB would end the connection."""

EventHandler = Callable[[str, dict[str, Any]], None]
RequestHandler = Callable[[str, dict[str, Any]], Awaitable[Any]]


class RpcError(Exception):
    """The other side answered a request with an error, or is gone."""


class RpcConnection:
    def __init__(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        *,
        on_event: EventHandler | None = None,
        on_request: RequestHandler | None = None,
    ) -> None:
        self._reader = reader
        self._writer = writer
        self._on_event = on_event
        self._on_request = on_request
        self._pending: dict[int, asyncio.Future[Any]] = {}
        self._next_id = 0
        self.closed = asyncio.get_running_loop().create_future()

    def _write(self, message: dict[str, Any]) -> None:
        if self._writer.is_closing():
            return
        self._writer.write(json.dumps(message, separators=(",", ":")).encode() + b"\n")

    async def call(
        self, method: str, params: dict[str, Any] | None = None, timeout: float = 5.0
    ) -> Any:
        if self.closed.done():
            raise RpcError("the workflow process has exited")
        self._next_id += 1
        request_id = self._next_id
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._pending[request_id] = future
        self._write({"id": request_id, "method": method, "params": params or {}})
        try:
            return await asyncio.wait_for(future, timeout)
        except TimeoutError:
            raise RpcError(
                f"the workflow process did not answer {method!r} within {timeout:g}s "
                "(a node may be busy; pause or terminate)"
            ) from None
        finally:
            self._pending.pop(request_id, None)

    def notify(self, event: str, body: dict[str, Any] | None = None) -> None:
        self._write({"event": event, "body": body or {}})

    async def serve(self) -> None:
        """Read until the other side closes; then fail pending calls."""
        try:
            while True:
                try:
                    line = await self._reader.readline()
                except ValueError:  # longer than LINE_LIMIT: dropped; its caller times out
                    log.warning("rpc: dropped a message longer than %d bytes", LINE_LIMIT)
                    continue
                if not line:
                    break
                try:
                    message = json.loads(line)
                except json.JSONDecodeError:
                    log.warning("rpc: dropped a line that is not JSON: %r", line[:80])
                    continue
                self._dispatch(message)
        except (ConnectionError, OSError) as exc:
            log.debug("rpc connection lost: %s", exc)
        finally:
            for future in self._pending.values():
                if not future.done():
                    future.set_exception(RpcError("the workflow process has exited"))
            if not self.closed.done():
                self.closed.set_result(None)

    def _dispatch(self, message: dict[str, Any]) -> None:
        if "event" in message:
            if self._on_event is not None:
                try:
                    self._on_event(message["event"], message.get("body") or {})
                except Exception:
                    log.exception("rpc event handler failed")
        elif "method" in message:
            asyncio.get_running_loop().create_task(self._answer(message))
        elif "id" in message:
            future = self._pending.get(message["id"])
            if future is None or future.done():
                return
            if "error" in message:
                future.set_exception(RpcError(str(message["error"])))
            else:
                future.set_result(message.get("result"))

    async def _answer(self, message: dict[str, Any]) -> None:
        request_id = message.get("id")
        if self._on_request is None:
            self._write({"id": request_id, "error": "no requests accepted"})
            return
        try:
            result = await self._on_request(str(message["method"]), message.get("params") or {})
        except Exception as exc:
            self._write({"id": request_id, "error": str(exc) or type(exc).__name__})
            return
        self._write({"id": request_id, "result": result})

    def close(self) -> None:
        if not self._writer.is_closing():
            self._writer.close()
