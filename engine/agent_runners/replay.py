"""The `replay` agent runner: outputs recorded by an earlier execution.

The recording is JSON `{node_id: [output, ...]}` (one per visit, in order), as
exported from the history store; a recorded output that already has Victor's
result shape is returned as is. Knows nothing of the history database itself.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from engine.agent_runners import AgentRequest, AgentResponse, AgentRunnerError


class ReplayRunner:
    def __init__(
        self, outputs: Mapping[str, Sequence[Any]], *, source: str = "<recording>"
    ) -> None:
        self._outputs = {key: list(values) for key, values in outputs.items()}
        self._source = source
        self._visits: dict[str, int] = {}

    @classmethod
    def from_file(cls, path: str | Path) -> ReplayRunner:
        file = Path(path)
        try:
            data = json.loads(file.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise AgentRunnerError(f"{file}: cannot read recording: {exc}") from exc
        if isinstance(data, dict) and isinstance(data.get("outputs"), dict):
            data = data["outputs"]
        if not isinstance(data, dict) or not all(isinstance(v, list) for v in data.values()):
            raise AgentRunnerError(f"{file}: a recording must map node id -> list of outputs")
        return cls(data, source=str(file))

    async def run(self, request: AgentRequest) -> AgentResponse:
        key = request.key
        recorded = self._outputs.get(key)
        visit = self._visits.get(key, 0)
        if not recorded or visit >= len(recorded):
            raise AgentRunnerError(
                f"recording {self._source} has no output #{visit + 1} for {key!r}"
            )
        self._visits[key] = visit + 1
        output = recorded[visit]
        if isinstance(output, Mapping) and "response" in output:
            return AgentResponse(
                response=str(output.get("response", "")),
                success=bool(output.get("success", True)),
                tool_calls=int(output.get("tool_calls", 0) or 0),
                error=output.get("error"),
            )
        return AgentResponse(response=output if isinstance(output, str) else json.dumps(output))
