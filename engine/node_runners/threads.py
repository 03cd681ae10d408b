"""Run blocking user code (sync handlers and tools) off the event loop, in daemon threads.

`asyncio.to_thread` uses the loop's default executor, whose threads the interpreter joins at
exit: a handler that outlives its node's timeout, or that is still sleeping when the user
presses Ctrl-C, would keep the process alive until it returns on its own. Python cannot
kill a thread, but a daemon thread does not hold the process, so a timed-out or cancelled
run ends at once. Idle workers are reused, so a hot loop of sync handlers does not pay for
a new thread per call. Knows nothing of nodes or workflows.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import queue
import threading
from collections.abc import Callable
from typing import Any

_IDLE_SECONDS = 30.0
"""How long an idle worker waits for more work before it ends."""

_Job = tuple[Callable[[], Any], asyncio.AbstractEventLoop, "asyncio.Future[Any]"]

_jobs: queue.SimpleQueue[_Job] = queue.SimpleQueue()
_lock = threading.Lock()
_idle = 0


def _settle(future: asyncio.Future[Any], result: Any, error: BaseException | None) -> None:
    if future.done():  # cancelled meanwhile (timeout, Ctrl-C)
        return
    if error is not None:
        future.set_exception(error)
    else:
        future.set_result(result)


def _worker() -> None:
    global _idle
    while True:
        try:
            call, loop, future = _jobs.get(timeout=_IDLE_SECONDS)
        except queue.Empty:
            with _lock:
                if _jobs.empty():  # no job was promised to an idle worker: end
                    _idle -= 1
                    return
            continue
        result: Any = None
        error: BaseException | None = None
        try:
            result = call()
        except BaseException as exc:  # SystemExit too: it belongs to the caller's node
            error = exc
        with contextlib.suppress(RuntimeError):  # the loop may be closed by now
            loop.call_soon_threadsafe(_settle, future, result, error)
        del call, future, result, error  # drop references while idle
        with _lock:
            _idle += 1


async def run_blocking(fn: Callable[..., Any], *args: Any) -> Any:
    """`await fn(*args)` run in a daemon worker thread, with the caller's context variables."""
    global _idle
    loop = asyncio.get_running_loop()
    future: asyncio.Future[Any] = loop.create_future()
    context = contextvars.copy_context()
    job: _Job = (lambda: context.run(fn, *args), loop, future)
    with _lock:
        # An idle worker is promised this job; else a new worker takes it.
        spawn = _idle == 0
        if not spawn:
            _idle -= 1
        _jobs.put(job)
    if spawn:
        threading.Thread(target=_worker, name="victor-handler", daemon=True).start()
    return await future
