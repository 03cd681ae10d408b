"""State-flow analysis: is each state key a node reads written before it is read?

For every read (`$ctx.key`, `{{key}}`, `${key}`, HITL `{key}`, names read by
condition and transform expressions) this asks whether the key is written on
every path from the start node, on some paths, or on none. Two classic
data-flow passes over the workflow graph give the answer: a "must" pass
(intersection over predecessors) and a "may" pass (union).

Policy, chosen so real workflows stay quiet (most keys they read are run inputs
passed with `--context`):

- written on some paths only -> hint VW602, related info = the writers;
- written by some node, but never before this read -> hint VW602;
- written by no node:
  - a bare word right of `==`/`!=` or in `in [...]` (`status == done`), not a
    declared input either -> hint VW601: Victor compares it as the text 'done'
    (unless a key of that name exists at run time), with a fix that quotes it;
  - looks like a typo of a written key (close spelling) -> warning VW601 with
    a did-you-mean fix;
  - the workflow declares its inputs (`metadata.arguments`/`inputs`) and the
    key is not among them -> warning VW601;
  - otherwise it is most likely a run input -> hint VW601 saying to pass it
    in the run context.
- keys starting with `_` (engine internals) and bare condition/transform
  names (which may be registry functions) are never reported.
- when a node upstream may merge keys nobody can list (a registered
  transform, a team, a compute handler), "maybe unset" hints are dropped and
  never-written keys stay hints unless they are typos.

Knows nothing of editors; returns `engine.model.Problem` values.
"""

from __future__ import annotations

from collections.abc import Iterable

from engine.model import (
    ConditionNode,
    EdgeKind,
    Fix,
    Node,
    Problem,
    RelatedInfo,
    Severity,
    SourceSpan,
    StateRef,
    StateRefKind,
    TextEdit,
    TransformNode,
    Workflow,
)
from engine.queries import (
    declared_inputs,
    node_writes,
    reachable,
    writes_unknown_keys,
    written_keys,
)
from engine.suggest import close_matches

NEVER_WRITTEN = "VW601"
MAYBE_UNSET = "VW602"


def analyze_state_flow(workflows: Iterable[Workflow]) -> list[Problem]:
    problems: list[Problem] = []
    for workflow in workflows:
        problems.extend(_analyze(workflow))
    return problems


def _analyze(workflow: Workflow) -> list[Problem]:
    return _analyze_graph(workflow)


