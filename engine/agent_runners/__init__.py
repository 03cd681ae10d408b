"""Agent runners: what executes an agent node (or a team member) for the executor.

A runner turns an `AgentRequest` (rendered goal, role, tools, llm_config) into
an `AgentResponse` shaped like Victor's result `{response, success, tool_calls,
error}`. Built in: `openai` (any OpenAI-compatible chat endpoint over httpx),
`scripted` (responses from a YAML/JSON file keyed by node id) and `replay`
(outputs recorded by an earlier execution). Runners are chosen by profile
(`victor.toml` `[profiles.NAME]` with `runner = ...`). Knows nothing of the
CLI, the executor's events or editors.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol


class AgentRunnerError(Exception):
    """A runner is misconfigured or cannot produce a response."""


ANY_OBJECT_SCHEMA: Mapping[str, Any] = {"type": "object", "additionalProperties": True}


@dataclass(frozen=True, slots=True)
class ToolSpec:
    """A tool an agent may call: its name, what it does, its arguments' JSON Schema."""

    name: str
    description: str = ""
    parameters: Mapping[str, Any] = field(default_factory=lambda: dict(ANY_OBJECT_SCHEMA))


ToolCaller = Callable[[str, Mapping[str, Any]], Awaitable[Any]]
"""`await call_tool(name, arguments)` runs a registered tool (and reports it as an event)."""


@dataclass(frozen=True, slots=True)
class AgentRequest:
    node_id: str
    role: str
    goal: str
    workflow: str = ""
    member_id: str | None = None
    """Set for team members: the member id inside team node `node_id`."""
    tools: tuple[str, ...] | None = None
    tool_budget: int = 15
    llm_config: Mapping[str, Any] = field(default_factory=dict)
    inputs: Mapping[str, Any] = field(default_factory=dict)
    """`input_mapping` resolved against the state, plus team context."""
    profile: str | None = None
    visit: int = 1
    tool_specs: tuple[ToolSpec, ...] = ()
    """The node's `tools` found in the tool registry, for runners that can call tools."""
    call_tool: ToolCaller | None = None
    """Runs one of `tool_specs` (set together with them by the executor)."""

    @property
    def key(self) -> str:
        """The id responses are keyed by: `node` or `team_node.member`."""
        return f"{self.node_id}.{self.member_id}" if self.member_id else self.node_id


@dataclass(frozen=True, slots=True)
class AgentResponse:
    response: str = ""
    success: bool = True
    tool_calls: int = 0
    error: str | None = None

    def as_dict(self) -> dict[str, Any]:
        """Victor's agent result shape, stored under the node's `output`."""
        return {
            "response": self.response,
            "success": self.success,
            "tool_calls": self.tool_calls,
            "error": self.error,
        }


class AgentRunner(Protocol):
    async def run(self, request: AgentRequest) -> AgentResponse: ...


RUNNER_KINDS = ("openai", "scripted", "replay")


def build_runner(profile_name: str, profile: Mapping[str, Any]) -> AgentRunner:
    """Create the runner a profile describes; raises AgentRunnerError naming the profile."""
    kind = profile.get("runner")
    if kind == "scripted":
        from engine.agent_runners.scripted import ScriptedRunner

        responses = profile.get("responses")
        if not isinstance(responses, str):
            raise AgentRunnerError(
                f"profile {profile_name!r}: runner 'scripted' needs `responses = \"file.yaml\"`"
            )
        return ScriptedRunner.from_file(responses)
    if kind == "replay":
        from engine.agent_runners.replay import ReplayRunner

        recording = profile.get("recording")
        if not isinstance(recording, str):
            raise AgentRunnerError(
                f"profile {profile_name!r}: runner 'replay' needs `recording = \"file.json\"`"
            )
        return ReplayRunner.from_file(recording)
    if kind == "openai":
        from engine.agent_runners.openai import OpenAIRunner

        return OpenAIRunner.from_profile(profile_name, profile)
    raise AgentRunnerError(
        f"profile {profile_name!r}: unknown runner {kind!r}; use one of {', '.join(RUNNER_KINDS)}"
    )


def runners_from_profiles(
    profiles: Mapping[str, Mapping[str, Any]],
    selected: str | None,
    needed: Iterable[str] | None = None,
) -> tuple[AgentRunner | None, dict[str, AgentRunner]]:
    """The default runner (profile `selected`) and runners for the `needed` profiles.

    `needed` None builds every declared profile; an empty iterable builds only
    `selected` (pass the profiles a workflow's nodes use, so unused runners -
    and their imports - are never loaded). Raises AgentRunnerError when
    `selected` names no profile.
    """
    if selected is not None and selected not in profiles:
        known = ", ".join(sorted(profiles)) or "none declared"
        raise AgentRunnerError(
            f"unknown profile {selected!r} (profiles: {known}); declare it under "
            "[profiles.NAME] in victor.toml"
        )
    wanted = set(profiles) if needed is None else {n for n in needed if n in profiles}
    if selected is not None:
        wanted.add(selected)
    by_name = {name: build_runner(name, profiles[name]) for name in sorted(wanted)}
    return (by_name[selected] if selected is not None else None), by_name
