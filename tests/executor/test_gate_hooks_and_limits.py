"""Optional gate hooks (before_retry, before_member/after_member), join_strategy `any`
cancelling the other branches, and team max_iterations."""

from __future__ import annotations

import asyncio
from typing import Any

from engine.agent_runners import AgentRequest, AgentResponse
from engine.events import ExecutionEventType as ET
from engine.events import NodeStatus
from engine.execution_engine import WorkflowExecutor
from engine.gates import Frame, GateDecision, NodeOutcome
from engine.retry import FakeClock
from tests.executor.helpers import (
    SLOW_WORKFLOW,
    Events,
    ScriptedGate,
    compile_one,
    registry,
    slow_registry,
)

FLAKY = """\
workflows:
  w:
    nodes:
      - id: flaky
        type: compute
        handler: flaky
        retry_policy: {max_attempts: 4, initial_delay: 0.5, backoff_multiplier: 2, jitter: 0}
        output: got
"""


def flaky_registry(failures: int) -> Any:
    calls = {"n": 0}

    def flaky(node: Any, context: Any, tools: Any) -> str:
        calls["n"] += 1
        if calls["n"] <= failures:
            raise RuntimeError(f"boom {calls['n']}")
        return "fine"

    return registry(handlers={"flaky": flaky}), calls


class RetryGate(ScriptedGate):
    """A fake debugger gate that also holds the run before each retry."""

    def __init__(self, on_retry: dict[int, GateDecision] | None = None) -> None:
        super().__init__()
        self.on_retry = dict(on_retry or {})
        self.retries: list[tuple[str, int, float, str | None, int]] = []

    async def before_retry(
        self, frame: Frame, state: Any, outcome: NodeOutcome, attempt: int, delay: float
    ) -> GateDecision | None:
        self.retries.append((frame.node_id, attempt, delay, outcome.error, outcome.attempts))
        return self.on_retry.get(attempt)


async def test_before_retry_is_awaited_before_each_retry_attempt() -> None:
    reg, calls = flaky_registry(failures=2)
    gate, clock, events = RetryGate(), FakeClock(), Events()
    executor = WorkflowExecutor(registry=reg, gate=gate, clock=clock, subscribers=[events])
    result = await executor.execute(compile_one(FLAKY))
    assert result.success and result.final_state["got"] == "fine"
    assert gate.retries == [
        ("flaky", 2, 0.5, "RuntimeError: boom 1", 1),
        ("flaky", 3, 1.0, "RuntimeError: boom 2", 2),
    ]
    assert clock.sleeps == [0.5, 1.0] and calls["n"] == 3
    assert [e.attempt for e in events.of(ET.RETRY_ATTEMPT)] == [2, 3]


async def test_before_retry_skip_gives_up_and_stop_cancels() -> None:
    reg, calls = flaky_registry(failures=10)
    gate = RetryGate({3: GateDecision(skip=True)})
    result = await WorkflowExecutor(registry=reg, gate=gate, clock=FakeClock()).execute(
        compile_one(FLAKY)
    )
    assert result.status == "failed" and calls["n"] == 2
    assert "boom 2" in (result.error or {})["message"]
    assert ("failed", "flaky", "main") in gate.calls  # on_node_failed still runs

    reg, calls = flaky_registry(failures=10)
    gate = RetryGate({2: GateDecision(stop=True)})
    result = await WorkflowExecutor(registry=reg, gate=gate, clock=FakeClock()).execute(
        compile_one(FLAKY)
    )
    assert result.status == "cancelled" and calls["n"] == 1


async def test_gates_without_optional_hooks_still_retry() -> None:
    reg, calls = flaky_registry(failures=1)
    gate = ScriptedGate()
    result = await WorkflowExecutor(registry=reg, gate=gate, clock=FakeClock()).execute(
        compile_one(FLAKY)
    )
    assert result.success and calls["n"] == 2


