"""YAML text to a raw tree with spans (`engine.yaml_tree`), safely.

Built from PyYAML's event stream (the C parser when available, the pure
Python one otherwise; both give the same spans), iteratively, so that hostile
input cannot exhaust the stack or memory: nesting depth and alias expansion
are bounded and reported as problems. Duplicate mapping keys are reported.
Knows nothing of workflows.
"""

from __future__ import annotations

import contextlib
import gc
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import yaml

from engine.model import Problem, RelatedInfo, Severity, SourceSpan
from engine.yaml_tree import YEntry, YMap, YNode, YScalar, YSeq

try:
    _Parser: Any = yaml.CSafeLoader
    HAS_C_PARSER = True
except AttributeError:  # pragma: no cover - depends on how PyYAML was built
    _Parser = yaml.SafeLoader
    HAS_C_PARSER = False

MAX_DEPTH = 64
"""Deepest nesting accepted; real workflows stay under 12."""
MAX_EXPANDED_NODES = 200_000
"""Alias expansion budget (counts every node an alias would copy)."""

_resolver = yaml.resolver.Resolver()
_constructor = yaml.constructor.SafeConstructor()
_PLAIN_CACHE: dict[str, Any] = {}
_NUMERIC_START = re.compile(r"[-+0-9.]")


@dataclass(frozen=True, slots=True)
class ParsedYaml:
    """A parse: the tree (None when the text is not YAML) and its problems."""

    root: YNode | None
    problems: tuple[Problem, ...]
    lines: tuple[str, ...]


def _plain_value(text: str) -> Any:
    cached = _PLAIN_CACHE.get(text, _PLAIN_CACHE)
    if cached is not _PLAIN_CACHE:
        return cached
    tag = _resolver.resolve(yaml.ScalarNode, text, (True, False))
    if tag == "tag:yaml.org,2002:str":
        value: Any = text
    else:
        constructor = _constructor.yaml_constructors.get(tag)
        try:
            value = constructor(_constructor, yaml.ScalarNode(tag, text)) if constructor else text
        except (ValueError, yaml.YAMLError):
            value = text
    if len(_PLAIN_CACHE) < 10_000 and len(text) < 64:
        _PLAIN_CACHE[text] = value
    return value


def _tagged_value(event: yaml.ScalarEvent) -> Any:
    tag = event.tag or ""
    constructor = _constructor.yaml_constructors.get(tag)
    if constructor is None:
        return event.value
    try:
        return constructor(_constructor, yaml.ScalarNode(tag, event.value))
    except (ValueError, yaml.YAMLError):
        return event.value


