"""Agent runners: openai over a mocked httpx transport, scripted lists, replay, profiles."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from engine.agent_runners import AgentRequest, AgentRunnerError, runners_from_profiles
from engine.agent_runners.openai import OpenAIRunner
from engine.agent_runners.replay import ReplayRunner
from engine.agent_runners.scripted import ScriptedRunner
from engine.hitl import AnswersResponder, HitlError


async def test_openai_runner_posts_chat_completion_with_llm_config() -> None:
    seen: list[dict[str, object]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(json.loads(request.content))
        assert request.url.path == "/v1/chat/completions"
        assert request.headers["Authorization"] == "Bearer k"
        return httpx.Response(200, json={"choices": [{"message": {"content": "hello"}}]})

    runner = OpenAIRunner(
        model="m", base_url="http://llm/v1", api_key="k", transport=httpx.MockTransport(handler)
    )
    request = AgentRequest(
        node_id="a", role="planner", goal="plan it", llm_config={"temperature": 0.2}
    )
    response = await runner.run(request)
    assert response.response == "hello" and response.success
    assert seen[0]["model"] == "m" and seen[0]["temperature"] == 0.2
    assert seen[0]["messages"][1]["content"] == "plan it"  # type: ignore[index]


async def test_openai_runner_http_error_is_clear() -> None:
    runner = OpenAIRunner(
        model="m",
        base_url="http://llm/v1",
        transport=httpx.MockTransport(lambda r: httpx.Response(500, text="down")),
    )
    with pytest.raises(AgentRunnerError, match="HTTP 500"):
        await runner.run(AgentRequest(node_id="a", role="r", goal="g"))


async def test_scripted_lists_repeat_last_and_missing_names_file(tmp_path: Path) -> None:
    runner = ScriptedRunner({"a": ["one", "two"]}, source="r.yaml")
    answers = [
        (await runner.run(AgentRequest(node_id="a", role="r", goal="g"))).response for _ in range(3)
    ]
    assert answers == ["one", "two", "two"]
    with pytest.raises(AgentRunnerError, match=r"no scripted response for 'b' in r\.yaml"):
        await runner.run(AgentRequest(node_id="b", role="r", goal="g"))


async def test_replay_runner_in_order(tmp_path: Path) -> None:
    recording = tmp_path / "rec.json"
    recording.write_text(json.dumps({"a": [{"response": "x", "success": True}, "y"]}))
    runner = ReplayRunner.from_file(recording)
    request = AgentRequest(node_id="a", role="r", goal="g")
    assert (await runner.run(request)).response == "x"
    assert (await runner.run(request)).response == "y"
    with pytest.raises(AgentRunnerError, match="no output #3"):
        await runner.run(request)


def test_profiles_select_and_reject_unknown(tmp_path: Path) -> None:
    responses = tmp_path / "r.yaml"
    responses.write_text("a: hi\n")
    profiles = {"offline": {"runner": "scripted", "responses": str(responses)}}
    default, by_name = runners_from_profiles(profiles, "offline", needed=())
    assert isinstance(default, ScriptedRunner) and set(by_name) == {"offline"}
    with pytest.raises(AgentRunnerError, match="unknown profile 'x'"):
        runners_from_profiles(profiles, "x")
    with pytest.raises(AgentRunnerError, match="unknown runner"):
        runners_from_profiles({"bad": {"runner": "nope"}}, "bad")


def _tool_call_reply(call_id: str, name: str, arguments: str) -> httpx.Response:
    call = {"id": call_id, "type": "function", "function": {"name": name, "arguments": arguments}}
    message = {"role": "assistant", "content": None, "tool_calls": [call]}
    return httpx.Response(200, json={"choices": [{"message": message}]})


def _answer(text: str) -> httpx.Response:
    return httpx.Response(200, json={"choices": [{"message": {"content": text}}]})


async def test_openai_runner_sends_tools_and_feeds_results_back() -> None:
    from engine.agent_runners import ToolSpec

    seen: list[dict[str, Any]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        seen.append(body)
        if len(seen) == 1:
            return _tool_call_reply("c1", "shout", '{"text": "hi"}')
        if len(seen) == 2:
            return _tool_call_reply("c2", "shout", "not json")
        return _answer("all done")

    calls: list[tuple[str, dict[str, Any]]] = []

    async def call_tool(name: str, arguments: Any) -> Any:
        calls.append((name, dict(arguments)))
        return {"upper": str(arguments["text"]).upper()}

    spec = ToolSpec("shout", "Upper-cases text.", {"type": "object", "properties": {}})
    runner = OpenAIRunner(
        model="m", base_url="http://llm/v1", transport=httpx.MockTransport(handler)
    )
    request = AgentRequest(
        node_id="a", role="r", goal="g", tool_specs=(spec,), call_tool=call_tool, tool_budget=5
    )
    response = await runner.run(request)
    assert response.response == "all done" and response.tool_calls == 2
    assert seen[0]["tools"] == [
        {
            "type": "function",
            "function": {
                "name": "shout",
                "description": "Upper-cases text.",
                "parameters": {"type": "object", "properties": {}},
            },
        }
    ]
    assert calls == [("shout", {"text": "hi"})]  # the malformed call never reached the tool
    second = seen[1]["messages"]
    assert second[-2]["tool_calls"][0]["id"] == "c1"
    assert second[-1] == {"role": "tool", "tool_call_id": "c1", "content": '{"upper": "HI"}'}
    third = seen[2]["messages"][-1]
    assert third["tool_call_id"] == "c2" and "JSONDecodeError" in third["content"]


async def test_openai_runner_without_tools_sends_none_and_budget_is_enforced() -> None:
    from engine.agent_runners import ToolSpec

    bodies: list[dict[str, Any]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        bodies.append(json.loads(request.content))
        return _tool_call_reply(f"c{len(bodies)}", "shout", "{}")

    runner = OpenAIRunner(
        model="m", base_url="http://llm/v1", transport=httpx.MockTransport(handler)
    )
    plain = await runner.run(AgentRequest(node_id="a", role="r", goal="g"))
    assert "tools" not in bodies[0] and plain.tool_calls == 1

    async def call_tool(name: str, arguments: Any) -> Any:
        return "ok"

    request = AgentRequest(
        node_id="a",
        role="r",
        goal="g",
        tool_specs=(ToolSpec("shout"),),
        call_tool=call_tool,
        tool_budget=2,
    )
    with pytest.raises(AgentRunnerError, match="more than tool_budget=2"):
        await runner.run(request)


async def test_agent_node_tools_run_through_the_registry_with_events() -> None:
    from engine.events import ExecutionEventType
    from engine.execution_engine import WorkflowExecutor
    from tests.executor.helpers import Events, compile_one, registry

    def shout(inputs: Any, context: Any) -> str:
        """Upper-case the text."""
        return str(inputs.get("text", "")).upper()

    shout.parameters = {  # type: ignore[attr-defined]
        "type": "object",
        "properties": {"text": {"type": "string"}},
        "required": ["text"],
    }
    bodies: list[dict[str, Any]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        bodies.append(json.loads(request.content))
        if len(bodies) == 1:
            return _tool_call_reply("c1", "shout", '{"text": "quiet"}')
        return _answer("shouted")

    workflow = compile_one(
        "workflows:\n  w:\n    nodes:\n      - id: think\n        type: agent\n"
        "        role: r\n        goal: 'use the tool'\n        tools: [shout, read_file]\n"
    )
    events = Events()
    runner = OpenAIRunner(
        model="m", base_url="http://llm/v1", transport=httpx.MockTransport(handler)
    )
    executor = WorkflowExecutor(
        agent_runner=runner, registry=registry(tools={"shout": shout}), subscribers=[events]
    )
    result = await executor.execute(workflow)
    assert result.success, result.error
    assert result.final_state["think"]["response"] == "shouted"
    assert result.final_state["think"]["tool_calls"] == 1
    sent = bodies[0]["tools"]
    assert [t["function"]["name"] for t in sent] == ["shout"]  # read_file is not registered
    assert sent[0]["function"]["description"] == "Upper-case the text."
    assert sent[0]["function"]["parameters"]["required"] == ["text"]
    (called,) = events.of(ExecutionEventType.TOOL_CALLED, "think")
    assert called.tool_calls[0].tool_name == "shout" and called.tool_calls[0].outputs == "QUIET"
    assert bodies[1]["messages"][-1]["content"] == '"QUIET"'


def fake_openai(handler: Any) -> OpenAIRunner:
    return OpenAIRunner(model="m", base_url="http://llm/v1", transport=httpx.MockTransport(handler))


@pytest.mark.parametrize(
    ("load", "error", "what"),
    [
        (ScriptedRunner.from_file, AgentRunnerError, "scripted responses"),
        (AnswersResponder.from_file, HitlError, "HITL answers"),
    ],
)
def test_answer_files_fail_naming_the_file_and_what_it_holds(
    tmp_path: Path, load: Any, error: type[Exception], what: str
) -> None:
    good = tmp_path / "answers.yaml"
    good.write_text("think: 'ok'\n")
    assert load(good) is not None
    as_json = tmp_path / "answers.json"
    as_json.write_text('{"think": "ok"}')
    assert load(as_json) is not None
    cases = {
        "missing.yaml": None,
        "broken.yaml": "think: [unclosed\n",
        "broken.json": "{'think': 1}",
        "list.yaml": "- think\n",
    }
    for name, text in cases.items():
        file = tmp_path / name
        if text is not None:
            file.write_text(text)
        with pytest.raises(error) as caught:
            load(file)
        assert str(caught.value).startswith(f"{file}: ") and what in str(caught.value), name
