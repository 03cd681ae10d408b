"""One DAP session: translates DAP requests to the workflow process and its events back.

Holds no domain logic: line binding comes from `engine.debug_locations`,
everything about the run from the debuggee (`victor_dap.debuggee`) over RPC.
This module converts coordinates (0-based engine lines <-> client lines),
thread names <-> DAP thread ids, and stack frames <-> frame ids, and keeps the
protocol's ordering rules: `initialized` after the initialize response, the run
waits for `configurationDone`, and no event caused by a request goes out
before that request's response.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import os
import signal
import urllib.parse
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

from engine.debug_locations import bind_line, node_lines, same_file
from engine.debugger import EXCEPTION_FILTER_LABELS
from engine.model import Workflow
from victor_dap.child import ChildStartError, DebuggeeProcess, start_debuggee
from victor_dap.launch_args import (
    LAUNCH_SETTINGS,
    LaunchArgumentError,
    LaunchArguments,
    initial_state,
    parse_launch_arguments,
)
from victor_dap.protocol import Channel, DapError, Malformed
from victor_dap.rpc import RpcError

log = logging.getLogger(__name__)

MAIN_THREAD_ID = 1
_TERMINATE_GRACE = 1.0

CAPABILITIES: dict[str, Any] = {
    "supportsConfigurationDoneRequest": True,
    "supportsFunctionBreakpoints": True,
    "supportsConditionalBreakpoints": True,
    "supportsHitConditionalBreakpoints": True,
    "supportsLogPoints": True,
    "supportsEvaluateForHovers": True,
    "supportsClipboardContext": True,
    "supportsStepBack": True,
    "supportsSetVariable": True,
    "supportsSetExpression": True,
    "supportsRestartFrame": True,
    "supportsGotoTargetsRequest": True,
    "supportsCompletionsRequest": True,
    "completionTriggerCharacters": [".", "["],
    "supportsRestartRequest": True,
    "supportsExceptionInfoRequest": True,
    "supportsTerminateRequest": True,
    "supportsDelayedStackTraceLoading": True,
    "supportsBreakpointLocationsRequest": True,
    "supportsValueFormattingOptions": False,
    # `disconnect` always ends the run this adapter launched (its process is our child, and
    # a run with no debugger attached is `victor workflow run`), so the client must not
    # offer "disconnect and keep running": `terminateDebuggee: false` would be ignored.
    "supportTerminateDebuggee": False,
    "supportsExceptionFilterOptions": False,
    "exceptionBreakpointFilters": [
        {"filter": f.value, "label": label, "description": description, "default": default}
        for f, (label, description, default) in EXCEPTION_FILTER_LABELS.items()
    ],
}


class DebugSession:
    """Serve one client. `handle()` each incoming message; `closed` is set on disconnect."""

    def __init__(self, channel: Channel, *, launch_timeout: float = 15.0) -> None:
        self.channel = channel
        self.closed = asyncio.Event()
        self._launch_timeout = launch_timeout
        self._client: dict[str, Any] = {}
        self._lines_start_at_1 = True
        self._columns_start_at_1 = True
        self._paths_are_uris = False
        self._in_flight = 0
        self._held: list[Callable[[], None]] = []
        self._reverse: dict[int, asyncio.Future[dict[str, Any]]] = {}
        self._child: DebuggeeProcess | None = None
        self._launch: LaunchArguments | None = None
        self._launch_raw: dict[str, Any] = {}
        self._workflows: tuple[Workflow, ...] = ()
        self._program_workflows: tuple[Workflow, ...] = ()
        """Every workflow of the launched file (breakpoints in the others are explained)."""
        self._configured = False
        self._started = False
        # What the client set, as specs for the workflow process; each keeps (under
        # `_result`) the breakpoint object the client was answered with, so that a
        # later verdict from the run can update it with a `breakpoint` event.
        self._source_breakpoints: dict[str, list[dict[str, Any]]] = {}
        self._function_breakpoints: list[dict[str, Any]] = []
        self._exception_filters: list[str] | None = None
        self._bp_ids = itertools.count(1)
        self._child_bp_to_dap: dict[int, int] = {}
        self._threads: dict[str, int] = {"main": MAIN_THREAD_ID}
        self._thread_names: dict[int, str] = {MAIN_THREAD_ID: "main"}
        self._next_thread = itertools.count(MAIN_THREAD_ID + 1)
        self._frames: dict[int, tuple[str, int, str]] = {}
        self._next_frame = itertools.count(1)
        self._goto_targets: dict[int, str] = {}
        self._finished = asyncio.Event()
        self._terminated_sent = False
        self._ended: str | None = None
        """Why requests about the run can no longer be answered (None while it can be)."""
        self._tasks: set[asyncio.Task[Any]] = set()

    # ----------------------------------------------------------------- plumbing

    def handle(self, message: dict[str, Any] | Malformed) -> None:
        if isinstance(message, Malformed):
            self.channel.error(
                message.seq, message.command, DapError(f"malformed message: {message.reason}")
            )
            return
        kind = message.get("type")
        if kind == "response":
            waiter = self._reverse.pop(int(message.get("request_seq") or 0), None)
            if waiter is not None and not waiter.done():
                waiter.set_result(message)
            return
        if kind != "request":
            self.channel.error(
                int(message.get("seq") or 0), "", DapError(f"unexpected message type {kind!r}")
            )
            return
        self._in_flight += 1
        task = asyncio.get_running_loop().create_task(self._dispatch(message))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _dispatch(self, request: dict[str, Any]) -> None:
        seq = int(request["seq"])
        command = str(request["command"])
        arguments = request.get("arguments") or {}
        try:
            if not isinstance(arguments, dict):
                raise DapError("`arguments` must be an object")
            handler: Callable[[dict[str, Any]], Any] | None = getattr(self, "on_" + command, None)
            if handler is None:
                raise DapError(f"unsupported request {command!r}", error_id=1014)
            body = await handler(arguments)
            self.channel.response(seq, command, body)
        except DapError as exc:
            self.channel.error(seq, command, exc)
        except RpcError as exc:
            self.channel.error(seq, command, DapError(str(exc)))
        except Exception as exc:
            log.exception("request %s failed", command)
            self.channel.error(seq, command, DapError(f"internal error in {command}: {exc}"))
        finally:
            self._in_flight -= 1
            if self._in_flight == 0:
                held, self._held = self._held, []
                for send in held:
                    send()

    def _send_after_responses(self, send: Callable[[], None]) -> None:
        if self._in_flight:
            self._held.append(send)
        else:
            send()

    def event(self, event: str, body: dict[str, Any] | None = None) -> None:
        """Send now, or after the responses of the requests being handled."""
        self._send_after_responses(lambda: self.channel.event(event, body))

    def reverse_request(
        self, command: str, arguments: dict[str, Any]
    ) -> asyncio.Future[dict[str, Any]]:
        """Send a request to the client (after pending responses); the future gets its response."""
        answer: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()

        def send() -> None:
            self._reverse[self.channel.request(command, arguments)] = answer

        self._send_after_responses(send)
        return answer

    def output(self, text: str, category: str = "console") -> None:
        self.event("output", {"category": category, "output": text})

    def _line_out(self, line: int) -> int:
        return line + 1 if self._lines_start_at_1 else line

    def _line_in(self, line: int) -> int:
        return line - 1 if self._lines_start_at_1 else line

    def _source_in(self, arguments: dict[str, Any], command: str) -> str:
        """The file path of a request's `source` (a `file:` URI under `pathFormat: uri`)."""
        source = arguments.get("source")
        path = source.get("path") if isinstance(source, dict) else None
        if not isinstance(path, str) or not path:
            raise DapError(f"{command} needs `source.path`")
        if self._paths_are_uris or path.startswith("file:"):
            parsed = urllib.parse.urlparse(path)
            if parsed.scheme != "file":
                raise DapError(f"{command}: only file sources can be debugged, not {path!r}")
            return urllib.request.url2pathname(urllib.parse.unquote(parsed.path))
        return path

    def _source_out(self, path: str) -> dict[str, Any]:
        """A DAP `Source` for a file, in the client's `pathFormat`."""
        shown = Path(path).absolute().as_uri() if self._paths_are_uris else path
        return {"name": os.path.basename(path), "path": shown}

    def _col_out(self, column: int) -> int:
        return column + 1 if self._columns_start_at_1 else column

    async def _call(self, method: str, timeout: float = 5.0, **params: Any) -> Any:
        child = self._child
        if child is None:
            raise DapError(self._ended or "no workflow is running; launch one first")
        if not child.alive:
            raise DapError(self._ended or _process_ended(child.process.returncode))
        try:
            return await child.rpc.call(method, params, timeout)
        except RpcError:
            if not child.rpc.closed.done():
                raise
            # The connection dropped mid-request: say why once the exit status is known.
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(child.process.wait(), 1.0)
            raise DapError(self._ended or _process_ended(child.process.returncode)) from None

    def _thread_name(self, thread_id: Any) -> str:
        try:
            return self._thread_names[int(thread_id)]
        except (KeyError, TypeError, ValueError):
            raise DapError(f"unknown threadId {thread_id!r}") from None

    def _thread_id(self, name: str) -> int:
        if name not in self._threads:
            tid = next(self._next_thread)
            self._threads[name] = tid
            self._thread_names[tid] = name
        return self._threads[name]

    def _frame(self, frame_id: Any) -> tuple[str, int, str]:
        try:
            return self._frames[int(frame_id)]
        except (KeyError, TypeError, ValueError):
            raise DapError(
                f"unknown or stale frameId {frame_id!r}; request the stack again"
            ) from None

    def _frame_thread(self, arguments: dict[str, Any]) -> str | None:
        if arguments.get("frameId") is None:
            return None
        return self._frame(arguments["frameId"])[0]

    # ----------------------------------------------------------------- lifecycle

    async def on_initialize(self, arguments: dict[str, Any]) -> dict[str, Any]:
        self._client = dict(arguments)
        self._lines_start_at_1 = arguments.get("linesStartAt1", True) is not False
        self._columns_start_at_1 = arguments.get("columnsStartAt1", True) is not False
        self._paths_are_uris = arguments.get("pathFormat") == "uri"
        self.event("initialized")
        return dict(CAPABILITIES)

    async def on_launch(self, arguments: dict[str, Any]) -> None:
        log.info("launch %s", arguments.get("program"))
        self._launch_raw = dict(arguments)
        try:
            launch = parse_launch_arguments(arguments)
            inputs = initial_state(launch)
        except LaunchArgumentError as exc:
            self._fail_launch(exc.problems)
        self._launch = launch
        await self._start_child(launch, inputs)
        if self._configured:
            await self._run()

    async def on_attach(self, arguments: dict[str, Any]) -> None:
        raise DapError("attach is not supported; use a `launch` configuration with `program`")

    def _fail_launch(self, problems: list[str]) -> Any:
        for problem in problems:
            self.output(problem + "\n", "stderr")
        raise DapError("Cannot debug the workflow:\n" + "\n".join(problems), show_user=True)

    async def _start_child(self, launch: LaunchArguments, inputs: dict[str, Any]) -> None:
        from engine.debug_setup import DebugSetupError, choose_workflow, compile_program

        try:
            result = compile_program(launch.program)
            if result.errors:
                self._fail_launch([p.format() for p in result.errors])
            workflow = choose_workflow(
                result, launch.workflow, launch.program, setting_names=LAUNCH_SETTINGS
            )
        except DebugSetupError as exc:
            self._fail_launch(exc.problems)
        except OSError as exc:
            self._fail_launch([f"{launch.program}: {exc}"])
        self._workflows = (workflow,)
        self._program_workflows = result.workflows
        try:
            child = await start_debuggee(
                cwd=launch.cwd,
                env=dict(launch.env),
                on_event=self._on_child_event,
                on_output=lambda category, text: self.output(text, category),
                timeout=self._launch_timeout,
            )
        except ChildStartError as exc:
            self._fail_launch([str(exc)])
        self._child = child
        watcher = asyncio.get_running_loop().create_task(self._watch_child(child))
        self._tasks.add(watcher)
        try:
            await self._call(
                "prepare",
                timeout=self._launch_timeout,
                program=launch.program,
                workflow=workflow.name,
                inputs=inputs,
                profile=launch.profile,
                registry=list(launch.registry),
                hitlAnswers=launch.hitlAnswers,
                stopOnEntry=launch.stopOnEntry,
                noDebug=launch.noDebug,
            )
        except RpcError as exc:
            await child.end(0.2)
            self._child = None
            self._fail_launch(str(exc).splitlines())
        if not launch.noDebug:
            try:
                await self._configure_child()
            except (RpcError, DapError) as exc:
                await child.end(0.2)
                self._child = None
                self._fail_launch([f"cannot set the breakpoints in the workflow process: {exc}"])

    async def _configure_child(self) -> None:
        """Send what the client configured before the workflow process existed."""
        await self._rebind_source_breakpoints()
        if self._function_breakpoints:
            await self._apply_in_child(
                self._function_breakpoints,
                self._child_setter("setFunctionBreakpoints"),
                notify=True,
            )
        if self._exception_filters is not None:
            await self._call("setExceptionFilters", filters=self._exception_filters)

    async def _watch_child(self, child: DebuggeeProcess) -> None:
        await child.process.wait()
        if child is self._child and not self._terminated_sent:
            code = child.process.returncode
            if not self._finished.is_set():
                self._ended = _process_ended(code)
                self.output(f"The workflow process {_exit_status(code)} unexpectedly.\n", "stderr")
                self.event("exited", {"exitCode": _exit_code(code)})
            self._send_terminated()

    async def on_configurationDone(self, arguments: dict[str, Any]) -> None:
        self._configured = True
        if self._child is not None and not self._started:
            await self._run()

    async def _run(self) -> None:
        if self._started:
            return
        self._started = True
        await self._call("start")

    def _send_terminated(self) -> None:
        if not self._terminated_sent:
            self._terminated_sent = True
            self.event("terminated")

    async def _end_child(self) -> None:
        """Ask the run to stop; kill the process if it has not ended within a second."""
        child, self._child = self._child, None
        if child is None:
            return
        if child.alive and not self._finished.is_set():
            ask = asyncio.get_running_loop().create_task(child.rpc.call("terminate", {}, 1.0))
            ask.add_done_callback(lambda t: t.cancelled() or t.exception())
            try:
                await asyncio.wait_for(self._finished.wait(), _TERMINATE_GRACE)
            except TimeoutError:
                child.kill()
        await child.end(0.5)

    async def on_terminate(self, arguments: dict[str, Any]) -> None:
        if self._child is not None and self._ended is None:
            self._ended = "the workflow was terminated; the debug session has ended"
        await self._end_child()
        self._send_terminated()

    async def on_disconnect(self, arguments: dict[str, Any]) -> None:
        await self._end_child()
        self.closed.set()

    async def on_restart(self, arguments: dict[str, Any]) -> None:
        new_args = arguments.get("arguments")
        await self._end_child()
        self._finished = asyncio.Event()
        self._started = False
        self._terminated_sent = False
        self._ended = None
        self._threads = {"main": MAIN_THREAD_ID}
        self._thread_names = {MAIN_THREAD_ID: "main"}
        await self.on_launch(new_args if isinstance(new_args, dict) else self._launch_raw)

    # ----------------------------------------------------------------- breakpoints

    def _binding(self, source: str) -> tuple[tuple[Workflow, ...], tuple[Workflow, ...]]:
        """(workflows breakpoints in `source` bind to, other workflows of that file).

        Before launch every workflow of the file is a candidate (the launch
        re-binds them, see `_rebind_source_breakpoints`); after it only the one
        being debugged is, and a file that is not part of the run binds nothing.
        """
        if self._workflows:
            debugged = {w.name for w in self._workflows}
            others = tuple(
                w
                for w in self._program_workflows
                if w.name not in debugged and same_file(w.source, source)
            )
            return self._workflows, others
        from engine.debug_setup import compile_program

        try:
            return compile_program(source).workflows, ()
        except OSError as exc:
            raise DapError(f"cannot read {source}: {exc}") from exc

    def _bind(self, source: str, entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Bind each entry's `line` to a node (updating its `_result`); the bound ones."""
        workflows, others = self._binding(source)
        bound = []
        for entry in entries:
            binding = bind_line(workflows, source, entry["line"], not_debugged=others)
            result = entry["_result"]
            result["verified"] = binding.verified
            result["line"] = self._line_out(binding.line)
            if binding.message:
                result["message"] = binding.message
            else:
                result.pop("message", None)
            entry["node"] = binding.node_id
            if binding.node_id is not None:
                bound.append(entry)
        return bound

    async def on_setBreakpoints(self, arguments: dict[str, Any]) -> dict[str, Any]:
        source = self._source_in(arguments, "setBreakpoints")
        specs = arguments.get("breakpoints")
        if specs is None:
            specs = [{"line": line} for line in arguments.get("lines") or []]
        if not isinstance(specs, list) or not all(isinstance(s, dict) for s in specs):
            raise DapError("setBreakpoints: `breakpoints` must be a list of objects")
        entries: list[dict[str, Any]] = []
        for spec in specs:
            line = spec.get("line")
            if not isinstance(line, int) or isinstance(line, bool):
                raise DapError(
                    f"setBreakpoints: each breakpoint needs an integer `line`, not {line!r}"
                )
            entries.append(
                {
                    "line": self._line_in(line),
                    "condition": spec.get("condition"),
                    "hitCondition": spec.get("hitCondition"),
                    "logMessage": spec.get("logMessage"),
                    "_result": {"id": next(self._bp_ids), "source": self._source_out(source)},
                }
            )
        bound = self._bind(source, entries)
        self._source_breakpoints[source] = entries
        if self._debugging():
            await self._apply_in_child(bound, self._child_setter("setBreakpoints", source=source))
        return {"breakpoints": [entry["_result"] for entry in entries]}

    async def _rebind_source_breakpoints(self) -> None:
        """At launch: bind breakpoints set earlier to the workflow chosen, and tell the
        client about every one whose verdict changed."""
        for source, entries in self._source_breakpoints.items():
            before = [dict(entry["_result"]) for entry in entries]
            bound = self._bind(source, entries)
            await self._apply_in_child(bound, self._child_setter("setBreakpoints", source=source))
            for entry, earlier in zip(entries, before, strict=True):
                if entry["_result"] != earlier:
                    self.event(
                        "breakpoint", {"reason": "changed", "breakpoint": dict(entry["_result"])}
                    )

    def _child_setter(self, method: str, **params: Any) -> Callable[[list[dict[str, Any]]], Any]:
        return lambda nodes: self._call(method, nodes=nodes, **params)

    def _debugging(self) -> bool:
        return self._child is not None and not (self._launch and self._launch.noDebug)

    async def _apply_in_child(
        self,
        specs: list[dict[str, Any]],
        send: Callable[[list[dict[str, Any]]], Any],
        *,
        notify: bool = False,
    ) -> None:
        """Send breakpoints to the run; with `notify`, tell the client what changed since
        it was answered (breakpoints set before launch are judged only now)."""
        fields = ("node", "condition", "hitCondition", "logMessage")
        nodes = [{k: spec.get(k) for k in fields} for spec in specs]
        answers = await send(nodes)
        for spec, answer in zip(specs, answers, strict=False):
            result = spec["_result"]
            before = dict(result)
            if answer.get("verified"):
                self._child_bp_to_dap[int(answer["id"])] = int(result["id"])
                result["verified"] = True
                result.pop("message", None)
            else:
                result["verified"] = False
                result["message"] = answer.get("message", "rejected by the workflow")
            node = self._workflows[0].node_index.get(spec["node"]) if self._workflows else None
            if node is not None and "line" not in result:  # a function breakpoint set early
                result["line"] = self._line_out(node.span.line)
                result["source"] = self._source_out(self._workflows[0].source)
            if notify and result != before:
                self.event("breakpoint", {"reason": "changed", "breakpoint": dict(result)})

    async def on_setFunctionBreakpoints(self, arguments: dict[str, Any]) -> dict[str, Any]:
        results: list[dict[str, Any]] = []
        to_child: list[dict[str, Any]] = []
        for spec in list(arguments.get("breakpoints") or []):
            result: dict[str, Any] = {"id": next(self._bp_ids), "verified": True}
            name = str(spec.get("name", "")).strip()
            node = self._workflows[0].node_index.get(name) if self._workflows else None
            if node is not None:
                result["line"] = self._line_out(node.span.line)
                result["source"] = self._source_out(self._workflows[0].source)
            results.append(result)
            to_child.append(
                {
                    "node": name,
                    "condition": spec.get("condition"),
                    "hitCondition": spec.get("hitCondition"),
                    "_result": result,
                }
            )
        self._function_breakpoints = to_child
        if self._debugging():
            await self._apply_in_child(to_child, self._child_setter("setFunctionBreakpoints"))
        return {"breakpoints": results}

    async def on_setExceptionBreakpoints(self, arguments: dict[str, Any]) -> dict[str, Any]:
        asked = list(arguments.get("filters") or [])
        asked += [
            o.get("filterId")
            for o in arguments.get("filterOptions") or []
            if isinstance(o, dict) and o.get("filterId")
        ]
        known = {f.value for f in EXCEPTION_FILTER_LABELS}
        # Filters we never advertised (typed by hand in nvim-dap) are answered
        # unverified, not sent on: they must not fail the request or the launch.
        filters = [f for f in asked if f in known]
        self._exception_filters = filters
        if self._child is not None:
            await self._call("setExceptionFilters", filters=filters)
        valid = ", ".join(sorted(known))
        return {
            "breakpoints": [
                {"verified": True}
                if f in known
                else {"verified": False, "message": f"unknown exception filter {f!r}; use {valid}"}
                for f in asked
            ]
        }

    async def on_breakpointLocations(self, arguments: dict[str, Any]) -> dict[str, Any]:
        source = self._source_in(arguments, "breakpointLocations")
        start = self._line_in(int(arguments.get("line", 1)))
        end = self._line_in(int(arguments.get("endLine", arguments.get("line", 1))))
        lines = node_lines(self._binding(source)[0], source, start, end)
        return {"breakpoints": [{"line": self._line_out(line)} for line in lines]}

    # ----------------------------------------------------------------- inspection

    async def on_threads(self, arguments: dict[str, Any]) -> dict[str, Any]:
        names = ["main"]
        if self._child is not None and self._child.alive and not self._finished.is_set():
            with contextlib.suppress(RpcError, DapError):
                names = await self._call("threads", timeout=1.0)
        return {
            "threads": [
                {"id": self._thread_id(n), "name": "workflow" if n == "main" else f"branch {n}"}
                for n in names
            ]
        }

    async def on_stackTrace(self, arguments: dict[str, Any]) -> dict[str, Any]:
        thread = self._thread_name(arguments.get("threadId"))
        frames = await self._call("stackTrace", thread=thread)
        start = int(arguments.get("startFrame") or 0)
        levels = int(arguments.get("levels") or 0)
        chosen = frames[start : start + levels] if levels > 0 else frames[start:]
        out = []
        for frame in chosen:
            frame_id = next(self._next_frame)
            self._frames[frame_id] = (thread, int(frame["index"]), str(frame["node"]))
            out.append(
                {
                    "id": frame_id,
                    "name": frame["name"],
                    "source": self._source_out(str(frame["source"])),
                    "line": self._line_out(int(frame["line"])),
                    "column": self._col_out(int(frame["column"])),
                    "presentationHint": "normal"
                    if frame["kind"] in ("node", "member")
                    else "subtle",
                }
            )
        return {"stackFrames": out, "totalFrames": len(frames)}

    async def on_scopes(self, arguments: dict[str, Any]) -> dict[str, Any]:
        thread, index, _ = self._frame(arguments.get("frameId"))
        scopes = await self._call("scopes", thread=thread, frame=index)
        return {
            "scopes": [
                {
                    "name": s["name"],
                    "variablesReference": s["handle"],
                    "namedVariables": s["named"],
                    "expensive": s["expensive"],
                    **({"presentationHint": "locals"} if s["name"] == "State" else {}),
                }
                for s in scopes
            ]
        }

    def _dap_variable(self, v: dict[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = {
            "name": v["name"],
            "value": v["value"],
            "type": v["type"],
            "variablesReference": v["handle"],
        }
        if v.get("indexed"):
            out["indexedVariables"] = v["indexed"]
        if v.get("named"):
            out["namedVariables"] = v["named"]
        if v.get("path"):
            out["evaluateName"] = v["path"]
        return out

    async def on_variables(self, arguments: dict[str, Any]) -> dict[str, Any]:
        handle = int(arguments.get("variablesReference") or 0)
        variables = await self._call(
            "variables",
            handle=handle,
            start=int(arguments.get("start") or 0),
            count=int(arguments.get("count") or 0),
        )
        wanted = arguments.get("filter")
        if wanted == "indexed":
            variables = [v for v in variables if v["name"].startswith("[")]
        elif wanted == "named":
            variables = [v for v in variables if not v["name"].startswith("[")]
        return {"variables": [self._dap_variable(v) for v in variables]}

    async def on_evaluate(self, arguments: dict[str, Any]) -> dict[str, Any]:
        expression = str(arguments.get("expression", ""))
        result = await self._call(
            "evaluate",
            expression=expression,
            thread=self._frame_thread(arguments),
            context=str(arguments.get("context") or "repl"),
        )
        body: dict[str, Any] = {
            "result": result["text"],
            "type": result["type"],
            "variablesReference": result["handle"],
        }
        if result.get("indexed"):
            body["indexedVariables"] = result["indexed"]
        if result.get("named"):
            body["namedVariables"] = result["named"]
        return body

    async def on_setVariable(self, arguments: dict[str, Any]) -> dict[str, Any]:
        variable = await self._call(
            "setVariable",
            handle=int(arguments.get("variablesReference") or 0),
            name=str(arguments.get("name", "")),
            value=str(arguments.get("value", "")),
        )
        out = self._dap_variable(variable)
        out.pop("name")
        return out

    async def on_setExpression(self, arguments: dict[str, Any]) -> dict[str, Any]:
        variable = await self._call(
            "setExpression",
            expression=str(arguments.get("expression", "")),
            value=str(arguments.get("value", "")),
            thread=self._frame_thread(arguments),
        )
        out = self._dap_variable(variable)
        out.pop("name")
        return out

    async def on_completions(self, arguments: dict[str, Any]) -> dict[str, Any]:
        text = str(arguments.get("text", ""))
        column = int(arguments.get("column") or len(text) + 1) - (
            1 if self._columns_start_at_1 else 0
        )
        labels = await self._call(
            "completions", text=text, column=column, thread=self._frame_thread(arguments)
        )
        return {"targets": [{"label": label, "type": "property"} for label in labels]}

    async def on_exceptionInfo(self, arguments: dict[str, Any]) -> dict[str, Any]:
        thread = self._thread_name(arguments.get("threadId"))
        info = await self._call("exceptionInfo", thread=thread)
        return {
            "exceptionId": "NodeFailed",
            "description": f"node {info['node']!r} failed: {info['error']}",
            "breakMode": "always",
            "details": {"message": info["error"], "typeName": "NodeFailed", "source": info["node"]},
        }

    async def on_source(self, arguments: dict[str, Any]) -> None:
        raise DapError("sources are files on disk; open them by path")

    # ----------------------------------------------------------------- execution control

    async def _resume(self, mode: str, arguments: dict[str, Any], **extra: Any) -> dict[str, Any]:
        thread = self._thread_name(arguments["threadId"]) if "threadId" in arguments else None
        self._frames.clear()
        left = await self._call("resume", mode=mode, thread=thread, **extra)
        return left if isinstance(left, dict) else {}

    async def on_continue(self, arguments: dict[str, Any]) -> dict[str, Any]:
        await self._resume("run", arguments)
        return {"allThreadsContinued": True}

    async def on_next(self, arguments: dict[str, Any]) -> None:
        await self._resume("over", arguments)

    async def on_stepIn(self, arguments: dict[str, Any]) -> None:
        if self._client.get("supportsStartDebuggingRequest") and not (
            self._launch and self._launch.noDebug
        ):
            thread = self._thread_name(arguments["threadId"]) if "threadId" in arguments else None
            target = await self._call("handlerDebugTarget", timeout=20.0, thread=thread)
            if isinstance(target, dict):
                self._debug_python_handler(target)
                await self._resume("into", arguments, awaitPythonClient=True)
                return
        left = await self._resume("into", arguments)
        if left.get("type") == "compute" and left.get("handler"):
            why = (
                "its handler has no Python source to debug"
                if self._client.get("supportsStartDebuggingRequest")
                else "this editor does not support the startDebugging request"
            )
            self.output(
                f"Stepped over compute node {left['node']!r} (handler {left['handler']!r}): "
                f"{why}.\n",
                "console",
            )

    def _debug_python_handler(self, target: dict[str, Any]) -> None:
        """Ask the editor to attach a Python debugger to the handler (debugpy in the child)."""
        where = f"{target['file']}:{self._line_out(int(target['line']))}"
        self.output(
            f"Debugging handler {target['handler']!r} of node {target['node']!r} ({where}) "
            "with the Python debugger; the workflow waits at the node until it returns.\n",
            "console",
        )
        if target.get("connected"):
            return
        configuration = {
            "type": "debugpy",
            "request": "attach",
            "name": f"Handler {target['handler']} (node {target['node']})",
            "connect": {"host": target["host"], "port": int(target["port"])},
            "justMyCode": True,
        }
        answer = self.reverse_request(
            "startDebugging", {"request": "attach", "configuration": configuration}
        )
        task = asyncio.get_running_loop().create_task(self._python_attach_answered(answer))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _python_attach_answered(self, answer: asyncio.Future[dict[str, Any]]) -> None:
        response = await answer
        if response.get("success"):
            return
        self.output(
            f"The editor could not start the Python debugger ({response.get('message')}); "
            "running the handler without it.\n",
            "important",
        )
        with contextlib.suppress(RpcError, DapError):
            await self._call("cancelPythonWait")

    async def on_stepOut(self, arguments: dict[str, Any]) -> None:
        await self._resume("out", arguments)

    async def on_pause(self, arguments: dict[str, Any]) -> None:
        if self._child is not None and self._child.alive:
            self._child.rpc.notify("pause")
            with contextlib.suppress(RpcError):
                await self._call("pause", timeout=0.5)

    async def on_stepBack(self, arguments: dict[str, Any]) -> None:
        self._frames.clear()
        await self._call("stepBack")

    async def on_reverseContinue(self, arguments: dict[str, Any]) -> None:
        self._frames.clear()
        await self._call("reverseContinue")

    async def on_restartFrame(self, arguments: dict[str, Any]) -> None:
        _, _, node = self._frame(arguments.get("frameId"))
        if not node:
            raise DapError("this frame is the workflow itself; use restart to run it again")
        self._frames.clear()
        await self._call("restartFrame", node=node)

    async def on_gotoTargets(self, arguments: dict[str, Any]) -> dict[str, Any]:
        line = self._line_in(int(arguments.get("line", 1)))
        targets = await self._call("gotoTargets", line=line)
        out = []
        for target in targets:
            target_id = len(self._goto_targets) + 1
            self._goto_targets[target_id] = target["node"]
            out.append(
                {
                    "id": target_id,
                    "label": f"node {target['node']}",
                    "line": self._line_out(target["line"]),
                    "endLine": self._line_out(target["endLine"]),
                }
            )
        return {"targets": out}

    async def on_goto(self, arguments: dict[str, Any]) -> None:
        node = self._goto_targets.get(int(arguments.get("targetId") or 0))
        if node is None:
            raise DapError("unknown goto target; ask gotoTargets first")
        self._frames.clear()
        await self._call("goto", node=node)

    async def on_victorHitlResponse(self, arguments: dict[str, Any]) -> None:
        await self._call(
            "hitlResponse",
            requestId=str(arguments.get("requestId", "")),
            approved=bool(arguments.get("approved")),
            value=arguments.get("value"),
            reason=arguments.get("reason"),
        )

    # ----------------------------------------------------------------- child events

    def _on_child_event(self, name: str, body: dict[str, Any]) -> None:
        if name == "stopped":
            self._frames.clear()
            event: dict[str, Any] = {
                "reason": body["reason"],
                "threadId": self._thread_id(body["thread"]),
                "allThreadsStopped": True,
                "description": body.get("description") or body["reason"],
            }
            if body.get("text"):
                event["text"] = body["text"]
            hits = [
                self._child_bp_to_dap[b]
                for b in body.get("breakpoints", [])
                if b in self._child_bp_to_dap
            ]
            if hits:
                event["hitBreakpointIds"] = hits
            self.event("stopped", event)
        elif name == "output":
            self.output(body.get("text", ""), body.get("category") or "console")
        elif name == "thread":
            thread_id = self._thread_id(body["thread"])
            self.event(
                "thread",
                {"reason": "started" if body.get("started") else "exited", "threadId": thread_id},
            )
        elif name == "invalidated":
            if self._client.get("supportsInvalidatedEvent"):
                self.event("invalidated", {"areas": ["variables"]})
        elif name == "hitl":
            self.event("victorHitlRequest", body)
        elif name == "finished":
            self._on_finished(body)

    def _on_finished(self, body: dict[str, Any]) -> None:
        status = body.get("status", "completed")
        error = body.get("error")
        node = body.get("node")
        where = f" at node {node!r}" if node else ""
        message = f"Workflow {status}{where}" + (f": {error}" if error else "") + "\n"
        self.output(message, "console" if status == "completed" else "stderr")
        self._ended = f"the workflow {status}{where}; the debug session has ended"
        self._finished.set()
        self.event("exited", {"exitCode": 0 if status == "completed" else 1})
        self._send_terminated()
        child = self._child
        if child is not None:
            task = asyncio.get_running_loop().create_task(child.end(1.0))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def shutdown(self) -> None:
        """The session is over; a client that vanished without `disconnect` abandons the run.

        An abandoned run is not cancelled: the workflow process is told to go
        (closing its connection) and killed if it lingers, so the history keeps
        the run as `interrupted`, as for any process that died mid-run.
        """
        child, self._child = self._child, None
        if child is not None:
            log.info("client gone without disconnect: ending the workflow process %s", child.pid)
            await child.end(_TERMINATE_GRACE)
        for task in list(self._tasks):
            task.cancel()


def _exit_status(returncode: int | None) -> str:
    """`exited with code 3` / `exited (killed by signal SIGKILL)` for a process's return code."""
    if returncode is None:
        return "exited"
    if returncode < 0:
        try:
            name = signal.Signals(-returncode).name
        except ValueError:
            name = str(-returncode)
        return f"exited (killed by signal {name})"
    return f"exited with code {returncode}"


def _exit_code(returncode: int | None) -> int:
    """A DAP exit code: a shell's 128 + N for a signal, 1 when unknown or 0."""
    if returncode is None or returncode == 0:
        return 1
    return 128 - returncode if returncode < 0 else returncode


def _process_ended(returncode: int | None) -> str:
    return (
        f"the workflow process {_exit_status(returncode)}; the debug session has ended "
        "(start debugging again to run the workflow)"
    )
