"""`$ref` node libraries, `stage:` templates, environment substitution and hostile YAML."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from engine import compile
from engine.compiler import compile_file
from engine.config import CompileConfig
from engine.model import HitlNode, Severity
from engine.unified_compiler import UnifiedWorkflowCompiler, WorkflowCompileError
from tests.support import marker_line


def _write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


LIBRARY = """\
nodes:
  - id: approval_gate
    type: hitl
    hitl_type: approval
    prompt: "Approve {current_state}?"
    timeout: 900
    fallback: abort
"""


def test_ref_merges_library_node_and_local_keys_override(tmp_path: Path) -> None:
    _write(tmp_path, "common/gates.yaml", LIBRARY)
    wf = _write(
        tmp_path,
        "wf.yaml",
        """\
        workflows:
          w:
            nodes:
              - $ref: "./common/gates.yaml#approval_gate"
                id: approve
                timeout: 60
        """,
    )
    result = compile_file(wf)
    assert result.ok, [p.format() for p in result.problems]
    node = result.workflows[0].node("approve")
    assert isinstance(node, HitlNode)
    assert node.timeout == 60 and node.fallback == "abort" and node.prompt.startswith("Approve")
    assert node.origin is not None and node.origin.source.endswith("gates.yaml")
    assert node.origin.name == "approval_gate"


def test_ref_outside_workspace_is_refused(tmp_path: Path) -> None:
    _write(tmp_path, "gates.yaml", LIBRARY)
    wf = _write(
        tmp_path,
        "project/wf.yaml",
        """\
        workflows:
          w:
            nodes:
              - $ref: "../gates.yaml#approval_gate"
        """,
    )
    result = compile_file(wf, CompileConfig(workspace_root=str(tmp_path / "project")))
    problem = next(p for p in result.problems if p.code == "VW513")
    assert problem.severity is Severity.ERROR and "workspace" in problem.message


def test_ref_to_missing_node_lists_the_library_nodes(tmp_path: Path) -> None:
    _write(tmp_path, "gates.yaml", LIBRARY)
    wf = _write(
        tmp_path,
        "wf.yaml",
        """\
        workflows:
          w:
            nodes:
              - $ref: "./gates.yaml#aproval_gate"   # @ref
        """,
    )
    problem = next(p for p in compile_file(wf).problems if p.code == "VW512")
    assert "approval_gate" in problem.message
    assert problem.span.line == marker_line(wf.read_text(), "ref")


def test_errors_inside_a_library_are_reported_at_the_ref_site(tmp_path: Path) -> None:
    _write(tmp_path, "gates.yaml", "nodes:\n  - id: g\n    type: hitl\n    prompt: [unclosed\n")
    wf = _write(
        tmp_path, "wf.yaml", 'workflows:\n  w:\n    nodes:\n      - $ref: "./gates.yaml#g"\n'
    )
    problems = compile_file(wf).problems
    assert problems and problems[0].source == str(wf)
    related = [r for p in problems for r in p.related]
    assert any(r.source.endswith("gates.yaml") for r in related)


STAGES = """\
stage_templates:
  review_stage:
    type: agent
    role: reviewer
    goal: "Review"
    tool_budget: 10
    llm_config: {temperature: 0.2, max_tokens: 100}
    tools: [read, grep]
override_presets:
  quick:
    tool_budget: 5
