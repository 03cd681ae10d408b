"""Tracer: records from events, analysis, and the json/csv/chrome/otlp/custom exporters."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from engine.events import ExecutionEvent, ExecutionEventType, ToolCall
from engine.trace import NodeTraceRecord, WorkflowTracer, register_trace_format
from engine.trace_export import TraceExportError, unregister_format
from tests.observability.conftest import run_events

T = ExecutionEventType


def feed(tracer: WorkflowTracer, events: list[ExecutionEvent]) -> None:
    for event in events:
        tracer.handle_event(event)


def test_events_become_node_records_with_tools_outputs_and_durations() -> None:
    tracer = WorkflowTracer()
    feed(tracer, run_events("exec_a", nodes=3, node_seconds=0.5))
    trace = tracer.get_trace()
    assert trace is not None and trace.success is True
    assert [n.node_id for n in trace.nodes] == ["n0", "n1", "n2"]
    first = trace.nodes[0]
    assert first.outputs == {"value": 0}
    assert first.duration_seconds == pytest.approx(0.5)
    # The call arrives in TOOL_CALLED and again on NODE_COMPLETED: recorded once.
    assert [c.tool_name for c in first.tool_calls] == ["search"]
    assert trace.duration_seconds == pytest.approx(1.5)


def test_failed_run_marks_the_node_and_the_trace() -> None:
    tracer = WorkflowTracer()
    feed(tracer, run_events("exec_b", nodes=3, fail_at=1))
    analysis = tracer.analyze_trace()
    assert analysis["success"] is False
    assert analysis["failed_nodes"] == 1
    assert analysis["failures"][0]["node_id"] == "n1"
    assert analysis["failures"][0]["error"] == "boom"


def test_retries_are_one_record_with_attempts() -> None:
    tracer = WorkflowTracer()
    t0 = 1000.0
    events = [
        ExecutionEvent(T.WORKFLOW_STARTED, "exec_r", "wf", t0),
        ExecutionEvent(
            T.NODE_STARTED, "exec_r", "wf", t0, node_id="flaky", node_type="compute", attempt=1
        ),
        ExecutionEvent(T.RETRY_ATTEMPT, "exec_r", "wf", t0 + 1, node_id="flaky", attempt=2),
        ExecutionEvent(T.RETRY_ATTEMPT, "exec_r", "wf", t0 + 2, node_id="flaky", attempt=3),
        ExecutionEvent(
            T.NODE_COMPLETED,
            "exec_r",
            "wf",
            t0 + 3,
            node_id="flaky",
            node_type="compute",
            attempt=3,
            duration_seconds=3.0,
        ),
        ExecutionEvent(T.WORKFLOW_COMPLETED, "exec_r", "wf", t0 + 3),
    ]
    feed(tracer, events)
    trace = tracer.get_trace()
    assert trace is not None
    assert len(trace.nodes) == 1 and trace.nodes[0].attempts == 3
    analysis = tracer.analyze_trace()
    assert analysis["retries"] == 2 and analysis["retried_nodes"] == {"flaky": 2}


def parallel_events() -> list[ExecutionEvent]:
    t0 = 2000.0
    e = "exec_p"

    def ev(kind: ExecutionEventType, at: float, node: str, ntype: str, thread: str = "main",
           **kw: object) -> ExecutionEvent:  # fmt: skip
        return ExecutionEvent(kind, e, "wf", t0 + at, node_id=node, node_type=ntype,
                              thread=thread, **kw)  # type: ignore[arg-type]  # fmt: skip

    return [
        ExecutionEvent(T.WORKFLOW_STARTED, e, "wf", t0),
        ev(T.NODE_STARTED, 0, "start", "transform"),
        ev(T.NODE_COMPLETED, 1, "start", "transform", duration_seconds=1.0),
        ev(T.NODE_STARTED, 1, "fan", "parallel"),
        ev(T.NODE_STARTED, 1, "fast", "agent", thread="fast"),
        ev(T.NODE_STARTED, 1, "slow", "agent", thread="slow"),
        ev(T.NODE_COMPLETED, 2, "fast", "agent", thread="fast", duration_seconds=1.0),
        ev(T.NODE_COMPLETED, 5, "slow", "agent", thread="slow", duration_seconds=4.0),
        ev(T.NODE_COMPLETED, 5, "fan", "parallel", duration_seconds=4.0),
        ev(T.NODE_STARTED, 5, "done", "transform"),
        ev(T.NODE_COMPLETED, 6, "done", "transform", duration_seconds=1.0),
        ExecutionEvent(T.WORKFLOW_COMPLETED, e, "wf", t0 + 6),
    ]


def test_parallel_branches_get_threads_and_critical_path_follows_the_slow_branch() -> None:
    tracer = WorkflowTracer()
    feed(tracer, parallel_events())
    analysis = tracer.analyze_trace()
    assert analysis["threads"] == ["fast", "main", "slow"]
    assert analysis["slowest_nodes"][0]["node_id"] in ("slow", "fan")
    path = analysis["critical_path"]
    assert path[0] == "start" and path[-1] == "done"
    assert "fast" not in path


def test_custom_tracer_hook_sees_each_finished_node() -> None:
    seen: list[tuple[str, float]] = []

    class CustomTracer(WorkflowTracer):
        def on_node_complete(self, node_record: NodeTraceRecord) -> None:
            if node_record.duration_seconds > 0.4:
                seen.append((node_record.node_id, node_record.duration_seconds))

    feed(CustomTracer(), run_events(nodes=2, node_seconds=0.5))
    assert [node for node, _ in seen] == ["n0", "n1"]


def test_manual_api_from_the_guide() -> None:
    tracer = WorkflowTracer()
    tracer.start_trace("workflow_1", inputs={"task": "fix bug"})
    tracer.start_node("n1", "compute", {"x": 1})
    tracer.trace_tool_call("grep", {"q": "bug"}, ["a.py"], 0.01)
    tracer.end_node({"found": 1})
    tracer.trace_node("n2", "agent", outputs="done", duration_seconds=0.2)
    tracer.end_trace(outputs={"result": "success"})
    analysis = tracer.analyze_trace()
    assert analysis["total_nodes"] == 2
    assert analysis["most_used_tools"][0]["tool_name"] == "grep"
    assert tracer.get_summary()["total_tool_calls"] == 1


def test_json_layout_supports_the_guides_jq_filters(tmp_path: Path) -> None:
    tracer = WorkflowTracer()
    feed(tracer, run_events("exec_j", nodes=3, fail_at=2))
    data = json.loads(tracer.export_trace(tmp_path / "t.json").read_text())
    for key in ("execution_id", "workflow", "start_time", "end_time", "duration_seconds",
                "success", "inputs", "outputs", "nodes"):  # fmt: skip
        assert key in data
    node_keys = {"node_id", "node_type", "start_time", "end_time", "duration_seconds", "inputs",
                 "outputs", "success", "error", "attempts", "tool_calls", "thread"}  # fmt: skip
    assert node_keys <= set(data["nodes"][0])
    # jq '.nodes[] | select(.success == false)'
    assert [n["node_id"] for n in data["nodes"] if n["success"] is False] == ["n2"]
    # jq '.nodes | sort_by(.duration_seconds)'
    assert sorted(data["nodes"], key=lambda n: n["duration_seconds"])


def test_csv_has_one_row_per_node_record(tmp_path: Path) -> None:
    tracer = WorkflowTracer()
    feed(tracer, run_events(nodes=4))
    rows = list(csv.DictReader((tracer.export_trace(tmp_path / "t.csv", "csv")).open()))
    assert [r["node_id"] for r in rows] == ["n0", "n1", "n2", "n3"]
    assert rows[0]["tool_calls_count"] == "1" and rows[0]["success"] == "true"


def test_chrome_trace_has_complete_events_on_one_lane_per_branch(tmp_path: Path) -> None:
    tracer = WorkflowTracer()
    feed(tracer, parallel_events())
    data = json.loads(tracer.export_trace(tmp_path / "t.json", "chrome").read_text())
    spans = [e for e in data["traceEvents"] if e["ph"] == "X" and e.get("cat") != "workflow"]
    tid = {e["name"]: e["tid"] for e in spans}
    assert tid["start"] == tid["done"] == tid["fan"]
    assert len({tid["start"], tid["fast"], tid["slow"]}) == 3
    names = {e["tid"]: e["args"]["name"] for e in data["traceEvents"]
             if e["ph"] == "M" and e["name"] == "thread_name"}  # fmt: skip
    assert names[tid["slow"]] == "slow"
    slow = next(e for e in spans if e["name"] == "slow")
    assert slow["ts"] == pytest.approx(1_000_000) and slow["dur"] == pytest.approx(4_000_000)


def test_custom_format_from_the_guide(tmp_path: Path) -> None:
    def write_custom(trace: object, path: Path) -> None:
        path.write_text("custom:" + ",".join(n.node_id for n in trace.nodes))  # type: ignore[attr-defined]

    register_trace_format("custom", write_custom)
    try:
        tracer = WorkflowTracer()
        feed(tracer, run_events(nodes=2))
        out = tracer.export_trace(output_path=tmp_path / "custom.txt", format="custom")
        assert out.read_text() == "custom:n0,n1"
        # A tracer with no trace still exports (the guide's snippet does exactly that).
        empty = WorkflowTracer().export_trace(output_path=tmp_path / "e.txt", format="custom")
        assert empty.read_text() == "custom:"
    finally:
        unregister_format("custom")


def test_unknown_format_lists_the_available_ones(tmp_path: Path) -> None:
    with pytest.raises(TraceExportError, match="available: json, csv, html, chrome, otlp"):
        WorkflowTracer().export_trace(tmp_path / "x", format="yaml")


def test_unwritable_path_is_a_clear_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(TraceExportError, match="cannot write trace"):
        WorkflowTracer().export_trace(blocker / "sub" / "t.json")


def test_otlp_spans_are_parented_and_agents_carry_genai_attributes(tmp_path: Path) -> None:
    pytest.importorskip("opentelemetry.sdk", reason="the otlp extra is not installed")
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    from engine.trace_export.otlp_format import emit_spans

    events = parallel_events()
    call = ToolCall("search", {"q": 1}, "hit", 0.5)
    events.insert(6, ExecutionEvent(T.TOOL_CALLED, "exec_p", "wf", 2001.5, node_id="fast",
                                    thread="fast", tool_calls=(call,)))  # fmt: skip
    tracer = WorkflowTracer()
    feed(tracer, events)
    trace = tracer.get_trace()
    assert trace is not None
    memory = InMemorySpanExporter()
    emit_spans(trace, memory)
    spans = {s.name: s for s in memory.get_finished_spans()}
    root = spans["workflow wf"]
    assert root.parent is None
    fan = spans["parallel fan"]
    assert fan.parent is not None and fan.parent.span_id == root.context.span_id
    fast = spans["invoke_agent fast"]
    assert fast.parent is not None and fast.parent.span_id == fan.context.span_id
    assert fast.attributes is not None
    assert fast.attributes["gen_ai.operation.name"] == "invoke_agent"
    assert fast.attributes["gen_ai.agent.name"] == "fast"
    tool = spans["execute_tool search"]
    assert tool.parent is not None and tool.parent.span_id == fast.context.span_id
    assert len({s.context.trace_id for s in spans.values()}) == 1

    path = tracer.export_trace(tmp_path / "otlp.json", "otlp")
    data = json.loads(path.read_text())
    file_spans = data["resourceSpans"][0]["scopeSpans"][0]["spans"]
    assert len(file_spans) == len(spans)
    assert all(len(s["traceId"]) == 32 and len(s["spanId"]) == 16 for s in file_spans)


def test_tracer_built_with_a_workflow_draws_its_graph(tmp_path: Path) -> None:
    from engine.compiler import compile as compile_text

    text = (
        "workflows:\n  pair:\n    nodes:\n"
        '      - id: first\n        type: transform\n        transform: "a = 1"\n'
        '      - id: second\n        type: transform\n        transform: "b = a + 1"\n'
    )
    workflow = compile_text(text, source=str(tmp_path / "pair.yaml")).workflows[0]
    tracer = WorkflowTracer(workflow=workflow)
    feed(tracer, run_events("exec_g", workflow="pair", nodes=1))
    trace = tracer.get_trace()
    assert trace is not None and trace.graph is not None
    assert {n["id"] for n in trace.graph["nodes"]} == {"first", "second"}
