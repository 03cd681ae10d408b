"""Turn merged node drafts into typed, frozen model nodes.

Applies Victor's defaults (type `agent`, output = node id, team `output_key`),
collects edges with their spans and the state keys each node reads. Values of
the wrong type fall back to defaults here; the validators report them.
Knows nothing of validation messages or execution.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from engine.expressions import Reference, branch_key
from engine.model import (
    AgentNode,
    ComputeNode,
    ConditionNode,
    EdgeKind,
    HitlNode,
    Node,
    NodeRef,
    NodeType,
    ParallelNode,
    RetryPolicy,
    SourceSpan,
    StateRef,
    StateRefKind,
    TeamMember,
    TeamNode,
    TransformNode,
)
from engine.node_drafts import NodeDraft
from engine.scalar_positions import locate_spans, text_offset
from engine.template_refs import root_key, template_refs
from engine.yaml_tree import YMap, YNode, YScalar, YSeq

NODE_TYPES = frozenset(t.value for t in NodeType)
# A dict lookup instead of `NodeType(name)`: the enum call costs more, once per node.
_NODE_TYPE_BY_NAME = {t.value: t for t in NodeType}


def node_type_of(fields: Mapping[str, Any]) -> str:
    value = fields.get("type", "agent")
    return value if isinstance(value, str) else "agent"


def _str(value: Any, default: str = "") -> str:
    if value is None:
        return default
    return value if isinstance(value, str) else str(value)


def _int(value: Any, default: int) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else default


def _float(value: Any) -> float | None:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    return None


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _str_tuple(value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list):
        return tuple(str(v) for v in value if v is not None)
    return ()


def next_targets(value: Any) -> tuple[str, ...]:
    """`next` as written: a list of ids, one id, or nothing."""
    return _str_tuple(value)


VICTOR_DEFAULT_RETRIES = 3
"""Victor's `RetryPolicy.max_retries` default: a `retry_policy` that names no count
gives the first try plus 3 retries."""


def retry_policy(value: Any) -> RetryPolicy | None:
    if not isinstance(value, dict):
        return None
    attempts = value.get("max_attempts")
    if not isinstance(attempts, int) or isinstance(attempts, bool):
        retries = value.get("max_retries")
        if not isinstance(retries, int) or isinstance(retries, bool):
            retries = VICTOR_DEFAULT_RETRIES
        attempts = retries + 1
    delay = _float(value.get("initial_delay", value.get("delay_seconds")))
    multiplier = _float(value.get("backoff_multiplier"))
    if value.get("exponential_backoff") is False and multiplier is None:
        multiplier = 1.0
    max_delay = _float(value.get("max_delay"))
    jitter = _float(value.get("jitter"))
    base = 1.0 if delay is None else delay
    return RetryPolicy(
        max_attempts=max(1, attempts),
        initial_delay=max(0.0, base),
        backoff_multiplier=2.0 if multiplier is None else multiplier,
        max_delay=32 * base if max_delay is None else max_delay,
        jitter=0.1 if jitter is None else jitter,
    )


def _edge_refs(draft: NodeDraft, key: str, kind: EdgeKind) -> list[NodeRef]:
    node = draft.local(key)
    value = draft.fields.get(key)
    if isinstance(node, YSeq):
        return [
            NodeRef(str(item.value), kind, item.span)
            for item in node.items
            if isinstance(item, YScalar) and item.value is not None
        ]
    if isinstance(node, YScalar) and node.value is not None:
        return [NodeRef(str(node.value), kind, node.span)]
    return [NodeRef(t, kind, draft.value_span(key)) for t in _str_tuple(value)]


def branch_items(draft: NodeDraft) -> list[tuple[str, str, SourceSpan, SourceSpan]]:
    """(branch key, target, key span, target span) for each written branch."""
    node = draft.local("branches")
    items: list[tuple[str, str, SourceSpan, SourceSpan]] = []
    if isinstance(node, YMap):
        for e in node.entries:
            if isinstance(e.value, YScalar) and e.value.value is not None:
                items.append(
                    (branch_key(e.key.value), str(e.value.value), e.key.span, e.value.span)
                )
        return items
    value = draft.fields.get("branches")
    if isinstance(value, dict):
        site = draft.value_span("branches")
        for key, target in value.items():
            if target is not None:
                items.append((branch_key(key), str(target), site, site))
    return items


class StateReadCollector:
    """Finds state reads in a node's fields, with source spans."""

    def __init__(
        self,
        draft: NodeDraft,
        lines: Sequence[str],
        expression_refs: ExpressionRefs | None,
    ) -> None:
        self.draft = draft
        self.lines = lines
        self.expression_refs = expression_refs
        self.reads: list[StateRef] = []

    def templates(self, key: str, *, braces: bool = False) -> None:
        self._walk(key, self.draft.local(key), self.draft.fields.get(key), braces)

    def _walk(self, key: str, node: YNode | None, value: Any, braces: bool) -> None:
        if isinstance(value, str):
            reads, pairs = _template_reads(value, braces)
            if reads:
                self._add_all(key, node, value, reads, pairs)
        elif isinstance(value, dict):
            for sub_key, sub_value in value.items():
                sub_node = node.get(sub_key) if isinstance(node, YMap) else None
                self._walk(key, sub_node, sub_value, braces)
        elif isinstance(value, list):
            for i, item in enumerate(value):
                sub = node.items[i] if isinstance(node, YSeq) and i < len(node.items) else None
                self._walk(key, sub, item, braces)

    def mapping_values(self, key: str) -> None:
        """`input_mapping: {param: state_key}` and lists like `context_keys`."""
        node = self.draft.local(key)
        value = self.draft.fields.get(key)
        if isinstance(value, dict):
            for param, target in value.items():
                if isinstance(target, str) and target:
                    sub = node.get(param) if isinstance(node, YMap) else None
                    span = sub.span if sub is not None else self.draft.value_span(key)
                    self._add(target, StateRefKind.MAPPING, key, span)
        elif isinstance(value, list):
            for i, item in enumerate(value):
                if isinstance(item, str) and item:
                    sub = node.items[i] if isinstance(node, YSeq) and i < len(node.items) else None
                    span = sub.span if sub is not None else self.draft.value_span(key)
                    self._add(item, StateRefKind.MAPPING, key, span)

    def expression(self, key: str) -> None:
        text = self.draft.fields.get(key)
        if not isinstance(text, str) or self.expression_refs is None:
            return
        reads, pairs = _expression_reads(self.expression_refs, text)
        if reads:
            self._add_all(key, self.draft.local(key), text, reads, pairs)

    def _add_all(
        self,
        key: str,
        node: YNode | None,
        text: str,
        reads: tuple[Read, ...],
        pairs: tuple[tuple[int, int], ...],
    ) -> None:
        """Reads found in `text`, the value of `node` (a written scalar, or an inherited
        value reported at the key's value span)."""
        quote = "'"
        if isinstance(node, YScalar) and node.value == text:
            spans = locate_spans(node, self.lines, pairs)
            if node.style == "'":
                quote = '"'
        else:
            spans = [self.draft.value_span(key)] * len(reads)
        append = self.reads.append
        for (root, path, kind, bare_word), span in zip(reads, spans, strict=True):
            append(StateRef(root, path, kind, key, span, bare_word, quote))

    def _add(self, path: str, kind: StateRefKind, key: str, span: SourceSpan) -> None:
        self.reads.append(StateRef(root_key(path), path, kind, key, span))


