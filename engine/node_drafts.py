"""From a node entry in the YAML tree to a merged draft: fields plus where each came from.

Resolves `$ref` and `stage:` through `engine.libraries`, applies environment
substitution, and keeps the spans needed to report problems precisely: keys
written in this file keep their own spans; inherited keys point at the
`$ref`/`stage` site. Knows nothing of node types or validation rules.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from engine.env_subst import substitute, substitute_text
from engine.libraries import (
    LibraryError,
    LibraryFile,
    deep_merge,
    find_stage,
    known_stages,
    resolve_ref,
)
from engine.model import Origin, Problem, RelatedInfo, Severity, SourceSpan
from engine.suggest import did_you_mean
from engine.yaml_tree import YMap, YNode, YScalar, YSeq

REF_KEY = "$ref"


@dataclass
class NodeDraft:
    """A node entry after merging, before it becomes a typed model node."""

    index: int
    entry: YMap
    fields: dict[str, Any]
    key_spans: dict[str, SourceSpan] = field(default_factory=dict)
    value_spans: dict[str, SourceSpan] = field(default_factory=dict)
    value_nodes: dict[str, YNode] = field(default_factory=dict)
    origin: Origin | None = None
    site: SourceSpan | None = None
    unresolved_library: str | None = None
    """A library file read for a `$ref` that did not resolve (a node it lacks):
    the workflow depends on it all the same, since adding the node fixes it."""

    def key_span(self, key: str) -> SourceSpan:
        return self.key_spans.get(key) or self.site or self.entry.span

    def value_span(self, key: str) -> SourceSpan:
        return self.value_spans.get(key) or self.site or self.entry.span

    def local(self, key: str) -> YNode | None:
        return self.value_nodes.get(key)


@dataclass(frozen=True)
class DraftContext:
    source: str
    environ: Mapping[str, str]
    workspace_root: str | None
    stage_paths: Sequence[str]
    read_file: Any


def build_draft(index: int, entry: YMap, ctx: DraftContext, problems: list[Problem]) -> NodeDraft:
    """Merge one node entry with its `$ref`/`stage` source."""
    environ = ctx.environ
    local_fields: dict[str, Any] = {}
    key_spans: dict[str, SourceSpan] = {}
    value_spans: dict[str, SourceSpan] = {}
    value_nodes: dict[str, YNode] = {}
    # One pass over the entries (this runs for every node of every compile).
    for key_node, value in entry.entries:
        key = raw if type(raw := key_node.value) is str else str(raw)
        if type(value) is YScalar:  # most values: skip the call into plain_value
            plain = value.value
            if isinstance(plain, str) and "$" in plain:
                plain = substitute_text(plain, environ)
            local_fields[key] = plain
        else:
            local_fields[key] = plain_value(value, environ)
        key_spans[key] = key_node.span
        value_spans[key] = value.span
        value_nodes[key] = value
    draft = NodeDraft(index, entry, {}, key_spans, value_spans, value_nodes)
    ref = local_fields.get(REF_KEY)
    stage = local_fields.get("stage")
    if ref is not None and not isinstance(ref, str):
        problems.append(
            Problem(
                "VW511",
                Severity.ERROR,
                '$ref must be a quoted path such as "./common.yaml#node_id".',
                ctx.source,
                draft.value_spans[REF_KEY],
            )
        )
    elif stage is not None and not isinstance(stage, str):
        problems.append(
            Problem(
                "VW514",
                Severity.ERROR,
                "`stage` must be the name of one stage template (a string).",
                ctx.source,
                draft.value_spans["stage"],
            )
        )
    if isinstance(ref, str):
        draft.fields = _merge_ref(draft, ref, local_fields, ctx, problems)
    elif isinstance(stage, str):
        draft.fields = _merge_stage(draft, stage, local_fields, ctx, problems)
    else:
        draft.fields = local_fields
    return draft


def _library_problems(library: LibraryFile | None) -> tuple[RelatedInfo, ...]:
    if library is None:
        return ()
    return tuple(
        RelatedInfo(f"{p.code} {p.message}", library.path, p.span)
        for p in library.parsed.problems
        if p.severity is Severity.ERROR
    )


def _merge_ref(
    draft: NodeDraft,
    ref: str,
    local_fields: dict[str, Any],
    ctx: DraftContext,
    problems: list[Problem],
) -> dict[str, Any]:
    site = draft.value_spans[REF_KEY]
    draft.site = site
    overrides = {k: v for k, v in local_fields.items() if k != REF_KEY}
    try:
        library, node, node_id = resolve_ref(ref, ctx.source, ctx.workspace_root, ctx.read_file)
    except LibraryError as exc:
        problems.append(
            Problem(
                exc.code,
                Severity.ERROR,
                exc.message,
                ctx.source,
                site,
                related=_library_problems(exc.library),
            )
        )
        if exc.library is not None:
            draft.unresolved_library = exc.library.path
        return overrides
    related = _library_problems(library)
    if related:
        problems.append(
            Problem(
                "VW515",
                Severity.ERROR,
                f"the referenced library {library.path} has errors; fix them there.",
                ctx.source,
                site,
                related=related,
            )
        )
    draft.origin = Origin("ref", node_id, library.path, node.span, site)
    if node.get(REF_KEY) is not None:
        problems.append(
            Problem(
                "VW516",
                Severity.WARNING,
                f"library node '{node_id}' itself uses $ref, which is not followed (one level "
                "only, as in Victor); write its fields out in the library.",
                ctx.source,
                site,
                related=(RelatedInfo("the nested $ref", library.path, node.span),),
            )
        )
    merged = substitute(node.to_python(), ctx.environ)
    merged.pop(REF_KEY, None)
    merged.update(overrides)
    return dict(merged)


def _merge_stage(
    draft: NodeDraft,
    stage: str,
    local_fields: dict[str, Any],
    ctx: DraftContext,
    problems: list[Problem],
) -> dict[str, Any]:
    site = draft.value_spans["stage"]
    draft.site = site
    own = {k: v for k, v in local_fields.items() if k not in ("stage", "overrides")}
    found = find_stage(stage, ctx.stage_paths, ctx.read_file)
    if found is None:
        known = known_stages(ctx.stage_paths, ctx.read_file)
        hint = did_you_mean(stage, known)
        where = (
            "no stage library was found next to this file or in victor.toml `stage_libraries`"
            if not ctx.stage_paths
            else f"known stages: {', '.join(sorted(known)) or 'none'}"
        )
        problems.append(
            Problem(
                "VW514",
                Severity.ERROR,
                f"unknown stage template '{stage}'{hint}; {where}.",
                ctx.source,
                site,
            )
        )
        return own
    library, template = found
    draft.origin = Origin("stage", stage, library.path, template.span, site)
    merged: dict[str, Any] = substitute(template.to_python(), ctx.environ)
    merged.update(own)
    overrides = local_fields.get("overrides")
    for layer in _override_layers(overrides, ctx, problems, draft):
        merged = deep_merge(merged, layer)
    _adopt_override_spans(draft)
    return merged


def _override_layers(
    overrides: Any, ctx: DraftContext, problems: list[Problem], draft: NodeDraft
) -> list[dict[str, Any]]:
    """`overrides` may be a mapping, a `preset:<name>` string, or a list of both."""
    if overrides is None:
        return []
    items = overrides if isinstance(overrides, list) else [overrides]
    layers: list[dict[str, Any]] = []
    for item in items:
        if isinstance(item, dict):
            layers.append(item)
        elif isinstance(item, str) and item.startswith("preset:"):
            found = find_stage(item, ctx.stage_paths, ctx.read_file)
            if found is None:
                problems.append(
                    Problem(
                        "VW514",
                        Severity.ERROR,
                        f"unknown override preset '{item}'; define it under `override_presets`.",
                        ctx.source,
                        draft.value_span("overrides"),
                    )
                )
                continue
            layers.append(substitute(found[1].to_python(), ctx.environ))
        else:
            problems.append(
                Problem(
                    "VW101",
                    Severity.ERROR,
                    "`overrides` must be a mapping, a `preset:<name>` string, or a list of them.",
                    ctx.source,
                    draft.value_span("overrides"),
                )
            )
    return layers


def _adopt_override_spans(draft: NodeDraft) -> None:
    """Keys written under `overrides:` are this file's text: report at their own spans."""
    overrides = draft.value_nodes.get("overrides")
    if not isinstance(overrides, YMap):
        return
    for e in overrides.entries:
        key = str(e.key.value)
        if key in draft.key_spans:
            continue
        draft.key_spans[key] = e.key.span
        draft.value_spans[key] = e.value.span
        draft.value_nodes[key] = e.value


def plain_value(node: YNode, environ: Mapping[str, str]) -> Any:
    """The node as plain data with environment substitution, in one pass."""
    # Exact type checks first: the tree holds only these three named tuples, and
    # most values are scalars, so this is the hot path of every compile.
    if type(node) is YScalar:
        value = node.value
        return substitute_text(value, environ) if isinstance(value, str) and "$" in value else value
    if type(node) is YMap:
        return {
            key if type(key := k.value) is str else _hashable_key(key): plain_value(v, environ)
            for k, v in node.entries
        }
    if type(node) is YSeq:
        return [plain_value(item, environ) for item in node.items]
    return _plain_value_slow(node, environ)


def _plain_value_slow(node: YNode, environ: Mapping[str, str]) -> Any:
    """The same for subclasses of the tree types (none today), kept for exactness."""
    if isinstance(node, YScalar):
        value = node.value
        return substitute_text(value, environ) if isinstance(value, str) and "$" in value else value
    if isinstance(node, YMap):
        return {_hashable_key(e.key.value): plain_value(e.value, environ) for e in node.entries}
    return [plain_value(item, environ) for item in node.items]


def _hashable_key(value: Any) -> Any:
    return value if isinstance(value, str | int | float | bool | type(None)) else str(value)
