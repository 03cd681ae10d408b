"""What events carry: node inputs on NODE_STARTED, written keys on STATE_CAPTURED, the
workflow graph in traces."""

from __future__ import annotations

from typing import Any

from engine.events import ExecutionEventType as ET
from engine.execution_engine import ErrorRecovery, ErrorRecoveryStrategy, WorkflowExecutor
from engine.hitl import AnswersResponder
from tests.executor.helpers import Events, ScriptedGate, compile_one, registry, run

MIXED = """\
workflows:
  mixed:
    nodes:
      - id: prep
        type: transform
        transform: |
          total = base + 1
          label = "n" + str(total)
      - id: measure
        type: compute
        handler: measure
        inputs:
          value: $ctx.total
          nested: {label: $ctx.label, fixed: 3}
        output: measured
      - id: ask
        type: hitl
        prompt: "label {label}?"
        context_keys: [label, absent]
        fallback: continue
      - id: split
        type: parallel
        parallel_nodes: [left, right]
        next: [route]
      - id: left
        type: transform
        transform: "l = total * 2"
      - id: right
        type: transform
        transform: "r = total * 3"
      - id: route
        type: condition
        condition: "l > r or measured.value > 100"
        branches: {"true": done, "false": done}
      - id: done
        type: transform
        transform: "finished = True"
"""


def measure(node: Any, context: Any, tools: Any) -> dict[str, Any]:
    return {"value": context.inputs["value"]}


def run_mixed(**options: Any) -> tuple[Events, Any]:
    workflow = compile_one(MIXED)
    events = Events()
    executor = WorkflowExecutor(
        registry=registry(handlers={"measure": measure}),
        subscribers=[events],
        hitl_responder=AnswersResponder({"ask": "yes"}),
        **options,
    )
    result = run(executor.execute(workflow, {"base": 1}))
    assert result.success, result.error
    return events, result


def started_inputs(events: Events) -> dict[str | None, Any]:
    return {e.node_id: e.inputs for e in events.of(ET.NODE_STARTED)}


def test_node_started_carries_resolved_inputs() -> None:
    events, _ = run_mixed()
    inputs = started_inputs(events)
    assert inputs["prep"] == {"base": 1}  # what the transform reads, not what it writes
    assert inputs["measure"] == {"value": 2, "nested": {"label": "n2", "fixed": 3}}
    assert inputs["ask"] == {"label": "n2"}
    assert inputs["left"] == {"total": 2} and inputs["right"] == {"total": 2}
    assert inputs["route"] == {"l": 4, "r": 6, "measured": {"value": 2}}
    assert inputs["split"] is None


def test_inputs_share_state_values_instead_of_copying() -> None:
    workflow = compile_one(
        "workflows:\n  w:\n    nodes:\n      - id: t\n        type: transform\n"
        "        transform: 'n = len(big)'\n"
    )
    big = list(range(1000))
    events = Events()
    result = run(WorkflowExecutor(subscribers=[events]).execute(workflow, {"big": big}))
    assert result.success
    (started,) = events.of(ET.NODE_STARTED)
    assert started.inputs is not None and started.inputs["big"] is big


def test_agent_inputs_are_the_rendered_goal_and_mapping() -> None:
    from engine.agent_runners.scripted import ScriptedRunner

    workflow = compile_one(
        "workflows:\n  w:\n    nodes:\n      - id: think\n        type: agent\n"
        "        role: r\n        goal: 'Plan {{task.title}}'\n"
        "        input_mapping: {doc: task.body}\n"
    )
    events = Events()
    executor = WorkflowExecutor(agent_runner=ScriptedRunner({"think": "ok"}), subscribers=[events])
    task = {"title": "caching", "body": "text"}
    assert run(executor.execute(workflow, {"task": task})).success
    assert started_inputs(events)["think"] == {"goal": "Plan caching", "doc": "text"}


def test_state_captured_names_the_keys_each_node_wrote() -> None:
    events, _ = run_mixed(snapshots=True)
    written = {
        (e.thread, e.node_id): e.metadata["written_keys"] for e in events.of(ET.STATE_CAPTURED)
    }
    assert set(written[("main", "prep")]) == {"total", "label"}
    assert written[("main", "measure")] == ("measured",)
    assert written[("main", "ask")] == ("ask_response",)
    assert written[("left", "left")] == ("l",) and written[("right", "right")] == ("r",)
    assert set(written[("main", "split")]) == {"l", "r", "_parallel_results"}
    assert written[("main", "route")] == ()
    assert written[("main", "done")] == ("finished",)