class _Builder:
    """Turns events into a tree; one instance per parse."""

    def __init__(self, source: str, lines: list[str]) -> None:
        self.source = source
        self.lines = lines
        self.problems: list[Problem] = []
        self.anchors: dict[str, tuple[YNode, int]] = {}
        self.expanded = 0
        self.aborted = False

    def problem(self, code: str, message: str, span: SourceSpan, **kw: Any) -> None:
        self.problems.append(Problem(code, Severity.ERROR, message, self.source, span, **kw))

    def point(self, mark: Any) -> SourceSpan:
        return SourceSpan.point(mark.line, mark.column)

    def span(self, start: Any, end: Any) -> SourceSpan:
        return SourceSpan(start.line, start.column, end.line, end.column)

    def trim(self, span: SourceSpan) -> SourceSpan:
        """Pull an end that sits at column 0 back over blank lines."""
        line, column = span.end_line, span.end_column
        if column != 0 or line <= span.line:
            return span
        line -= 1
        while line > span.line and not self.lines[line].strip():
            line -= 1
        return SourceSpan(span.line, span.column, line, len(self.lines[line].rstrip("\r\n")))

    def build(self, events: Any) -> YNode | None:
        # Each open collection: [is_map, start_event, children, pending key, size].
        # The scalar branch is the hot loop of large files: it is written inline.
        stack: list[list[Any]] = []
        root: YNode | None = None
        scalar_event = yaml.ScalarEvent
        plain_cache = _PLAIN_CACHE
        event: Any
        for event in events:
            if event.__class__ is scalar_event:
                start: Any = event.start_mark
                end: Any = event.end_mark
                span = SourceSpan(start.line, start.column, end.line, end.column)
                style = event.style or None
                if style is not None:
                    value: Any = event.value
                    if style == "|" or style == ">":
                        span = self.trim(span)
                elif event.tag not in (None, "!"):
                    value = _tagged_value(event)
                else:
                    value = plain_cache.get(event.value, plain_cache)
                    if value is plain_cache:
                        value = _plain_value(event.value)
                node: YNode = YScalar(value, span, style, event.tag or "")
                if event.anchor:
                    self.anchors[event.anchor] = (node, 1)
                if not stack:
                    root = node
                    continue
                frame = stack[-1]
                frame[4] += 1
                if not frame[0]:
                    frame[2].append(node)
                elif frame[3] is None:
                    frame[3] = node
                else:
                    frame[2].append(YEntry(frame[3], node))
                    frame[3] = None
            elif isinstance(event, yaml.MappingStartEvent | yaml.SequenceStartEvent):
                if len(stack) >= MAX_DEPTH:
                    self.problem(
                        "VW004",
                        f"Nesting deeper than {MAX_DEPTH} levels; flatten this structure.",
                        self.point(event.start_mark),
                    )
                    self.aborted = True
                    return None
                stack.append([isinstance(event, yaml.MappingStartEvent), event, [], None, 1])
            elif isinstance(event, yaml.MappingEndEvent | yaml.SequenceEndEvent):
                is_map, start_event, children, _pending, size = stack.pop()
                node = self.close(is_map, start_event, event, children)
                self.remember(start_event.anchor, node, size)
                root = self.attach(stack, node, size) or root
            elif isinstance(event, yaml.AliasEvent):
                target = self.anchors.get(event.anchor or "")
                if target is None:
                    self.problem(
                        "VW003",
                        f"Unknown alias *{event.anchor}; define the anchor &{event.anchor} first.",
                        self.span(event.start_mark, event.end_mark),
                    )
                    target = (YScalar(None, self.span(event.start_mark, event.end_mark)), 1)
                node, size = target
                self.expanded += size
                if self.expanded > MAX_EXPANDED_NODES:
                    self.problem(
                        "VW005",
                        "YAML aliases expand to too many nodes (an alias bomb?); "
                        "remove the nested aliases.",
                        self.span(event.start_mark, event.end_mark),
                    )
                    self.aborted = True
                    return None
                root = self.attach(stack, node, size) or root
            elif isinstance(event, yaml.DocumentStartEvent) and root is not None:
                self.problem(
                    "VW006",
                    "Only the first YAML document is read; split the other documents into files.",
                    self.point(event.start_mark),
                )
                break
        return root

    def remember(self, anchor: str | None, node: YNode, size: int) -> None:
        if anchor:
            self.anchors[anchor] = (node, size)

    def attach(self, stack: list[list[Any]], node: YNode, size: int) -> YNode | None:
        if not stack:
            return node
        frame = stack[-1]
        frame[4] += size
        if not frame[0]:
            frame[2].append(node)
        elif frame[3] is None:
            if not isinstance(node, YScalar):
                self.problem(
                    "VW007",
                    "A mapping key must be a plain value, not a list or mapping.",
                    node.span,
                )
                node = YScalar(str(node.to_python()), node.span)
            frame[3] = node
        else:
            frame[2].append(YEntry(frame[3], node))
            frame[3] = None
        return None

    def close(self, is_map: bool, start: Any, end: Any, children: list[Any]) -> YNode:
        flow = bool(start.flow_style)
        span = self.span(start.start_mark, end.end_mark)
        if not flow and children:
            last = children[-1].value.span if is_map else children[-1].span
            span = SourceSpan(span.line, span.column, last.end_line, last.end_column)
        if not is_map:
            return YSeq(tuple(children), span, flow)
        self.check_duplicates(children)
        return YMap(tuple(children), span, flow)

    def check_duplicates(self, entries: list[YEntry]) -> None:
        if len(entries) < 2:
            return
        seen: dict[Any, YEntry] = {}
        for entry in entries:
            key = entry.key.value
            try:
                first = seen.get(key)
            except TypeError:
                continue
            if first is None:
                seen[key] = entry
                continue
            self.problems.append(
                Problem(
                    "VW002",
                    Severity.ERROR,
                    f"Duplicate key '{key}': the later value silently replaces the earlier one; "
                    "remove or rename one of them.",
                    self.source,
                    entry.key.span,
                    related=(RelatedInfo("first defined here", self.source, first.key.span),),
                )
            )


