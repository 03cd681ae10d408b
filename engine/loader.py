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
from bisect import bisect_right
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from itertools import repeat
from operator import itemgetter
from typing import Any, NamedTuple

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

_EDITOR_BREAK = re.compile(r"\r\n|\r|\n")
_SPLITLINES_ONLY_BREAKS = "\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"
"""Characters `str.splitlines` breaks at but editors (and the LSP) do not."""
_MARKS_OFF = ("\x85", "\u2028", "\u2029", "\ufeff")
"""Characters after which the parsers' line/column disagree with editors'.

The YAML parsers break lines at U+0085, U+2028 and U+2029, and PyYAML's
reader leaves U+FEFF out of columns; libyaml also leaves a leading BOM out of
its character index."""
_NOT_YAML_TEXT = re.compile(
    "[^\x09\x0a\x0d\x20-\x7e\x85\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]"
)
"""What a YAML 1.1 reader refuses (PyYAML's own printable set)."""


def editor_lines(text: str) -> list[str]:
    """The text's lines as editors and the LSP count them: breaks are \\n, \\r\\n, \\r.

    Like `str.splitlines`, a final line break does not start another line.
    """
    if not any(char in text for char in _SPLITLINES_ONLY_BREAKS):
        return text.splitlines()  # same split, faster
    lines = _EDITOR_BREAK.split(text)
    if lines[-1] == "":
        lines.pop()
    return lines


class _Mark(NamedTuple):
    line: int
    column: int


class _EditorPositions:
    """Parser marks to editor (line, column), through the marks' character index.

    Only used when the text holds a character in `_MARKS_OFF`, where the
    parsers' own line and column are wrong for an editor.
    """

    def __init__(self, text: str, index_shift: int) -> None:
        self.starts = [0, *(match.end() for match in _EDITOR_BREAK.finditer(text))]
        self.shift = index_shift

    def at_index(self, index: int) -> _Mark:
        line = bisect_right(self.starts, index) - 1
        return _Mark(line, index - self.starts[line])

    def mark(self, mark: Any) -> Any:
        if mark is None:
            return None
        return self.at_index(mark.index + self.shift)

    def events(self, get_event: Callable[[], Any]) -> Callable[[], Any]:
        def get() -> Any:
            event = get_event()
            if event is not None:
                event.start_mark = self.mark(event.start_mark)
                event.end_mark = self.mark(event.end_mark)
            return event

        return get


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
        return event.value, None if tag in _LENIENT_TAGS else _unknown_tag(tag)
    try:
        return constructor(_constructor, yaml.ScalarNode(tag, event.value)), None
    except Exception:
        kind = tag.rsplit(":", 1)[-1]
        return event.value, (
            f"{event.value!r} is not a valid `!!{kind}` value; fix the value or remove the "
            "tag (YAML loaders such as Victor's refuse this file)."
        )


_COLLECTION_TAGS = frozenset(
    {"!", *(f"tag:yaml.org,2002:{kind}" for kind in ("seq", "map", "set", "omap", "pairs"))}
)
_LENIENT_TAGS = frozenset({"!", "tag:yaml.org,2002:merge", "tag:yaml.org,2002:value"})
"""Tags a safe loader reads without a constructor of their own."""


def _unknown_tag(tag: str) -> str:
    shown = "!!" + tag.removeprefix("tag:yaml.org,2002:") if tag.startswith("tag:yaml.org") else tag
    return (
        f"`{shown}` is not a tag a safe YAML loader (such as Victor's) can read, so the file "
        "would not load; remove the tag."
    )


