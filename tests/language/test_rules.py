"""Validation rules: each problem has its code, severity and the exact span at fault."""

from __future__ import annotations

import textwrap

import pytest

from engine import compile
from engine.config import CompileConfig, RegistryNames
from engine.model import CompileResult, Problem, Severity
from tests.support import marker_line


def _compile(text: str, **config: object) -> CompileResult:
    return compile(textwrap.dedent(text), source="/tmp/wf.yaml", config=CompileConfig(**config))  # type: ignore[arg-type]


def _only(result: CompileResult, code: str) -> Problem:
    found = [p for p in result.problems if p.code == code]
    assert len(found) == 1, [p.format() for p in result.problems]
    return found[0]


def _token(text: str, problem: Problem) -> str:
    line = textwrap.dedent(text).splitlines()[problem.span.line]
    return line[problem.span.column : problem.span.end_column]


def test_yaml_syntax_error_is_reported_at_its_position() -> None:
    text = """\
    workflows:
      w:
        nodes:
          - id: a
            goal: "unterminated   # @bad
          - id: b
    """
    result = _compile(text)
    problem = _only(result, "VW001")
    assert problem.severity is Severity.ERROR
    assert problem.span.line >= marker_line(textwrap.dedent(text), "bad")
    assert result.workflows == ()


def test_duplicate_keys_and_node_ids() -> None:
    text = """\
    workflows:
      w:
        nodes:
          - id: a
            type: transform
            transform: x = 1
            transform: x = 2   # @dupkey
          - id: a              # @dupid
            type: transform
            transform: y = 1
    """
    result = _compile(text)
    dup_key = _only(result, "VW002")
    assert dup_key.span.line == marker_line(textwrap.dedent(text), "dupkey")
    assert dup_key.related[0].span.line == dup_key.span.line - 1
    dup_id = _only(result, "VW105")
    assert dup_id.span.line == marker_line(textwrap.dedent(text), "dupid")
    assert _token(text, dup_id) == "a"
    assert dup_id.related


def test_unknown_targets_suggest_and_offer_fixes() -> None:
    text = """\
    workflows:
      w:
        nodes:
          - id: analyse
            next: [reviw]            # @next
          - id: review
            type: condition
            condition: "score > 3"
            branches:
              "true": analyse
              "false": finsh         # @branch
          - id: finish
            type: parallel
            parallel_nodes: [ghost]  # @child
    """
    result = _compile(text)
    source = textwrap.dedent(text)
    nxt = _only(result, "VW201")
    assert nxt.span.line == marker_line(source, "next") and _token(text, nxt) == "reviw"
    assert "did you mean 'review'" in nxt.message
    assert nxt.fixes[0].edits[0].new_text == "review"
    assert any(f.title.startswith("Create node") for f in nxt.fixes)
    branch = _only(result, "VW202")
    assert branch.span.line == marker_line(source, "branch") and _token(text, branch) == "finsh"
    child = _only(result, "VW203")
    assert child.span.line == marker_line(source, "child") and _token(text, child) == "ghost"


def test_end_sentinel_is_a_valid_target() -> None:
    result = _compile(
        """\
        workflows:
          w:
            nodes:
              - id: a
                type: condition
                condition: "done"
                branches: {"true": __end__, "false": b}
              - id: b
                next: [__end__]
        """
    )
    assert result.ok, [p.format() for p in result.problems]


def test_unreachable_node_is_tagged_unnecessary() -> None:
    text = """\
    workflows:
      w:
        nodes:
          - id: a
            next: [c]
          - id: b          # @orphan
            next: [c]
          - id: c
    """
    problem = _only(_compile(text), "VW205")
    assert problem.unnecessary and problem.severity is Severity.WARNING
    assert problem.span.line == marker_line(textwrap.dedent(text), "orphan")


