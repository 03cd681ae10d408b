"""Position and symbol queries over a compiled file, shared by the LSP and the DAP.

"Which node is on line N", "what is under the cursor (a node id, an edge, a
state key, a `$ref`/`stage:` site)", "who writes or reads state key K", "every
place node X is named" and "what should be completed here". Inputs and outputs
are engine types (`CompileResult`, `Workflow`, `Node`, `SourceSpan`); this module
knows nothing of LSP/DAP positions, encodings or protocol types.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from enum import StrEnum

import yaml

from engine.loader import editor_lines
from engine.model import (
    END_NODE,
    CompileResult,
    EdgeKind,
    HitlNode,
    Node,
    NodeRef,
    NodeType,
    Origin,
    SourceSpan,
    StateRef,
    TeamNode,
    TransformNode,
    Workflow,
)

# --- what is at a position -------------------------------------------------------


@dataclass(frozen=True)
class NodeIdSite:
    """The cursor is on a node's own `id` value (its definition)."""

    workflow: Workflow
    node: Node
    span: SourceSpan


@dataclass(frozen=True)
class NodeRefSite:
    """The cursor is on a node id used as an edge target (`next`, `branches`, ...)."""

    workflow: Workflow
    node: Node
    ref: NodeRef
    target: Node | None
    span: SourceSpan


@dataclass(frozen=True)
class StartNodeSite:
    """The cursor is on a workflow's `start_node` value."""

    workflow: Workflow
    target_id: str
    target: Node | None
    span: SourceSpan


@dataclass(frozen=True)
class StateKeySite:
    """The cursor is on a state key read (`$ctx.key`, `{{key}}`, a condition name...)."""

    workflow: Workflow
    node: Node
    read: StateRef
    span: SourceSpan


@dataclass(frozen=True)
class OutputSite:
    """The cursor is on a node's `output` value: a state key the node writes."""

    workflow: Workflow
    node: Node
    key: str
    span: SourceSpan


@dataclass(frozen=True)
class OriginSite:
    """The cursor is on a `$ref` / `stage:` value naming a library node or template."""

    workflow: Workflow
    node: Node
    origin: Origin
    span: SourceSpan


@dataclass(frozen=True)
class FieldKeySite:
    """The cursor is on a top-level key of a node mapping."""

    workflow: Workflow
    node: Node
    key: str
    span: SourceSpan


Site = (
    NodeIdSite | NodeRefSite | StartNodeSite | StateKeySite | OutputSite | OriginSite | FieldKeySite
)


def named_node(site: Site | None) -> tuple[Workflow, str, Node | None] | None:
    """The node a site names (its own id, an edge target or the start node), if any."""
    if isinstance(site, NodeIdSite):
        return site.workflow, site.node.id, site.node
    if isinstance(site, NodeRefSite):
        return site.workflow, site.ref.target, site.target
    if isinstance(site, StartNodeSite):
        return site.workflow, site.target_id, site.target
    return None


def node_at_line(result: CompileResult, line: int) -> tuple[Workflow, Node] | None:
    """The workflow and node whose block contains a 0-based line of the compiled file."""
    for workflow in result.workflows:
        if workflow.source != result.source or not workflow.span.contains_line(line):
            continue
        node = workflow.node_at_line(line)
        if node is not None and _is_local(node, result.source):
            return workflow, node
    return None


def _is_local(node: Node, source: str) -> bool:
    # Nodes from `$ref`/`stage:` keep spans in this file (the referencing entry).
    return True


def site_at(result: CompileResult, line: int, column: int) -> Site | None:
    """What the cursor at (line, column) of `result.source` is on, innermost first."""
    for workflow in result.workflows:
        start = workflow.start_span
        if workflow.source == result.source and start is not None and start.contains(line, column):
            target = workflow.node_index.get(workflow.start_node)
            return StartNodeSite(workflow, workflow.start_node, target, start)
    found = node_at_line(result, line)
    if found is None:
        return None
    workflow, node = found
    origin = node.origin
    if origin is not None and origin.site.contains(line, column):
        return OriginSite(workflow, node, origin, origin.site)
    if node.id_span.contains(line, column):
        return NodeIdSite(workflow, node, node.id_span)
    for ref in node.refs:
        if ref.span is not None and ref.span.contains(line, column):
            target = workflow.node_index.get(ref.target)
            return NodeRefSite(workflow, node, ref, target, ref.span)
    for read in node.state_reads:
        if read.span.contains(line, column):
            return StateKeySite(workflow, node, read, read.span)
    for key in ("output", "output_key"):
        span = node.value_spans.get(key)
        if span is not None and span.contains(line, column):
            return OutputSite(workflow, node, node.output, span)
    for key, span in node.key_spans.items():
        if span.contains(line, column):
            return FieldKeySite(workflow, node, key, span)
    return None


