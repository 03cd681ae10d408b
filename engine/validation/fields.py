"""Field checks driven by the JSON Schema (through `engine.schema_docs`).

Unknown keys (warnings with "did you mean" and a rename fix), keys Victor
silently ignores (warnings naming the replacement, with a fix), value types
and enum values, and the range of `retry_policy` values. The schema is the
single source of which keys exist; this module only applies it fast.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from engine.model import Fix, Node, Problem, Severity, SourceSpan, TextEdit
from engine.node_builder import NODE_TYPES
from engine.node_drafts import NodeDraft
from engine.validation.context import ValidationContext, close_matches
from engine.yaml_tree import YMap, YNode, YSeq, _hashable

_OPEN_SECTIONS = frozenset({"node", "metadata"})
"""Sections checked elsewhere (nodes) or free-form (metadata)."""
_STRUCTURAL = frozenset({"$ref", "stage", "overrides"})
_ERROR_TYPES = frozenset({"id", "type", "next", "branches", "parallel_nodes", "members", "nodes"})


def _docs() -> Any:
    try:
        from engine import schema_docs
    except ImportError:  # pragma: no cover - the schema module lands separately
        return None
    return schema_docs


@dataclass(frozen=True, slots=True)
class _KeyPlan:
    """How to check one key of one node type, worked out once per type (not per node)."""

    spec: Any
    accepts: Callable[[Any], bool]
    """`schema_docs.QuickAccept.accepts`: True for values `check_value` surely passes."""
    nested: bool
    """Whether the value's inner keys are checked against a closed section."""
    plain: bool
    """Nothing but the value itself to check (not ignored, no section, no ranges)."""
    fine_types: frozenset[type]
    """For plain keys: exact types whose every value passes (tested before `accepts`)."""


@dataclass(frozen=True, slots=True)
class _TypePlan:
    specs: Mapping[str, Any]
    known: frozenset[str]
    """Keys that are never unknown: the type's own keys and the structural ones."""
    keys: Mapping[str, _KeyPlan]
    """Checked keys (structural ones left out)."""


@functools.cache
def _type_plan(type_name: str) -> _TypePlan | None:
    """Per node type tables: thousands of nodes share a handful of types."""
    docs = _docs()
    if docs is None:
        return None
    try:
        specs: Mapping[str, Any] = docs.node_fields(type_name)
    except (KeyError, ValueError):
        return None
    keys = {}
    for key, spec in specs.items():
        if key in _STRUCTURAL:
            continue
        nested = _has_closed_section(docs, spec)
        plain = not spec.ignored and not nested and key != "retry_policy"
        quick = docs.quick_accept(spec)
        fine_types = quick.types if plain else frozenset()
        keys[key] = _KeyPlan(spec, quick.accepts, nested, plain, fine_types)
    return _TypePlan(specs, frozenset(specs) | _STRUCTURAL, keys)


def _has_closed_section(docs: Any, spec: Any) -> bool:
    section = getattr(spec, "section", None)
    return bool(section) and section not in _OPEN_SECTIONS and not docs.allows_unknown_keys(section)


def check_node_fields(ctx: ValidationContext, node: Node | None, draft: NodeDraft) -> list[Problem]:
    fields = draft.fields
    type_name = fields.get("type", "agent")
    if not isinstance(type_name, str) or type_name not in NODE_TYPES:
        return []
    plan = _type_plan(type_name)
    if plan is None:
        return []
    # One quick pass finds what needs a closer look; almost every node of a
    # valid file has nothing, and then no problem machinery runs at all.
    plans = plan.keys
    to_check = [
        key
        for key, value in fields.items()
        if (key_plan := plans.get(key)) is not None
        and type(value) not in key_plan.fine_types
        and not (key_plan.plain and key_plan.accepts(value))
        # the compiler reports a missing or non-string id (VW104, VW101) once
        and not (key == "id" and not isinstance(value, str))
    ]
    if not to_check and plan.known.issuperset(draft.key_spans):
        return []
    return list(_node_field_problems(ctx, node, draft, type_name, plan, to_check))