class _Builder:
    """Turns events into a tree; one instance per parse."""

    def __init__(self, source: str, lines: list[str]) -> None:
        self.source = source
        self.lines = lines
        self.problems: list[Problem] = []
        self.aborted = False
        self.merges = False  # whether the text may hold a `<<` merge key

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
        merges = self.merges
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
                        self.problem("VW008", failure, self.tag_span(span, tag, event.value))
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
                    if merges and entries:
                        entries = self.merged(entries)
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
                if start_event.tag and start_event.tag not in _COLLECTION_TAGS:
                    self.problem(
                        "VW008",
                        _unknown_tag(start_event.tag),
                        self.tag_span(span, start_event.tag, None),
                    )
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

    def tag_span(self, span: SourceSpan, tag: str, value: str | None) -> SourceSpan:
        """The tag token at the start of a node's span (the whole span for a bad value)."""
        if value is not None and tag in self.known_tags:
            return span
        line, column = span.line, span.column
        text = self.lines[line] if line < len(self.lines) else ""
        if not text.startswith("!", column):
            return span
        end = column
        while end < len(text) and not text[end].isspace() and text[end] not in ",[]{}":
            end += 1
        return tuple.__new__(SourceSpan, (line, column, line, end))

    known_tags = _constructor.yaml_constructors

    def merged(self, entries: tuple[YEntry, ...]) -> tuple[YEntry, ...]:
        """Entries with `<<` merge keys expanded, as YAML 1.1 loaders (Victor's) do.

        The mapping's own keys win over merged ones, and in `<<: [*a, *b]` the
        earlier mapping wins. Merged entries keep the spans where they are written.
        """
        own = [e for e in entries if not _is_merge_key(e.key)]
        if len(own) == len(entries):
            return entries
        present = {_hashable_key(e.key.value) for e in own}
        merged: list[YEntry] = []
        for entry in entries:
            if not _is_merge_key(entry.key):
                continue
            value = entry.value
            sources = value.items if type(value) is YSeq else (value,)
            for source in sources:
                if type(source) is not YMap:
                    self.problem(
                        "VW009",
                        "A merge key `<<` takes a mapping or a list of mappings (such as "
                        "`<<: *defaults`); fix the value or remove the `<<` entry.",
                        source.span,
                    )
                    continue
                for inherited in source.entries:
                    key = _hashable_key(inherited.key.value)
                    if key not in present:
                        present.add(key)
                        merged.append(inherited)
        return (*merged, *own)

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


def _is_merge_key(key: YScalar) -> bool:
    return key.value == "<<" and key.style is None and key.tag in ("", "tag:yaml.org,2002:merge")


def _hashable_key(value: Any) -> Any:
    try:
        hash(value)
    except TypeError:
        return repr(value)
    return value


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
    lines = editor_lines(text) or [""]
    builder = _Builder(source, lines)
    builder.merges = "<<" in text
    root: YNode | None = None
    parser: Any = None
    positions: _EditorPositions | None = None
    if any(char in text for char in _MARKS_OFF):
        shift = 1 if text.startswith("\ufeff") and _Parser is not yaml.SafeLoader else 0
        positions = _EditorPositions(text, shift)
    try:
        parser = _Parser(text)
        get_event = parser.get_event if positions is None else positions.events(parser.get_event)
        root = builder.build(get_event)
    except yaml.MarkedYAMLError as exc:
        builder.problems.append(_syntax_problem(exc, source, lines, positions))
        root = None
    except (yaml.reader.ReaderError, UnicodeError) as exc:
        builder.problems.append(_unreadable_character(exc, text, source))
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


def _unreadable_character(exc: Exception, text: str, source: str) -> Problem:
    """A character no YAML reader accepts, located by searching the text itself.

    libyaml reports a byte offset and chokes on lone surrogates before reading
    anything, so its own position is not used.
    """
    found = _NOT_YAML_TEXT.search(text)
    if found is None:  # pragma: no cover - the parsers refuse only these characters
        return Problem(
            "VW001", Severity.ERROR, f"YAML error: {exc}", source, SourceSpan.point(0, 0)
        )
    index = found.start()
    code = ord(text[index])
    if 0xD800 <= code <= 0xDFFF:
        what = f"U+{code:04X} is half of a UTF-16 surrogate pair, not a character"
    else:
        what = f"Control character U+{code:04X} is not allowed in YAML"
    position = _EditorPositions(text, 0).at_index(index)
    return Problem(
        "VW001",
        Severity.ERROR,
        f"{what}; remove the character U+{code:04X}"
        " (inside a double-quoted string, write an escape such as \\t or \\x0c instead).",
        source,
        SourceSpan(position.line, position.column, position.line, position.column + 1),
    )


_CLOSERS = {"[": "]", "{": "}", '"': '"', "'": "'"}
_OPENERS = {"quoted scalar": "quote", "flow sequence": "[", "flow mapping": "{"}
"""Parser contexts of a token that must be closed; an error far from it means it was not."""
_TRAILING_COMMENT = re.compile(r"\s+#.*$|\s+$")


