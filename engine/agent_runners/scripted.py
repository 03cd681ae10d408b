"""The `scripted` agent runner: canned responses keyed by node id (tests, offline demos).

File format (YAML or JSON)::

    analyze: "The bug is in parser.py"          # same answer every visit
    fix: ["first try", "second try"]             # one per visit; the last repeats
    review: {response: "LGTM", success: true}    # full result shape
    team_node.member_id: "member answer"         # a team member
    "*": "default answer"                        # any other node

A response may use `{{key}}` / `$ctx.key` templates against the request inputs.
A node with no entry and no `"*"` fails with an error naming the node and file.
Knows nothing of the executor.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from engine.agent_runners import AgentRequest, AgentResponse, AgentRunnerError


class ScriptedRunner:
    def __init__(self, responses: Mapping[str, Any], *, source: str = "<scripted>") -> None:
        self._responses = dict(responses)
        self._source = source
        self._visits: dict[str, int] = {}

    @classmethod
    def from_file(cls, path: str | Path) -> ScriptedRunner:
        from engine.hitl import read_answers_file

        data = read_answers_file(path, "scripted responses", AgentRunnerError)
        return cls(data, source=str(path))

    async def run(self, request: AgentRequest) -> AgentResponse:
        key = request.key
        entry = self._responses.get(key)
        if entry is None and request.member_id:
            entry = self._responses.get(request.member_id)
        if entry is None:
            entry = self._responses.get("*")
        if entry is None:
            raise AgentRunnerError(
                f'no scripted response for {key!r} in {self._source}; add `{key}: "..."` '
                'or a `"*"` default'
            )
        visit = self._visits.get(key, 0)
        self._visits[key] = visit + 1
        if isinstance(entry, list):
            if not entry:
                raise AgentRunnerError(f"{self._source}: empty response list for {key!r}")
            entry = entry[min(visit, len(entry) - 1)]
        return _to_response(entry, request)


def _to_response(entry: Any, request: AgentRequest) -> AgentResponse:
    from engine.templating import render

    if isinstance(entry, Mapping):
        error = entry.get("error")
        return AgentResponse(
            response=render(str(entry.get("response", "")), request.inputs),
            success=bool(entry.get("success", error is None)),
            tool_calls=int(entry.get("tool_calls", 0)),
            error=None if error is None else str(error),
        )
    text = entry if isinstance(entry, str) else json.dumps(entry)
    return AgentResponse(response=render(text, request.inputs))