def _node_field_problems(
    ctx: ValidationContext,
    node: Node | None,
    draft: NodeDraft,
    type_name: str,
    plan: _TypePlan,
    to_check: list[str],
) -> Iterator[Problem]:
    docs = _docs()
    specs = plan.specs
    node_ref = node.id if node is not None else draft.fields.get("id")
    node_id = str(node_ref) if node_ref is not None else None
    key_spans = draft.key_spans
    for key in key_spans:
        if key not in plan.known:
            yield from _unknown_key(ctx, key, key_spans[key], specs, node_id, f"{type_name} nodes")
    for key in to_check:
        key_plan = plan.keys[key]
        spec = key_plan.spec
        value = draft.fields[key]
        if spec.ignored and key in key_spans:
            yield _ignored_key(
                ctx, key, key_spans[key], spec, node_id, draft.fields, draft.value_span(key)
            )
            continue
        if not key_plan.accepts(value):
            yield from _value_problems(ctx, docs, key, spec, value, draft.value_span(key), node_id)
        if key_plan.nested:
            yield from _nested(ctx, docs, spec, draft.local(key), value, node_id)
        if key == "retry_policy" and isinstance(value, dict):
            yield from _retry_ranges(ctx, value, draft.local(key), draft.value_span(key), node_id)


def _nested(
    ctx: ValidationContext,
    docs: Any,
    spec: Any,
    node: YNode | None,
    value: Any,
    node_id: str | None,
) -> Iterator[Problem]:
    """Check keys inside a field whose schema describes them (a section)."""
    section = getattr(spec, "section", None)
    if not section or section in _OPEN_SECTIONS or docs.allows_unknown_keys(section):
        return
    kind = getattr(spec, "section_kind", None)
    if kind == "object" and isinstance(value, dict):
        yield from _section(ctx, docs, section, node, value, node_id)
    elif kind == "items" and isinstance(value, list):
        items = node.items if isinstance(node, YSeq) else ()
        for i, item in enumerate(value):
            if isinstance(item, dict) and i < len(items):
                yield from _section(ctx, docs, section, items[i], item, node_id)
    elif kind == "values" and isinstance(value, dict) and isinstance(node, YMap):
        for entry in node.entries:
            item = value.get(entry.key.value)
            if isinstance(item, dict):
                yield from _section(ctx, docs, section, entry.value, item, node_id)


def check_workflow_fields(ctx: ValidationContext, body: YMap) -> Iterator[Problem]:
    docs = _docs()
    if docs is None:
        return
    specs: Mapping[str, Any] = docs.workflow_fields()
    for entry in body.entries:
        key = str(entry.key.value)
        spec = specs.get(key)
        if spec is None:
            yield from _unknown_key(ctx, key, entry.key.span, specs, None, "workflows")
            continue
        if spec.ignored:
            # Only the sibling keys matter here, not their (possibly huge) values.
            siblings = {_hashable(e.key.value): None for e in body.entries}
            yield _ignored_key(ctx, key, entry.key.span, spec, None, siblings, entry.value.span)
            continue
        nested = _has_closed_section(docs, spec)
        if nested or spec.item_enum is not None:
            value = entry.value.to_python()
        else:
            # `nodes` holds the whole workflow: converting it all to Python only
            # to learn that each item is a mapping costs tens of milliseconds.
            value = _shallow_python(entry.value)
        yield from _value_problems(ctx, docs, key, spec, value, entry.value.span, None)
        if nested:
            yield from _nested(ctx, docs, spec, entry.value, value, None)


def _shallow_python(node: YNode) -> Any:
    """`node.to_python()` down to the items of a collection, whose own contents are left empty.

    `check_value` looks no deeper than the JSON type of each item or map value
    (item values matter only with `item_enum`, where callers convert fully).
    """
    if isinstance(node, YMap):
        return {_hashable(e.key.value): _type_stub(e.value) for e in node.entries}
    if isinstance(node, YSeq):
        return [_type_stub(item) for item in node.items]
    return node.value


def _type_stub(node: YNode) -> Any:
    if isinstance(node, YMap):
        return {}
    if isinstance(node, YSeq):
        return []
    return node.value


def _section(
    ctx: ValidationContext,
    docs: Any,
    section: str,
    node: YNode | None,
    value: dict[str, Any],
    node_id: str | None,
) -> Iterator[Problem]:
    try:
        specs: Mapping[str, Any] = docs.section_fields(section)
    except (KeyError, ValueError, AttributeError):
        return
    if not specs:
        return
    spans = _entry_spans(node)
    for key, item in value.items():
        key_span, value_span = spans.get(str(key), (None, None))
        if key_span is None or value_span is None:
            continue
        spec = specs.get(str(key))
        if spec is None:
            yield from _unknown_key(ctx, str(key), key_span, specs, node_id, f"`{section}`")
        elif spec.ignored:
            yield _ignored_key(ctx, str(key), key_span, spec, node_id, value, value_span)
        else:
            yield from _value_problems(ctx, docs, str(key), spec, item, value_span, node_id)


