"""Where breakpoints may go: YAML lines to nodes, for workflow and `$ref` library files.

A breakpoint on any line of a node's block binds to that node and is shown at
the node's first line. Lines are 0-based here. Knows nothing of DAP or
terminals; adapters convert lines at their edge.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass

from engine.model import Node, SourceSpan, Workflow


@dataclass(frozen=True, slots=True)
class LineBinding:
    line: int
    """The requested line, or the node's first line when bound."""
    node_id: str | None
    message: str | None = None

    @property
    def verified(self) -> bool:
        return self.node_id is not None


def same_file(a: str, b: str) -> bool:
    if a == b:
        return True
    try:
        return os.path.realpath(a) == os.path.realpath(b)
    except (OSError, ValueError):
        return False


def node_blocks(workflows: Iterable[Workflow], source: str) -> list[tuple[Node, SourceSpan]]:
    """Each node with its block in `source` (its own file, or the library it came from)."""
    found: list[tuple[Node, SourceSpan]] = []
    seen: set[tuple[str, int]] = set()
    for workflow in workflows:
        in_workflow_file = same_file(workflow.source, source)
        for node in workflow.nodes:
            if in_workflow_file:
                span = node.span
            elif node.origin is not None and same_file(node.origin.source, source):
                span = node.origin.span
            else:
                continue
            key = (node.id, span.line)
            if key not in seen:
                seen.add(key)
                found.append((node, span))
    return found


def _in_block(span: SourceSpan, line: int) -> bool:
    # A block ending at column 0 ends before that line (the next item starts there).
    return span.contains_line(line) and not (line == span.end_line and span.end_column == 0)


def bind_line(
    workflows: Iterable[Workflow],
    source: str,
    line: int,
    *,
    not_debugged: Iterable[Workflow] = (),
) -> LineBinding:
    """The node a breakpoint on 0-based `line` of `source` stops at.

    `workflows` are the ones being debugged; `not_debugged` the other workflows of
    the same file, so that a line in one of them is explained rather than bound
    (the same node id may exist in both).
    """
    blocks = node_blocks(workflows, source)
    for node, span in blocks:
        if _in_block(span, line):
            return LineBinding(span.line, node.id)
    why = _why_not_bound(source, line, not_debugged)
    if why is not None:
        return LineBinding(line, None, why)
    if not blocks:
        return LineBinding(
            line,
            None,
            "no workflow node comes from this file; open the workflow file being debugged",
        )
    return LineBinding(
        line,
        None,
        f"line {line + 1} is outside every node; put the breakpoint on a line of a node's block",
    )


def _why_not_bound(source: str, line: int, not_debugged: Iterable[Workflow]) -> str | None:
    """Why a line inside some node's block cannot stop this run, or None."""
    for workflow in not_debugged:
        for node, span in node_blocks((workflow,), source):
            if _in_block(span, line):
                return (
                    f"line {line + 1} is in node {node.id!r} of workflow {workflow.name!r}, "
                    "which is not the workflow being debugged; debug that workflow to stop here"
                )
    from engine.libraries import LibraryError, load_library

    try:
        library = load_library(source)
    except LibraryError:
        return None
    for kind, entries in (("node", library.nodes), ("stage", library.stages)):
        for name, block in entries.items():
            if _in_block(block.span, line):
                return (
                    f"line {line + 1} is in {kind} {name!r} of this library, which the workflow "
                    "being debugged does not use"
                )
    return None


def node_lines(workflows: Iterable[Workflow], source: str, start: int, end: int) -> list[int]:
    """0-based first lines of nodes whose block intersects [start, end]."""
    lines = {
        span.line
        for _, span in node_blocks(workflows, source)
        if span.line <= end and span.end_line >= start
    }
    return sorted(lines)