# --- node names --------------------------------------------------------------------


def node_id_occurrences(workflow: Workflow, node_id: str) -> list[SourceSpan]:
    """Every written occurrence of a node id in a workflow: its definition and each edge."""
    spans: list[SourceSpan] = []
    if workflow.start_node == node_id and workflow.start_span is not None:
        spans.append(workflow.start_span)
    for node in workflow.nodes:
        if node.id == node_id and id_written_here(node):
            spans.append(node.id_span)
        for ref in node.refs:
            if ref.target == node_id and ref.span is not None:
                spans.append(ref.span)
    return sorted(set(spans))


def id_written_here(node: Node) -> bool:
    """Whether the node's id is written in its workflow: always, except for a `$ref`
    entry without its own `id:` (the id then comes from the library)."""
    return node.origin is None or "id" in node.key_spans


def incoming_refs(workflow: Workflow, node_id: str) -> list[tuple[Node, NodeRef]]:
    """The edges that lead to `node_id`, written or auto-chained."""
    return [(node, ref) for node in workflow.nodes for ref in node.refs if ref.target == node_id]


_NODE_ID = re.compile(r"^[A-Za-z_][A-Za-z0-9_\-]*$")


@dataclass(frozen=True)
class RenamePlan:
    """The spans to rewrite for a node rename, or why it is refused."""

    spans: tuple[SourceSpan, ...]
    error: str | None = None


def node_id_refusal(new_id: str) -> str | None:
    """Why `new_id` cannot be written unquoted as a node id, or None when it can."""
    if not _NODE_ID.match(new_id):
        return f"{new_id!r} is not a valid node id (letters, digits, _ and -)"
    if new_id == END_NODE:
        return f"{END_NODE!r} is reserved for the end of the run"
    value = yaml.safe_load(new_id)
    if not isinstance(value, str):  # `yes`, `off`, `null`...: YAML reads no string there
        kind = "null" if value is None else type(value).__name__
        return f"{new_id!r} reads as a YAML {kind}, not a node id; pick another id"
    return None


def plan_node_rename(workflow: Workflow, node_id: str, new_id: str) -> RenamePlan:
    """Where to write `new_id`; refuses invalid names, duplicates and the end sentinel."""
    refusal = node_id_refusal(new_id)
    if refusal is not None:
        return RenamePlan((), refusal)
    if new_id != node_id and workflow.has_node(new_id):
        return RenamePlan(
            (), f"workflow {workflow.name!r} already has a node {new_id!r}; pick another id"
        )
    node = workflow.node_index.get(node_id)
    origin = node.origin if node is not None and not id_written_here(node) else None
    if origin is not None:
        return RenamePlan(
            (),
            f"node {node_id!r} comes from {origin.kind} {origin.name!r} in {origin.source}; "
            "rename it there",
        )
    return RenamePlan(tuple(node_id_occurrences(workflow, node_id)))


# --- state keys --------------------------------------------------------------------


@dataclass(frozen=True)
class StateWrite:
    """A state key a node writes, with the span that says so."""

    key: str
    node: Node
    span: SourceSpan


_ASSIGNMENT = re.compile(r"^\s*([A-Za-z_]\w*)\s*=(?!=)")


def transform_writes(transform: str) -> tuple[str, ...]:
    """Top-level keys a transform text assigns (`key = ...` lines)."""
    try:
        from engine.expressions import compile_transform

        return tuple(compile_transform(transform).writes)
    except Exception:  # expressions not available or text invalid: fall back to lines
        return tuple(
            dict.fromkeys(
                m.group(1) for line in transform.splitlines() if (m := _ASSIGNMENT.match(line))
            )
        )


