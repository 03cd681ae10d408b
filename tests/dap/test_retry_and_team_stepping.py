"""The "retry attempted" exception filter stops before each retry; stepping through team members."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import pytest

from engine.history import WorkflowExecutionHistory
from tests.dap.dap_client import DapClient
from tests.support import marker_line

pytestmark = pytest.mark.timeout(60)

FLAKY_WORKFLOW = textwrap.dedent(
    """\
    workflows:
      flaky:
        nodes:
          - id: fetch              # @fetch
            type: compute
            handler: flaky
            retry_policy: {max_attempts: 3, initial_delay: 0.01, jitter: 0}
            output: got
    """
)

FLAKY_HANDLER = textwrap.dedent(
    """\
    calls = {"n": 0}

    def flaky(node, context, tools):
        calls["n"] += 1
        if calls["n"] <= 2:
            raise RuntimeError(f"boom {calls['n']}")
        return f"fine after {calls['n']} calls"

    HANDLERS = {"flaky": flaky}
    """
)

TEAM_WORKFLOW = textwrap.dedent(
    """\
    workflows:
      review:
        nodes:
          - id: intro
            type: transform
            transform: "topic = 'docs'"
          - id: crew               # @crew
            type: team
            goal: "Review {{topic}}"
            team_formation: sequential
            members:
              - id: critic         # @critic
                role: reviewer
                goal: find problems
              - id: editor         # @editor
                role: writer
                goal: fix wording
              - id: judge
                role: lead
                goal: decide
            output_key: review
          - id: wrap_up            # @wrap_up
            type: transform
            transform: "done = true"
    """
)


async def node_scope(client: DapClient, frame_id: int) -> dict[str, str]:
    scopes = (await client.request("scopes", {"frameId": frame_id}))["scopes"]
    node = next(s for s in scopes if s["name"] == "Node")
    variables = (
        await client.request("variables", {"variablesReference": node["variablesReference"]})
    )["variables"]
    return {v["name"]: v["value"] for v in variables}


async def test_retry_filter_stops_before_each_retry_with_the_error(
    client: DapClient, tmp_path: Path
) -> None:
    (tmp_path / "flaky.py").write_text(FLAKY_HANDLER)
    program = tmp_path / "flaky.yaml"
    program.write_text(FLAKY_WORKFLOW)
    await client.launch(str(program), registry=[str(tmp_path / "flaky.py")])
    await client.request("setExceptionBreakpoints", {"filters": ["retry"]})
    await client.request("configurationDone")
    for failed_attempt in (1, 2):
        stop = await client.stopped(after=client.mark() if failed_attempt == 2 else -1)
        assert stop["reason"] == "exception"
        assert stop["text"] == f"RuntimeError: boom {failed_attempt}"
        assert f"retry {failed_attempt + 1} is next" in stop["description"]
        frames = (await client.request("stackTrace", {"threadId": stop["threadId"]}))["stackFrames"]
        assert frames[0]["line"] == marker_line(FLAKY_WORKFLOW, "fetch") + 1
        node = await node_scope(client, frames[0]["id"])
        assert node["attempts"] == str(failed_attempt)  # the retry has not run yet
        assert node["success"] == "false"
        info = await client.request("exceptionInfo", {"threadId": stop["threadId"]})
        assert f"boom {failed_attempt}" in info["details"]["message"]
        await client.request("continue", {"threadId": stop["threadId"]})
    exited = await client.event("exited")
    assert exited["body"]["exitCode"] == 0
    stops = [m for m in client.received if m.get("event") == "stopped"]
    assert len(stops) == 2
    with WorkflowExecutionHistory() as history:
        (run,) = history.list_executions("flaky")
    assert run.outputs["got"] == "fine after 3 calls"


@pytest.fixture
def team_program(tmp_path: Path) -> Path:
    (tmp_path / "responses.yaml").write_text('"*": "looked at {{topic}}"\n')
    (tmp_path / "victor.toml").write_text(
        'default_profile = "offline"\n\n[profiles.offline]\nrunner = "scripted"\n'
        'responses = "responses.yaml"\n'
    )
    program = tmp_path / "review.yaml"
    program.write_text(TEAM_WORKFLOW)
    return program


def line(name: str) -> int:
    return marker_line(TEAM_WORKFLOW, name) + 1


async def stop_at_crew(client: DapClient, program: Path) -> int:
    await client.launch(str(program))
    await client.request(
        "setBreakpoints",
        {"source": {"path": str(program)}, "breakpoints": [{"line": line("crew")}]},
    )
    await client.request("configurationDone")
    return int((await client.stopped())["threadId"])


async def step(client: DapClient, command: str, thread_id: int) -> list[dict[str, Any]]:
    mark = client.mark()
    await client.request(command, {"threadId": thread_id})
    stop = await client.stopped(after=mark)
    assert stop["reason"] == "step", stop
    return list((await client.request("stackTrace", {"threadId": stop["threadId"]}))["stackFrames"])


async def test_step_in_on_a_team_stops_at_each_member_and_step_out_finishes_it(
    client: DapClient, team_program: Path
) -> None:
    thread_id = await stop_at_crew(client, team_program)
    frames = await step(client, "stepIn", thread_id)
    assert frames[0]["name"] == "critic (member 1/3 of team crew)"
    assert frames[0]["line"] == line("critic")
    assert frames[1]["name"].startswith("crew") and frames[1]["line"] == line("crew")
    assert frames[-1]["name"] == "workflow review"
    member = await node_scope(client, frames[0]["id"])
    assert member["member"] == "'critic'" and member["role"] == "'reviewer'"
    team = await node_scope(client, frames[1]["id"])
    assert team["id"] == "'crew'"

    frames = await step(client, "next", thread_id)
    assert frames[0]["name"] == "editor (member 2/3 of team crew)"
    assert frames[0]["line"] == line("editor")

    frames = await step(client, "stepOut", thread_id)
    assert frames[0]["name"].startswith("crew")
    review = await client.request("evaluate", {"expression": "review", "context": "watch"})
    assert "looked at" in review["result"] and "member_results" in review["result"]
    assert (await node_scope(client, frames[0]["id"]))["phase"] == "'after'"

    frames = await step(client, "next", thread_id)
    assert frames[0]["name"].startswith("wrap_up")
    mark = client.mark()
    await client.request("continue", {"threadId": thread_id})
    assert (await client.event("exited", after=mark))["body"]["exitCode"] == 0


async def test_next_on_a_team_runs_all_members_without_stopping_in_them(
    client: DapClient, team_program: Path
) -> None:
    thread_id = await stop_at_crew(client, team_program)
    frames = await step(client, "next", thread_id)
    assert frames[0]["name"].startswith("wrap_up")
    stepped_to_members = [
        m for m in client.received if m.get("event") == "stopped" and "member" in str(m["body"])
    ]
    assert stepped_to_members == []
