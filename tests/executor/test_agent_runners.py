"""Agent runners: openai over a mocked httpx transport, scripted lists, replay, profiles."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from engine.agent_runners import AgentRequest, AgentRunnerError, runners_from_profiles
from engine.agent_runners.openai import OpenAIRunner
from engine.agent_runners.replay import ReplayRunner
from engine.agent_runners.scripted import ScriptedRunner


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