def writes_unknown_keys(node: Node) -> bool:
    """Whether the node may merge keys nobody can list statically into the state.

    Registered transforms return a dict merged into state; teams merge dict
    results; compute handlers receive the context and may set keys.
    """
    if isinstance(node, TransformNode):
        return not transform_writes(node.transform)
    if isinstance(node, TeamNode):
        return True
    return node.type is NodeType.COMPUTE and bool(node.fields.get("handler"))


def node_writes(node: Node) -> list[StateWrite]:
    """The state keys a node writes: its output key, transform assignments, HITL response."""
    out_span = node.value_spans.get("output") or node.value_spans.get("output_key") or node.id_span
    writes = [StateWrite(node.output, node, out_span)] if node.output else []
    if isinstance(node, TransformNode):
        span = node.value_spans.get("transform", node.id_span)
        writes.extend(StateWrite(key, node, span) for key in transform_writes(node.transform))
    if isinstance(node, HitlNode):
        writes.append(StateWrite(f"{node.id}_response", node, out_span))
    seen: set[str] = set()
    unique = []
    for write in writes:
        if write.key not in seen:
            seen.add(write.key)
            unique.append(write)
    return unique


def written_keys(node: Node) -> tuple[str, ...]:
    """The keys of `node_writes(node)`, in the same order, without building spans."""
    output = node.output
    if isinstance(node, TransformNode):
        keys = [output] if output else []
        keys.extend(transform_writes(node.transform))
        return tuple(dict.fromkeys(keys))
    if isinstance(node, HitlNode):
        response = f"{node.id}_response"
        return (output, response) if output and output != response else (response,)
    return (output,) if output else ()


def state_writers(workflow: Workflow, key: str) -> list[StateWrite]:
    return [w for node in workflow.nodes for w in node_writes(node) if w.key == key]


def state_readers(workflow: Workflow, key: str) -> list[tuple[Node, StateRef]]:
    return [(node, read) for node in workflow.nodes for read in node.state_reads if read.key == key]


def known_state_keys(workflow: Workflow) -> dict[str, list[Node]]:
    """Every key written by some node (name -> writers), then declared inputs."""
    keys: dict[str, list[Node]] = {}
    for node in workflow.nodes:
        for write in node_writes(node):
            keys.setdefault(write.key, []).append(node)
    for key in declared_inputs(workflow):
        keys.setdefault(key, [])
    return keys


def declared_inputs(workflow: Workflow) -> frozenset[str]:
    """Keys the workflow declares as run inputs (`metadata.arguments`, `inputs`)."""
    names: set[str] = set()
    for section in ("arguments", "inputs", "context"):
        names.update(_names_of(workflow.metadata.get(section)))
    return frozenset(names)


def _names_of(value: object) -> Iterator[str]:
    if isinstance(value, dict):
        yield from (str(k) for k in value)
    elif isinstance(value, list):
        for item in value:
            if isinstance(item, str):
                yield item
            elif isinstance(item, dict):
                name = item.get("name")
                if isinstance(name, str):
                    yield name
                elif len(item) == 1:
                    yield str(next(iter(item)))


def state_key_occurrences(workflow: Workflow, key: str) -> list[SourceSpan]:
    """Every place a state key is written (output values) or read, in the workflow's file."""
    spans = [w.span for w in state_writers(workflow, key) if w.node.origin is None]
    spans.extend(read.span for _, read in state_readers(workflow, key))
    return sorted(set(spans))


# --- the graph ---------------------------------------------------------------------


def successors(node: Node) -> tuple[str, ...]:
    return tuple(ref.target for ref in node.refs if ref.target != END_NODE)


def predecessors(workflow: Workflow) -> dict[str, list[str]]:
    preds: dict[str, list[str]] = {node.id: [] for node in workflow.nodes}
    for node in workflow.nodes:
        for target in successors(node):
            preds.setdefault(target, []).append(node.id)
    return preds


def reachable(workflow: Workflow) -> set[str]:
    """Node ids reachable from the start node along every edge kind."""
    index = workflow.node_index
    if workflow.start_node not in index:
        return set()
    seen = {workflow.start_node}
    stack = [workflow.start_node]
    while stack:
        for ref in index[stack.pop()].refs:
            target = ref.target
            if target not in seen and target != END_NODE and target in index:
                seen.add(target)
                stack.append(target)
    return seen