def test_loop_without_condition_is_an_error_and_loops_through_conditions_are_fine() -> None:
    text = """\
    workflows:
      w:
        nodes:
          - id: a
            next: [b]
          - id: b
            next: [a]      # @closing
    """
    problem = _only(_compile(text), "VW206")
    assert problem.span.line == marker_line(textwrap.dedent(text), "closing")
    assert "a -> b -> a" in problem.message and len(problem.related) == 2
    ok = _compile(
        """\
        workflows:
          w:
            nodes:
              - id: work
                next: [check]
              - id: check
                type: condition
                condition: "attempts < 3"
                branches: {"true": work, "false": __end__}
        """
    )
    assert not [p for p in ok.problems if p.code == "VW206"]


def test_auto_chaining_follows_victor() -> None:
    result = _compile(
        """\
        workflows:
          w:
            nodes:
              - id: a
              - id: b
                next: []
              - id: gate
                type: condition
                condition: "x"
                branches: {"true": d, "false": d}
              - id: d
        """
    )
    workflow = result.workflows[0]
    assert workflow.node("a").next == ("b",) and workflow.node("a").auto_chained
    assert workflow.node("b").next == ("gate",)
    assert workflow.node("gate").next == ()
    assert workflow.node("d").next == () and not workflow.node("d").auto_chained
    assert workflow.start_node == "a"


def test_unknown_key_warns_with_did_you_mean_and_ignored_keys_name_the_replacement() -> None:
    text = """\
    workflows:
      w:
        nodes:
          - id: a
            type: agent
            goal: "do it"
            tool_budgett: 3          # @typo
            allowed_tools: [read]    # @ignored
    """
    result = _compile(text)
    typo = _only(result, "VW102")
    assert typo.severity is Severity.WARNING and "tool_budget" in typo.message
    assert typo.fixes[0].edits[0].new_text == "tool_budget"
    ignored = _only(result, "VW501")
    assert ignored.span.line == marker_line(textwrap.dedent(text), "ignored")
    assert "`tools`" in ignored.message and ignored.fixes[0].edits[0].new_text == "tools"


def test_types_and_enums_are_checked() -> None:
    text = """\
    workflows:
      w:
        nodes:
          - id: a
            type: hitl
            hitl_type: aproval     # @enum
            prompt: "ok?"
          - id: b
            type: agent
            tool_budget: lots      # @type
    """
    result = _compile(text)
    enum = _only(result, "VW103")
    assert enum.severity is Severity.ERROR and _token(text, enum) == "aproval"
    assert enum.fixes and enum.fixes[0].edits[0].new_text == "approval"
    wrong = _only(result, "VW101")
    assert wrong.span.line == marker_line(textwrap.dedent(text), "type")


def test_node_type_specific_rules() -> None:
    text = """\
    workflows:
      w:
        nodes:
          - id: team
            type: team
            goal: "build"
            members: []
          - id: fan
            type: parallel
          - id: ask
            type: hitl
            hitl_type: choice
          - id: pick
            type: condition
            condition: "review.verdict"
            branches: {"approve": team}
          - id: risky
            type: compute
            retry_policy: {max_attempts: 0, backoff_multiplier: 2}
    """
    result = _compile(text)
    codes = {p.code for p in result.problems}
    assert {"VW112", "VW113", "VW114", "VW115", "VW117", "VW111"} <= codes
    assert _only(result, "VW112").severity is Severity.ERROR


def test_expression_errors_point_inside_the_string() -> None:
    text = """\
    workflows:
      w:
        nodes:
          - id: gate
            type: condition
            condition: "score >> > 3"
            branches: {"true": done, "false": done}
          - id: done
            type: transform
            transform: |
              total = 1
              import os          # @unsupported
    """
    result = _compile(text)
    syntax = _only(result, "VW301")
    assert syntax.severity is Severity.ERROR
    line = textwrap.dedent(text).splitlines()[syntax.span.line]
    assert "score" in line and syntax.span.column > line.index('"')
    unsupported = _only(result, "VW302")
    assert unsupported.severity is Severity.WARNING
    assert unsupported.span.line == marker_line(textwrap.dedent(text), "unsupported")