"""


def test_stage_templates_deep_merge_overrides_and_presets(tmp_path: Path) -> None:
    _write(tmp_path, "stages.yaml", STAGES)
    wf = _write(
        tmp_path,
        "wf.yaml",
        """\
        workflows:
          w:
            nodes:
              - id: r1
                stage: review_stage
                overrides:
                  llm_config: {temperature: 0.5}
                  tools: [shell]
              - id: r2
                stage: review_stage
                overrides: "preset:quick"
        """,
    )
    result = compile_file(wf)
    assert result.ok, [p.format() for p in result.problems]
    r1, r2 = result.workflows[0].nodes
    assert r1.llm_config == {"temperature": 0.5, "max_tokens": 100}  # type: ignore[union-attr]
    assert r1.tools == ("shell",)  # type: ignore[union-attr]
    assert r2.tool_budget == 5 and r2.role == "reviewer"  # type: ignore[union-attr]


def test_unknown_stage_is_an_error_with_suggestion(tmp_path: Path) -> None:
    _write(tmp_path, "stages.yaml", STAGES)
    wf = _write(
        tmp_path,
        "wf.yaml",
        "workflows:\n  w:\n    nodes:\n      - id: a\n        stage: reviw_stage\n",
    )
    problem = next(p for p in compile_file(wf).problems if p.code == "VW514")
    assert "review_stage" in problem.message


def test_stage_library_from_config(tmp_path: Path) -> None:
    stages = _write(tmp_path, "lib/stages.yaml", STAGES)
    wf = _write(
        tmp_path,
        "flows/wf.yaml",
        "workflows:\n  w:\n    nodes:\n      - id: a\n        stage: review_stage\n",
    )
    assert not compile_file(wf).ok
    assert compile_file(wf, CompileConfig(stage_libraries=(str(stages),))).ok


def test_environment_substitution_keeps_runtime_placeholders() -> None:
    text = textwrap.dedent(
        """\
        workflows:
          w:
            nodes:
              - id: a
                goal: "model $env.MODEL_NAME in ${REGION:-eu} for ${image_tag} and $env.UNSET_X"
        """
    )
    env = {"MODEL_NAME": "llama"}
    goal = (
        compile(text, source="/tmp/w.yaml", config=CompileConfig(environ=env)).workflows[0].nodes[0]
    )
    assert goal.goal == "model llama in eu for ${image_tag} and $env.UNSET_X"  # type: ignore[union-attr]
    with_var = compile(
        text, source="/tmp/w.yaml", config=CompileConfig(environ={"image_tag": "v2"})
    )
    assert "for v2" in with_var.workflows[0].nodes[0].goal  # type: ignore[union-attr]


def test_state_reads_have_spans_inside_block_scalars() -> None:
    text = textwrap.dedent(
        """\
        workflows:
          w:
            nodes:
              - id: a
                goal: |
                  First line
                  Use {{user_task}} and $ctx.repo.path here   # @refs
        """
    )
    node = compile(text, source="/tmp/w.yaml").workflows[0].nodes[0]
    line = marker_line(text, "refs")
    source_line = text.splitlines()[line]
    found = {r.path: r for r in node.state_reads}
    for path, written in (("user_task", "{{user_task}}"), ("repo.path", "$ctx.repo.path")):
        span = found[path].span
        assert span.line == line
        assert source_line[span.column : span.end_column] == written
    assert found["repo.path"].key == "repo"


ALIAS_BOMB = "\n".join(
    [f"l0: &l0 [{', '.join(['x'] * 9)}]"]
    + [f"l{i}: &l{i} [{', '.join([f'*l{i - 1}'] * 9)}]" for i in range(1, 9)]
)


@pytest.mark.timeout(10)
def test_alias_bomb_is_refused_quickly() -> None:
    result = compile(ALIAS_BOMB, source="/tmp/bomb.yaml")
    assert any(p.code == "VW005" for p in result.problems)


@pytest.mark.timeout(10)
def test_deep_nesting_is_refused() -> None:
    block = "".join(f"{'  ' * i}k{i}:\n" for i in range(200)) + f"{'  ' * 200}leaf\n"
    for text in ("[" * 3000 + "]" * 3000, block):
        result = compile(text, source="/tmp/deep.yaml")
        assert any(p.code in ("VW004", "VW001") for p in result.problems)


def test_unified_compiler_raises_one_error_listing_problems(tmp_path: Path) -> None:
    wf = _write(
        tmp_path,
        "wf.yaml",
        "workflows:\n  w:\n    nodes:\n      - id: a\n        next: [ghost]\n"
        "  v:\n    nodes:\n      - id: b\n",
    )
    compiler = UnifiedWorkflowCompiler()
    with pytest.raises(WorkflowCompileError) as caught:
        compiler.compile_yaml(wf, "w")
    assert "wf.yaml:5:" in str(caught.value) and caught.value.problems
    fixed = _write(
        tmp_path,
        "ok.yaml",
        "workflows:\n  w:\n    nodes:\n      - id: a\n  v:\n    nodes:\n      - id: b\n",
    )
    assert compiler.compile_yaml(fixed, "v").name == "v"
    with pytest.raises(WorkflowCompileError, match="several workflows"):
        compiler.compile_yaml(fixed)
    with pytest.raises(WorkflowCompileError, match="no workflow 'x'"):
        compiler.compile_yaml(fixed, "x")


def test_nested_ref_in_a_library_is_reported_not_followed(tmp_path: Path) -> None:
    _write(tmp_path, "a.yaml", 'nodes:\n  - id: x\n    $ref: "./b.yaml#y"\n')
    _write(tmp_path, "b.yaml", 'nodes:\n  - id: y\n    $ref: "./a.yaml#x"\n')
    wf = _write(tmp_path, "wf.yaml", 'workflows:\n  w:\n    nodes:\n      - $ref: "./a.yaml#x"\n')
    result = compile_file(wf)
    problem = next(p for p in result.problems if p.code == "VW516")
    assert problem.severity is Severity.WARNING and problem.related
    assert result.workflows[0].nodes[0].id == "x"


def test_a_library_field_problem_at_the_ref_site_carries_no_fix_that_would_rewrite_the_ref(
    tmp_path: Path,
) -> None:
    _write(tmp_path, "gates.yaml", LIBRARY.replace("hitl_type: approval", "hitl_type: aproval"))
    wf = _write(
        tmp_path,
        "wf.yaml",
        'workflows:\n  w:\n    nodes:\n      - $ref: "./gates.yaml#approval_gate"\n',
    )
    (problem,) = [p for p in compile_file(wf).problems if p.code == "VW103"]
    assert problem.source == str(wf)  # shown at the $ref
    assert problem.fixes == ()  # "Change to 'approval'" would have replaced the $ref path


def test_a_library_whose_node_is_missing_is_still_a_dependency(tmp_path: Path) -> None:
    library = _write(tmp_path, "gates.yaml", LIBRARY)
    wf = _write(
        tmp_path, "wf.yaml", 'workflows:\n  w:\n    nodes:\n      - $ref: "./gates.yaml#nope"\n'
    )
    result = compile_file(wf)
    assert any(p.code == "VW512" for p in result.problems)
    # editing the library (adding the node) must re-check this workflow
    assert str(library) in result.dependencies
