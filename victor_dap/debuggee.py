"""The workflow process of a debug session (`python -m victor_dap.debuggee`).

Started by the adapter; connects back to it over a local socket and serves a
tiny JSON-lines RPC (`victor_dap.rpc`) around `engine.debugger.WorkflowDebugger`.
It knows no DAP: threads are names, lines are 0-based. It exits when the
adapter goes away (socket closed, or the parent process died), so a vanished
client leaves no orphan.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import signal
import socket
import sys
import threading
import time
from collections.abc import Mapping
from dataclasses import asdict
from typing import Any

from engine.debug_variables import Variable
from engine.debugger import (
    Continued,
    DebugEvent,
    DebuggerError,
    Finished,
    HitlAsked,
    Output,
    StateChanged,
    StepMode,
    Stopped,
    ThreadChanged,
    WorkflowDebugger,
)
from engine.hitl import APPROVED, REJECTED, HitlResponse
from engine.model import Node, NodeType
from victor_dap.handler_debug import PythonDebugServer, PythonDebugUnavailable
from victor_dap.launch_args import LAUNCH_SETTINGS
from victor_dap.rpc import LINE_LIMIT, RpcConnection

PYTHON_ATTACH_TIMEOUT = 30.0


def _variable(v: Variable) -> dict[str, Any]:
    return asdict(v)


def parse_value(text: str, debugger: WorkflowDebugger, thread: str | None) -> Any:
    """A value typed by the user (`WorkflowDebugger.parse_value`); raises DebuggerError."""
    return debugger.parse_value(text, thread=thread)


class Debuggee:
    """RPC methods; one per adapter request that needs the workflow process."""

    def __init__(self, rpc_notify: Any) -> None:
        self.notify = rpc_notify
        self.debugger: WorkflowDebugger | None = None
        self.inputs: dict[str, Any] = {}
        self.source_breakpoints: dict[str, list[int]] = {}
        self.function_breakpoints: list[int] = []
        self.recorder: Any = None
        self.history: Any = None
        self.target: Any = None
        self.python = PythonDebugServer()
        self._tasks: set[asyncio.Task[Any]] = set()

    def _require(self) -> WorkflowDebugger:
        if self.debugger is None:
            raise DebuggerError("the workflow is not loaded yet (launch first)")
        return self.debugger

    async def handle(self, method: str, params: dict[str, Any]) -> Any:
        handler = getattr(self, "rpc_" + method, None)
        if handler is None:
            raise DebuggerError(f"unknown debuggee method {method!r}")
        result = handler(**params)
        if asyncio.iscoroutine(result):
            result = await result
        return result

    # --------------------------------------------------------------- setup

    def rpc_prepare(
        self,
        program: str,
        workflow: str | None = None,
        inputs: Mapping[str, Any] | None = None,
        profile: str | None = None,
        registry: list[str] | None = None,
        hitlAnswers: str | None = None,
        stopOnEntry: bool = False,
        noDebug: bool = False,
    ) -> dict[str, Any]:
        from engine.debug_setup import executor_factory, prepare_debug_target

        target = prepare_debug_target(
            program,
            workflow_name=workflow,
            profile=profile,
            registry_modules=registry or (),
            setting_names=LAUNCH_SETTINGS,
        )
        debugger = WorkflowDebugger(
            target.workflow,
            stop_on_entry=stopOnEntry,
            no_debug=noDebug,
            listener=self._on_event,
            code_debugged=self._python_may_stop_in,
        )
        responder: Any = debugger
        if hitlAnswers:
            from engine.hitl import AnswersResponder

            responder = AnswersResponder.from_file(hitlAnswers, fallback=debugger)
        debugger.use_executor_factory(executor_factory(target, responder))
        self.debugger = debugger
        self.target = target
        self.inputs = dict(inputs or {})
        self._open_history(target)
        return {"workflow": target.workflow.name, "nodes": [n.id for n in target.workflow.nodes]}

    def _open_history(self, target: Any) -> None:
        """Record the session like a run, when the history store is available."""
        try:
            from engine.history import open_default_history

            self.history = open_default_history(project=target.prepared.project)
            self.recorder = self.history.recorder(target.workflow, workflow_file=target.program)
        except Exception as exc:  # debugging still works without a history
            self.history = self.recorder = None
            self._output(f"This debug session is not recorded in the history: {exc}\n", "stderr")
        if self.recorder is not None and self.debugger is not None:
            self.debugger.add_subscriber(self.recorder)

    def _python_may_stop_in(self, node: Node) -> bool:
        """A compute node's Python code may stop at a breakpoint: debugpy has a client."""
        return node.type is NodeType.COMPUTE and self.python.connected()

    def rpc_setBreakpoints(self, source: str, nodes: list[dict[str, Any]]) -> list[dict[str, Any]]:
        debugger = self._require()
        for bp_id in self.source_breakpoints.pop(source, []):
            debugger.remove_breakpoint(bp_id)
        return self._add(nodes, self.source_breakpoints.setdefault(source, []), function=False)

    def rpc_setFunctionBreakpoints(self, nodes: list[dict[str, Any]]) -> list[dict[str, Any]]:
        debugger = self._require()
        for bp_id in self.function_breakpoints:
            debugger.remove_breakpoint(bp_id)
        self.function_breakpoints = []
        return self._add(nodes, self.function_breakpoints, function=True)

    def _add(
        self, nodes: list[dict[str, Any]], ids: list[int], *, function: bool
    ) -> list[dict[str, Any]]:
        debugger = self._require()
        results = []
        for spec in nodes:
            try:
                bp = debugger.set_breakpoint(
                    spec["node"],
                    spec.get("condition") or None,
                    hit_condition=spec.get("hitCondition") or None,
                    log_message=spec.get("logMessage") or None,
                    function=function,
                )
            except DebuggerError as exc:
                results.append({"verified": False, "message": str(exc)})
                continue
            ids.append(bp.id)
            results.append({"verified": True, "id": bp.id})
        return results

    def rpc_setExceptionFilters(self, filters: list[str]) -> None:
        self._require().set_exception_filters(filters)

    def rpc_start(self) -> None:
        self._require().launch(self.inputs)

    # --------------------------------------------------------------- inspection

    def rpc_threads(self) -> list[str]:
        return self._require().threads

    def rpc_stackTrace(self, thread: str) -> list[dict[str, Any]]:
        frames = self._require().get_stack_trace(thread)
        return [
            {
                "index": f.index,
                "name": f.name,
                "node": f.node_id,
                "kind": f.kind,
                "source": f.source,
                "line": f.span.line,
                "column": f.span.column,
                "endLine": f.span.end_line,
                "endColumn": f.span.end_column,
            }
            for f in frames
        ]

    def rpc_scopes(self, thread: str, frame: int) -> list[dict[str, Any]]:
        return [asdict(s) for s in self._require().scopes(thread, frame)]

    def rpc_variables(self, handle: int, start: int = 0, count: int = 0) -> list[dict[str, Any]]:
        debugger = self._require()
        try:
            return [_variable(v) for v in debugger.variables.children(handle, start, count)]
        except KeyError as exc:
            raise DebuggerError(str(exc.args[0])) from None

    def rpc_evaluate(
        self, expression: str, thread: str | None = None, context: str = "repl"
    ) -> dict[str, Any]:
        result = self._require().evaluate(expression, thread=thread, context=context)
        return {
            "text": result.text,
            "type": result.type,
            "handle": result.handle,
            "indexed": result.indexed,
            "named": result.named,
        }

    def rpc_setVariable(
        self, handle: int, name: str, value: str, thread: str | None = None
    ) -> dict[str, Any]:
        debugger = self._require()
        return _variable(debugger.set_variable(handle, name, parse_value(value, debugger, thread)))

    def rpc_setExpression(
        self, expression: str, value: str, thread: str | None = None
    ) -> dict[str, Any]:
        from engine.debug_conditions import hover_expression

        debugger = self._require()
        path = hover_expression(expression)
        parsed = parse_value(value, debugger, thread)
        debugger.set_state(path, parsed, thread=thread)
        return _variable(debugger.variables.variable(path, parsed, path))

    def rpc_completions(
        self, text: str, column: int | None = None, thread: str | None = None
    ) -> list[str]:
        return self._require().completions(text, column, thread=thread)

    def rpc_exceptionInfo(self, thread: str) -> dict[str, Any]:
        stop = self._require().stopped
        if stop is None or stop.text is None:
            raise DebuggerError("not stopped on a node failure")
        return {"node": stop.node_id, "error": stop.text, "description": stop.description}

    # --------------------------------------------------------------- control

    def rpc_resume(
        self, mode: str, thread: str | None = None, awaitPythonClient: bool = False
    ) -> dict[str, Any]:
        """Resume; returns the node being left (type and handler) for step-in notes.

        With `awaitPythonClient` the node stays held until a Python debugger has
        attached to debugpy (see `rpc_handlerDebugTarget`), then the run resumes.
        """
        debugger = self._require()
        left: dict[str, Any] = {}
        stop = debugger.stopped
        if stop is not None and debugger.workflow.has_node(stop.node_id):
            node = debugger.workflow.node(stop.node_id)
            left = {
                "node": node.id,
                "type": node.type.value,
                "handler": getattr(node, "handler", None),
            }
        step = StepMode(mode)
        if awaitPythonClient and stop is not None:
            debugger._require_stopped()
            task = asyncio.get_running_loop().create_task(
                self._resume_after_attach(stop, step, thread)
            )
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
            return left
        debugger.resume(step, thread)
        return left

    async def _resume_after_attach(self, stop: Stopped, mode: StepMode, thread: str | None) -> None:
        debugger = self._require()
        attached = await self.python.wait_for_client(PYTHON_ATTACH_TIMEOUT)
        if not attached:
            self._output(
                f"No Python debugger attached within {PYTHON_ATTACH_TIMEOUT:g}s; "
                f"running node {stop.node_id!r} without it.\n",
                "important",
            )
        if debugger.stopped is stop:  # not terminated or moved on meanwhile
            with contextlib.suppress(DebuggerError):
                debugger.resume(mode, thread)

    def rpc_handlerDebugTarget(self, thread: str | None = None) -> dict[str, Any] | None:
        """Start debugpy for the stopped compute node's Python handler; None if it has none."""
        from engine.debug_setup import handler_code

        debugger = self._require()
        stop = debugger.stopped
        if stop is None or debugger.history_position is not None:
            return None
        if thread is not None and stop.thread != thread:
            return None
        if not debugger.workflow.has_node(stop.node_id) or self.target is None:
            return None
        code = handler_code(self.target.registry, debugger.workflow.node(stop.node_id))
        if code is None:
            return None
        try:
            port = self.python.ensure_listening(trace_loop_thread=code.is_async)
        except PythonDebugUnavailable as exc:
            self._output(f"Cannot debug handler {code.handler!r}: {exc}\n", "important")
            return None
        return {
            "node": code.node_id,
            "handler": code.handler,
            "file": code.file,
            "line": code.line,
            "isAsync": code.is_async,
            "host": "127.0.0.1",
            "port": port,
            "connected": self.python.connected(),
        }

    def rpc_cancelPythonWait(self) -> None:
        self.python.cancel_wait()

    def _output(self, text: str, category: str = "console") -> None:
        self.notify("output", {"text": text, "category": category, "node": None})

    def rpc_pause(self) -> None:
        self._require().pause()

    def rpc_stepBack(self) -> None:
        self._require().step_back()

    def rpc_reverseContinue(self) -> None:
        self._require().reverse_continue()

    def rpc_restartFrame(self, node: str | None = None) -> None:
        self._require().restart_node(node or None)

    def rpc_goto(self, node: str) -> None:
        self._require().goto(node)

    def rpc_gotoTargets(self, line: int) -> list[dict[str, Any]]:
        return [
            {"node": n.id, "line": n.span.line, "endLine": n.span.end_line}
            for n in self._require().goto_targets(line)
        ]

    def rpc_hitlResponse(
        self, requestId: str, approved: bool, value: Any = None, reason: str | None = None
    ) -> None:
        status = APPROVED if approved else REJECTED
        self._require().answer_hitl(requestId, HitlResponse(bool(approved), value, reason, status))

    def abandon(self) -> None:
        """The adapter is gone: keep what the history has so far; the run stays unfinished.

        The process exits next, so the run reads back as `interrupted`.
        """
        self.flush_history()

    def flush_history(self) -> None:
        """Commit what the recorder has queued (it writes in batches, off the run's thread)."""
        if self.history is not None:
            try:
                self.history.flush(5.0)
            except Exception as exc:  # never lose the session over the history
                print(f"history: could not write the last records: {exc}", file=sys.stderr)

    def rpc_terminate(self) -> None:
        if self.debugger is not None:
            self.debugger.terminate()

    # --------------------------------------------------------------- events out

    def _on_event(self, event: DebugEvent) -> None:
        if isinstance(event, Stopped):
            self.notify(
                "stopped",
                {
                    "reason": event.reason.value,
                    "thread": event.thread,
                    "node": event.node_id,
                    "description": event.description,
                    "text": event.text,
                    "breakpoints": list(event.breakpoint_ids),
                },
            )
        elif isinstance(event, Continued):
            self.notify("continued", {"thread": event.thread})
        elif isinstance(event, Output):
            self.notify(
                "output", {"text": event.text, "category": event.category, "node": event.node_id}
            )
        elif isinstance(event, ThreadChanged):
            self.notify("thread", {"thread": event.thread, "started": event.started})
        elif isinstance(event, StateChanged):
            self.notify("invalidated", {})
        elif isinstance(event, HitlAsked):
            request = event.request
            self.notify(
                "hitl",
                {
                    "requestId": event.request_id,
                    "nodeId": request.node_id,
                    "hitlType": request.hitl_type,
                    "prompt": request.prompt,
                    "choices": list(request.choices),
                    "defaultValue": request.default_value,
                    "timeoutSeconds": request.timeout,
                },
            )
        elif isinstance(event, Finished):
            self.flush_history()  # the run is in the history before the client hears it ended
            self.notify(
                "finished", {"status": event.status, "error": event.error, "node": event.node_id}
            )