def _entry_spans(node: YNode | None) -> dict[str, tuple[SourceSpan, SourceSpan]]:
    if not isinstance(node, YMap):
        return {}
    return {str(e.key.value): (e.key.span, e.value.span) for e in node.entries}


def _unknown_key(
    ctx: ValidationContext,
    key: str,
    span: SourceSpan,
    specs: Mapping[str, Any],
    node_id: str | None,
    where: str,
) -> Iterator[Problem]:
    candidates = [k for k, s in specs.items() if not s.ignored]
    matches = close_matches(key, candidates)
    hint = f"; did you mean '{matches[0]}'?" if matches else "; remove it or check the spelling."
    fixes = [ctx.replace_fix(f"Rename to '{m}'", span, m) for m in matches]
    yield ctx.problem(
        "VW102",
        Severity.WARNING,
        f"unknown key '{key}' for {where}: it has no effect{hint}",
        span,
        node=node_id,
        fixes=fixes,
    )


def _ignored_key(
    ctx: ValidationContext,
    key: str,
    span: SourceSpan,
    spec: Any,
    node_id: str | None,
    siblings: Mapping[str, Any],
    value_span: SourceSpan | None = None,
) -> Problem:
    replacement = spec.ignored_replacement
    reason = spec.ignored_reason or f"Victor's loader ignores `{key}`"
    fixes = []
    if replacement and replacement not in siblings:
        message = f"{reason.rstrip('.')}; use `{replacement}` instead."
        fixes.append(ctx.replace_fix(f"Rename '{key}' to '{replacement}'", span, replacement))
        severity = Severity.WARNING
    elif replacement:
        message = f"{reason.rstrip('.')}; `{replacement}` is already set, so remove `{key}`."
        severity = Severity.WARNING
    else:
        message = reason if reason.endswith(".") else f"{reason}."
        severity = Severity.INFORMATION
    removal = _remove_entry_fix(ctx, key, span, value_span)
    if removal is not None and not fixes:
        fixes.append(removal)
    return ctx.problem("VW501", severity, message, span, node=node_id, fixes=fixes)


def _remove_entry_fix(
    ctx: ValidationContext, key: str, key_span: SourceSpan, value_span: SourceSpan | None
) -> Fix | None:
    """Delete a block-mapping entry's whole lines (not offered inside flow mappings)."""
    if value_span is None or key_span.line >= len(ctx.lines):
        return None
    if ctx.lines[key_span.line][: key_span.column].strip():
        return None  # inside a flow mapping, or the entry opens a list item
    end_line = max(value_span.end_line, key_span.line) + 1
    span = SourceSpan(key_span.line, 0, end_line, 0)
    return Fix(f"Remove '{key}' (it has no effect)", (TextEdit(ctx.source, span, ""),))


def _value_problems(
    ctx: ValidationContext,
    docs: Any,
    key: str,
    spec: Any,
    value: Any,
    span: SourceSpan,
    node_id: str | None,
) -> Iterator[Problem]:
    message = docs.check_value(spec, value)
    if message is None:
        return
    is_enum = bool(spec.enum) and isinstance(value, str)
    code = "VW103" if is_enum else "VW101"
    fixes = []
    if is_enum:
        matches = close_matches(value, [str(v) for v in spec.enum])
        fixes = [ctx.replace_fix(f"Change to '{m}'", span, m) for m in matches]
    severity = Severity.ERROR if key in _ERROR_TYPES or is_enum else Severity.WARNING
    yield ctx.problem(code, severity, f"`{key}`: {message}", span, node=node_id, fixes=fixes)


_RETRY_RANGES: dict[str, tuple[float, float]] = {
    "max_attempts": (1, 100),
    "max_retries": (0, 100),
    "initial_delay": (0, 3600),
    "delay_seconds": (0, 3600),
    "backoff_multiplier": (1, 10),
    "max_delay": (0, 86400),
    "jitter": (0, 1),
}


def _retry_ranges(
    ctx: ValidationContext,
    value: dict[str, Any],
    node: YNode | None,
    fallback: SourceSpan,
    node_id: str | None,
) -> Iterator[Problem]:
    spans = _entry_spans(node)
    for key, (low, high) in _RETRY_RANGES.items():
        item = value.get(key)
        if not isinstance(item, int | float) or isinstance(item, bool):
            continue
        if low <= item <= high:
            continue
        span = spans.get(key, (fallback, fallback))[1]
        yield ctx.problem(
            "VW111",
            Severity.ERROR,
            f"`retry_policy.{key}` is {item}; it must be between {low:g} and {high:g}.",
            span,
            node=node_id,
        )