ExpressionRefs = Callable[[str], Sequence[Reference]]
"""The state keys an expression text reads (`engine.expressions.references`)."""
Read = tuple[str, str, StateRefKind, bool]
"""(root key, path, kind, is a bare word) of one state read found in a text."""
Reads = tuple[tuple[Read, ...], tuple[tuple[int, int], ...]]
"""The reads of a text and the (start, end) offsets of each in it."""


# The two caches below are keyed on text alone: finding references and turning
# positions into offsets are pure, and a recompile meets mostly unchanged texts.
@functools.lru_cache(maxsize=16384)
def _template_reads(text: str, braces: bool) -> Reads:
    refs = template_refs(text, braces)
    return (
        tuple((root_key(r.path), r.path, r.kind, False) for r in refs),
        tuple((r.start, r.end) for r in refs),
    )


@functools.lru_cache(maxsize=16384)
def _expression_reads(expression_refs: ExpressionRefs, text: str) -> Reads:
    refs = expression_refs(text)
    return (
        tuple((root_key(r.path), r.path, StateRefKind.EXPRESSION, r.bare_word) for r in refs),
        tuple(
            (text_offset(text, r.line, r.column), text_offset(text, r.end_line, r.end_column))
            for r in refs
        ),
    )


def _team_members(draft: NodeDraft) -> tuple[TeamMember, ...]:
    value = draft.fields.get("members")
    node = draft.local("members")
    members: list[TeamMember] = []
    if not isinstance(value, list):
        return ()
    for i, item in enumerate(value):
        if not isinstance(item, dict):
            continue
        span = node.items[i].span if isinstance(node, YSeq) and i < len(node.items) else None
        member_id = _str(item.get("id"), f"member_{i + 1}")
        members.append(
            TeamMember(
                id=member_id,
                role=_str(item.get("role"), "executor"),
                name=_str(item.get("name"), member_id),
                goal=_str(item.get("goal")),
                tool_budget=_int(item.get("tool_budget"), 25),
                tools=_str_tuple(item.get("tools")),
                backstory=_str(item.get("backstory")),
                expertise=_str_tuple(item.get("expertise")),
                personality=_str(item.get("personality")),
                span=span,
            )
        )
    return tuple(members)


