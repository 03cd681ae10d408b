"""Trace as OpenTelemetry spans (optional extra `otlp`: opentelemetry-sdk + OTLP/HTTP exporter).

Spans: one workflow span; one span per node record, parented to the workflow span or, for
a parallel branch, to the enclosing parallel node; one span per tool call under its node.
Agent nodes carry GenAI semantic-convention attributes (`gen_ai.*`). The file format is
OTLP JSON (ExportTraceServiceRequest, hex ids); `endpoint=` also sends over OTLP/HTTP.
The trace id is derived from the execution id so re-exports correlate.
"""

from __future__ import annotations

import base64
import hashlib
import random
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from engine.trace_export import TraceExportError, write_text_atomically
from engine.trace_export.jsonsafe import dumps, to_json_text

if TYPE_CHECKING:
    from opentelemetry.sdk.trace.export import SpanExporter

    from engine.trace import NodeTraceRecord, WorkflowTrace

SCOPE_NAME = "victor.workflow"
_MISSING_EXTRA = (
    "the otlp trace format needs OpenTelemetry: "
    "pip install 'victor-workflow-tools[otlp]' (opentelemetry-sdk, "
    "opentelemetry-exporter-otlp-proto-http)"
)


def _ns(seconds: float) -> int:
    return round(seconds * 1_000_000_000)


def _attr(value: Any) -> Any:
    """OTel attributes take str/bool/int/float; anything else goes as compact JSON."""
    if isinstance(value, str | bool | int | float):
        return value
    return dumps(value)


def _trace_id_for(execution_id: str) -> int:
    digest = hashlib.sha256(execution_id.encode("utf-8")).digest()
    return int.from_bytes(digest[:16], "big") or 1


def _parent_record(
    record: NodeTraceRecord, records: tuple[NodeTraceRecord, ...]
) -> NodeTraceRecord | None:
    """The parallel node that encloses a branch record, if any."""
    if record.thread == "main":
        return None
    end = record.end_time if record.end_time is not None else record.start_time
    best = None
    for other in records:
        if other is record or other.node_type != "parallel" or other.thread == record.thread:
            continue
        other_end = other.end_time if other.end_time is not None else float("inf")
        encloses = other.start_time <= record.start_time + 1e-6 and end <= other_end + 1e-6
        if encloses and (best is None or other.start_time >= best.start_time):
            best = other
    return best


def _node_attributes(record: NodeTraceRecord) -> dict[str, Any]:
    attributes: dict[str, Any] = {
        "victor.node.id": record.node_id,
        "victor.node.type": record.node_type,
        "victor.node.thread": record.thread,
        "victor.node.attempts": record.attempts,
        "victor.node.status": record.status,
    }
    if record.node_type in ("agent", "team"):
        meta: Mapping[str, Any] = record.metadata
        attributes["gen_ai.operation.name"] = "invoke_agent"
        attributes["gen_ai.agent.name"] = record.node_id
        attributes["gen_ai.agent.id"] = record.node_id
        for source, target in (
            ("model", "gen_ai.request.model"),
            ("response_model", "gen_ai.response.model"),
            ("provider", "gen_ai.provider.name"),
            ("input_tokens", "gen_ai.usage.input_tokens"),
            ("output_tokens", "gen_ai.usage.output_tokens"),
            ("role", "victor.agent.role"),
        ):
            if meta.get(source) is not None:
                attributes[target] = _attr(meta[source])
        usage = meta.get("usage")
        if isinstance(usage, Mapping):
            for key in ("input_tokens", "output_tokens"):
                if usage.get(key) is not None:
                    attributes[f"gen_ai.usage.{key}"] = _attr(usage[key])
    return attributes