def _analyze_graph(workflow: Workflow) -> list[Problem]:
    live = reachable(workflow)
    if not live:
        return []
    nodes = workflow.nodes
    order = [node for node in nodes if node.id in live]
    # Per node id, as in `workflow.node_index`: with duplicate ids the last node wins.
    node_write_keys: dict[str, tuple[str, ...]] = {}
    all_writers: dict[str, list[Node]] = {}
    duplicates = False
    for node in nodes:
        keys = written_keys(node)
        duplicates = duplicates or node.id in node_write_keys
        node_write_keys[node.id] = keys
        for key in keys:
            all_writers.setdefault(key, []).append(node)
    if duplicates:  # every node with a duplicated id counts with the last one's keys
        all_writers = {}
        for node in nodes:
            for key in node_write_keys[node.id]:
                all_writers.setdefault(key, []).append(node)
    inputs = declared_inputs(workflow)
    reads_of = [_reported_reads(node) for node in order]
    # Key sets are bit sets (Python ints) and nodes are list positions: unions,
    # intersections and lookups stay fast on workflows with thousands of nodes and keys.
    # Only keys somebody reads get a bit: each bit flows on its own, and the
    # answer is only asked for read keys, so the others would just widen every set.
    read_keys = {read.key for reads in reads_of for read in reads}
    tracked = sorted((set(all_writers) | inputs) & read_keys)
    bit = {key: 1 << i for i, key in enumerate(tracked)}

    def bits(keys: Iterable[str]) -> int:
        value = 0
        for key in keys:
            value |= bit.get(key, 0)
        return value

    position: dict[str, int] = {}
    writes: list[int] = []
    wildcard: list[bool] = []
    for node in order:
        at = position.get(node.id)
        if at is None:
            position[node.id] = len(writes)
            writes.append(bits(node_write_keys[node.id]))
            wildcard.append(writes_unknown_keys(node))
        elif not wildcard[at]:
            wildcard[at] = writes_unknown_keys(node)
    size = len(writes)
    after_join = [0] * size
    for node in order:
        at = position[node.id]
        # After a parallel node's join, every child has written its keys.
        joined = writes[at]
        for ref in node.refs:
            if ref.kind is EdgeKind.PARALLEL and ref.target in position:
                joined |= writes[position[ref.target]]
        after_join[at] = joined

    # Each incoming edge as (predecessor, keys the predecessor adds on that edge).
    # A parallel child's own auto-chained edge is ignored: the parallel node joins
    # its children and continues with its `next`.
    children = {ref.target for node in nodes for ref in node.refs if ref.kind is EdgeKind.PARALLEL}
    incoming: list[list[tuple[int, int]]] = [[] for _ in range(size)]
    successors_of: list[list[int]] = [[] for _ in range(size)]
    static_wild = [False] * size
    for node in order:
        at = position[node.id]
        is_child = node.id in children
        for ref in node.refs:
            kind = ref.kind
            to = position.get(ref.target)
            if to is None or (is_child and kind is EdgeKind.AUTO):
                continue
            incoming[to].append((at, after_join[at] if kind is EdgeKind.NEXT else writes[at]))
            successors_of[at].append(to)
            static_wild[to] = static_wild[to] or wildcard[at]

    # must: keys written on every path into the node; may: on some path. The
    # fixpoint does not depend on the visiting order; file order converges fast.
    universe = (1 << len(bit)) - 1
    start_bits = bits(inputs)
    start = position[workflow.start_node]
    must_in = [universe] * size
    may_in = [0] * size
    wild_in = [False] * size
    must_in[start] = start_bits
    may_in[start] = start_bits
    pending = list(range(size - 1, -1, -1))
    queued = [True] * size
    while pending:
        at = pending.pop()
        queued[at] = False
        edges = incoming[at]
        if at == start:
            must = may = start_bits
            for p, extra in edges:
                may |= may_in[p] | extra
        elif edges:
            must, may = universe, 0
            for p, extra in edges:
                must &= must_in[p] | extra
                may |= may_in[p] | extra
        else:
            continue
        wild = static_wild[at] or any(wild_in[p] for p, _ in edges)
        if must != must_in[at] or may != may_in[at] or wild != wild_in[at]:
            must_in[at], may_in[at], wild_in[at] = must, may, wild
            for target in successors_of[at]:
                if not queued[target]:
                    queued[target] = True
                    pending.append(target)

    problems: list[Problem] = []
    suggestions: dict[str, str | None] = {}
    for node, reads in zip(order, reads_of, strict=True):
        at = position[node.id]
        must_here = must_in[at]
        local_writes = node_write_keys[node.id] if isinstance(node, TransformNode) else ()
        for read in reads:
            key = read.key
            mask = bit.get(key, 0)
            if mask & must_here or key in local_writes:
                continue
            writers = all_writers.get(key, [])
            maybe = bool(mask & may_in[at])
            if writers:
                if wild_in[at] and not maybe:
                    continue
                problems.append(_maybe_unset(workflow, node, read, writers, maybe))
            elif key in inputs:
                continue
            elif read.bare_word:
                problems.append(_bare_word(workflow, node, read))
            else:
                problems.append(
                    _never_written(
                        workflow, node, read, all_writers, inputs, wild_in[at], suggestions
                    )
                )
    return problems


def _reported_reads(node: Node) -> list[StateRef]:
    reads = []
    for read in node.state_reads:
        if read.key.startswith("_") or not read.key:
            continue
        if read.kind is StateRefKind.EXPRESSION and _is_bare_name(node, read):
            continue
        reads.append(read)
    return reads


def _is_bare_name(node: Node, read: StateRef) -> bool:
    """`condition: tests_passing` / `transform: merge_results` may name registry functions."""
    if isinstance(node, ConditionNode):
        return node.condition.strip() == read.key
    if isinstance(node, TransformNode):
        return node.transform.strip() == read.key
    return False


def _related(writers: list[Node], source_of: Workflow) -> tuple[RelatedInfo, ...]:
    infos = []
    for writer in writers:
        write_span = next((w.span for w in node_writes(writer) if w.node is writer), writer.id_span)
        source = writer.origin.source if writer.origin is not None else source_of.source
        span = writer.origin.span if writer.origin is not None else write_span
        infos.append(RelatedInfo(f"written by node '{writer.id}'", source, span))
    return tuple(infos)


def _maybe_unset(
    workflow: Workflow, node: Node, read: StateRef, writers: list[Node], on_some_paths: bool
) -> Problem:
    names = ", ".join(f"'{w.id}'" for w in writers)
    if on_some_paths:
        message = (
            f"state key '{read.key}' may be unset here: only some paths to '{node.id}' "
            f"pass through a node that writes it ({names}). Give it a value in the run "
            f"context, or make every path write it."
        )
    else:
        message = (
            f"state key '{read.key}' is read before any node writes it: {names} only "
            f"run after '{node.id}'. Pass it in the run context (--context) on the first pass."
        )
    return Problem(
        code=MAYBE_UNSET,
        severity=Severity.HINT,
        message=message,
        source=workflow.source,
        span=read.span,
        workflow=workflow.name,
        node=node.id,
        related=_related(writers, workflow),
    )


_CUTOFF = 0.85


