"""DAP base protocol: Content-Length framing, message shapes and request-scoped errors.

`read_message` returns a parsed message, a `Malformed` marker (the session
answers it with an error and carries on) or None at end of stream. Knows
nothing of workflows or of what requests mean.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from typing import Any

_MAX_BODY = 64 * 1024 * 1024
_MAX_HEADER = 8 * 1024


class DapError(Exception):
    """A request failed; becomes an error response for that request only.

    `show_user` asks the client to display the message (launch failures).
    """

    def __init__(self, message: str, *, error_id: int = 1, show_user: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.error_id = error_id
        self.show_user = show_user


@dataclass(frozen=True, slots=True)
class Malformed:
    """A frame or body that could not be read; `seq`/`command` when recoverable."""

    reason: str
    seq: int = 0
    command: str = ""


def encode(message: dict[str, Any]) -> bytes:
    """One framed message; Content-Length counts bytes of the UTF-8 body."""
    body = json.dumps(message, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    return b"Content-Length: " + str(len(body)).encode("ascii") + b"\r\n\r\n" + body


_LENGTH_HEADER = b"content-length:"


async def read_message(reader: asyncio.StreamReader) -> dict[str, Any] | Malformed | None:
    """The next message; None at a clean end of stream.

    A bad header block is consumed up to its blank line before it is reported,
    and a header line is read from its last `Content-Length:` on, so that the
    unread body of a frame with an unusable length (glued to the next frame's
    first header line) costs only that frame, not the session.
    """
    length: int | None = None
    problem: str | None = None
    header_bytes = 0
    while True:
        try:
            line = await reader.readuntil(b"\n")
        except asyncio.IncompleteReadError:
            return None
        except asyncio.LimitOverrunError as exc:
            await reader.readexactly(exc.consumed)  # drop it, or the next read sees it again
            problem = problem or "header line too long"
            header_bytes = _MAX_HEADER + 1
            continue
        resync = line.lower().rfind(_LENGTH_HEADER)
        if resync > 0:
            line, header_bytes = line[resync:], 0
            problem = problem or "bytes before the Content-Length header"
        header_bytes += len(line)
        text = line.strip()
        if not text:
            if length is None and problem is None and header_bytes <= 2:
                header_bytes = 0  # stray blank line between messages
                continue
            break
        if header_bytes > _MAX_HEADER:
            problem = problem or "header too long"
            continue
        name, sep, value = text.decode("ascii", "replace").partition(":")
        if not sep:
            problem = problem or f"malformed header line {text[:60]!r}"
        elif name.strip().lower() == "content-length":
            try:
                length = int(value.strip())
            except ValueError:
                problem = problem or f"invalid Content-Length {value.strip()!r}"
                continue
            if length < 0 or length > _MAX_BODY:
                problem = problem or f"Content-Length {length} out of range"
                length = None
    if length is None:
        return Malformed(problem or "missing Content-Length header")
    try:
        body = await reader.readexactly(length)
    except asyncio.IncompleteReadError:
        return None
    try:
        message = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        return Malformed(f"body is not valid JSON: {exc}")
    if not isinstance(message, dict):
        return Malformed("message is not a JSON object")
    seq = message.get("seq")
    command = message.get("command")
    if message.get("type") == "request" and (
        not isinstance(seq, int) or not isinstance(command, str)
    ):
        return Malformed(
            "request needs an integer `seq` and a string `command`",
            seq if isinstance(seq, int) else 0,
            command if isinstance(command, str) else "",
        )
    return message


class Channel:
    """Numbers outgoing messages (`seq`) and writes them through `write`."""

    def __init__(self, write: Any) -> None:
        self._write = write
        self._seq = 0
        self.closed = False

    def _next_seq(self) -> int:
        self._seq += 1
        return self._seq

    def send(self, message: dict[str, Any]) -> None:
        if self.closed:
            return
        message["seq"] = self._next_seq()
        try:
            self._write(encode(message))
        except (OSError, RuntimeError):
            self.closed = True

    def event(self, event: str, body: dict[str, Any] | None = None) -> None:
        message: dict[str, Any] = {"type": "event", "event": event}
        if body is not None:
            message["body"] = body
        self.send(message)

    def response(self, request_seq: int, command: str, body: dict[str, Any] | None = None) -> None:
        message: dict[str, Any] = {
            "type": "response",
            "request_seq": request_seq,
            "success": True,
            "command": command,
        }
        if body is not None:
            message["body"] = body
        self.send(message)

    def error(self, request_seq: int, command: str, error: DapError) -> None:
        self.send(
            {
                "type": "response",
                "request_seq": request_seq,
                "success": False,
                "command": command,
                "message": error.message,
                "body": {
                    "error": {
                        "id": error.error_id,
                        "format": error.message,
                        "showUser": error.show_user,
                    }
                },
            }
        )

    def request(self, command: str, arguments: dict[str, Any]) -> int:
        """A reverse request (runInTerminal, startDebugging); returns its seq."""
        seq = self._next_seq()
        if not self.closed:
            try:
                self._write(
                    encode(
                        {"seq": seq, "type": "request", "command": command, "arguments": arguments}
                    )
                )
            except (OSError, RuntimeError):
                self.closed = True
        return seq