def emit_spans(
    trace: WorkflowTrace, span_exporter: SpanExporter, *, service_name: str = "victor-workflow"
) -> None:
    """Create the trace's spans and hand them to `span_exporter` (e.g. an in-memory one)."""
    try:
        from opentelemetry import trace as otel_trace
        from opentelemetry.sdk.resources import Resource
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import SimpleSpanProcessor
        from opentelemetry.sdk.trace.id_generator import IdGenerator
        from opentelemetry.trace import SpanKind, Status, StatusCode
    except ImportError as error:
        raise TraceExportError(_MISSING_EXTRA) from error

    trace_id = _trace_id_for(trace.execution_id or trace.workflow_name)

    class _ExecutionIds(IdGenerator):
        def generate_trace_id(self) -> int:
            return trace_id

        def generate_span_id(self) -> int:
            return random.getrandbits(64) or 1

    provider = TracerProvider(
        resource=Resource.create({"service.name": service_name}), id_generator=_ExecutionIds()
    )
    provider.add_span_processor(SimpleSpanProcessor(span_exporter))
    tracer = provider.get_tracer(SCOPE_NAME)

    end = (
        trace.end_time if trace.end_time is not None else trace.start_time + trace.duration_seconds
    )
    root = tracer.start_span(
        f"workflow {trace.workflow_name}",
        kind=SpanKind.INTERNAL,
        start_time=_ns(trace.start_time),
        attributes={
            "victor.workflow.name": trace.workflow_name,
            "victor.execution.id": trace.execution_id,
            "gen_ai.operation.name": "invoke_workflow",
        },
    )
    if trace.success is False:
        root.set_status(Status(StatusCode.ERROR, trace.error or "workflow failed"))
    spans: dict[int, Any] = {}
    # Parents first: parallel nodes start before their branches.
    for record in sorted(trace.nodes, key=lambda r: (r.start_time, r.thread != "main")):
        parent_record = _parent_record(record, trace.nodes)
        parent_span = spans.get(id(parent_record)) if parent_record is not None else None
        context = otel_trace.set_span_in_context(parent_span or root)
        name = (
            f"invoke_agent {record.node_id}"
            if record.node_type in ("agent", "team")
            else f"{record.node_type} {record.node_id}"
        )
        span = tracer.start_span(
            name,
            context=context,
            kind=SpanKind.INTERNAL,
            start_time=_ns(record.start_time),
            attributes=_node_attributes(record),
        )
        if not record.success:
            span.set_status(Status(StatusCode.ERROR, record.error or record.status))
        spans[id(record)] = span
        cursor = record.start_time
        for call in record.tool_calls:
            started = call.timestamp if call.timestamp is not None else cursor
            cursor = started + call.duration_seconds
            tool_span = tracer.start_span(
                f"execute_tool {call.tool_name}",
                context=otel_trace.set_span_in_context(span),
                kind=SpanKind.INTERNAL,
                start_time=_ns(started),
                attributes={
                    "gen_ai.operation.name": "execute_tool",
                    "gen_ai.tool.name": call.tool_name,
                    "victor.node.id": record.node_id,
                },
            )
            if not call.success:
                tool_span.set_status(Status(StatusCode.ERROR, call.error or "tool failed"))
            tool_span.end(end_time=_ns(cursor))
    for record in trace.nodes:
        record_end = record.end_time if record.end_time is not None else end
        spans[id(record)].end(end_time=_ns(record_end))
    root.end(end_time=_ns(end))
    provider.force_flush()


def to_otlp_json(spans: Any) -> dict[str, Any]:
    """OTLP/JSON (hex trace and span ids, integer enums) for finished SDK spans."""
    try:
        from google.protobuf.json_format import MessageToDict
        from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
    except ImportError as error:
        raise TraceExportError(_MISSING_EXTRA) from error
    message = MessageToDict(encode_spans(spans), use_integers_for_enums=True)

    def hexify(value: str) -> str:
        return base64.b64decode(value).hex()

    for resource_spans in message.get("resourceSpans", []):
        for scope_spans in resource_spans.get("scopeSpans", []):
            for span in scope_spans.get("spans", []):
                for key in ("traceId", "spanId", "parentSpanId"):
                    if span.get(key):
                        span[key] = hexify(span[key])
                for link in span.get("links", []):
                    for key in ("traceId", "spanId"):
                        if link.get(key):
                            link[key] = hexify(link[key])
    return message


def export(
    trace: WorkflowTrace,
    path: Path,
    *,
    endpoint: str | None = None,
    headers: Mapping[str, str] | None = None,
    **_options: Any,
) -> None:
    """Write OTLP JSON to `path`; with `endpoint`, also POST the spans over OTLP/HTTP."""
    try:
        from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
    except ImportError as error:
        raise TraceExportError(_MISSING_EXTRA) from error
    memory = InMemorySpanExporter()
    emit_spans(trace, memory)
    spans = memory.get_finished_spans()
    write_text_atomically(path, to_json_text(to_otlp_json(spans), indent=1))
    if endpoint:
        send_spans(spans, endpoint, headers=headers)


def send_spans(spans: Any, endpoint: str, *, headers: Mapping[str, str] | None = None) -> None:
    try:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
        from opentelemetry.sdk.trace.export import SpanExportResult
    except ImportError as error:
        raise TraceExportError(_MISSING_EXTRA) from error
    url = (
        endpoint
        if endpoint.rstrip("/").endswith("/v1/traces")
        else endpoint.rstrip("/") + "/v1/traces"
    )
    exporter = OTLPSpanExporter(endpoint=url, headers=dict(headers or {}), timeout=10)
    try:
        result = exporter.export(spans)
    finally:
        exporter.shutdown()
    if result is not SpanExportResult.SUCCESS:
        raise TraceExportError(f"the OTLP endpoint {url} did not accept the spans")