def _suggest(
    key: str,
    all_writers: dict[str, list[Node]],
    inputs: frozenset[str],
    cache: dict[str, str | None],
) -> str | None:
    """The closest written key ("did you mean"), comparing only keys of similar length.

    `cache` belongs to one analysis: compiles may run in several threads at once."""
    if key not in cache:
        cache[key] = _closest(key, all_writers, inputs)
    return cache[key]


def _closest(key: str, all_writers: dict[str, list[Node]], inputs: frozenset[str]) -> str | None:
    size = len(key)
    # Bytes that do not occur in `key` (ASCII keys only): deleting them from an
    # ASCII name leaves the characters it could share with `key`.
    foreign = bytes(set(range(256)) - set(key.encode())) if key.isascii() else None
    candidates = []
    for name in set(all_writers).union(inputs):
        total = size + len(name)
        # ratio = 2*matches/(len(a)+len(b)), and matches exceed neither the shorter
        # length nor the number of shared characters: names whose bound misses the
        # cutoff cannot be returned, so dropping them first changes no answer.
        if 2.0 * min(size, len(name)) / total < _CUTOFF:
            continue
        if foreign is not None and name.isascii():
            shared = len(name.encode().translate(None, foreign))
            if 2.0 * min(size, shared) / total < _CUTOFF:
                continue
        candidates.append(name)
    close = close_matches(key, sorted(candidates), cutoff=_CUTOFF)
    return close[0] if close else None


def _never_written(
    workflow: Workflow,
    node: Node,
    read: StateRef,
    all_writers: dict[str, list[Node]],
    inputs: frozenset[str],
    upstream_wildcard: bool,
    suggestions: dict[str, str | None],
) -> Problem:
    guess = _suggest(read.key, all_writers, inputs, suggestions) if len(read.key) >= 4 else None
    if guess is not None:
        edit_span = _key_span(read)
        fixes = (
            (Fix(f"Change to '{guess}'", (TextEdit(workflow.source, edit_span, guess),), True),)
            if edit_span is not None
            else ()
        )
        return Problem(
            code=NEVER_WRITTEN,
            severity=Severity.WARNING,
            message=(
                f"state key '{read.key}' is never written by any node of workflow "
                f"'{workflow.name}'; did you mean '{guess}'?"
            ),
            source=workflow.source,
            span=read.span,
            workflow=workflow.name,
            node=node.id,
            related=_related(all_writers.get(guess, []), workflow),
            fixes=fixes,
        )
    if inputs:
        severity = Severity.WARNING
        message = (
            f"state key '{read.key}' is never written by any node and is not a declared "
            f"input of workflow '{workflow.name}' ({', '.join(sorted(inputs))}); declare it "
            f"under metadata.arguments or write it in an earlier node."
        )
    else:
        severity = Severity.HINT
        message = (
            f"state key '{read.key}' is never written by any node of workflow "
            f"'{workflow.name}': pass it in the run context (--context) or write it in an "
            f"earlier node."
        )
        if upstream_wildcard:
            message += " (An earlier handler or registered transform may also set it.)"
    return Problem(
        code=NEVER_WRITTEN,
        severity=severity,
        message=message,
        source=workflow.source,
        span=read.span,
        workflow=workflow.name,
        node=node.id,
    )


def _bare_word(workflow: Workflow, node: Node, read: StateRef) -> Problem:
    """`status == done` where no node writes `done`: Victor compares with the text."""
    word = read.key
    literal = f"{read.literal_quote}{word}{read.literal_quote}"
    span = read.span
    exact = span.line == span.end_line and span.end_column - span.column == len(word)
    fixes = (
        (Fix(f"Quote as {literal}", (TextEdit(workflow.source, span, literal),), True),)
        if exact
        else ()
    )
    return Problem(
        code=NEVER_WRITTEN,
        severity=Severity.HINT,
        message=(
            f"'{word}' is compared as the text '{word}' (as Victor does) unless a state key "
            f"'{word}' exists at run time: no node of workflow '{workflow.name}' writes it. "
            f"Quote it ({literal}) to compare with the text explicitly."
        ),
        source=workflow.source,
        span=span,
        workflow=workflow.name,
        node=node.id,
        fixes=fixes,
    )


_KEY_OFFSET = {StateRefKind.CTX: 5, StateRefKind.DOLLAR: 2, StateRefKind.BRACE: 1}
"""Characters before the key inside a read's token (`$ctx.`, `${`, `{`)."""


def _key_span(read: StateRef) -> SourceSpan | None:
    """The span of the root key inside the read, when it can be located exactly."""
    span = read.span
    if span.line != span.end_line or read.kind is StateRefKind.MUSTACHE:
        return None
    start = span.column + _KEY_OFFSET.get(read.kind, 0)
    if start + len(read.key) > span.end_column:
        return None
    return SourceSpan(span.line, start, span.line, start + len(read.key))


__all__ = ["MAYBE_UNSET", "NEVER_WRITTEN", "analyze_state_flow"]