def edge_summary(workflow: Workflow, node: Node) -> list[str]:
    """Human lines describing a node's outgoing edges, auto-chaining included."""
    lines = []
    for ref in node.refs:
        if ref.kind is EdgeKind.BRANCH:
            lines.append(f"branch `{ref.label}` → `{ref.target}`")
        elif ref.kind is EdgeKind.PARALLEL:
            lines.append(f"runs in parallel: `{ref.target}`")
        elif ref.kind is EdgeKind.AUTO:
            lines.append(f"next → `{ref.target}` (auto-chained: no `next`, so the following node)")
        else:
            lines.append(f"next → `{ref.target}`")
    if not node.refs:
        lines.append("ends the run")
    return lines


# --- completion context ------------------------------------------------------------


class CompletionKind(StrEnum):
    NODE_KEY = "node_key"  # a key of a node mapping
    NODE_VALUE = "node_value"  # the value of a node field (`field` says which)
    NODE_ID = "node_id"  # an edge target
    STATE_KEY = "state_key"  # after `$ctx.` or inside `{{ }}` / `${ }`
    NEW_NODE = "new_node"  # a fresh `- ` item in a `nodes:` list


@dataclass(frozen=True)
class CompletionContext:
    """What the cursor position asks for; text-based, so it works on broken YAML."""

    kind: CompletionKind
    prefix: str
    """The partial word before the cursor."""
    replace_from: int
    """Column (code points) where the partial word starts."""
    field: str | None = None
    node_id: str | None = None
    node_type: NodeType | None = None
    present_keys: frozenset[str] = frozenset()
    indent: int = 0
    needs_dash: bool = False
    """A new node on a blank line of the `nodes:` list: the item's `- ` comes with it."""


_STATE_PREFIXES = (
    re.compile(r"\$ctx\.(?P<word>[\w.]*)$"),
    re.compile(r"\{\{\s*(?P<word>[\w.]*)$"),
    re.compile(r"\$\{(?P<word>[\w.]*)$"),
)
_KEY_LINE = re.compile(r"^(?P<indent>\s*)(?P<dash>-\s+)?(?P<word>[\w-]*)$")
_VALUE_LINE = re.compile(
    r"^(?P<indent>\s*)(?P<dash>-\s+)?[\"']?(?P<key>[\w-]+)[\"']?\s*:\s+(?P<value>.*)$"
)
_LIST_ITEM = re.compile(r"^(?P<indent>\s*)-\s+(?P<word>[\w-]*)$")
_FLOW_WORD = re.compile(r"[\w-]*$")
_ID_FIELDS = frozenset({"next", "parallel_nodes", "start_node"})


def completion_context(text: str, line: int, column: int) -> CompletionContext | None:
    """Classify the cursor position of a (possibly unparsable) text for completion."""
    lines = editor_lines(text)
    current = "" if line >= len(lines) else lines[line]
    before = current[:column]
    if _in_comment(before):
        return None
    for pattern in _STATE_PREFIXES:
        match = pattern.search(before)
        if match:
            word = match.group("word")
            return CompletionContext(CompletionKind.STATE_KEY, word, column - len(word))
    block = _enclosing_node(lines, line, len(before) if not before.strip() else None)
    key_match = _KEY_LINE.match(before)
    if key_match and "#" not in before:
        indent = len(key_match.group("indent")) + len(key_match.group("dash") or "")
        word = key_match.group("word")
        parent = _parent_key(
            lines, line, len(key_match.group("indent")), item=bool(key_match.group("dash"))
        )
        if key_match.group("dash") and parent in (*_ID_FIELDS, "parallel_nodes"):
            return CompletionContext(
                CompletionKind.NODE_ID,
                word,
                column - len(word),
                field=parent,
                node_id=block.node_id if block else None,
            )
        if key_match.group("dash") and parent == "nodes":
            return CompletionContext(
                CompletionKind.NEW_NODE, word, column - len(word), indent=indent
            )
        if not key_match.group("dash") and parent == "nodes" and block is None:
            return CompletionContext(
                CompletionKind.NEW_NODE,
                word,
                column - len(word),
                indent=indent + 2,
                needs_dash=True,
            )
        if key_match.group("dash") and parent == "tools" and block:
            return _value_context(block, "tools", word, column)
        if parent == "branches" and block:
            return None  # a branch key is free text
        if block is not None and block.key_indent == indent:
            return CompletionContext(
                CompletionKind.NODE_KEY,
                word,
                column - len(word),
                node_id=block.node_id,
                node_type=block.node_type,
                present_keys=block.keys,
                indent=indent,
            )
        return None
    value_match = _VALUE_LINE.match(before)
    if value_match and block is None and value_match.group("key") == "start_node":
        typed = _FLOW_WORD.search(value_match.group("value"))
        start = typed.group(0) if typed else ""
        return CompletionContext(
            CompletionKind.NODE_ID, start, column - len(start), field="start_node"
        )
    if value_match and block is not None:
        key = value_match.group("key")
        value = value_match.group("value")
        word = _FLOW_WORD.search(value)
        partial = word.group(0) if word else ""
        indent = len(value_match.group("indent")) + len(value_match.group("dash") or "")
        if indent > block.key_indent and _parent_key(lines, line, indent) == "branches":
            return _branch_target_context(block, partial, column)
        if indent == block.key_indent and key == "branches" and value.lstrip().startswith("{"):
            return _flow_branch_context(block, value, partial, column)
        if indent == block.key_indent:
            return _value_context(block, key, partial, column)
    return None