def _syntax_problem(
    exc: yaml.MarkedYAMLError,
    source: str,
    lines: list[str],
    positions: _EditorPositions | None,
) -> Problem:
    """A parser error as a problem at the character at fault, with advice.

    libyaml and PyYAML word their errors differently; the common ones get one
    message (the same from both parsers) that says what to do. An error found
    at the end of the text (an unclosed quote or bracket) is placed at the
    opening character, where the fix goes.
    """
    problem_mark = exc.problem_mark
    context_mark = exc.context_mark
    if positions is not None:
        problem_mark = positions.mark(problem_mark)
        context_mark = positions.mark(context_mark)
    context = exc.context or ""
    problem = exc.problem or ""
    mark = problem_mark or context_mark
    opener = _OPENERS.get(next((k for k in _OPENERS if k in context), ""))
    unclosed = opener is not None and (
        problem_mark is None
        or _is_past_text(problem_mark, lines)
        or (context_mark is not None and context_mark.line != problem_mark.line)
    )
    simple_key = "simple key" in context
    if context_mark is not None and (unclosed or simple_key):
        mark = context_mark
    line = mark.line if mark is not None else 0
    column = mark.column if mark is not None else 0
    line = max(0, min(line, len(lines) - 1))
    text = lines[line] if line < len(lines) else ""
    column = min(column, len(text))
    char = text[column : column + 1]
    end_column = column + 1 if char else column
    if simple_key and char:
        end_column = column + len(_TRAILING_COMMENT.sub("", text[column:])) or end_column
    advice = _advice(context, problem, char, unclosed)
    if advice is None:
        detail = ", ".join(part for part in (context, problem) if part) or "invalid YAML"
        advice = f"{detail}; check the quoting and indentation here"
    related: tuple[RelatedInfo, ...] = ()
    if context_mark is not None and problem_mark is not None and context_mark != mark:
        related = (
            RelatedInfo(
                context.removeprefix("while ") or "started here",
                source,
                SourceSpan.point(context_mark.line, context_mark.column),
            ),
        )
    return Problem(
        "VW001",
        Severity.ERROR,
        f"YAML syntax error: {advice}.",
        source,
        SourceSpan(line, column, line, end_column),
        related=related,
    )


def _is_past_text(mark: Any, lines: list[str]) -> bool:
    """Whether a mark sits after the last non-blank character of the text (the parser ran out)."""
    last = len(lines) - 1
    while last > 0 and not lines[last].strip():
        last -= 1
    return mark.line > last or (mark.line == last and mark.column >= len(lines[last].rstrip()))


def _advice(context: str, problem: str, char: str, unclosed: bool) -> str | None:
    """What to do about a parser error, or None for a rare one (shown as the parser says)."""
    if unclosed and char in _CLOSERS:
        if char in "'\"":
            return f"this quoted string is never closed; add the closing {char} at its end"
        kind, part = ("list", "item") if char == "[" else ("mapping", "entry")
        closer = _CLOSERS[char]
        return f"this {char} {kind} is never closed; add the closing {closer} after its last {part}"
    if "cannot start any token" in problem or "tab character" in problem:
        if char == "\t":
            return "a tab cannot indent YAML or start a value; replace the tab with spaces"
        if char in ("@", "`"):
            return (
                f"'{char}' is reserved in YAML and cannot start a plain value; "
                "put the value in quotes"
            )
        if char:
            return f"'{char}' cannot start a value here; put the value in quotes"
    if "mapping values are not allowed" in problem:
        return (
            "a ':' is not allowed here; quote the value if the ': ' belongs to the text, "
            "or fix this line's indentation"
        )
    if "could not find expected ':'" in problem:
        return (
            "this key has no ':' after it; add ': ' after the key, "
            "or indent the line as a continuation"
        )
    if "expected ',' or ']'" in problem:
        return "expected ',' or ']' here; separate the list's items with ',', close it with ']'"
    if "expected ',' or '}'" in problem:
        return (
            "expected ',' or '}' here; separate the mapping's entries with ',', close it with '}'"
        )
    if "block mapping" in context and ("expected key" in problem or "<block end>" in problem):
        return (
            "this line does not line up with the keys of its mapping; "
            "indent it like the keys around it (spaces only)"
        )
    if "block collection" in context and ("'-' indicator" in problem or "<block end>" in problem):
        return (
            "this line does not line up with its list; indent it like the other items "
            "and start each item with '- ' (a dash and a space)"
        )
    if "incompatible YAML document" in problem:
        return "only YAML 1.x is read; write `%YAML 1.1` or remove the directive"
    if "duplicate" in problem and "directive" in problem:
        return "this directive repeats an earlier one; remove it"
    return None
