"""Node rules beyond field types: what each node type needs, expressions, registry names,
and Victor quirks worth knowing about.

Expression and transform text is checked with `engine.expressions`; problem
positions inside a string are mapped back to the file. Registry names are
checked only when a registry is configured. Knows nothing of the graph.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator
from typing import Any

from engine.model import (
    END_NODE,
    ComputeNode,
    ConditionNode,
    Fix,
    HitlNode,
    Node,
    ParallelNode,
    Problem,
    Severity,
    SourceSpan,
    TeamNode,
    TextEdit,
    TransformNode,
)
from engine.node_builder import branch_items
from engine.node_drafts import NodeDraft
from engine.scalar_positions import text_offset, value_span
from engine.validation.context import ValidationContext, did_you_mean
from engine.yaml_tree import YMap, YScalar, YSeq

_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_BOOLEAN_KEYS = frozenset({"true", "false"})


def check_node_semantics(ctx: ValidationContext, node: Node, draft: NodeDraft) -> Iterator[Problem]:
    if isinstance(node, TeamNode) and not node.members:
        yield ctx.problem(
            "VW112",
            Severity.ERROR,
            "a team node needs at least one entry under `members` (each with id, role and goal).",
            draft.key_span("members") if "members" in draft.fields else node.id_span,
            node=node,
        )
    elif isinstance(node, ParallelNode) and not node.parallel_nodes:
        yield ctx.problem(
            "VW113",
            Severity.WARNING,
            "this parallel node has no children; list the node ids to run under `parallel_nodes`.",
            draft.key_span("parallel_nodes") if "parallel_nodes" in draft.fields else node.id_span,
            node=node,
        )
    elif isinstance(node, HitlNode):
        yield from _hitl(ctx, node, draft)
    elif isinstance(node, ConditionNode):
        yield from _condition(ctx, node, draft)
    elif isinstance(node, TransformNode):
        yield from _transform(ctx, node, draft)
    elif isinstance(node, ComputeNode):
        yield from _compute(ctx, node, draft)


def _hitl(ctx: ValidationContext, node: HitlNode, draft: NodeDraft) -> Iterator[Problem]:
    if not node.prompt.strip():
        yield ctx.problem(
            "VW114",
            Severity.WARNING,
            "this HITL node has no `prompt`: the person asked will not know what to decide.",
            node.id_span,
            node=node,
        )
    if node.hitl_type == "choice" and not node.choices:
        yield ctx.problem(
            "VW115",
            Severity.WARNING,
            "a `hitl_type: choice` node needs `choices` (a list of options to pick from).",
            draft.value_span("hitl_type"),
            node=node,
        )


def _condition(ctx: ValidationContext, node: ConditionNode, draft: NodeDraft) -> Iterator[Problem]:
    condition_span = draft.value_span("condition") if "condition" in draft.fields else node.id_span
    items = branch_items(draft)
    if not items:
        yield ctx.problem(
            "VW116",
            Severity.WARNING,
            "this condition node has no `branches`: the run ends here. "
            'Map each result to a node, e.g. `branches: {"true": a, "false": b}`.',
            condition_span,
            node=node,
        )
    yield from _unquoted_boolean_keys(ctx, node, draft)
    text = node.condition.strip()
    keys = {key for key, *_rest in items}
    named = _IDENTIFIER.match(text) is not None and not keys <= (_BOOLEAN_KEYS | {"default"})
    registry = ctx.config.registry
    if named or (registry is not None and text in registry.conditions):
        if registry is not None and text not in registry.conditions:
            yield ctx.problem(
                "VW401",
                Severity.WARNING,
                f"no named condition '{text}' in the configured registry"
                f"{did_you_mean(text, registry.conditions)}; register it in CONDITIONS or fix "
                "the name.",
                condition_span,
                node=node,
            )
        return
    if not text or text == "default":
        return
    issues = list(_check("check_expression", text))
    for issue in issues:
        yield _issue_problem(ctx, node, draft, "condition", issue)
    if any(i.severity is Severity.ERROR for i in issues):
        return
    truthiness = bool(keys) and keys <= (_BOOLEAN_KEYS | {"default"})
    if items and "default" not in keys and not truthiness and not _is_boolean_expression(text):
        yield ctx.problem(
            "VW117",
            Severity.WARNING,
            f"'{text}' selects a branch by its value, and no branch matches every value: "
            'add a `"default"` branch, or the run fails when the value is not '
            f"one of {', '.join(repr(k) for k in sorted(keys))}.",
            condition_span,
            node=node,
            fixes=_add_branch_fix(ctx, draft, "default"),
        )
    elif items and "default" not in keys and truthiness:
        missing = sorted(_BOOLEAN_KEYS - keys)
        if missing:
            yield ctx.problem(
                "VW117",
                Severity.WARNING,
                f"the condition is true or false, but there is no '{missing[0]}' branch "
                "and no `default`: the run fails in that case. Add the branch.",
                condition_span,
                node=node,
                fixes=_add_branch_fix(ctx, draft, missing[0]),
            )
    if _victor_misreads(text):
        yield ctx.problem(
            "VW508",
            Severity.HINT,
            "Victor's own engine evaluates this condition wrongly (dotted paths, and/or/not "
            "and key-to-key comparisons fall to the 'default' branch there); this engine "
            "evaluates it correctly.",
            condition_span,
            node=node,
        )


def _add_branch_fix(ctx: ValidationContext, draft: NodeDraft, key: str) -> tuple[Fix, ...]:
    """Insert `"key": __end__` into the node's own `branches` mapping.

    `__end__` ends the run gracefully where it failed before; the user then
    points the branch where it should go. No fix when the branches come from a
    library or cannot take a new entry in place.
    """
    branches = draft.local("branches")
    if not isinstance(branches, YMap) or not branches.entries:
        return ()
    entry = f'"{key}": {END_NODE}'
    last = branches.entries[-1]
    if branches.flow:
        end = branches.span
        line = ctx.lines[end.end_line] if end.end_line < len(ctx.lines) else ""
        if end.end_column < 1 or line[end.end_column - 1 : end.end_column] != "}":
            return ()
        at = SourceSpan.point(end.end_line, end.end_column - 1)
        edit = TextEdit(ctx.source, at, f", {entry}")
    else:
        first = branches.entries[0].key.span
        after = last.value.span
        if after.end_line >= len(ctx.lines):
            return ()
        at = SourceSpan.point(after.end_line, len(ctx.lines[after.end_line]))
        edit = TextEdit(ctx.source, at, "\n" + " " * first.column + entry)
    return (Fix(f'Add a "{key}" branch (ends the run; point it at a node)', (edit,)),)


@functools.lru_cache(maxsize=16384)
def _is_boolean_expression(text: str) -> bool:
    import ast

    from engine.expressions.parsing import parse_python

    try:
        tree = parse_python(text.strip(), "eval")
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return False
    if not isinstance(tree, ast.Expression):
        return False
    body = tree.body
    if isinstance(body, ast.UnaryOp) and isinstance(body.op, ast.Not):
        return True
    if isinstance(body, ast.Compare):
        return True
    if isinstance(body, ast.BoolOp):
        return all(isinstance(v, ast.Compare | ast.UnaryOp | ast.BoolOp) for v in body.values)
    return isinstance(body, ast.Constant) and isinstance(body.value, bool)


_VICTOR_MISREADS = re.compile(r"\b(and|or|not)\b|[A-Za-z_]\.[A-Za-z_]")


def _victor_misreads(text: str) -> bool:
    return _VICTOR_MISREADS.search(text) is not None


def _unquoted_boolean_keys(
    ctx: ValidationContext, node: ConditionNode, draft: NodeDraft
) -> Iterator[Problem]:
    branches = draft.local("branches")
    if not isinstance(branches, YMap):
        return
    for entry in branches.entries:
        if isinstance(entry.key.value, bool) and entry.key.style is None:
            word = "true" if entry.key.value else "false"
            yield ctx.problem(
                "VW504",
                Severity.WARNING,
                f"unquoted `{entry.key.value}` is a YAML boolean, so Victor never matches this "
                f'branch (this engine reads it as "{word}"); quote it as "{word}".',
                entry.key.span,
                node=node,
                fixes=(ctx.replace_fix(f'Quote as "{word}"', entry.key.span, f'"{word}"'),),
            )


def _transform(ctx: ValidationContext, node: TransformNode, draft: NodeDraft) -> Iterator[Problem]:
    text = node.transform.strip()
    if not text:
        yield ctx.problem(
            "VW118",
            Severity.WARNING,
            "this transform node has no `transform`; it leaves the state unchanged.",
            node.id_span,
            node=node,
        )
        return
    registry = ctx.config.registry
    if _IDENTIFIER.match(text):
        if registry is not None and text not in registry.transforms:
            yield ctx.problem(
                "VW402",
                Severity.WARNING,
                f"no transform function '{text}' in the configured registry"
                f"{did_you_mean(text, registry.transforms)}; register it in TRANSFORMS.",
                draft.value_span("transform"),
                node=node,
            )
        return
    for issue in _check("check_transform", node.transform):
        yield _issue_problem(ctx, node, draft, "transform", issue)
    if "\n" in text:
        yield ctx.problem(
            "VW507",
            Severity.HINT,
            "Victor's own engine skips multi-line transforms (they do nothing there); "
            "this engine runs every statement.",
            draft.key_span("transform"),
            node=node,
        )


def _compute(ctx: ValidationContext, node: ComputeNode, draft: NodeDraft) -> Iterator[Problem]:
    constraints = node.constraints
    if isinstance(constraints, list) and "none" in constraints and len(constraints) > 1:
        yield ctx.problem(
            "VW103",
            Severity.ERROR,
            "`constraints`: 'none' means no restriction and cannot be combined with other "
            "values; remove 'none' or the other entries (Victor refuses this file).",
            draft.value_span("constraints"),
            node=node,
        )
    registry = ctx.config.registry
    if registry is None:
        return
    if node.handler and node.handler not in registry.handlers:
        yield ctx.problem(
            "VW403",
            Severity.WARNING,
            f"no compute handler '{node.handler}' in the configured registry"
            f"{did_you_mean(node.handler, registry.handlers)}; register it in HANDLERS.",
            draft.value_span("handler"),
            node=node,
        )
    if node.handler:
        return
    tools_node = draft.local("tools")
    items = tools_node.items if isinstance(tools_node, YSeq) else ()
    for i, tool in enumerate(node.tools):
        if tool in registry.tools:
            continue
        item = items[i] if i < len(items) else None
        span = item.span if isinstance(item, YScalar) else draft.value_span("tools")
        yield ctx.problem(
            "VW404",
            Severity.WARNING,
            f"no tool '{tool}' in the configured registry{did_you_mean(tool, registry.tools)}; "
            "register it in TOOLS.",
            span,
            node=node,
        )


@functools.lru_cache(maxsize=16384)
def _check(function: str, text: str) -> tuple[Any, ...]:
    """Expression issues by text: an edited file re-checks only the strings that changed."""
    from engine import expressions

    check = getattr(expressions, function, None)
    return tuple(check(text)) if check is not None else ()


def _issue_problem(
    ctx: ValidationContext, node: Node, draft: NodeDraft, key: str, issue: object
) -> Problem:
    severity: Severity = getattr(issue, "severity", Severity.ERROR)
    message: str = getattr(issue, "message", "invalid expression")
    span = _issue_span(ctx, draft, key, issue)
    if severity is Severity.ERROR:
        return ctx.problem("VW301", Severity.ERROR, f"{key}: {message}", span, node=node)
    advice = " Move this logic into a registered transform function (TRANSFORMS)."
    if key != "transform":
        advice = ""
    return ctx.problem("VW302", Severity.WARNING, f"{key}: {message}.{advice}", span, node=node)


def _issue_span(ctx: ValidationContext, draft: NodeDraft, key: str, issue: object) -> SourceSpan:
    scalar = draft.local(key)
    text = draft.fields.get(key)
    if not isinstance(scalar, YScalar) or scalar.value != text or not isinstance(text, str):
        return draft.value_span(key)
    start = text_offset(text, getattr(issue, "line", 0), getattr(issue, "column", 0))
    end = text_offset(text, getattr(issue, "end_line", 0), getattr(issue, "end_column", 0))
    end = max(end, start + 1) if start < len(text) else start
    return value_span(scalar, ctx.lines, start, min(end, len(text)))