def _watch_parent() -> None:
    """Exit when the adapter dies even if a handler blocks the event loop."""
    if sys.platform.startswith("linux"):
        with contextlib.suppress(Exception):
            import ctypes

            ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    parent = os.getppid()

    def watch() -> None:
        while True:
            time.sleep(0.5)
            if os.getppid() != parent:
                os._exit(3)

    threading.Thread(target=watch, name="victor-parent-watch", daemon=True).start()


async def serve(port: int, token: str) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port, limit=LINE_LIMIT)
    sock = writer.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    holder: dict[str, RpcConnection] = {}
    debuggee = Debuggee(lambda event, body: holder["rpc"].notify(event, body))
    rpc = RpcConnection(reader, writer, on_request=debuggee.handle)
    holder["rpc"] = rpc
    rpc.notify("hello", {"token": token, "pid": os.getpid()})
    await rpc.serve()
    debuggee.abandon()
    # Exit before asyncio.run cancels the run's task: a cancelled run would be
    # recorded as `cancelled`, but the adapter vanished, so it is `interrupted`.
    _exit_now()


def _exit_now() -> None:
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m victor_dap.debuggee")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--token", required=True)
    args = parser.parse_args(argv)
    _watch_parent()
    try:
        asyncio.run(serve(args.port, args.token))
    finally:
        # The adapter is gone or asked us to end: leave no thread or handler behind.
        _exit_now()


if __name__ == "__main__":
    main()
