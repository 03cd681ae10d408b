"""The adapter against real runs in the workflow process: breakpoints, stepping, variables."""

from __future__ import annotations

import os
import textwrap
import time
from pathlib import Path
from typing import Any

import pytest

from tests.dap.dap_client import DapClient
from tests.dap.fakes import SPIN_HANDLERS
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


def _process_gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


async def test_terminate_kills_a_handler_in_a_tight_loop(client: DapClient, tmp_path: Path) -> None:
    (tmp_path / "spin.py").write_text(SPIN_HANDLERS)
    program = tmp_path / "spin.yaml"
    program.write_text(
        "workflows:\n  spin:\n    nodes:\n      - id: loop\n        type: compute\n"
        "        handler: spin\n"
    )
    await client.launch(str(program), registry=[str(tmp_path / "spin.py")])
    await client.request("configurationDone")
    spinning = await client.wait_for(
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


async def test_step_in_compute_handler_steps_over_with_a_note(
    client: DapClient, program: Path
) -> None:
    await launch(client, program)
    await client.request(
        "setBreakpoints",
        {"source": {"path": str(program)}, "breakpoints": [{"line": line("double_handler")}]},
    )
    await client.request("configurationDone")
    stop = await client.stopped()
    mark = client.mark()
    await client.request("stepIn", {"threadId": stop["threadId"]})
    await client.stopped(after=mark)
    note = await client.event("output", after=mark)
    assert "Stepped over compute node 'double'" in note["body"]["output"]


async def test_exception_filter_stops_on_failed_node_with_exception_info(
    client: DapClient, tmp_path: Path
) -> None:
    (tmp_path / "bad.py").write_text(
        "def bad(node, context, tools):\n    raise ValueError('no good')\n\n"
        "HANDLERS = {'bad': bad}\n"
    )
    program = tmp_path / "bad.yaml"
    program.write_text(
        "workflows:\n  bad:\n    nodes:\n      - id: explode\n        type: compute\n"
        "        handler: bad\n"
    )
    await client.launch(str(program), registry=[str(tmp_path / "bad.py")])
    await client.request("setExceptionBreakpoints", {"filters": ["nodeFailed"]})
    await client.request("configurationDone")
    stop = await client.stopped()
    assert stop["reason"] == "exception" and "no good" in stop["text"]
    info = await client.request("exceptionInfo", {"threadId": stop["threadId"]})
    assert "explode" in info["description"] and "no good" in info["details"]["message"]
    mark = client.mark()
    await client.request("continue", {"threadId": stop["threadId"]})
    exited = await client.event("exited", after=mark)
    assert exited["body"]["exitCode"] == 1
    await client.event("terminated", after=mark)


async def test_goto_restart_frame_reverse_continue_and_breakpoint_locations(
    client: DapClient, program: Path
) -> None:
    await launch(client, program)
    locations = await client.request(
        "breakpointLocations", {"source": {"path": str(program)}, "line": 1, "endLine": 40}
    )
    assert line("prepare") in [b["line"] for b in locations["breakpoints"]]
    await client.request(
        "setBreakpoints",
        {"source": {"path": str(program)}, "breakpoints": [{"line": line("prepare")}]},
    )
    await client.request("configurationDone")
    stop = await client.stopped()
    targets = (
        await client.request(
            "gotoTargets", {"source": {"path": str(program)}, "line": line("finish")}
        )
    )["targets"]
    assert targets and targets[0]["line"] == line("finish")
    mark = client.mark()
    await client.request("goto", {"threadId": stop["threadId"], "targetId": targets[0]["id"]})
    arrived = await client.stopped(after=mark)
    assert arrived["reason"] == "goto"
    frames = (await client.request("stackTrace", {"threadId": arrived["threadId"]}))["stackFrames"]
    assert frames[0]["name"].startswith("finish")
    mark = client.mark()
    await client.request("reverseContinue", {"threadId": arrived["threadId"]})
    back = await client.stopped(after=mark)
    assert back["reason"] == "breakpoint"
    frames = (await client.request("stackTrace", {"threadId": back["threadId"]}))["stackFrames"]
    assert frames[0]["name"].startswith("prepare")
    mark = client.mark()
    await client.request("restartFrame", {"frameId": frames[0]["id"]})
    restarted = await client.stopped(after=mark)
    assert restarted["reason"] == "restart"


async def test_client_vanishing_leaves_no_workflow_process(program: Path) -> None:
    (program.parent / "slow.py").write_text(SPIN_HANDLERS)
    slow = program.parent / "slow.yaml"
    slow.write_text(
        "workflows:\n  spin:\n    nodes:\n      - id: loop\n        type: compute\n"
        "        handler: spin\n"
    )
    client = DapClient()
    client.start()
    await client.launch(str(slow), registry=[str(program.parent / "slow.py")])
    await client.request("configurationDone")
    spinning = await client.wait_for(
        lambda m: "spinning in" in (m.get("body") or {}).get("output", ""), "handler output"
    )
    pid = int(spinning["body"]["output"].split()[-1])
    await client.close()  # stdin EOF, no disconnect
    assert _process_gone(pid)


async def test_hitl_request_is_answered_by_custom_request_and_console(
    client: DapClient, tmp_path: Path
) -> None:
    program = tmp_path / "hitl.yaml"
    program.write_text(
        "workflows:\n  ask:\n    nodes:\n      - id: gate\n        type: hitl\n"
        "        hitl_type: approval\n        prompt: Ship it?\n        timeout: 30\n"
        "      - id: gate2\n        type: hitl\n        hitl_type: input\n"
        "        prompt: Name?\n        timeout: 30\n"
    )
    await client.launch(str(program))
    await client.request("configurationDone")
    asked = (await client.event("victorHitlRequest"))["body"]
    assert asked["nodeId"] == "gate" and asked["prompt"] == "Ship it?"
    assert asked["hitlType"] == "approval"
    hint = await client.wait_for(
        lambda m: "hitl approve" in (m.get("body") or {}).get("output", ""), "console hint"
    )
    assert hint["event"] == "output"
    mark = client.mark()
    await client.request(
        "victorHitlResponse", {"requestId": asked["requestId"], "approved": True, "value": None}
    )
    second = (await client.event("victorHitlRequest", after=mark))["body"]
    assert second["nodeId"] == "gate2"
    answered = await client.request(
        "evaluate", {"expression": 'hitl value "Ann"', "context": "repl"}
    )
    assert "approved" in answered["result"]
    exited = await client.event("exited")
    assert exited["body"]["exitCode"] == 0


async def test_variable_handles_live_while_stopped_and_die_on_resume(
    client: DapClient, program: Path
) -> None:
    await launch(client, program)
    await client.request(
        "setBreakpoints",
        {
            "source": {"path": str(program)},
            "breakpoints": [{"line": line("double_handler")}, {"line": line("finish")}],
        },
    )
    await client.request("configurationDone")
    stop = await client.stopped(reason="breakpoint")
    frames = (await client.request("stackTrace", {"threadId": stop["threadId"]}))["stackFrames"]
    scopes = (await client.request("scopes", {"frameId": frames[0]["id"]}))["scopes"]
    state = next(s for s in scopes if s["name"] == "State")["variablesReference"]
    first = await client.request("variables", {"variablesReference": state})
    items = next(v for v in first["variables"] if v["name"] == "items")["variablesReference"]
    assert items > 0
    # Asking again while stopped answers the same, and the child handle still works.
    again = await client.request("variables", {"variablesReference": state})
    assert [v["value"] for v in again["variables"]] == [v["value"] for v in first["variables"]]
    listed = await client.request("variables", {"variablesReference": items})
    assert [v["value"] for v in listed["variables"]] == ["1", "2", "3"]
    mark = client.mark()
    await client.request("continue", {"threadId": stop["threadId"]})
    await client.stopped(after=mark, reason="breakpoint")
    stale = await client.response(client.send("variables", {"variablesReference": items}))
    assert stale["success"] is False and "no longer valid" in stale["message"]
    mark = client.mark()
    await client.request("continue", {"threadId": stop["threadId"]})
    exited = await client.event("exited", after=mark)
    terminated = await client.event("terminated", after=mark)
    assert exited["body"]["exitCode"] == 0
    assert client.index(exited) < client.index(terminated)
    seqs = [m["seq"] for m in client.received]
    assert seqs == list(range(1, len(seqs) + 1))  # one counter for responses and events


WAIT_HANDLERS = textwrap.dedent(
    """\
    import os, time

    def wait_for_flag(node, context, tools):
        print("waiting for the flag", flush=True)
        while not os.path.exists(context.inputs["flag"]):
            time.sleep(0.01)
        return "released"

    HANDLERS = {"wait_for_flag": wait_for_flag}
    """
)


async def test_pause_while_a_node_runs_says_so_then_stops_after_it(
    client: DapClient, tmp_path: Path
) -> None:
    flag = tmp_path / "flag"
    program = tmp_path / "busy.yaml"
    program.write_text(
        textwrap.dedent(
            f"""\
            workflows:
              busy:
                nodes:
                  - id: busy
                    type: compute
                    handler: wait_for_flag
                    inputs:
                      flag: "{flag}"
                  - id: after
                    type: transform
                    transform: "done = true"
            """
        )
    )
    (tmp_path / "handlers.py").write_text(WAIT_HANDLERS)
    await client.launch(str(program), registry=[str(tmp_path / "handlers.py")])
    await client.request("configurationDone")
    await client.wait_for(
        lambda m: m.get("event") == "output" and "waiting for the flag" in m["body"]["output"],
        "the handler started",
    )
    mark = client.mark()
    await client.request("pause", {"threadId": 1})
    note = await client.wait_for(
        lambda m: m.get("event") == "output" and "is running" in m["body"]["output"],
        "a note that the pause waits for the running node",
    )
    assert "'busy'" in note["body"]["output"]
    assert not any(m.get("event") == "stopped" for m in client.received[mark + 1 :])
    flag.write_text("go")
    stop = await client.stopped(after=mark)
    assert stop["reason"] == "pause"
    frames = (await client.request("stackTrace", {"threadId": stop["threadId"]}))["stackFrames"]
    assert frames[0]["name"].startswith("after")