TEAM = """\
workflows:
  w:
    nodes:
      - id: crew
        type: team
        goal: "Review {{topic}}"
        team_formation: {formation}
        max_iterations: {limit}
        continue_on_error: false  # Victor's team default is true
        members:
          - {id: critic, role: reviewer, goal: "find problems"}
          - {id: editor, role: writer, goal: "fix wording"}
          - {id: judge, role: lead, goal: "decide"}
        output_key: review
"""


class EchoRunner:
    def __init__(self) -> None:
        self.requests: list[AgentRequest] = []

    async def run(self, request: AgentRequest) -> AgentResponse:
        self.requests.append(request)
        return AgentResponse(response=f"{request.member_id} done")


class MemberGate(ScriptedGate):
    def __init__(self, skip: frozenset[str] = frozenset(), stop_after: str | None = None) -> None:
        super().__init__()
        self.skip = skip
        self.stop_after = stop_after
        self.members: list[tuple[str, str, str, int, Any]] = []

    async def before_member(
        self, frame: Frame, member: Any, index: int, state: Any
    ) -> GateDecision | None:
        self.members.append(("before", frame.node_id, member.id, index, state.get("topic")))
        return GateDecision(skip=True) if member.id in self.skip else None

    async def after_member(
        self, frame: Frame, member: Any, index: int, result: Any
    ) -> GateDecision | None:
        self.members.append(("after", frame.node_id, member.id, index, result["response"]))
        return GateDecision(stop=True) if member.id == self.stop_after else None


def team(formation: str = "sequential", limit: int = 10) -> Any:
    text = TEAM.replace("{formation}", formation).replace("{limit}", str(limit))
    return compile_one(text)


async def test_member_hooks_wrap_each_member() -> None:
    runner, gate = EchoRunner(), MemberGate()
    result = await WorkflowExecutor(agent_runner=runner, gate=gate).execute(
        team(), {"topic": "caching"}
    )
    assert result.success, result.error
    assert gate.members == [
        ("before", "crew", "critic", 0, "caching"),
        ("after", "crew", "critic", 0, "critic done"),
        ("before", "crew", "editor", 1, "caching"),
        ("after", "crew", "editor", 1, "editor done"),
        ("before", "crew", "judge", 2, "caching"),
        ("after", "crew", "judge", 2, "judge done"),
    ]


async def test_member_hook_skip_and_stop() -> None:
    runner, gate = EchoRunner(), MemberGate(skip=frozenset({"editor"}))
    result = await WorkflowExecutor(agent_runner=runner, gate=gate).execute(
        team("pipeline"), {"topic": "t"}
    )
    assert result.success, result.error
    assert [r.member_id for r in runner.requests] == ["critic", "judge"]
    assert runner.requests[1].inputs["input"] == "critic done"  # the pipeline skips editor
    review = result.final_state["review"]
    assert set(review["member_results"]) == {"critic", "judge"}
    assert review["skipped_members"] == ["editor"]

    runner, gate = EchoRunner(), MemberGate(stop_after="critic")
    result = await WorkflowExecutor(agent_runner=runner, gate=gate).execute(team(), {"topic": "t"})
    assert result.status == "cancelled" and [r.member_id for r in runner.requests] == ["critic"]


async def test_team_max_iterations_is_enforced_before_any_member_runs() -> None:
    for formation in ("sequential", "pipeline", "parallel"):
        runner = EchoRunner()
        result = await WorkflowExecutor(agent_runner=runner).execute(
            team(formation, limit=2), {"topic": "t"}
        )
        assert result.status == "failed", formation
        message = (result.error or {})["message"]
        assert "needs 3 member turns" in message and "max_iterations=2" in message
        assert runner.requests == []
    result = await WorkflowExecutor(agent_runner=EchoRunner()).execute(
        team(limit=3), {"topic": "t"}
    )
    assert result.success


ANY = """\
workflows:
  w:
    nodes:
      - id: fan
        type: parallel
        parallel_nodes: [slow, fails, quick]
        join_strategy: any
        next: [after]
      - id: slow
        type: compute
        handler: slow
        output: slow_out
      - id: fails
        type: compute
        handler: fails
        output: fails_out
      - id: quick
        type: compute
        handler: quick
        output: quick_out
      - id: after
        type: transform
        transform: "done = True"
"""


