"""The `openai` agent runner: any OpenAI-compatible chat endpoint over httpx.

Profile keys: `base_url` (default https://api.openai.com/v1), `model`,
`api_key_env` (env var holding the key; default OPENAI_API_KEY, optional for
local servers such as Ollama or vLLM), `timeout` (seconds, default 300),
`temperature`, `max_tokens`. A node's `llm_config` (temperature, max_tokens,
top_p, stop_sequences) overrides the profile; `model_hint` is informational.

Tools: the node's `tools` that the tool registry has are sent as OpenAI
function tools (description from the tool's docstring, parameters from its
optional `parameters` JSON Schema, else any object). Each tool call the model
makes runs through the executor (a tool_called event) and its JSON result (or
error) goes back to the model, until it answers without tool calls; more
than the node's `tool_budget` calls fails the node. Knows nothing of the
executor or the CLI.
"""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import Mapping
from typing import Any

import httpx

from engine.agent_runners import (
    AgentRequest,
    AgentResponse,
    AgentRunnerError,
    ToolCaller,
    ToolSpec,
)

DEFAULT_BASE_URL = "https://api.openai.com/v1"
MAX_TOOL_RESULT = 20_000
"""Characters of one tool result sent back to the model."""


class OpenAIRunner:
    def __init__(
        self,
        *,
        model: str,
        base_url: str = DEFAULT_BASE_URL,
        api_key: str | None = None,
        timeout: float = 300.0,
        defaults: Mapping[str, Any] | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.model = model
        self.base_url = base_url.rstrip("/")
        self._api_key = api_key
        self._timeout = timeout
        self._defaults = dict(defaults or {})
        self._transport = transport

    @classmethod
    def from_profile(cls, name: str, profile: Mapping[str, Any]) -> OpenAIRunner:
        model = profile.get("model")
        if not isinstance(model, str) or not model:
            raise AgentRunnerError(f"profile {name!r}: runner 'openai' needs `model = \"...\"`")
        key_env = str(profile.get("api_key_env", "OPENAI_API_KEY"))
        defaults = {k: profile[k] for k in ("temperature", "max_tokens", "top_p") if k in profile}
        return cls(
            model=model,
            base_url=str(profile.get("base_url", DEFAULT_BASE_URL)),
            api_key=os.environ.get(key_env),
            timeout=float(profile.get("timeout", 300.0)),
            defaults=defaults,
        )

    def _payload(self, request: AgentRequest) -> dict[str, Any]:
        config = request.llm_config
        payload: dict[str, Any] = {
            "model": self.model,
            "messages": [
                {"role": "system", "content": f"You are the {request.role} of a workflow."},
                {"role": "user", "content": _user_message(request)},
            ],
            **self._defaults,
        }
        for key in ("temperature", "max_tokens", "top_p"):
            if key in config:
                payload[key] = config[key]
        if "stop_sequences" in config:
            payload["stop"] = list(config["stop_sequences"])
        return payload

    async def run(self, request: AgentRequest) -> AgentResponse:
        headers = {"Authorization": f"Bearer {self._api_key}"} if self._api_key else {}
        url = f"{self.base_url}/chat/completions"
        payload = self._payload(request)
        call_tool = request.call_tool if request.tool_specs else None
        if call_tool is not None:
            payload["tools"] = [_tool_definition(spec) for spec in request.tool_specs]
        messages: list[dict[str, Any]] = payload["messages"]
        used = 0
        async with httpx.AsyncClient(timeout=self._timeout, transport=self._transport) as client:
            while True:
                message = await self._complete(client, url, payload, headers)
                calls = message.get("tool_calls") or []
                if not calls or call_tool is None:
                    content = message.get("content") or ""
                    return AgentResponse(response=str(content), tool_calls=used + len(calls))
                if used >= request.tool_budget:
                    raise AgentRunnerError(
                        f"agent {request.key!r} wanted more than tool_budget="
                        f"{request.tool_budget} tool calls"
                    )
                messages.append(message)
                for call in calls:
                    used += 1
                    messages.append(await _run_tool_call(call, call_tool, used, request))

    async def _complete(
        self,
        client: httpx.AsyncClient,
        url: str,
        payload: Mapping[str, Any],
        headers: Mapping[str, str],
    ) -> dict[str, Any]:
        try:
            reply = await client.post(url, json=payload, headers=headers)
        except httpx.HTTPError as exc:
            raise AgentRunnerError(f"{url}: {type(exc).__name__}: {exc}") from exc
        if reply.status_code >= 400:
            raise AgentRunnerError(f"{url}: HTTP {reply.status_code}: {reply.text[:300]}")
        try:
            message = reply.json()["choices"][0]["message"]
            if not isinstance(message, dict):
                raise TypeError("message is not an object")
        except (ValueError, KeyError, IndexError, TypeError) as exc:
            raise AgentRunnerError(f"{url}: unexpected reply: {reply.text[:300]}") from exc
        return message


def _tool_definition(spec: ToolSpec) -> dict[str, Any]:
    return {
        "type": "function",
        "function": {
            "name": spec.name,
            "description": spec.description,
            "parameters": dict(spec.parameters),
        },
    }


async def _run_tool_call(
    call: Mapping[str, Any], call_tool: ToolCaller, number: int, request: AgentRequest
) -> dict[str, Any]:
    """Run one tool call of the model; the reply message carries its result or error."""
    function = call.get("function") or {}
    name = str(function.get("name", ""))
    call_id = str(call.get("id") or f"call_{number}")
    over = number > request.tool_budget
    try:
        if over:
            raise AgentRunnerError(f"tool_budget={request.tool_budget} is used up")
        raw = function.get("arguments") or "{}"
        arguments = json.loads(raw) if isinstance(raw, str) else raw
        if not isinstance(arguments, Mapping):
            raise AgentRunnerError("the arguments must be a JSON object")
        result = await call_tool(name, arguments)
        content = json.dumps(result, default=str, ensure_ascii=False)
    except asyncio.CancelledError:
        raise
    except Exception as exc:  # the model sees the error and may try something else
        content = json.dumps({"error": f"{type(exc).__name__}: {exc}"}, ensure_ascii=False)
    return {"role": "tool", "tool_call_id": call_id, "content": content[:MAX_TOOL_RESULT]}


def _user_message(request: AgentRequest) -> str:
    if not request.inputs:
        return request.goal
    context = json.dumps(dict(request.inputs), default=str, ensure_ascii=False)
    return f"{request.goal}\n\nContext:\n{context}"
