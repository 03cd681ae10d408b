"""Debugging compute handlers' Python code with debugpy, inside the workflow process.

Used by the debuggee when the editor steps into a compute node whose handler is
Python: `PythonDebugServer.ensure_listening()` starts debugpy on 127.0.0.1 with
a free port (once per process), the adapter asks the editor to attach there
(`startDebugging`), and `wait_for_client()` holds the node until the editor has
attached and configured its breakpoints, or gives up after a timeout.

The event loop's thread is kept out of debugpy's tracing while the handler is
a plain function (it runs in a worker thread), so a handler stopped at a Python
breakpoint never freezes the workflow debugger. Knows nothing of DAP messages
or workflows.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from dataclasses import dataclass, field

log = logging.getLogger(__name__)

HOST = "127.0.0.1"


class PythonDebugUnavailable(Exception):
    """debugpy is missing or cannot listen; the message says why."""


@dataclass
class PythonDebugServer:
    port: int | None = None
    _attached: threading.Event = field(default_factory=threading.Event)
    _cancelled: threading.Event = field(default_factory=threading.Event)
    _waiter: threading.Thread | None = None

    @property
    def listening(self) -> bool:
        return self.port is not None

    def connected(self) -> bool:
        if self.port is None:
            return False
        import debugpy

        return bool(debugpy.is_client_connected())

    def ensure_listening(self, *, trace_loop_thread: bool) -> int:
        """Start debugpy (first call only) and return its port.

        Call on the event loop's thread: `trace_loop_thread` False keeps that
        thread out of tracing (sync handlers run in worker threads).
        """
        try:
            import debugpy
        except ImportError as exc:
            raise PythonDebugUnavailable(
                "debugpy is not installed in the workflow's Python; `pip install debugpy`"
            ) from exc
        if self.port is None:
            try:
                _, port = debugpy.listen((HOST, 0))
            except Exception as exc:  # debugpy raises RuntimeError and OSError variants
                raise PythonDebugUnavailable(f"debugpy could not listen: {exc}") from exc
            self.port = int(port)
        debugpy.trace_this_thread(trace_loop_thread)
        return self.port

    def _watch_for_client(self) -> None:
        """One background thread for the process: `debugpy.wait_for_client` has no timeout."""
        if self._waiter is not None and self._waiter.is_alive():
            return

        def wait() -> None:
            import debugpy

            while True:
                try:
                    debugpy.wait_for_client()
                except Exception as exc:  # debugpy shut down
                    log.debug("debugpy wait_for_client ended: %s", exc)
                    return
                if debugpy.is_client_connected():
                    self._attached.set()
                    return

        self._waiter = threading.Thread(target=wait, name="victor-debugpy-wait", daemon=True)
        self._waiter.start()

    async def wait_for_client(self, timeout: float) -> bool:
        """True once a client has attached and sent configurationDone; False on
        timeout or when `cancel_wait()` is called."""
        if self.connected():
            return True
        self._attached.clear()
        self._cancelled.clear()
        self._watch_for_client()
        return await asyncio.to_thread(self._wait_attached, timeout)

    def _wait_attached(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while not self._cancelled.is_set():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            if self._attached.wait(min(remaining, 0.05)):
                return True
        return False

    def cancel_wait(self) -> None:
        """Stop waiting for a client (the editor refused to attach)."""
        self._cancelled.set()
