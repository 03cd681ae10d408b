"""The adapter against real runs in the workflow process: breakpoints, stepping, variables."""

from __future__ import annotations

import os
import textwrap
import time
from pathlib import Path
from typing import Any

import pytest

from tests.dap.dap_client import DapClient
from tests.support import marker_line

pytestmark = pytest.mark.timeout(60)

WORKFLOW = textwrap.dedent(
    """\
    workflows:
      demo:
        nodes:
          - id: prepare            # @prepare
            type: transform
            transform: |
              count = 1            # @prepare_body
              items = [1, 2, 3]
          - id: double
            type: compute
            handler: double        # @double_handler
            inputs:
              value: $ctx.count
            output: doubled
          - id: fan
            type: parallel
            parallel_nodes: [left, right]
            next: [finish]
          - id: left
            type: transform
            transform: "left_done = true"
          - id: right
            type: transform
            transform: "right_done = true"
          - id: finish             # @finish
            type: transform
            transform: "count = count + 10"
    # @outside
    """
)

HANDLERS = textwrap.dedent(
    """\
    def double(node, context, tools):
        return context.inputs["value"] * 2

    HANDLERS = {"double": double}
    """
)


@pytest.fixture
def program(tmp_path: Path) -> Path:
    path = tmp_path / "demo.yaml"
    path.write_text(WORKFLOW)
    (tmp_path / "handlers.py").write_text(HANDLERS)
    return path


@pytest.fixture
async def client() -> Any:
    c = DapClient()
    c.start()
    yield c
    await c.close()


def line(name: str) -> int:
    return marker_line(WORKFLOW, name) + 1


async def launch(client: DapClient, program: Path, **extra: Any) -> None:
    args = {"registry": [str(program.parent / "handlers.py")], **extra}
    await client.launch(str(program), **args)


async def test_breakpoint_inside_node_block_binds_to_node_first_line(
    client: DapClient, program: Path
) -> None:
    await launch(client, program)
    body = await client.request(
        "setBreakpoints",
        {
            "source": {"path": str(program)},
            "breakpoints": [{"line": line("double_handler")}, {"line": line("outside")}],
        },
    )
    inside, outside = body["breakpoints"]
    assert inside["verified"] is True and inside["line"] == line("double_handler") - 2
    assert outside["verified"] is False and "outside every node" in outside["message"]
    mark = client.mark()
    await client.request("configurationDone")
    stop = await client.stopped(after=mark)
    assert stop["reason"] == "breakpoint" and stop["hitBreakpointIds"] == [inside["id"]]
    frames = (await client.request("stackTrace", {"threadId": stop["threadId"]}))["stackFrames"]
    assert frames[0]["line"] == inside["line"] and frames[0]["source"]["path"] == str(program)
    scopes = (await client.request("scopes", {"frameId": frames[0]["id"]}))["scopes"]
    assert [s["name"] for s in scopes] == ["State", "Node", "Execution"]
    state = (
        await client.request("variables", {"variablesReference": scopes[0]["variablesReference"]})
    )["variables"]
    by_name = {v["name"]: v for v in state}
    assert by_name["count"]["value"] == "1"
    assert by_name["items"]["indexedVariables"] == 3
    node = (
        await client.request("variables", {"variablesReference": scopes[1]["variablesReference"]})
    )["variables"]
    assert {v["name"]: v["value"] for v in node}["id"] == "'double'"


async def test_step_evaluate_step_back_and_terminate(client: DapClient, program: Path) -> None:
    await launch(client, program, stopOnEntry=True)
    await client.request("configurationDone")
    stop = await client.stopped()
    assert stop["reason"] == "entry"
    mark = client.mark()
    seq = client.send("next", {"threadId": stop["threadId"]})
    response = await client.response(seq)
    stop2 = await client.event("stopped", after=mark)
    assert client.index(response) < client.index(stop2)
    evaluated = await client.request("evaluate", {"expression": "count + 1", "context": "repl"})
    assert evaluated["result"] == "2"
    hover = await client.request("evaluate", {"expression": "$ctx.count", "context": "hover"})
    assert hover["result"] == "1"
    mustache = await client.request("evaluate", {"expression": "{{ items }}", "context": "hover"})
    assert mustache["result"].startswith("[1, 2, 3]") and mustache["variablesReference"] > 0
    mark = client.mark()
    await client.request("next", {"threadId": stop["threadId"]})
    await client.stopped(after=mark)
    mark = client.mark()
    await client.request("stepBack", {"threadId": stop["threadId"]})
    back = await client.stopped(after=mark)
    frames = (await client.request("stackTrace", {"threadId": back["threadId"]}))["stackFrames"]
    assert frames[0]["name"].startswith("double")
    missing = await client.request("evaluate", {"expression": "doubled", "context": "watch"})
    assert missing["result"] == "null"  # before `double` ran, its output does not exist
    mark = client.mark()
    await client.request("terminate")
    await client.event("terminated", after=mark)