async def test_join_any_cancels_the_other_branches_once_one_succeeds() -> None:
    slow_started = asyncio.Event()
    failed = asyncio.Event()
    slow_cancelled = asyncio.Event()

    async def slow(node: Any, context: Any, tools: Any) -> str:
        slow_started.set()
        try:
            await asyncio.Event().wait()  # never finishes on its own
        except asyncio.CancelledError:
            slow_cancelled.set()
            raise
        return "never"

    async def fails(node: Any, context: Any, tools: Any) -> str:
        raise RuntimeError("fails broke")

    async def quick(node: Any, context: Any, tools: Any) -> str:
        await slow_started.wait()
        await failed.wait()  # succeed only after the failure is in
        return "quick result"

    events = Events()

    def on_event(event: Any) -> None:
        events(event)
        if event.event_type is ET.NODE_FAILED and event.node_id == "fails":
            failed.set()

    reg = registry(handlers={"slow": slow, "fails": fails, "quick": quick})
    executor = WorkflowExecutor(registry=reg, subscribers=[on_event])
    result = await asyncio.wait_for(executor.execute(compile_one(ANY)), timeout=10)
    assert result.success, result.error
    assert slow_cancelled.is_set()
    state = result.final_state
    assert state["quick_out"] == "quick result" and state["done"] is True
    assert "slow_out" not in state
    results = state["_parallel_results"]
    assert results["quick"] == {"success": True, "output": "quick result"}
    assert results["fails"]["success"] is False and "fails broke" in results["fails"]["error"]
    assert results["slow"]["cancelled"] is True and results["slow"]["success"] is False
    assert state["_node_results"]["slow"]["cancelled"] is True
    finished = {e.node_id: e.status for e in events.of(ET.BRANCH_FINISHED)}
    assert finished == {
        "slow": NodeStatus.CANCELLED,
        "fails": NodeStatus.FAILED,
        "quick": NodeStatus.COMPLETED,
    }
    (skipped,) = events.of(ET.NODE_SKIPPED, "slow")
    assert skipped.status is NodeStatus.CANCELLED and skipped.metadata["cancelled"] is True


async def test_join_all_waits_for_every_branch() -> None:
    order: list[str] = []

    async def first(node: Any, context: Any, tools: Any) -> str:
        order.append("first")
        return "a"

    async def second(node: Any, context: Any, tools: Any) -> str:
        await asyncio.sleep(0)
        order.append("second")
        return "b"

    text = ANY.replace("join_strategy: any", "join_strategy: all")
    text = text.replace("parallel_nodes: [slow, fails, quick]", "parallel_nodes: [slow, quick]")
    reg = registry(handlers={"slow": second, "quick": first, "fails": first})
    result = await WorkflowExecutor(registry=reg).execute(compile_one(text))
    assert result.success and sorted(order) == ["first", "second"]
    assert result.final_state["slow_out"] == "b" and result.final_state["quick_out"] == "a"


async def test_no_timeout_decision_lifts_only_that_nodes_timeout() -> None:
    gate = ScriptedGate(before={"slow": GateDecision(no_timeout=True)})
    result = await WorkflowExecutor(registry=slow_registry(), gate=gate).execute(
        compile_one(SLOW_WORKFLOW)
    )
    assert result.status == "failed"
    assert result.final_state["got"] == "done"
    error = result.error or {}
    assert error["node"] == "after" and "timed out after 0.02s" in error["message"]


async def test_without_no_timeout_the_node_times_out() -> None:
    result = await WorkflowExecutor(registry=slow_registry(), gate=ScriptedGate()).execute(
        compile_one(SLOW_WORKFLOW)
    )
    error = result.error or {}
    assert result.status == "failed" and error["node"] == "slow"
    assert "timed out after 0.02s" in error["message"]
