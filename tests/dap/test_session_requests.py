"""DAP requests beyond the basics: restart, setExpression, completions, noDebug, history."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import pytest

from engine.history import WorkflowExecutionHistory
from tests.dap.dap_client import DapClient
from tests.support import marker_line

pytestmark = pytest.mark.timeout(60)

WORKFLOW = textwrap.dedent(
    """\
    workflows:
      shop:
        nodes:
          - id: setup              # @setup
            type: transform
            transform: |
              count = 2
              customer = {"name": "Ann", "tier": "gold"}
          - id: bill               # @bill
            type: transform
            transform: "total = count * 10"
          - id: report             # @report
            type: transform
            transform: "summary = customer.name"
    """
)


@pytest.fixture
def program(tmp_path: Path) -> Path:
    path = tmp_path / "shop.yaml"
    path.write_text(WORKFLOW)
    return path


def line(name: str) -> int:
    return marker_line(WORKFLOW, name) + 1


def recorded(workflow: str) -> list[Any]:
    with WorkflowExecutionHistory() as history:
        return history.list_executions(workflow)


async def stop_at(client: DapClient, program: Path, marker: str, **launch: Any) -> int:
    await client.launch(str(program), **launch)
    await client.request(
        "setBreakpoints",
        {"source": {"path": str(program)}, "breakpoints": [{"line": line(marker)}]},
    )
    await client.request("configurationDone")
    return int((await client.stopped())["threadId"])


async def test_a_debug_session_is_recorded_in_history_like_a_run(
    client: DapClient, program: Path
) -> None:
    thread_id = await stop_at(client, program, "bill")
    mark = client.mark()
    await client.request("continue", {"threadId": thread_id})
    exited = await client.event("exited", after=mark)
    assert exited["body"]["exitCode"] == 0
    (run,) = recorded("shop")
    assert run.status == "completed" and run.success is True
    assert run.workflow_file == str(program)
    assert run.nodes_executed == ("setup", "bill", "report")


async def test_no_debug_runs_to_completion_without_stopping_and_is_recorded(
    client: DapClient, program: Path
) -> None:
    await client.launch(str(program), noDebug=True, stopOnEntry=True)
    await client.request(
        "setBreakpoints",
        {"source": {"path": str(program)}, "breakpoints": [{"line": line("bill")}]},
    )
    await client.request("setFunctionBreakpoints", {"breakpoints": [{"name": "report"}]})
    await client.request("configurationDone")
    exited = await client.event("exited")
    assert exited["body"]["exitCode"] == 0
    await client.event("terminated")
    assert not any(m.get("event") == "stopped" for m in client.received)
    (run,) = recorded("shop")
    assert run.status == "completed" and run.nodes_executed == ("setup", "bill", "report")


async def test_set_expression_edits_state_for_the_rest_of_the_run(
    client: DapClient, program: Path
) -> None:
    thread_id = await stop_at(client, program, "bill")
    frames = (await client.request("stackTrace", {"threadId": thread_id}))["stackFrames"]
    changed = await client.request(
        "setExpression", {"expression": "count", "value": "7", "frameId": frames[0]["id"]}
    )
    assert changed["value"] == "7"
    nested = await client.request(
        "setExpression", {"expression": "$ctx.customer.name", "value": '"Bo"'}
    )
    assert nested["value"] == "'Bo'"
    await client.event("invalidated")
    mark = client.mark()
    await client.request("next", {"threadId": thread_id})
    await client.stopped(after=mark)
    total = await client.request("evaluate", {"expression": "total", "context": "watch"})
    assert total["result"] == "70"
    mark = client.mark()
    await client.request("continue", {"threadId": thread_id})
    await client.event("exited", after=mark)
    (run,) = recorded("shop")
    assert run.outputs["summary"] == "Bo"


async def test_set_expression_on_a_bad_path_fails_the_request_only(
    client: DapClient, program: Path
) -> None:
    thread_id = await stop_at(client, program, "bill")
    response = await client.response(
        client.send("setExpression", {"expression": "count[", "value": "1"})
    )
    assert response["success"] is False and "count[" in response["message"]
    still = await client.request("evaluate", {"expression": "count", "context": "watch"})
    assert still["result"] == "2"
    await client.request("continue", {"threadId": thread_id})
    await client.event("exited")


async def test_completions_offer_state_keys_sub_keys_and_functions(
    client: DapClient, program: Path
) -> None:
    await stop_at(client, program, "bill")
    top = await client.request("completions", {"text": "cou", "column": 4})
    assert [t["label"] for t in top["targets"]] == ["count"]
    nested = await client.request("completions", {"text": "len(customer.ti", "column": 16})
    assert [t["label"] for t in nested["targets"]] == ["tier"]
    functions = await client.request("completions", {"text": "le", "column": 3})
    assert "len" in [t["label"] for t in functions["targets"]]


async def test_restart_runs_again_with_the_same_breakpoints(
    client: DapClient, program: Path
) -> None:
    thread_id = await stop_at(client, program, "bill")
    await client.request("evaluate", {"expression": "count", "context": "watch"})
    mark = client.mark()
    await client.request("restart", {})
    again = await client.stopped(after=mark)
    assert again["reason"] == "breakpoint"
    frames = (await client.request("stackTrace", {"threadId": again["threadId"]}))["stackFrames"]
    assert frames[0]["name"].startswith("bill")
    mark = client.mark()
    await client.request("continue", {"threadId": thread_id})
    exited = await client.event("exited", after=mark)
    assert exited["body"]["exitCode"] == 0
    runs = recorded("shop")
    assert sorted(r.status for r in runs) == ["cancelled", "completed"]


async def test_restart_with_new_arguments_uses_them(client: DapClient, program: Path) -> None:
    await stop_at(client, program, "bill")
    before = await client.request("evaluate", {"expression": "coupon", "context": "watch"})
    assert before["result"] == "null"
    mark = client.mark()
    await client.request(
        "restart", {"arguments": {"program": str(program), "context": {"coupon": "SAVE5"}}}
    )
    await client.stopped(after=mark)
    after = await client.request("evaluate", {"expression": "coupon", "context": "watch"})
    assert after["result"] == "'SAVE5'"


async def test_breakpoints_set_before_launch_are_judged_by_the_run(
    client: DapClient, program: Path
) -> None:
    await client.request("initialize", {"adapterID": "victor", "linesStartAt1": True})
    early_functions = (
        await client.request(
            "setFunctionBreakpoints",
            {
                "breakpoints": [
                    {"name": "nope"},
                    {"name": "report", "condition": "count >"},
                    {"name": "bill"},
                ]
            },
        )
    )["breakpoints"]
    assert all(b["verified"] for b in early_functions)  # nothing to judge them by yet
    early_line = (
        await client.request(
            "setBreakpoints",
            {
                "source": {"path": str(program)},
                "breakpoints": [{"line": line("setup"), "condition": "count >>> 1"}],
            },
        )
    )["breakpoints"][0]
    mark = client.mark()
    await client.request("launch", {"program": str(program)})
    changed = {
        m["body"]["breakpoint"]["id"]: m["body"]["breakpoint"]
        for m in client.received[mark + 1 :]
        if m.get("event") == "breakpoint"
    }
    assert all(
        m["body"]["reason"] == "changed" for m in client.received if m.get("event") == "breakpoint"
    )
    nope, bad_condition, bill = early_functions
    assert changed[nope["id"]]["verified"] is False
    assert "no node 'nope'" in changed[nope["id"]]["message"]
    assert changed[bad_condition["id"]]["verified"] is False
    assert "count >" in changed[bad_condition["id"]]["message"]
    assert changed[early_line["id"]]["verified"] is False
    assert changed[bill["id"]]["verified"] is True and changed[bill["id"]]["line"] == line("bill")
    await client.request("configurationDone")
    stop = await client.stopped()
    assert stop["hitBreakpointIds"] == [bill["id"]]


async def test_a_condition_that_fails_is_reported_once_and_never_stops(
    client: DapClient, program: Path
) -> None:
    await client.launch(str(program))
    await client.request(
        "setFunctionBreakpoints",
        {"breakpoints": [{"name": "type:transform", "condition": "len(count) > 1"}]},
    )
    await client.request("configurationDone")
    exited = await client.event("exited")
    assert exited["body"]["exitCode"] == 0
    assert not any(m.get("event") == "stopped" for m in client.received)
    reports = [
        m["body"]
        for m in client.received
        if m.get("event") == "output" and "could not evaluate" in m["body"]["output"]
    ]
    assert len(reports) == 1, reports
    assert reports[0]["category"] == "console"
    assert "type:transform" in reports[0]["output"] and "len(count) > 1" in reports[0]["output"]
    assert "len() failed" in reports[0]["output"]


async def test_launch_fails_readably_when_an_agent_node_has_no_runner(
    client: DapClient, tmp_path: Path
) -> None:
    program = tmp_path / "agent.yaml"
    program.write_text(
        "workflows:\n  think:\n    nodes:\n      - id: ponder\n        type: agent\n"
        "        role: analyst\n        goal: think hard\n"
    )
    await client.request("initialize", {"adapterID": "victor"})
    response = await client.response(client.send("launch", {"program": str(program)}))
    assert response["success"] is False
    assert "ponder" in response["message"]
    assert "Choose a profile with the `profile` launch argument" in response["message"]
    assert "-p/--profile" not in response["message"]
    assert response["body"]["error"]["showUser"] is True
    shown = [m["body"]["output"] for m in client.received if m.get("event") == "output"]
    assert any("ponder" in text for text in shown)


async def test_launch_fails_readably_when_a_registry_module_is_missing(
    client: DapClient, program: Path
) -> None:
    await client.request("initialize", {"adapterID": "victor"})
    response = await client.response(
        client.send("launch", {"program": str(program), "registry": ["no_such_module_xyz"]})
    )
    assert response["success"] is False
    assert "no_such_module_xyz" in response["message"]


async def test_zero_based_lines_and_uri_paths_are_honoured_both_ways(
    client: DapClient, program: Path
) -> None:
    await client.launch(
        str(program),
        capabilities={"linesStartAt1": False, "columnsStartAt1": False, "pathFormat": "uri"},
    )
    uri = program.as_uri()
    placed = await client.request(
        "setBreakpoints",
        {"source": {"path": uri}, "breakpoints": [{"line": marker_line(WORKFLOW, "bill")}]},
    )
    (breakpoint,) = placed["breakpoints"]
    assert breakpoint["verified"] is True
    assert breakpoint["line"] == marker_line(WORKFLOW, "bill")
    assert breakpoint["source"]["path"] == uri
    locations = await client.request(
        "breakpointLocations",
        {"source": {"path": uri}, "line": 0, "endLine": marker_line(WORKFLOW, "report")},
    )
    assert {b["line"] for b in locations["breakpoints"]} >= {
        marker_line(WORKFLOW, "bill"),
        marker_line(WORKFLOW, "report"),
    }
    await client.request("configurationDone")
    thread = int((await client.stopped(reason="breakpoint"))["threadId"])
    frames = (await client.request("stackTrace", {"threadId": thread}))["stackFrames"]
    top = frames[0]
    bill_line = WORKFLOW.splitlines()[marker_line(WORKFLOW, "bill")]
    assert top["line"] == marker_line(WORKFLOW, "bill")
    assert top["column"] == bill_line.index("id:")
    assert top["source"]["path"] == uri
    await client.request("disconnect", {"terminateDebuggee": True})


async def _state_scope(client: DapClient, thread_id: int) -> int:
    frames = (await client.request("stackTrace", {"threadId": thread_id}))["stackFrames"]
    scopes = (await client.request("scopes", {"frameId": frames[0]["id"]}))["scopes"]
    return int(scopes[0]["variablesReference"])


async def _value(client: DapClient, expression: str) -> str:
    return str(
        (await client.request("evaluate", {"expression": expression, "context": "watch"}))["result"]
    )


async def test_edits_keep_variable_handles_valid_and_show_new_values(
    client: DapClient, program: Path
) -> None:
    """nvim-dap edits several variables of one expanded scope without asking for it again."""
    thread_id = await stop_at(client, program, "bill")
    state = await _state_scope(client, thread_id)
    listed = (await client.request("variables", {"variablesReference": state}))["variables"]
    customer = next(v for v in listed if v["name"] == "customer")["variablesReference"]
    await client.request(
        "setVariable", {"variablesReference": state, "name": "count", "value": "5"}
    )
    await client.request(
        "setVariable", {"variablesReference": customer, "name": "tier", "value": '"silver"'}
    )
    await client.request(
        "setVariable", {"variablesReference": state, "name": "count", "value": "count + 1"}
    )
    again = (await client.request("variables", {"variablesReference": state}))["variables"]
    assert {v["name"]: v["value"] for v in again}["count"] == "6"
    inner = (await client.request("variables", {"variablesReference": customer}))["variables"]
    assert {v["name"]: v["value"] for v in inner}["tier"] == "'silver'"
    stale = await client.response(client.send("variables", {"variablesReference": 987654}))
    assert stale["success"] is False and not stale["message"].startswith("'")


async def test_typed_values_words_are_text_and_broken_json_is_an_error(
    client: DapClient, program: Path
) -> None:
    thread_id = await stop_at(client, program, "bill")
    state = await _state_scope(client, thread_id)

    async def set_count(value: str) -> dict[str, Any]:
        return await client.response(
            client.send(
                "setVariable", {"variablesReference": state, "name": "count", "value": value}
            )
        )

    assert (await set_count("alice"))["success"]
    assert await _value(client, "count") == "'alice'"
    assert (await set_count("customer.tier"))["success"]
    assert await _value(client, "count") == "'gold'"
    assert (await set_count("hello world"))["success"]
    assert await _value(client, "count") == "'hello world'"
    for broken in ('{"a": 1', "[1, 2", "'unclosed", ""):
        answer = await set_count(broken)
        assert answer["success"] is False, broken
        assert "JSON" in answer["message"]
        assert await _value(client, "count") == "'hello world'"
    failing = await set_count("customer.tier + 1")
    assert failing["success"] is False and "customer.tier + 1" in failing["message"]


async def test_the_end_of_a_failed_run_reads_as_a_sentence(tmp_path: Path) -> None:
    program = tmp_path / "fails.yaml"
    program.write_text(
        "workflows:\n  fails:\n    nodes:\n      - id: boom\n        type: transform\n"
        '        transform: "total = 1 / 0"\n'
    )
    client = DapClient()
    client.start()
    try:
        await client.launch(str(program))
        await client.request("setExceptionBreakpoints", {"filters": []})
        await client.request("configurationDone")
        exited = await client.event("exited")
        assert exited["body"]["exitCode"] == 1
        ends = [
            m["body"]["output"]
            for m in client.received
            if m.get("event") == "output" and m["body"]["output"].startswith("Workflow ")
        ]
        assert len(ends) == 1 and ends[0].startswith("Workflow failed at node 'boom': ")
        assert "{" not in ends[0] and "division" in ends[0]
    finally:
        await client.close()


async def test_unknown_exception_filters_are_unverified_and_never_fail_the_launch(
    tmp_path: Path,
) -> None:
    """nvim-dap users type filter names by hand (`raised` is debugpy's)."""
    program = tmp_path / "fails.yaml"
    program.write_text(
        "workflows:\n  fails:\n    nodes:\n      - id: boom\n        type: transform\n"
        '        transform: "total = 1 / 0"\n'
    )
    client = DapClient()
    client.start()
    try:
        await client.request("initialize", {"adapterID": "victor", "linesStartAt1": True})
        early = await client.request(
            "setExceptionBreakpoints", {"filters": ["raised", "nodeFailed"]}
        )
        raised, node_failed = early["breakpoints"]
        assert raised["verified"] is False and "nodeFailed" in raised["message"]
        assert node_failed["verified"] is True
        await client.request("launch", {"program": str(program)})
        await client.request("configurationDone")
        stop = await client.stopped()
        assert stop["reason"] == "exception"
        late = await client.request("setExceptionBreakpoints", {"filters": ["all"]})
        assert late["breakpoints"][0]["verified"] is False
        mark = client.mark()
        await client.request("continue", {"threadId": stop["threadId"]})
        await client.event("terminated", after=mark)
    finally:
        await client.close()