def _events(text: str) -> Any:
    """PyYAML events without the generator layer of `yaml.parse` (a hot loop)."""
    parser = _Parser(text)
    try:
        get_event = parser.get_event
        while True:
            event = get_event()
            if event is None or isinstance(event, yaml.StreamEndEvent):
                return
            yield event
    finally:
        parser.dispose()


@contextlib.contextmanager
def paused_gc() -> Iterator[None]:
    """Pause the cyclic collector while building large trees of surviving objects.

    Every object built here survives, so collections during the build only
    rescan the growing heap; pausing halves the time on large files.
    """
    collecting = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if collecting:
            # Re-enabling would let the next allocation scan every object just built
            # (they all count as young). freeze+unfreeze files them straight into the
            # oldest generation and resets the young count; cycles among them are still
            # found by the next full collection.
            gc.freeze()
            gc.unfreeze()
            gc.enable()


def parse_yaml(text: str, source: str) -> ParsedYaml:
    """Parse text into a spanned tree. Never raises on user input."""
    with paused_gc():
        return _parse_yaml(text, source)


def _parse_yaml(text: str, source: str) -> ParsedYaml:
    lines = text.splitlines() or [""]
    builder = _Builder(source, lines)
    root: YNode | None = None
    try:
        root = builder.build(_events(text))
    except yaml.MarkedYAMLError as exc:
        builder.problems.append(_syntax_problem(exc, source, lines))
        root = None
    except yaml.YAMLError as exc:
        builder.problems.append(
            Problem("VW001", Severity.ERROR, f"YAML error: {exc}", source, SourceSpan.point(0, 0))
        )
        root = None
    except RecursionError:
        builder.problems.append(
            Problem(
                "VW004",
                Severity.ERROR,
                "The YAML is nested too deeply to read; flatten it.",
                source,
                SourceSpan.point(0, 0),
            )
        )
        root = None
    if builder.aborted:
        root = None
    return ParsedYaml(root, tuple(builder.problems), tuple(lines))


def _syntax_problem(exc: yaml.MarkedYAMLError, source: str, lines: list[str]) -> Problem:
    mark = exc.problem_mark or exc.context_mark
    line = mark.line if mark is not None else 0
    column = mark.column if mark is not None else 0
    line = min(line, len(lines) - 1)
    width = len(lines[line]) if 0 <= line < len(lines) else 0
    end_column = column + 1 if column < width else column
    parts = [p for p in (exc.context, exc.problem) if p]
    detail = ", ".join(parts) if parts else "invalid YAML"
    related: tuple[RelatedInfo, ...] = ()
    if exc.context_mark is not None and exc.problem_mark is not None and exc.context_mark != mark:
        related = (
            RelatedInfo(
                exc.context or "started here",
                source,
                SourceSpan.point(exc.context_mark.line, exc.context_mark.column),
            ),
        )
    return Problem(
        "VW001",
        Severity.ERROR,
        f"YAML syntax error: {detail}. Fix the YAML at this position.",
        source,
        SourceSpan(line, column, line, end_column),
        related=related,
    )
