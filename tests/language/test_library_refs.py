"""engine.library_refs: library node ids, `$ref` sites, library renames and appends."""

from __future__ import annotations

from pathlib import Path

from engine.compiler import compile as compile_text
from engine.config import CompileConfig
from engine.library_refs import library_insertion, plan_library_rename, ref_sites
from engine.loader import parse_yaml
from engine.model import CompileResult, TextEdit
from tests.support import marker_line

LIBRARY = "nodes:\n  - id: first  # @first\n    goal: a\n  - id: 'second'\n    goal: b\n"

FLOW = """\
workflows:
  flow:
    nodes:
      - $ref: ./lib.yaml#first  # @plain
        next: [other]
      - $ref: './lib.yaml# second'  # @quoted
        id: other
      - $ref: ./lib.yaml  # @no_id
        id: third
      - id: last
        goal: c
        next: [__end__]
    start_node: first  # @edge
"""


def _compiled(tmp_path: Path) -> CompileResult:
    (tmp_path / "lib.yaml").write_text(LIBRARY, encoding="utf-8")
    source = str(tmp_path / "flow.yaml")
    return compile_text(FLOW, source=source, config=CompileConfig(workspace_root=str(tmp_path)))


def _apply(text: str, edits: list[TextEdit]) -> str:
    lines = text.splitlines(keepends=True)
    for edit in sorted(edits, key=lambda e: e.span, reverse=True):
        span = edit.span
        assert span.line == span.end_line
        line = lines[span.line]
        lines[span.line] = line[: span.column] + edit.new_text + line[span.end_column :]
    return "".join(lines)


def test_ref_sites_find_the_written_node_id(tmp_path: Path) -> None:
    result = _compiled(tmp_path)
    assert result.ok, [p.format() for p in result.errors]
    library = str(tmp_path / "lib.yaml")
    first = ref_sites(result, library, "first")
    # `$ref: ./lib.yaml` (no `#node`) means the library's first node: a site without id.
    assert [(s.node.id, s.inherits_id) for s in first] == [("first", True), ("third", False)]
    assert first[0].id_span is not None and first[0].id_span.line == marker_line(FLOW, "plain")
    assert first[1].id_span is None
    (second,) = ref_sites(result, library, "second")
    assert second.id_span is not None
    line = FLOW.splitlines()[second.id_span.line]
    assert line[second.id_span.column : second.id_span.end_column] == "second"
    assert ref_sites(result, str(tmp_path / "elsewhere.yaml"), "first") == []


def test_plan_library_rename_edits_library_refs_and_inherited_edges(tmp_path: Path) -> None:
    result = _compiled(tmp_path)
    library = str(tmp_path / "lib.yaml")
    parsed = parse_yaml(LIBRARY, library)
    plan = plan_library_rename(parsed, library, "first", "start", [result])
    assert plan.error is None
    lib_edits = [e for e in plan.edits if e.source == library]
    flow_edits = [e for e in plan.edits if e.source == result.source]
    assert _apply(LIBRARY, lib_edits) == LIBRARY.replace("id: first", "id: start")
    assert _apply(FLOW, flow_edits) == FLOW.replace("#first", "#start").replace(
        "start_node: first", "start_node: start"
    )
    quoted = plan_library_rename(parsed, library, "second", "two", [result])
    assert _apply(LIBRARY, [e for e in quoted.edits if e.source == library]) == LIBRARY.replace(
        "'second'", "'two'"
    )
    assert "already has a node 'second'" in str(
        plan_library_rename(parsed, library, "first", "second", [result]).error
    )
    assert "already has a node 'last'" in str(
        plan_library_rename(parsed, library, "first", "last", [result]).error
    )


def test_library_insertion_points() -> None:
    empty = library_insertion(parse_yaml("", "x.yaml"), "")
    assert empty is not None and (empty.line, empty.header) == (0, "nodes:\n")
    unterminated = LIBRARY.rstrip("\n")
    end = library_insertion(parse_yaml(unterminated, "x.yaml"), unterminated)
    assert end is not None
    assert (end.line, end.indent, end.header) == (len(unterminated.splitlines()), 2, "\n")
    assert end.existing_ids == {"first", "second"}
    followed = LIBRARY + "stage_templates: {}\n"
    before_next_key = library_insertion(parse_yaml(followed, "x.yaml"), followed)
    assert before_next_key is not None and before_next_key.header == ""
    assert before_next_key.line == len(LIBRARY.splitlines())
    flow_list = "nodes: [{id: a}]\n"
    assert library_insertion(parse_yaml(flow_list, "x.yaml"), flow_list) is None