def _flow_branch_context(
    block: _NodeBlock, value: str, partial: str, column: int
) -> CompletionContext | None:
    """`branches: {"label": |}`: a target after a label's colon; a label itself is free text."""
    entry = re.split(r"[{,]", value)[-1]
    if ":" not in entry:
        return None
    return _branch_target_context(block, partial, column)


def _branch_target_context(block: _NodeBlock, partial: str, column: int) -> CompletionContext:
    """A node id completes a branch target; `partial` is what is typed of it."""
    return CompletionContext(
        CompletionKind.NODE_ID,
        partial,
        column - len(partial),
        field="branches",
        node_id=block.node_id,
    )


@dataclass(frozen=True)
class BlockKey:
    """A key of a node mapping found from the text alone (library files, broken YAML)."""

    node_type: NodeType
    key: str
    span: SourceSpan


def block_key_at(text: str, line: int, column: int) -> BlockKey | None:
    """The node key under the cursor in a `nodes:` item or a `stage_templates:` entry,
    read from the text, so it works where no workflow is compiled (node libraries,
    stage libraries)."""
    lines = editor_lines(text)
    if line >= len(lines):
        return None
    block = _enclosing_node(lines, line)
    if block is None:
        return None
    current = lines[line]
    if _ITEM_START.match(current):  # `- type: x`: the dash stands in the key column
        key_text = " " * block.key_indent + current[block.key_indent :]
    else:
        key_text = current
    match = _SIMPLE_KEY.match(key_text)
    if match is None or _indent_of(key_text) != block.key_indent:
        return None
    start = match.start("key")
    end = match.end("key")
    if not start <= column <= end:
        return None
    return BlockKey(block.node_type, match.group("key"), SourceSpan(line, start, line, end))


def _in_comment(before: str) -> bool:
    """Whether the text before the cursor ends inside a YAML comment: a `#` at the line
    start or after a blank, outside quotes."""
    quote = ""
    previous = " "
    index = 0
    while index < len(before):
        char = before[index]
        escaped = (quote == '"' and char == "\\") or (
            quote == char == "'" == before[index + 1 : index + 2]
        )
        if escaped:  # `\"` in double quotes, `''` in single quotes
            index += 2
            previous = "x"
            continue
        if quote:
            if char == quote:
                quote = ""
        elif char in "\"'" and previous in " \t[{,:-":
            quote = char
        elif char == "#" and previous in " \t":
            return True
        previous = char
        index += 1
    return False


def _value_context(block: _NodeBlock, key: str, partial: str, column: int) -> CompletionContext:
    if key in _ID_FIELDS:
        return CompletionContext(
            CompletionKind.NODE_ID, partial, column - len(partial), field=key, node_id=block.node_id
        )
    return CompletionContext(
        CompletionKind.NODE_VALUE,
        partial,
        column - len(partial),
        field=key,
        node_id=block.node_id,
        node_type=block.node_type,
    )


