"""Every condition and transform in the real corpus parses (or warns), and the
expression-style ones evaluate against plausible state without crashing."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from engine.expressions import (
    ExpressionError,
    check_expression,
    check_transform,
    compile_expression,
    compile_transform,
)
from tests.support import corpus_dir

pytestmark = pytest.mark.corpus


def _strings(tree: Any, key: str) -> Iterator[str]:
    if isinstance(tree, dict):
        for name, value in tree.items():
            if name == key and isinstance(value, str):
                yield value
            yield from _strings(value, key)
    elif isinstance(tree, list):
        for item in tree:
            yield from _strings(item, key)


def _collect(key: str) -> list[tuple[str, str]]:
    found: dict[str, str] = {}
    for path in sorted(Path(corpus_dir()).glob("*.yaml")):
        tree = yaml.safe_load(path.read_text(encoding="utf-8"))
        for text in _strings(tree, key):
            found.setdefault(text, path.name)
    return sorted((file, text) for text, file in found.items())


def test_every_corpus_condition_compiles() -> None:
    conditions = _collect("condition")
    assert len(conditions) >= 25
    for file, text in conditions:
        assert check_expression(text) == [], f"{file}: {text!r}"
        compiled = compile_expression(text)
        assert compiled.names, f"{file}: {text!r} reads no state key"
        # A missing state never crashes a condition: null semantics apply.
        compiled.evaluate({})


def test_every_corpus_transform_compiles_or_only_warns() -> None:
    transforms = _collect("transform")
    assert len(transforms) >= 25
    for file, text in transforms:
        issues = check_transform(text)
        assert all(issue.severity == "warning" for issue in issues), f"{file}: {issues}"
        if not issues:
            compiled = compile_transform(text)
            assert compiled.writes, f"{file}: {text!r} writes nothing"


def test_corpus_transforms_run_with_plausible_state() -> None:
    state: dict[str, Any] = {
        "test_results": {"failed": 0},
        "lint_issues": 1,
        "type_issues": 2,
        "security_issues": 0,
        "security_critical": 0,
        "type_errors": 0,
        "results": [{"ok": 1}],
        "final_results": {"x": 1},
        "statistics": {"mean": 1},
        "correlation_matrix": {},
        "distribution_data": {},
        "anomalies": {},
        "insights": {"a": 1},
        "deep_insights": {},
        "refined_insights": {},
        "revision_count": 0,
        "pdf_content": [{"content": "ab"}],
        "docx_content": [],
        "md_content": None,
        "code_content": [{"content": "c"}],
        "chunks": [],
        "document_count": 3,
        "chunk_count": 9,
        "added": [1],
        "updated": [],
        "removed": [],
        "general_papers": [{"title": "t"}],
        "preprint_papers": [{"title": "t"}],
        "grey_lit": [],
        "literature_review": "r",
        "bibliography": "b",
        "process_result": "p",
        "entities": {},
        "topics": {},
        "temporal_refs": {},
    }
    functions = {"count_success": len, "count_errors": lambda xs: 0}
    for file, text in _collect("transform"):
        try:
            result = compile_transform(text, functions=functions).execute(state)
        except ExpressionError as error:  # pragma: no cover - shows which one failed
            pytest.fail(f"{file}: {text!r}: {error}")
        assert result


def test_victor_quirks_are_fixed() -> None:
    """Dotted paths, and/or, key-to-key comparisons work where Victor fell to 'default'."""
    state = {
        "coverage": 0.9,
        "min_coverage": 0.8,
        "cleanup_attempts": 1,
        "cleanup_quality": 0.5,
        "verification": {"count_match": True, "sample_search_works": False},
    }
    assert compile_expression("coverage >= min_coverage").evaluate(state) is True
    assert compile_expression("cleanup_attempts < 3 and cleanup_quality < 0.7").evaluate(state)
    assert (
        compile_expression(
            "verification.count_match and verification.sample_search_works"
        ).evaluate(state)
        is False
    )