def test_each_snapshot_is_its_threads_previous_state_plus_written_keys() -> None:
    events, result = run_mixed(snapshots=True)
    start = events.of(ET.WORKFLOW_STARTED)[0]
    previous: dict[str, dict[str, Any]] = {}
    main_state = {**dict(start.inputs or {}), "_workflow_name": "mixed"}
    main_state["_execution_id"] = result.execution_id
    for event in events:
        if event.event_type is ET.BRANCH_STARTED:
            previous[event.thread] = previous["main"]
        if event.event_type is not ET.STATE_CAPTURED:
            continue
        assert event.state is not None
        before = previous.get(event.thread, main_state)
        keys = event.metadata["written_keys"]
        expected = {**before, **{key: event.state[key] for key in keys}}
        assert dict(event.state) == expected, event.node_id
        if before is not main_state:  # values of earlier snapshots are shared, not copied
            assert all(event.state[k] is before[k] for k in set(before) - set(keys))
        previous[event.thread] = dict(event.state)


def test_continue_on_error_snapshot_includes_error_key() -> None:
    workflow = compile_one(
        "workflows:\n  w:\n    nodes:\n      - id: bad\n        type: transform\n"
        "        transform: 'x = missing + 1'\n        continue_on_error: true\n"
        "      - id: after\n        type: transform\n        transform: 'y = 1'\n"
    )
    events = Events()
    executor = WorkflowExecutor(subscribers=[events], snapshots=True)
    assert run(executor.execute(workflow, {})).success
    captured = {e.node_id: e.metadata["written_keys"] for e in events.of(ET.STATE_CAPTURED)}
    assert captured == {"bad": ("_error",), "after": ("y",)}


def test_no_written_keys_when_a_gate_may_edit_the_state() -> None:
    events, _ = run_mixed(snapshots=True, gate=ScriptedGate())
    captured = events.of(ET.STATE_CAPTURED)
    assert captured and all("written_keys" not in e.metadata for e in captured)


def test_trace_carries_the_workflow_graph() -> None:
    workflow = compile_one(MIXED)
    executor = WorkflowExecutor(
        trace_mode=True,
        registry=registry(handlers={"measure": measure}),
        error_recovery=ErrorRecovery(strategy=ErrorRecoveryStrategy.FAIL_FAST),
    )
    assert run(executor.execute(workflow, {"base": 1})).success
    trace = executor.get_trace().get_trace()
    assert trace is not None and trace.graph is not None
    assert [n["id"] for n in trace.graph["nodes"]] == [n.id for n in workflow.nodes]
    edges = {(e["source"], e["target"]) for e in trace.graph["edges"]}
    assert {("split", "left"), ("split", "right"), ("route", "done")} <= edges
    record = next(r for r in trace.nodes if r.node_id == "measure")
    assert record.inputs == {"value": 2, "nested": {"label": "n2", "fixed": 3}}


def test_transforms_and_conditions_call_registered_transform_functions() -> None:
    from collections.abc import Mapping

    def summarize(state: Mapping[str, Any]) -> dict[str, Any]:
        return {"words": len(str(state.get("text", "")).split())}

    def double(value: int) -> int:
        return value * 2

    workflow = compile_one(
        """\
workflows:
  w:
    nodes:
      - id: calc
        type: transform
        transform: |
          info = summarize(ctx)
          twice = double(info.words)
      - id: check
        type: condition
        condition: "double(twice) > 10"
        branches: {"true": big, "false": small}
      - id: big
        type: transform
        transform: "size = 'big'"
        next: [__end__]
      - id: small
        type: transform
        transform: "size = 'small'"
"""
    )
    reg = registry(transforms={"summarize": summarize, "double": double})
    executor = WorkflowExecutor(registry=reg)
    result = run(executor.execute(workflow, {"text": "a b c"}))
    assert result.success, result.error
    state = result.final_state
    assert state["info"] == {"words": 3} and state["twice"] == 6 and state["size"] == "big"
    without = run(WorkflowExecutor().execute(workflow, {"text": "a b c"}))
    assert without.status == "failed" and "summarize" in (without.error or {})["message"]
