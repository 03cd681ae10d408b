"""pygls' LSP protocol, with every request answered.

Two cases pygls leaves unanswered, so a client waits for ever: a request whose
params do not match the LSP types (pygls fails while reading the JSON, loses the
request id and pops up "Error in server"), and a request after `shutdown`
(dropped with a log line). Here the first gets `InvalidParams` and the second
`InvalidRequest`, both as ordinary error answers, and nothing logs a traceback.
Knows nothing of workflows.
"""

from __future__ import annotations

import logging
from typing import Any

from lsprotocol import types
from pygls.exceptions import JsonRpcException, JsonRpcInvalidRequest
from pygls.protocol import LanguageServerProtocol
from pygls.protocol.json_rpc import RPCRequest

log = logging.getLogger(__name__)


class _Answered:
    """Stands for a request already answered while it was read; nothing handles it."""

    jsonrpc = ""


_ANSWERED = _Answered()


class _UnreadableRequestLogs(logging.Filter):
    """pygls logs a traceback for params it cannot read; we log one line instead."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith("Unable to deserialize message")


_JSON_RPC_LOG = logging.getLogger("pygls.protocol.json_rpc")


class AnswerEveryRequest(LanguageServerProtocol):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not any(isinstance(f, _UnreadableRequestLogs) for f in _JSON_RPC_LOG.filters):
            _JSON_RPC_LOG.addFilter(_UnreadableRequestLogs())

    def structure_message(self, data: dict[str, Any]) -> Any:
        try:
            return super().structure_message(data)
        except JsonRpcException as error:
            msg_id, method = data.get("id"), data.get("method")
            if msg_id is None or method is None:
                log.warning("unreadable message from the client ignored: %s", error)
                raise
            log.warning("%s request %r answered %s: %s", method, msg_id, error.code, error)
            self._send_response(msg_id, error=error.to_response_error())
            return _ANSWERED

    def handle_message(self, message: Any) -> None:
        if message is _ANSWERED:
            return
        if self._shutdown and isinstance(message, RPCRequest) and message.method != types.EXIT:
            refusal = JsonRpcInvalidRequest(f"{message.method}: the server is shutting down")
            self._send_response(message.id, error=refusal.to_response_error())
            return
        super().handle_message(message)
