"""Error recovery (fake clock), gates, cancellation, subscribers, streaming, snapshots, replay."""

from __future__ import annotations

import asyncio
import random
from typing import Any

import pytest

from engine.events import ExecutionEventType as ET
from engine.execution_engine import ErrorRecovery, ErrorRecoveryStrategy, WorkflowExecutor
from engine.gates import GateDecision
from engine.retry import Backoff, FakeClock
from tests.executor.helpers import Events, ScriptedGate, compile_one, registry

FLAKY = """
workflows:
  w:
    nodes:
      - id: flaky
        type: compute
        handler: flaky
        output: got
{extra}
      - id: after
        type: transform
        transform: "after = True"
"""


def flaky_registry(failures: int) -> tuple[Any, list[int]]:
    calls: list[int] = []

    async def flaky(node: Any, context: Any, tools: Any) -> str:
        calls.append(len(calls) + 1)
        if len(calls) <= failures:
            raise ConnectionError(f"try {len(calls)} failed")
        return "ok"

    return registry(handlers={"flaky": flaky}), calls


async def test_global_retry_backoff_measured_with_fake_clock() -> None:
    reg, calls = flaky_registry(3)
    clock = FakeClock()
    events = Events()
    recovery = ErrorRecovery(
        strategy=ErrorRecoveryStrategy.RETRY,
        max_retries=3,
        retry_delay_seconds=1.0,
        backoff_multiplier=2.0,
    )
    executor = WorkflowExecutor(
        error_recovery=recovery, registry=reg, clock=clock, subscribers=[events]
    )
    result = await executor.execute(compile_one(FLAKY.replace("{extra}", "")))
    assert result.success, result.error
    assert calls == [1, 2, 3, 4]
    assert clock.sleeps == [1.0, 2.0, 4.0]
    retries = events.of(ET.RETRY_ATTEMPT)
    assert [e.metadata["attempt"] for e in retries] == [2, 3, 4]
    assert [e.metadata["delay"] for e in retries] == [1.0, 2.0, 4.0]
    assert events.of(ET.ERROR_RECOVERED, "flaky")
    assert result.final_state["got"] == "ok"


async def test_retries_exhausted_fail_fast() -> None:
    reg, calls = flaky_registry(10)
    clock = FakeClock()
    recovery = ErrorRecovery(strategy=ErrorRecoveryStrategy.RETRY, max_retries=2)
    result = await WorkflowExecutor(error_recovery=recovery, registry=reg, clock=clock).execute(
        compile_one(FLAKY.replace("{extra}", ""))
    )
    assert result.status == "failed" and len(calls) == 3
    assert result.error == {"node": "flaky", "message": "ConnectionError: try 3 failed"}
    assert result.nodes_executed == ("flaky",)


async def test_node_retry_policy_overrides_global_with_cap_and_jitter() -> None:
    extra = (
        "        retry_policy:\n          max_attempts: 4\n          initial_delay: 10\n"
        "          backoff_multiplier: 3\n          max_delay: 50\n          jitter: 0.1"
    )
    reg, calls = flaky_registry(3)
    clock = FakeClock()
    result = await WorkflowExecutor(registry=reg, clock=clock, rng=random.Random(7)).execute(
        compile_one(FLAKY.replace("{extra}", extra))
    )
    assert result.success and len(calls) == 4
    bases = [10.0, 30.0, 50.0]
    assert len(clock.sleeps) == 3
    for slept, base in zip(clock.sleeps, bases, strict=True):
        assert base * 0.9 <= slept <= base * 1.1
    assert clock.sleeps != bases  # jitter applied


@pytest.mark.parametrize(
    ("policy", "tries"),
    [
        # Victor's RetryPolicy: max_retries defaults to 3, so 4 tries in all.
        ("{initial_delay: 0}", 4),
        ("{max_retries: 1, initial_delay: 0}", 2),
        ("{max_attempts: 2, initial_delay: 0}", 2),
    ],
)
async def test_retry_policy_without_a_count_uses_victors_three_retries(
    policy: str, tries: int
) -> None:
    reg, calls = flaky_registry(10)
    wf = compile_one(FLAKY.replace("{extra}", f"        retry_policy: {policy}"))
    result = await WorkflowExecutor(registry=reg, clock=FakeClock()).execute(wf)
    assert result.status == "failed" and len(calls) == tries


def test_backoff_formula() -> None:
    backoff = Backoff(max_attempts=5, initial_delay=0.5, multiplier=2.0, max_delay=3.0)
    assert [backoff.delay(n) for n in range(1, 5)] == [0.5, 1.0, 2.0, 3.0]


