"""Node entries written in unusual but real YAML: merge keys, tags, odd `$ref`/`stage` values."""

from __future__ import annotations

import pytest

from engine import compile
from engine.model import CompileResult, Problem, TransformNode
from tests.language.test_line_breaks import editor_lines, editor_marker


def _compile(text: str) -> CompileResult:
    return compile(text, source="/tmp/hostile/w.yaml")


def _at(text: str, problem: Problem, marker: str, token: str) -> bool:
    line = editor_marker(text, marker)
    return (problem.span.line, problem.span.column) == (line, editor_lines(text)[line].index(token))


MERGED = """\
defaults:
  transform_base: &transform_base
    type: transform
    transform: "x = 1"
    timeout: many  # @merged_timeout
  agent_base: &agent_base
    type: agent
    goal: from the agent base
workflows:
  w:
    nodes:
      - <<: *transform_base
        id: a
        transform: "y = 2"
      - <<: [*agent_base, *transform_base]
        id: b
"""


def test_a_merge_key_brings_in_the_anchored_fields_as_yaml_loaders_do(parser: str) -> None:
    result = _compile(MERGED)
    nodes = {node.id: node for node in result.workflows[0].nodes}
    assert nodes["a"].type.value == "transform"
    node_a = nodes["a"]
    assert isinstance(node_a, TransformNode)
    assert node_a.transform == "y = 2"  # the node's own key wins over the merged one
    assert nodes["b"].type.value == "agent"  # the first mapping of a merge list wins
    assert not [p for p in result.problems if "'<<'" in p.message]


def test_a_problem_in_a_merged_field_is_reported_where_the_field_is_written(parser: str) -> None:
    timeouts = [p for p in _compile(MERGED).problems if "timeout" in p.message]
    assert timeouts and all(_at(MERGED, p, "merged_timeout", "many") for p in timeouts)


def test_a_merge_key_with_a_scalar_is_an_error_at_the_value(parser: str) -> None:
    text = "workflows:\n  w:\n    nodes:\n      - <<: 3  # @bad\n        id: a\n"
    problems = [p for p in _compile(text).problems if "<<" in p.message]
    assert len(problems) == 1 and problems[0].severity.value == "error"
    assert _at(text, problems[0], "bad", "3")
    assert "mapping" in problems[0].message


def test_a_quoted_merge_key_is_an_ordinary_key(parser: str) -> None:
    text = "workflows:\n  w:\n    nodes:\n      - '<<': {type: transform}\n        id: a\n"
    result = _compile(text)
    assert result.workflows[0].nodes[0].type.value == "agent"
    assert any("'<<'" in p.message for p in result.problems)


@pytest.mark.parametrize(
    ("tagged", "tag"),
    [
        ("!node {id: b}", "!node"),
        ("!!python/object:os.system {id: b}", "!!python/object:os.system"),
        ("{id: !env b}", "!env"),
        ("{id: !!python/name:os.system b}", "!!python/name:os.system"),
    ],
)
def test_a_tag_safe_yaml_loaders_refuse_is_an_error_at_the_tag(
    parser: str, tagged: str, tag: str
) -> None:
    text = f"workflows:\n  w:\n    nodes:\n      - id: a\n      - {tagged}  # @bad\n"
    problems = [p for p in _compile(text).problems if p.code == "VW008"]
    assert len(problems) == 1 and problems[0].severity.value == "error"
    assert _at(text, problems[0], "bad", tag)
    assert "remove the tag" in problems[0].message


@pytest.mark.parametrize("tagged", ["!!str 3", "!!int '4'", "! x", "!!map {a: 1}", "!!seq [a]"])
def test_standard_tags_are_accepted(parser: str, tagged: str) -> None:
    text = f"workflows:\n  w:\n    nodes:\n      - id: a\n        metadata: {tagged}\n"
    assert not [p for p in _compile(text).problems if p.code == "VW008"]


@pytest.mark.parametrize(
    ("entry", "token", "code"),
    [
        ("$ref: 3", "3", "VW511"),
        ("$ref: [a.yaml]", "[", "VW511"),
        ("$ref: {file: a.yaml}", "{", "VW511"),
        ("stage: [analyze]", "[", "VW514"),
        ("stage: 7", "7", "VW514"),
    ],
)
def test_a_ref_or_stage_that_is_not_a_name_is_an_error_at_the_value(
    parser: str, entry: str, token: str, code: str
) -> None:
    text = f"workflows:\n  w:\n    nodes:\n      - id: a\n        {entry}  # @bad\n"
    problems = [p for p in _compile(text).problems if p.code == code]
    assert len(problems) == 1 and problems[0].severity.value == "error"
    assert _at(text, problems[0], "bad", token)


@pytest.mark.parametrize("written", ["1", "true", "1.5", "2024-01-01", "", "null"])
def test_an_id_that_is_not_a_string_is_reported_once(parser: str, written: str) -> None:
    text = f"workflows:\n  w:\n    nodes:\n      - id: {written}  # @bad\n      - id: b\n"
    line = editor_marker(text, "bad")
    on_id = [p for p in _compile(text).problems if p.span.line == line and p.code != "VW208"]
    assert len(on_id) == 1, on_id
    if written not in ("", "null"):
        assert (
            f'`id: "{written}"`' in on_id[0].message
        )  # quoted as written, not as Python prints it