def test_registry_names_are_checked_only_when_configured() -> None:
    text = """\
    workflows:
      w:
        nodes:
          - id: run
            type: compute
            handler: test_runer
          - id: gate
            type: condition
            condition: tests_passing
            branches: {"passing": done, "failing": done}
          - id: done
            type: transform
            transform: summarize
    """
    assert not {"VW401", "VW402", "VW403"} & {p.code for p in _compile(text).problems}
    names = RegistryNames(
        conditions=frozenset({"tests_pass"}),
        transforms=frozenset({"summarise"}),
        handlers=frozenset({"test_runner"}),
    )
    result = _compile(text, registry=names)
    assert "did you mean 'test_runner'" in _only(result, "VW403").message
    assert _only(result, "VW401").severity is Severity.WARNING
    assert _only(result, "VW402").severity is Severity.WARNING


def test_missing_id_and_unknown_type() -> None:
    text = """\
    workflows:
      w:
        nodes:
          - type: agent        # @noid
            goal: x
          - id: b
            type: compute_node # @type
    """
    result = _compile(text)
    assert _only(result, "VW104").span.line == marker_line(textwrap.dedent(text), "noid")
    unknown = _only(result, "VW106")
    assert "valid types are" in unknown.message and _token(text, unknown) == "compute_node"


def test_unquoted_boolean_branch_keys_get_a_quoting_fix() -> None:
    text = """\
    workflows:
      w:
        nodes:
          - id: gate
            type: condition
            condition: "ok"
            branches:
              true: a        # @unquoted
              "false": a
          - id: a
    """
    result = _compile(text)
    problem = _only(result, "VW504")
    assert problem.fixes[0].edits[0].new_text == '"true"'
    gate = result.workflows[0].node("gate")
    assert gate.branches[0] == ("true", "a")  # type: ignore[union-attr]


def test_non_workflow_yaml_is_not_a_workflow() -> None:
    result = _compile("name: ci\non: [push]\njobs: {}\n")
    assert result.kind.value == "not_workflow" and result.problems == ()


@pytest.mark.parametrize(
    "text",
    [
        "- just\n- a list\n",
        "workflows: 3\n",
        "workflows:\n  w: 3\n",
        "workflows:\n  w:\n    nodes: 3\n",
        "workflows:\n  w:\n    nodes: [1, 2]\n",
        "workflows:\n  w:\n    nodes: []\n",
        "workflows:\n  w:\n    nodes:\n      - id: [a]\n",
        "workflows:\n  w:\n    nodes:\n      - {id: a, next: {x: 1}}\n",
        "workflows:\n  w:\n    nodes:\n      - {id: a, type: condition, branches: [1]}\n",
        "workflows:\n  w:\n    nodes:\n      - {id: a, retry_policy: 3, members: x}\n",
        "workflows:\n  ? [a, b]\n  : {nodes: []}\n",
        "\t\x00\x01",
        "",
    ],
)
def test_malformed_input_never_raises(text: str) -> None:
    result = compile(text, source="/tmp/bad.yaml")
    assert isinstance(result, CompileResult)


def test_constraints_none_cannot_be_combined() -> None:
    text = """\
    workflows:
      w:
        nodes:
          - id: a
            type: compute
            tools: [shell]
            constraints: [none, llm]   # @mixed
    """
    problem = _only(_compile(text), "VW103")
    assert problem.severity is Severity.ERROR
    assert problem.span.line == marker_line(textwrap.dedent(text), "mixed")


def test_start_node_span_and_state_flow_are_part_of_compile() -> None:
    text = """\
    workflows:
      w:
        start_node: second   # @start
        nodes:
          - id: first
            type: transform
            transform: total = 1
          - id: second
            type: agent
            goal: "Use {{totl}}"   # @typo
            next: [first]
    """
    result = _compile(text)
    workflow = result.workflows[0]
    source = textwrap.dedent(text)
    assert workflow.start_span is not None
    assert workflow.start_span.line == marker_line(source, "start")
    assert _token(text, Problem("x", Severity.HINT, "", "", workflow.start_span)) == "second"
    typo = _only(result, "VW601")
    assert typo.span.line == marker_line(source, "typo") and "total" in typo.message
    assert result.syntax is not None and result.syntax.root is not None