async def test_continue_on_error_overrides_fail_fast() -> None:
    reg, _ = flaky_registry(10)
    events = Events()
    wf = compile_one(FLAKY.replace("{extra}", "        continue_on_error: true"))
    result = await WorkflowExecutor(registry=reg, subscribers=[events]).execute(wf)
    assert result.success
    assert result.nodes_executed == ("flaky", "after")
    assert result.final_state["_error"]["node"] == "flaky"
    assert result.final_state["_node_results"]["flaky"]["success"] is False
    assert events.of(ET.NODE_FAILED, "flaky") and events.of(ET.ERROR_RECOVERED, "flaky")


async def test_continue_on_error_false_overrides_global_continue() -> None:
    reg, _ = flaky_registry(10)
    wf = compile_one(FLAKY.replace("{extra}", "        continue_on_error: false"))
    recovery = ErrorRecovery(strategy=ErrorRecoveryStrategy.CONTINUE)
    result = await WorkflowExecutor(error_recovery=recovery, registry=reg).execute(wf)
    assert result.status == "failed"


@pytest.mark.parametrize("strategy", [ErrorRecoveryStrategy.CONTINUE, ErrorRecoveryStrategy.SKIP])
async def test_global_continue_and_skip(strategy: ErrorRecoveryStrategy) -> None:
    reg, _ = flaky_registry(10)
    events = Events()
    result = await WorkflowExecutor(
        error_recovery=ErrorRecovery(strategy=strategy), registry=reg, subscribers=[events]
    ).execute(compile_one(FLAKY.replace("{extra}", "")))
    assert result.success and result.final_state["after"] is True
    assert "got" not in result.final_state
    skipped = events.of(ET.NODE_SKIPPED, "flaky")
    assert bool(skipped) is (strategy is ErrorRecoveryStrategy.SKIP)


async def test_pause_without_gate_is_resumable() -> None:
    reg, _calls = flaky_registry(1)
    wf = compile_one(FLAKY.replace("{extra}", ""))
    executor = WorkflowExecutor(
        error_recovery=ErrorRecovery(strategy=ErrorRecoveryStrategy.PAUSE), registry=reg
    )
    paused = await executor.execute(wf, {"seed": 1})
    assert paused.status == "paused" and not paused.success
    assert paused.resume_from == "flaky" and paused.final_state["_resume_node"] == "flaky"
    resumed = await executor.execute(wf, paused.final_state, resume_from=paused.resume_from)
    assert resumed.success and resumed.final_state["got"] == "ok"
    assert resumed.nodes_executed == ("flaky", "after") and resumed.final_state["seed"] == 1


async def test_pause_with_gate_holds_at_failed_node_and_retries() -> None:
    reg, calls = flaky_registry(1)
    gate = ScriptedGate(failed={"flaky": GateDecision(retry=True)})
    executor = WorkflowExecutor(
        error_recovery=ErrorRecovery(strategy=ErrorRecoveryStrategy.PAUSE), registry=reg, gate=gate
    )
    result = await executor.execute(compile_one(FLAKY.replace("{extra}", "")))
    assert result.success and len(calls) == 2
    assert ("failed", "flaky", "main") in gate.calls


LINE = """
workflows:
  w:
    nodes:
      - id: a
        type: transform
        transform: "a = 1"
      - id: b
        type: transform
        transform: "b = 1"
      - id: c
        type: transform
        transform: "c = 1"
"""


async def test_gate_skip_goto_and_stop() -> None:
    wf = compile_one(LINE)
    skip = ScriptedGate(before={"b": GateDecision(skip=True)})
    result = await WorkflowExecutor(gate=skip).execute(wf)
    assert result.nodes_executed == ("a", "c") and "b" not in result.final_state
    assert [c for c in skip.calls if c[0] == "before"] == [
        ("before", "a", "main"),
        ("before", "b", "main"),
        ("before", "c", "main"),
    ]

    goto = ScriptedGate(after={"b": GateDecision(goto="a", state={"restored": True})})
    result = await WorkflowExecutor(gate=goto).execute(wf)
    assert result.nodes_executed == ("a", "b", "a", "b", "c")
    assert result.final_state["restored"] is True

    stop = ScriptedGate(before={"b": GateDecision(stop=True)})
    events = Events()
    result = await WorkflowExecutor(gate=stop, subscribers=[events]).execute(wf)
    assert result.status == "cancelled" and result.nodes_executed == ("a",)
    assert events[-1].event_type is ET.WORKFLOW_CANCELLED


