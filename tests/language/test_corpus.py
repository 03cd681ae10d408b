"""Every real Victor file compiles with zero errors, and libraries are recognised."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from engine.compiler import compile_file
from engine.config import CompileConfig
from engine.loader import parse_yaml
from engine.model import EdgeKind, FileKind, Severity
from tests.support import corpus_dir, corpus_files

CORPUS = corpus_files()


def _ids(paths: list[Path]) -> list[str]:
    return [p.name for p in paths]


def test_corpus_is_present_or_skipped() -> None:
    corpus_dir()
    assert len(CORPUS) >= 12


@pytest.mark.parametrize("path", CORPUS, ids=_ids(CORPUS))
def test_corpus_file_compiles_without_errors(path: Path) -> None:
    result = compile_file(path, CompileConfig(workspace_root=str(path.parent)))
    errors = [p.format() for p in result.errors]
    assert errors == []
    assert result.kind is not FileKind.NOT_WORKFLOW


def test_library_files_are_libraries() -> None:
    folder = corpus_dir()
    assert compile_file(folder / "hitl_gates.yaml").kind is FileKind.NODE_LIBRARY
    assert compile_file(folder / "common_stages.yaml").kind is FileKind.STAGE_LIBRARY


def test_multi_workflow_file_keeps_names_and_order() -> None:
    result = compile_file(corpus_dir() / "bugfix.yaml")
    assert result.workflow_names == ("bug_fix", "quick_fix", "debug_investigation")


def test_stage_file_uses_templates_from_its_own_folder() -> None:
    folder = corpus_dir()
    result = compile_file(folder / "feb2026_coding_bugfix.yaml")
    workflow = result.workflows[0]
    investigate = workflow.node("investigate")
    assert investigate.origin is not None and investigate.origin.kind == "stage"
    assert investigate.origin.name == "analyze_stage"
    assert investigate.type.value == "agent"
    assert investigate.output == "investigation"
    assert str(folder / "common_stages.yaml") in result.dependencies


def test_corpus_node_spans_cover_their_ids() -> None:
    path = corpus_dir() / "code_review.yaml"
    lines = path.read_text().splitlines()
    result = compile_file(path)
    for workflow in result.workflows:
        for node in workflow.nodes:
            span = node.id_span
            assert lines[span.line][span.column : span.end_column].strip("\"'") == node.id
            assert node.span.contains_line(span.line)


def test_dead_end_branch_target_falls_through_like_victor() -> None:
    workflow = compile_file(corpus_dir() / "code_review.yaml").workflows[0]
    no_changes = workflow.node("no_changes")
    assert no_changes.auto_chained
    assert no_changes.next == ("parallel_analysis",)
    assert any(r.kind is EdgeKind.AUTO for r in no_changes.refs)


@pytest.mark.parametrize("path", CORPUS, ids=_ids(CORPUS))
def test_c_and_python_parsers_give_identical_trees(path: Path, monkeypatch) -> None:
    text = path.read_text(encoding="utf-8")
    import engine.loader as loader

    fast = parse_yaml(text, str(path))
    monkeypatch.setattr(loader, "_Parser", yaml.SafeLoader)
    slow = parse_yaml(text, str(path))
    assert fast.root == slow.root
    assert fast.root is not None and fast.root.to_python() == yaml.safe_load(text)


def test_corpus_warnings_are_the_known_victor_quirks() -> None:
    allowed = {"VW501", "VW504", "VW117", "VW102"}
    for path in CORPUS:
        for problem in compile_file(path).problems:
            if problem.severity is Severity.WARNING:
                assert problem.code in allowed, problem.format()