@dataclass(frozen=True)
class _NodeBlock:
    node_id: str | None
    node_type: NodeType
    key_indent: int
    keys: frozenset[str]


_COMMENT = re.compile(r"(^|\s+)#.*$")
_ITEM_START = re.compile(r"^(?P<indent>\s*)-\s+(?P<rest>.*)$")
_SIMPLE_KEY = re.compile(
    r"^(?P<indent>\s*)(?:-\s+)?[\"']?(?P<key>[\w$-]+)[\"']?\s*:(?:\s+(?P<value>.*))?$"
)


def _indent_of(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


def _is_content(line: str) -> bool:
    stripped = line.strip()
    return bool(stripped) and not stripped.startswith("#")


def _enclosing_node(
    lines: Sequence[str], line: int, cursor_indent: int | None = None
) -> _NodeBlock | None:
    """The `- ...` item of a `nodes:` list (or the body of a `stage_templates:` entry)
    that contains `line`, found by indentation."""
    if not lines:
        return None
    line = min(line, len(lines) - 1)
    current = lines[line]
    if _is_content(current):
        limit = _indent_of(current)
    else:
        limit = cursor_indent if cursor_indent else 0
        if limit == 0:
            return None
    start = None
    key_indent = 0
    template = False
    for number in range(line, -1, -1):
        text = lines[number]
        if not _is_content(text):
            continue
        indent = _indent_of(text)
        item = _ITEM_START.match(text)
        if item is None and indent < limit and _is_template_name(lines, number, text):
            following = (n for n in range(number + 1, len(lines)) if _is_content(lines[n]))
            first_key = next(following, None)
            key_indent = _indent_of(lines[first_key]) if first_key is not None else limit
            if first_key is None or first_key > line:
                key_indent = limit  # the template's first key is being typed
            start, template = number + 1, True
            break
        if item and (indent < limit or number == line):
            if _parent_key(lines, number, indent, item=True) == "nodes":
                start = number
                key_indent = len(text) - len(item.group("rest"))
                break
            limit = indent
            continue
        if indent < limit:
            limit = indent
        if indent == 0 and item is None and number != line:
            return None
    if start is None:
        return None
    keys: dict[str, str] = {}
    for number in range(start, len(lines)):
        text = lines[number]
        if not _is_content(text):
            continue
        if number == start and _ITEM_START.match(text):
            text = " " * key_indent + text[key_indent:]
        elif _indent_of(text) < key_indent:
            break
        if _indent_of(text) != key_indent:
            continue
        match = _SIMPLE_KEY.match(text)
        if match is not None and not text.lstrip().startswith("-"):
            value = _COMMENT.sub("", match.group("value") or "")
            keys[match.group("key")] = value.strip().strip("\"'")
    try:
        node_type = NodeType(keys.get("type", "agent"))
    except ValueError:
        node_type = NodeType.AGENT
    present = frozenset(keys) | ({"id"} if template else set())  # the using node has the id
    return _NodeBlock(keys.get("id") or None, node_type, key_indent, present)


def _is_template_name(lines: Sequence[str], number: int, text: str) -> bool:
    """`  name:` (no value) directly under `stage_templates:`."""
    match = _SIMPLE_KEY.match(text)
    if match is None or match.group("value") or text.lstrip().startswith("-"):
        return False
    return _parent_key(lines, number, _indent_of(text)) == "stage_templates"


def _parent_key(lines: Sequence[str], line: int, indent: int, *, item: bool = False) -> str | None:
    """The mapping key that holds `line` (the nearest less-indented key above).

    For a list item (`item=True`) a key at the same indent with no value is the
    parent too: YAML's compact `key:` / `- value` block lists.
    """
    for number in range(min(line, len(lines)) - 1, -1, -1):
        text = lines[number]
        if not _is_content(text):
            continue
        text_indent = _indent_of(text)
        if text_indent > indent:
            continue
        is_item = _ITEM_START.match(text) is not None
        match = _SIMPLE_KEY.match(text)
        if text_indent == indent:
            if is_item:
                continue
            if item:
                if match and not match.group("value"):
                    return match.group("key")
                return None
            continue
        if is_item:
            if match and not match.group("value") and text.rstrip().endswith(":"):
                return match.group("key")
            return None
        return match.group("key") if match and not match.group("value") else None
    return None
