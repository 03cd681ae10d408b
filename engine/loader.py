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
from itertools import repeat
from operator import itemgetter
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
_scalar_value = itemgetter(0)


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
        except Exception:  # a resolver match the constructor rejects: keep the text
            value = text
    if len(_PLAIN_CACHE) < 10_000 and len(text) < 64:
        _PLAIN_CACHE[text] = value
    return value


def _tagged_value(event: yaml.ScalarEvent) -> tuple[Any, str | None]:
    """The value an explicit tag (`!!int 3`) asks for, or the text and why not.

    PyYAML's constructors raise all sorts of errors on bad text (`!!int` with
    no value is an IndexError): any failure becomes a message, never a crash.
    """
    tag = event.tag or ""
    constructor = _constructor.yaml_constructors.get(tag)
    if constructor is None:
        return event.value, None
    try:
        return constructor(_constructor, yaml.ScalarNode(tag, event.value)), None
    except Exception:
        kind = tag.rsplit(":", 1)[-1]
        return event.value, (
            f"{event.value!r} is not a valid `!!{kind}` value; fix the value or remove the "
            "tag (YAML loaders such as Victor's refuse this file)."
        )


class _Builder:
    """Turns events into a tree; one instance per parse."""

    def __init__(self, source: str, lines: list[str]) -> None:
        self.source = source
        self.lines = lines
        self.problems: list[Problem] = []
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
        end_column = len(self.lines[line].rstrip("\r\n"))
        return tuple.__new__(SourceSpan, (span.line, span.column, line, end_column))

    def build(self, get_event: Any) -> YNode | None:
        """Pull events from `get_event` until the stream (or the first document) ends.

        This loop runs once per event of the file (about 100k for a 40k-line file),
        so it is written flat: one `is` test per event class, spans and nodes built
        with `tuple.__new__` (the named tuples' own `__new__` is a Python call),
        and the open collections' children in plain lists. A mapping's children
        alternate key, value, key, value; they are paired into entries when it
        closes. A collection's size (for the alias budget) is the difference of a
        running node count between its start and its end.
        """
        # Each open collection: (is_map, start_event, children, node count at its start).
        stack: list[tuple[bool, Any, list[Any], int]] = []
        top: list[Any] = []  # the children of the innermost open collection, or the root
        append = top.append
        in_map = False  # whether the innermost open collection is a mapping
        roots = top
        count = 0  # nodes seen so far, aliases counted as the nodes they copy
        expanded = 0
        anchors: dict[str, tuple[YNode, int]] = {}
        new = tuple.__new__
        plain_cache = _PLAIN_CACHE
        scalar_value = _scalar_value
        scalar_event = yaml.ScalarEvent
        end_events = (yaml.MappingEndEvent, yaml.SequenceEndEvent)
        mapping_start = yaml.MappingStartEvent
        sequence_start = yaml.SequenceStartEvent
        alias_event = yaml.AliasEvent
        document_start = yaml.DocumentStartEvent
        stream_end = yaml.StreamEndEvent
        node: Any
        while True:
            event = get_event()
            cls = type(event)
            if cls is scalar_event:
                start = event.start_mark
                end = event.end_mark
                line = start.line
                end_line = end.line
                if end_line == line:
                    end_line = line  # one int object for both: fewer objects to allocate and free
                span = new(SourceSpan, (line, start.column, end_line, end.column))
                style = event.style
                tag = event.tag
                if style:
                    if style == "|" or style == ">":
                        span = self.trim(span)
                    node = new(YScalar, (event.value, span, style, tag or ""))
                elif tag is None:
                    text = event.value
                    value = plain_cache.get(text, plain_cache)
                    if value is plain_cache:
                        value = _plain_value(text)
                    node = new(YScalar, (value, span, None, ""))
                elif tag == "!":
                    node = new(YScalar, (_plain_value(event.value), span, None, tag))
                else:
                    value, failure = _tagged_value(event)
                    if failure is not None:
                        self.problem("VW008", failure, span)
                    node = new(YScalar, (value, span, None, tag))
                if event.anchor:
                    anchors[event.anchor] = (node, 1)
                append(node)
                count += 1
                continue
            if cls in end_events:
                is_map, start_event, children, at_start = stack.pop()
                flow = bool(start_event.flow_style)
                mark = start_event.start_mark
                if children and not flow:
                    last = children[-1][1]  # a block collection ends where its last node does
                    span = new(SourceSpan, (mark.line, mark.column, last[2], last[3]))
                else:
                    end = event.end_mark
                    span = new(SourceSpan, (mark.line, mark.column, end.line, end.column))
                if is_map:
                    pairs = iter(children)
                    entries = tuple(map(new, repeat(YEntry), zip(pairs, pairs, strict=False)))
                    if len(entries) > 1:
                        keys = children[0::2]
                        try:
                            distinct = len(set(map(scalar_value, keys))) == len(keys)
                        except TypeError:  # an unhashable value: the report sorts it out
                            distinct = False
                        if not distinct:
                            self.report_duplicates(entries)
                    node = new(YMap, (entries, span, flow))
                else:
                    node = new(YSeq, (tuple(children), span, flow))
                if start_event.anchor:
                    anchors[start_event.anchor] = (node, count - at_start)
                if stack:
                    in_map, _, top, _ = stack[-1]
                else:
                    in_map, top = False, roots
                append = top.append
                if in_map and not len(top) % 2:
                    node = self.checked_key(node)
                append(node)
            elif cls is mapping_start or cls is sequence_start:
                if len(stack) >= MAX_DEPTH:
                    self.problem(
                        "VW004",
                        f"Nesting deeper than {MAX_DEPTH} levels; flatten this structure.",
                        self.point(event.start_mark),
                    )
                    self.aborted = True
                    return None
                top = []
                append = top.append
                in_map = cls is mapping_start
                stack.append((in_map, event, top, count))
                count += 1
            elif cls is alias_event:
                target = anchors.get(event.anchor or "")
                if target is None:
                    self.problem(
                        "VW003",
                        f"Unknown alias *{event.anchor}; define the anchor &{event.anchor} first.",
                        self.span(event.start_mark, event.end_mark),
                    )
                    target = (YScalar(None, self.span(event.start_mark, event.end_mark)), 1)
                node, size = target
                expanded += size
                if expanded > MAX_EXPANDED_NODES:
                    self.problem(
                        "VW005",
                        "YAML aliases expand to too many nodes (an alias bomb?); "
                        "remove the nested aliases.",
                        self.span(event.start_mark, event.end_mark),
                    )
                    self.aborted = True
                    return None
                count += size
                if in_map and not len(top) % 2:
                    node = self.checked_key(node)
                append(node)
            elif event is None or cls is stream_end:
                break
            elif cls is document_start and roots:
                self.problem(
                    "VW006",
                    "Only the first YAML document is read; split the other documents into files.",
                    self.point(event.start_mark),
                )
                break
        return roots[0] if roots else None

    def checked_key(self, node: YNode) -> YScalar:
        """A collection used as a mapping key, reported and replaced by its text."""
        if isinstance(node, YScalar):
            return node
        self.problem(
            "VW007",
            "A mapping key must be a plain value, not a list or mapping.",
            node.span,
        )
        return YScalar(str(node.to_python()), node.span)

    def report_duplicates(self, entries: tuple[YEntry, ...]) -> None:
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
    parser: Any = None
    try:
        parser = _Parser(text)
        root = builder.build(parser.get_event)
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
    finally:
        if parser is not None:
            parser.dispose()
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