def test_ignored_key_without_replacement_offers_removal() -> None:
    text = """\
    workflows:
      w:
        nodes:
          - id: a
            type: agent
            goal: "do it"
            instructions: |     # @ignored
              be careful
              and thorough
            tool_budget: 3
    """
    problem = _only(_compile(text), "VW501")
    source = textwrap.dedent(text)
    line = marker_line(source, "ignored")
    edit = problem.fixes[0].edits[0]
    assert edit.new_text == "" and edit.span.line == line and edit.span.column == 0
    lines = source.splitlines(keepends=True)
    fixed = "".join(lines[: edit.span.line] + lines[edit.span.end_line :])
    assert "instructions" not in fixed and "tool_budget: 3" in fixed and "and thorough" not in fixed
    assert all(p.code != "VW501" for p in _compile(fixed).problems)


def test_a_repeated_workflow_name_keeps_the_last_body_as_victor_does() -> None:
    text = (
        "workflows:\n"
        "  w:\n    nodes:\n      - id: first_version\n        next: [nowhere]  # @old\n"
        "  w:  # @again\n    nodes:\n      - id: second_version\n"
    )
    result = compile(text, source="/tmp/dup.yaml")
    assert [w.name for w in result.workflows] == ["w"]
    assert [n.id for n in result.workflows[0].nodes] == ["second_version"]
    codes = {(p.code, p.span.line) for p in result.problems}
    assert ("VW002", marker_line(text, "again")) in codes
    assert ("VW201", marker_line(text, "old")) in codes  # the shadowed body is still checked


def _apply(text: str, problem: Problem) -> str:
    """Apply a problem's first fix (single-line edits, as these fixes are)."""
    lines = text.split("\n")
    for edit in sorted(problem.fixes[0].edits, key=lambda e: e.span, reverse=True):
        line = lines[edit.span.line]
        lines[edit.span.line] = (
            line[: edit.span.column] + edit.new_text + line[edit.span.end_column :]
        )
    return "\n".join(lines)


@pytest.mark.parametrize(
    ("condition", "branches", "added"),
    [
        ("mode.kind", "\n          fast: a\n          slow: a  # @last", '"default": __end__'),
        ("mode.kind", ' {fast: a, "slow": a}  # @last', '"default": __end__'),
        ("n > 3", '\n          "true": a  # @last', '"false": __end__'),
    ],
)
def test_a_condition_that_can_fail_offers_to_add_the_missing_branch(
    condition: str, branches: str, added: str
) -> None:
    text = (
        "workflows:\n  w:\n    nodes:\n      - id: c\n        type: condition\n"
        f'        condition: "{condition}"\n        branches:{branches}\n'
        '      - id: a\n        type: transform\n        transform: "x = 1"\n'
    )
    (problem,) = [p for p in compile(text, source="/tmp/c.yaml").problems if p.code == "VW117"]
    assert problem.fixes and added.split(":")[0] in problem.fixes[0].title
    fixed = _apply(text, problem)
    assert added in fixed
    assert added in fixed.splitlines()[marker_line(text, "last") + (0 if "{" in branches else 1)]
    after = compile(fixed, source="/tmp/c.yaml")
    assert not [p for p in after.problems if p.severity in (Severity.ERROR, Severity.WARNING)]


@pytest.mark.parametrize(
    "text",
    ["spec:\n  nodes: 3\n", "cluster:\n  nodes: {pool: big}\n  region: eu\n"],
)
def test_other_tools_yaml_with_a_nodes_key_is_not_a_workflow(text: str) -> None:
    result = compile(text, source="/tmp/k8s.yaml")
    assert result.kind.value == "not_workflow"
    assert not result.problems


def test_a_bare_map_with_a_nodes_list_is_still_a_workflow() -> None:
    result = compile("w:\n  nodes:\n    - id: a\n      goal: hi\n", source="/tmp/bare.yaml")
    assert [w.name for w in result.workflows] == ["w"]