async def test_gate_sees_parallel_children_on_their_threads() -> None:
    wf = compile_one(
        """
workflows:
  w:
    nodes:
      - id: fan
        type: parallel
        parallel_nodes: [x, y]
        next: [__end__]
      - id: x
        type: transform
        transform: "x = 1"
      - id: y
        type: transform
        transform: "y = 1"
"""
    )
    gate = ScriptedGate()
    executor = WorkflowExecutor(gate=gate)
    result = await executor.execute(wf)
    assert result.success
    child_frames = [f for f in gate.frames if f.node_id in ("x", "y")]
    assert {(f.thread, f.parents) for f in child_frames} == {("x", ("fan",)), ("y", ("fan",))}
    assert executor.call_stack and executor.call_stack[0].thread == "main"


async def test_no_gate_builds_no_frames() -> None:
    executor = WorkflowExecutor()
    await executor.execute(compile_one(LINE))
    assert executor.call_stack == []


async def test_cancel_stops_promptly() -> None:
    started = asyncio.Event()

    async def wait(node: Any, context: Any, tools: Any) -> None:
        started.set()
        await asyncio.Event().wait()

    wf = compile_one(
        "workflows:\n  w:\n    nodes:\n      - id: hang\n        type: compute\n"
        "        handler: wait\n        timeout: 100\n      - id: next\n"
        "        type: transform\n        transform: 'x = 1'\n"
    )
    events = Events()
    executor = WorkflowExecutor(registry=registry(handlers={"wait": wait}), subscribers=[events])
    task = asyncio.create_task(executor.execute(wf))
    await asyncio.wait_for(started.wait(), 5)
    executor.cancel()
    result = await asyncio.wait_for(task, 5)
    assert result.status == "cancelled" and result.nodes_executed == ("hang",)
    assert events[-1].event_type is ET.WORKFLOW_CANCELLED

    started.clear()
    task = asyncio.create_task(executor.execute(wf))
    await asyncio.wait_for(started.wait(), 5)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert events[-1].event_type is ET.WORKFLOW_CANCELLED


async def test_subscribers_events_order_and_broken_subscriber() -> None:
    events = Events()

    def broken(event: Any) -> None:
        raise RuntimeError("subscriber bug")

    executor = WorkflowExecutor(subscribers=[broken, events], snapshots=True)
    result = await executor.execute(compile_one(LINE), {"seed": 0})
    assert result.success
    kinds = events.kinds()
    assert kinds[0] == "workflow_started" and kinds[-1] == "workflow_completed"
    assert kinds[1:4] == ["node_started", "node_completed", "state_captured"]
    snaps = events.of(ET.STATE_CAPTURED)
    assert "_node_results" not in snaps[0].state  # kept out of snapshots: no copy per node
    assert list(result.final_state["_node_results"]) == ["a", "b", "c"]
    assert "b" not in snaps[0].state and snaps[2].state["c"] == 1
    assert all(isinstance(e.duration_seconds, float) for e in events)


async def test_snapshots_share_structure() -> None:
    big = {"payload": list(range(1000))}
    executor = WorkflowExecutor(snapshots=True)
    await executor.execute(compile_one(LINE), {"big": big})
    first, last = executor.snapshots[0][2], executor.snapshots[-1][2]
    assert first["big"] is last["big"] is big
    assert first is not last and "c" not in first


async def test_execute_stream_yields_same_events() -> None:
    executor = WorkflowExecutor()
    seen = [event async for event in executor.execute_stream(compile_one(LINE), {"x": 1})]
    assert seen[0].event_type is ET.WORKFLOW_STARTED
    assert seen[-1].event_type is ET.WORKFLOW_COMPLETED
    assert [e.node_id for e in seen if e.event_type is ET.NODE_COMPLETED] == ["a", "b", "c"]
    assert executor.last_result is not None and executor.last_result.success


async def test_breakpoints_without_gate_emit_events() -> None:
    events = Events()
    executor = WorkflowExecutor(subscribers=[events])
    await executor.execute(compile_one(LINE), breakpoints=["b"])
    assert [e.node_id for e in events.of(ET.BREAKPOINT_HIT)] == ["b"]


async def test_recorded_outputs_replay_without_calling_anything() -> None:
    wf = compile_one(
        """
workflows:
  w:
    nodes:
      - id: think
        type: agent
        goal: "go"
      - id: calc
        type: compute
        handler: never_called
      - id: ask
        type: hitl
"""
    )
    recorded = {
        "think": [{"response": "r", "success": True, "tool_calls": 0, "error": None}],
        "calc": [42],
        "ask": [{"approved": True, "value": "y", "reason": None, "status": "approved"}],
    }
    result = await WorkflowExecutor(recorded_outputs=recorded).execute(wf)
    assert result.success, result.error
    assert result.final_state["think"]["response"] == "r"
    assert result.final_state["calc"] == 42
    assert result.final_state["ask_response"]["value"] == "y"
