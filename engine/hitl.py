"""Human-in-the-loop requests, responses and responders.

A HITL node asks a `HitlResponder`. Responders here: an answers file keyed by
node id, the non-interactive `fallback`, and a timeout wrapper that applies
the node's `fallback` when the human does not answer in time. The CLI's
terminal prompt and the DAP adapter implement the same Protocol in their own
layers. Knows nothing of terminals, editors or the executor.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Protocol

APPROVED = "approved"
REJECTED = "rejected"
MODIFIED = "modified"
TIMEOUT = "timeout"
SKIPPED = "skipped"

DEFAULT_HITL_TIMEOUT = 300.0


class HitlError(Exception):
    """A responder cannot answer (bad answers file, unknown node...)."""


@dataclass(frozen=True, slots=True)
class HitlRequest:
    node_id: str
    hitl_type: str
    prompt: str
    context: Mapping[str, Any] = field(default_factory=dict)
    choices: tuple[Any, ...] = ()
    default_value: Any = None
    timeout: float = DEFAULT_HITL_TIMEOUT
    fallback: str = "abort"


@dataclass(frozen=True, slots=True)
class HitlResponse:
    """Stored in the state as `{approved, value, reason, status}` (Victor's shape)."""

    approved: bool
    value: Any = None
    reason: str | None = None
    status: str = APPROVED

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


class HitlResponder(Protocol):
    """Answers one request. May take as long as a human needs; the executor
    wraps it with the node's timeout."""

    async def ask(self, request: HitlRequest) -> HitlResponse: ...


def fallback_response(request: HitlRequest) -> HitlResponse:
    """What a request resolves to when nobody answers in time (Victor's rules)."""
    fallback = request.fallback.lower()
    if fallback == "continue":
        return HitlResponse(True, request.default_value, "no answer: fallback continue", APPROVED)
    if fallback == "skip":
        return HitlResponse(True, request.default_value, "no answer: fallback skip", SKIPPED)
    return HitlResponse(False, request.default_value, f"no answer: fallback {fallback}", TIMEOUT)


class NonInteractiveResponder:
    """No human available: every request resolves at once through its fallback."""

    async def ask(self, request: HitlRequest) -> HitlResponse:
        return fallback_response(request)


def response_from_answer(request: HitlRequest, answer: Any) -> HitlResponse:
    """Interpret an answer: a dict with approved/value/reason/status, a bool, or a value.

    A plain value approves with that value; for `approval`/`confirmation`
    nodes the strings yes/no/approve/reject are read as decisions.
    """
    if isinstance(answer, HitlResponse):
        return answer
    if isinstance(answer, Mapping):
        approved = bool(answer.get("approved", True))
        status = str(answer.get("status", APPROVED if approved else REJECTED))
        return HitlResponse(approved, answer.get("value"), answer.get("reason"), status)
    if isinstance(answer, bool):
        return HitlResponse(answer, answer, None, APPROVED if answer else REJECTED)
    if request.hitl_type in ("approval", "confirmation") and isinstance(answer, str):
        lowered = answer.strip().lower()
        if lowered in ("n", "no", "reject", "rejected", "deny", "false"):
            return HitlResponse(False, answer, None, REJECTED)
        if lowered in ("y", "yes", "approve", "approved", "ok", "true"):
            return HitlResponse(True, answer, None, APPROVED)
    return HitlResponse(True, answer, None, APPROVED)


class AnswersResponder:
    """Answers from a mapping node id -> answer (or a list consumed per visit).

    Requests for nodes with no answer go to `fallback` (non-interactive by default).
    """

    def __init__(
        self, answers: Mapping[str, Any], *, fallback: HitlResponder | None = None
    ) -> None:
        self._answers = {key: list(v) if isinstance(v, list) else [v] for key, v in answers.items()}
        self._fallback = fallback or NonInteractiveResponder()

    @classmethod
    def from_file(
        cls, path: str | Path, *, fallback: HitlResponder | None = None
    ) -> AnswersResponder:
        """Read a JSON or YAML file `{node_id: answer}`; raises HitlError naming the file."""
        return cls(read_answers_file(path, "HITL answers", HitlError), fallback=fallback)

    async def ask(self, request: HitlRequest) -> HitlResponse:
        queue = self._answers.get(request.node_id)
        if not queue:
            return await self._fallback.ask(request)
        answer = queue.pop(0) if len(queue) > 1 else queue[0]
        return response_from_answer(request, answer)


def read_answers_file(
    path: str | Path, what: str, error: Callable[[str], Exception]
) -> dict[str, Any]:
    """A `.json` (else YAML) file mapping node ids to answers (HITL answers, scripted
    agent responses); raises `error(message)`, the message naming the file and `what`."""
    from engine.text_files import UnreadableFileError, read_text_file

    file = Path(path)
    try:
        text = read_text_file(file)
    except UnreadableFileError as exc:
        raise error(f"{file}: cannot read {what}: {exc}") from exc
    try:
        if file.suffix.lower() == ".json":
            data = json.loads(text)
        else:
            import yaml

            data = yaml.safe_load(text)
    except Exception as exc:
        raise error(f"{file}: {what} are not valid JSON/YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise error(f"{file}: {what} must be a mapping of node id -> answer")
    return data


async def ask_with_timeout(responder: HitlResponder, request: HitlRequest) -> HitlResponse:
    """Ask, applying the request's fallback if no answer comes within its timeout."""
    if request.timeout is None or request.timeout <= 0:
        return await responder.ask(request)
    try:
        return await asyncio.wait_for(responder.ask(request), timeout=request.timeout)
    except TimeoutError:
        return fallback_response(request)