async def test_conditions_hit_conditions_and_logpoints(client: DapClient, program: Path) -> None:
    await launch(client, program)
    body = await client.request(
        "setBreakpoints",
        {
            "source": {"path": str(program)},
            "breakpoints": [
                {
                    "line": line("prepare"),
                    "logMessage": "preparing with {len(items) if items else 0}",
                },
                {"line": line("double_handler"), "condition": "count > 5"},
                {"line": line("finish"), "condition": "doubled == 2", "hitCondition": ">= 1"},
            ],
        },
    )
    assert all(b["verified"] for b in body["breakpoints"])
    await client.request("configurationDone")
    stop = await client.stopped()
    frames = (await client.request("stackTrace", {"threadId": stop["threadId"]}))["stackFrames"]
    assert frames[0]["name"].startswith("finish")
    outputs = [m["body"]["output"] for m in client.received if m.get("event") == "output"]
    assert any("preparing with" in text for text in outputs)


async def test_function_breakpoint_by_type_and_threads_for_parallel_branches(
    client: DapClient, program: Path
) -> None:
    await launch(client, program)
    body = await client.request(
        "setFunctionBreakpoints", {"breakpoints": [{"name": "type:transform"}, {"name": "nope"}]}
    )
    assert (
        body["breakpoints"][0]["verified"] is True and body["breakpoints"][1]["verified"] is False
    )
    await client.request("configurationDone")
    seen: list[str] = []
    mark = -1
    for _ in range(10):
        stop = await client.stopped(after=mark)
        frames = (await client.request("stackTrace", {"threadId": stop["threadId"]}))["stackFrames"]
        seen.append(frames[0]["name"].split(" ")[0])
        if seen[-1] == "left":
            threads = (await client.request("threads"))["threads"]
            assert any(t["name"] == "branch left" for t in threads)
            assert frames[1]["name"].startswith("fan")
        if seen[-1] == "finish":
            break
        mark = client.mark()
        await client.request("continue", {"threadId": stop["threadId"]})
    assert seen[0] == "prepare" and "left" in seen and "right" in seen and seen[-1] == "finish"
    started = [
        m
        for m in client.received
        if m.get("event") == "thread" and m["body"]["reason"] == "started"
    ]
    assert len(started) >= 2


SPIN = textwrap.dedent(
    """\
    import os

    def spin(node, context, tools):
        print(f"spinning in {os.getpid()}", flush=True)
        while True:
            pass

    HANDLERS = {"spin": spin}
    """
)


def _process_gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


async def test_terminate_kills_a_handler_in_a_tight_loop(client: DapClient, tmp_path: Path) -> None:
    (tmp_path / "spin.py").write_text(SPIN)
    program = tmp_path / "spin.yaml"
    program.write_text(
        "workflows:\n  spin:\n    nodes:\n      - id: loop\n        type: compute\n"
        "        handler: spin\n"
    )
    await client.launch(str(program), registry=[str(tmp_path / "spin.py")])
    await client.request("configurationDone")
    spinning = await client._wait_for(
        lambda m: "spinning in" in (m.get("body") or {}).get("output", ""), "handler output"
    )
    pid = int(spinning["body"]["output"].split()[-1])
    started = time.monotonic()
    await client.request("terminate")
    await client.event("terminated")
    assert time.monotonic() - started < 2.0
    assert _process_gone(pid)


async def test_set_variable_changes_the_rest_of_the_run(client: DapClient, program: Path) -> None:
    await launch(client, program)
    await client.request(
        "setBreakpoints",
        {
            "source": {"path": str(program)},
            "breakpoints": [{"line": line("double_handler")}, {"line": line("finish")}],
        },
    )
    await client.request("configurationDone")
    stop = await client.stopped()
    frames = (await client.request("stackTrace", {"threadId": stop["threadId"]}))["stackFrames"]
    scopes = (await client.request("scopes", {"frameId": frames[0]["id"]}))["scopes"]
    result = await client.request(
        "setVariable",
        {"variablesReference": scopes[0]["variablesReference"], "name": "count", "value": "21"},
    )
    assert result["value"] == "21"
    await client.event("invalidated")
    mark = client.mark()
    await client.request("continue", {"threadId": stop["threadId"]})
    await client.stopped(after=mark)
    assert (await client.request("evaluate", {"expression": "doubled", "context": "watch"}))[
        "result"
    ] == "42"
