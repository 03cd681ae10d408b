"""The `openai` agent runner: any OpenAI-compatible chat endpoint over httpx.

Profile keys: `base_url` (default https://api.openai.com/v1), `model`,
`api_key_env` (env var holding the key; default OPENAI_API_KEY, optional for
local servers such as Ollama or vLLM), `timeout` (seconds, default 300),
`temperature`, `max_tokens`. A node's `llm_config` (temperature, max_tokens,
top_p, stop_sequences) overrides the profile; `model_hint` is informational. Knows nothing of the
executor or the CLI.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from typing import Any

import httpx

from engine.agent_runners import AgentRequest, AgentResponse, AgentRunnerError

DEFAULT_BASE_URL = "https://api.openai.com/v1"


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
        try:
            async with httpx.AsyncClient(
                timeout=self._timeout, transport=self._transport
            ) as client:
                reply = await client.post(url, json=self._payload(request), headers=headers)
        except httpx.HTTPError as exc:
            raise AgentRunnerError(f"{url}: {type(exc).__name__}: {exc}") from exc
        if reply.status_code >= 400:
            raise AgentRunnerError(f"{url}: HTTP {reply.status_code}: {reply.text[:300]}")
        try:
            body = reply.json()
            message = body["choices"][0]["message"]
        except (ValueError, KeyError, IndexError, TypeError) as exc:
            raise AgentRunnerError(f"{url}: unexpected reply: {reply.text[:300]}") from exc
        content = message.get("content") or ""
        return AgentResponse(response=str(content), tool_calls=len(message.get("tool_calls") or []))


def _user_message(request: AgentRequest) -> str:
    if not request.inputs:
        return request.goal
    context = json.dumps(dict(request.inputs), default=str, ensure_ascii=False)
    return f"{request.goal}\n\nContext:\n{context}"
