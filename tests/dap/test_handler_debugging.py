"""Stepping into a compute node's Python handler: debugpy in the child, `startDebugging`."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import pytest

from tests.dap.dap_client import DapClient
from tests.dap.stream_client import StreamDapClient
from tests.support import marker_line

pytest.importorskip("debugpy", reason="debugpy is needed to debug handlers")
pytestmark = pytest.mark.timeout(90)

WORKFLOW = textwrap.dedent(
    """\
    workflows:
      demo:
        nodes:
          - id: prepare
            type: transform
            transform: "count = 3"
          - id: double           # @double
            type: compute
            handler: double
            inputs:
              value: $ctx.count
            output: doubled
          - id: finish           # @finish
            type: transform
            transform: "total = doubled + 1"
    """
)

HANDLER = textwrap.dedent(
    """\
    def double(node, context, tools):
        value = context.inputs["value"]  # @handler_body
        return value * 2


    HANDLERS = {"double": double}
    """
)


@pytest.fixture
def program(tmp_path: Path) -> Path:
    path = tmp_path / "demo.yaml"
    path.write_text(WORKFLOW)
    (tmp_path / "handlers.py").write_text(HANDLER)
    return path


async def _stop_at_double(client: DapClient, program: Path, **capabilities: Any) -> int:
    await client.launch(
        str(program),
        capabilities=capabilities,
        registry=[str(program.parent / "handlers.py")],
    )
    await client.request(
        "setBreakpoints",
        {
            "source": {"path": str(program)},
            "breakpoints": [{"line": marker_line(WORKFLOW, "double") + 1}],
        },
    )
    await client.request("configurationDone")
    stop = await client.stopped()
    return int(stop["threadId"])


async def test_step_in_attaches_a_python_debugger_that_stops_in_the_handler(
    client: DapClient, program: Path
) -> None:
    handler_file = str(program.parent / "handlers.py")
    handler_line = marker_line(HANDLER, "handler_body") + 1
    thread_id = await _stop_at_double(client, program, supportsStartDebuggingRequest=True)
    mark = client.mark()
    await client.request("stepIn", {"threadId": thread_id})
    ask = await client.reverse_request("startDebugging")
    arguments = ask["arguments"]
    configuration = arguments["configuration"]
    assert arguments["request"] == "attach" and configuration["request"] == "attach"
    assert configuration["type"] == "debugpy"
    assert configuration["connect"]["host"] == "127.0.0.1"
    client.answer(ask)

    python = await StreamDapClient.connect("127.0.0.1", configuration["connect"]["port"])
    try:
        await python.request(
            "initialize",
            {"adapterID": "debugpy", "clientID": "victor-tests", "linesStartAt1": True},
        )
        attach_seq = python.send("attach", configuration)
        await python.event("initialized")
        placed = await python.request(
            "setBreakpoints",
            {"source": {"path": handler_file}, "breakpoints": [{"line": handler_line}]},
        )
        assert placed["breakpoints"][0]["verified"] is True
        await python.request("configurationDone")
        assert (await python.response(attach_seq))["success"]
        stopped = (await python.event("stopped"))["body"]
        frames = (await python.request("stackTrace", {"threadId": stopped["threadId"]}))[
            "stackFrames"
        ]
        assert Path(frames[0]["source"]["path"]).resolve() == Path(handler_file).resolve()
        assert frames[0]["line"] == handler_line
        inputs = await python.request(
            "evaluate", {"expression": "context.inputs['value']", "frameId": frames[0]["id"]}
        )
        assert inputs["result"] == "3"

        # The workflow waits at the node, and its debugger stays responsive meanwhile.
        assert not any(m.get("event") == "stopped" for m in client.received[mark + 1 :]), (
            "the workflow moved on while the handler was stopped"
        )
        threads = (await client.request("threads"))["threads"]
        assert threads and threads[0]["name"] == "workflow"

        await python.request("continue", {"threadId": stopped["threadId"]})
        after = await client.stopped(after=mark)
        assert after["reason"] == "step"
        doubled = await client.request("evaluate", {"expression": "doubled", "context": "watch"})
        assert doubled["result"] == "6"
        frames = (await client.request("stackTrace", {"threadId": after["threadId"]}))[
            "stackFrames"
        ]
        assert frames[0]["name"].startswith("finish")
        end = client.mark()
        await client.request("continue", {"threadId": after["threadId"]})
        exited = await client.event("exited", after=end)
        assert exited["body"]["exitCode"] == 0
    finally:
        await python.close()


async def test_refused_start_debugging_runs_the_handler_anyway(
    client: DapClient, program: Path
) -> None:
    thread_id = await _stop_at_double(client, program, supportsStartDebuggingRequest=True)
    mark = client.mark()
    await client.request("stepIn", {"threadId": thread_id})
    ask = await client.reverse_request("startDebugging")
    client.answer(ask, success=False, message="no Python extension")
    after = await client.stopped(after=mark)
    assert after["reason"] == "step"
    notes = [m["body"]["output"] for m in client.received[mark + 1 :] if m.get("event") == "output"]
    assert any("could not start the Python debugger" in n for n in notes), notes
    doubled = await client.request("evaluate", {"expression": "doubled", "context": "watch"})
    assert doubled["result"] == "6"


async def test_without_start_debugging_support_step_in_steps_over_with_a_note(
    client: DapClient, program: Path
) -> None:
    thread_id = await _stop_at_double(client, program)
    mark = client.mark()
    await client.request("stepIn", {"threadId": thread_id})
    after = await client.stopped(after=mark)
    assert after["reason"] == "step"
    note = await client.event("output", after=mark)
    assert "Stepped over compute node 'double'" in note["body"]["output"]
    assert "startDebugging" in note["body"]["output"]
    assert not any(m.get("type") == "request" for m in client.received)