def build_node(
    draft: NodeDraft,
    node_id: str,
    id_span: SourceSpan,
    effective_next: tuple[str, ...],
    auto_chained: bool,
    auto_target: str | None,
    lines: Sequence[str],
    expression_refs: ExpressionRefs | None,
) -> Node:
    """A typed node from a draft whose id and successors are already decided."""
    fields = draft.fields
    node_type = _NODE_TYPE_BY_NAME.get(node_type_of(fields), NodeType.AGENT)
    refs: list[NodeRef] = _edge_refs(draft, "next", EdgeKind.NEXT)
    collector = StateReadCollector(draft, lines, expression_refs)
    timeout = _float(fields.get("timeout", fields.get("timeout_seconds")))
    common: dict[str, Any] = {
        "id": node_id,
        "type": node_type,
        "name": _str(
            fields.get("name"), f"Team: {node_id}" if node_type is NodeType.TEAM else node_id
        ),
        "description": _str(fields.get("description")),
        "index": draft.index,
        "next": effective_next,
        "auto_chained": auto_chained,
        "output": _str(fields.get("output"), node_id) or node_id,
        "retry_policy": retry_policy(fields.get("retry_policy")),
        "continue_on_error": fields.get("continue_on_error")
        if isinstance(fields.get("continue_on_error"), bool)
        else None,
        "timeout": timeout,
        "profile": fields.get("profile") if isinstance(fields.get("profile"), str) else None,
        "span": draft.entry.span,
        "id_span": id_span,
        "key_spans": draft.key_spans,
        "value_spans": draft.value_spans,
        "fields": fields,
        "origin": draft.origin,
    }
    cls: type[Node]
    specific: dict[str, Any]
    if node_type is NodeType.AGENT:
        collector.templates("goal")
        collector.mapping_values("input_mapping")
        mapping = fields.get("input_mapping")
        cls, specific = (
            AgentNode,
            dict(
                role=_str(fields.get("role"), "executor"),
                goal=_str(fields.get("goal")),
                tool_budget=_int(fields.get("tool_budget"), 15),
                tools=_str_tuple(fields["tools"]) if "tools" in fields else None,
                input_mapping={str(k): str(v) for k, v in mapping.items()}
                if isinstance(mapping, dict)
                else {},
                llm_config=_dict(fields.get("llm_config")),
            ),
        )
    elif node_type is NodeType.COMPUTE:
        inputs = fields.get("inputs", fields.get("input_mapping"))
        collector.templates("inputs" if "inputs" in fields else "input_mapping")
        cls, specific = (
            ComputeNode,
            dict(
                handler=fields.get("handler") if isinstance(fields.get("handler"), str) else None,
                tools=_str_tuple(fields.get("tools")),
                inputs=inputs if isinstance(inputs, dict) else {},
                constraints=fields.get("constraints"),
                execution_target=_str(fields.get("execution_target"), "in-process"),
                fail_fast=fields.get("fail_fast") is not False,
                parallel=fields.get("parallel") is True,
            ),
        )
    elif node_type is NodeType.CONDITION:
        collector.expression("condition")
        branches = branch_items(draft)
        refs.extend(NodeRef(t, EdgeKind.BRANCH, ts, label=k) for k, t, _ks, ts in branches)
        cls, specific = (
            ConditionNode,
            dict(
                condition=_str(fields.get("condition"), "default"),
                branches=tuple((k, t) for k, t, _ks, _ts in branches),
            ),
        )
    elif node_type is NodeType.PARALLEL:
        children = _edge_refs(draft, "parallel_nodes", EdgeKind.PARALLEL)
        refs.extend(children)
        cls, specific = (
            ParallelNode,
            dict(
                parallel_nodes=tuple(r.target for r in children),
                join_strategy=_str(fields.get("join_strategy"), "all"),
            ),
        )
    elif node_type is NodeType.TRANSFORM:
        collector.expression("transform")
        cls, specific = TransformNode, dict(transform=_str(fields.get("transform")))
    elif node_type is NodeType.HITL:
        collector.templates("prompt", braces=True)
        collector.mapping_values("context_keys")
        common["output"] = _str(
            fields.get("output") or fields.get("output_key"), f"{node_id}_response"
        )
        choices = fields.get("choices")
        cls, specific = (
            HitlNode,
            dict(
                hitl_type=_str(fields.get("hitl_type"), "approval"),
                prompt=_str(fields.get("prompt")),
                context_keys=_str_tuple(fields.get("context_keys")),
                choices=tuple(choices) if isinstance(choices, list) else (),
                default_value=fields.get("default_value"),
                fallback=_str(fields.get("fallback"), "abort"),
            ),
        )
    else:
        collector.templates("goal")
        common["output"] = _str(fields.get("output_key") or fields.get("output"), "team_result")
        if common["continue_on_error"] is None:
            common["continue_on_error"] = True
        cls, specific = (
            TeamNode,
            dict(
                goal=_str(fields.get("goal")),
                team_formation=_str(fields.get("team_formation"), "sequential"),
                members=_team_members(draft),
                total_tool_budget=_int(fields.get("total_tool_budget"), 100),
                max_iterations=_int(fields.get("max_iterations"), 50),
                merge_strategy=_str(fields.get("merge_strategy"), "dict"),
                merge_mode=_str(fields.get("merge_mode"), "team_wins"),
            ),
        )
    if auto_chained and auto_target is not None:
        refs.append(NodeRef(auto_target, EdgeKind.AUTO, None))
    common.update(specific)
    common["refs"] = tuple(refs)
    common["state_reads"] = tuple(collector.reads)
    return _construct(cls, common)


_new_object = object.__new__
_FIELD_COUNTS: dict[type, int] = {}


def _construct(cls: type[Node], values: dict[str, Any]) -> Node:
    """`cls(**values)` without the frozen dataclass `__init__`.

    That `__init__` sets ~27 fields one `object.__setattr__` at a time (about
    3 µs a node); filling `__dict__` at once gives the same object. Done only
    when the keys are exactly the class's fields (checked in full once per
    class, then by count: build_node passes literal keys) and the class has no
    `__post_init__`; anything else goes through the real constructor."""
    if _FIELD_COUNTS.get(cls) != len(values):
        names = {f.name for f in dataclasses.fields(cls)}
        if names != values.keys() or hasattr(cls, "__post_init__") or hasattr(cls, "__slots__"):
            return cls(**values)
        _FIELD_COUNTS[cls] = len(values)
    node = _new_object(cls)
    node.__dict__.update(values)
    return node
