"""Missing keys read as null; ordering with null is False and leaves a note."""

from __future__ import annotations

import pytest

from engine.expressions import ExpressionRuntimeError, compile_expression


def test_missing_key_reads_as_null_with_note() -> None:
    result = compile_expression("missing").evaluate_with_notes({})
    assert result.value is None
    assert [note.message for note in result.notes] == ["'missing' is not set; read as null"]
    assert (result.notes[0].column, result.notes[0].end_column) == (0, 7)


def test_dotted_path_through_missing_key_is_null() -> None:
    compiled = compile_expression("approval_result.choice")
    assert compiled.evaluate({}) is None
    assert compiled.evaluate({"approval_result": {}}) is None
    notes = compiled.evaluate_with_notes({"approval_result": {}}).notes
    assert any("has no key 'choice'" in note.message for note in notes)


@pytest.mark.parametrize("text", ["x < 3", "x >= 0", "3 > x", "x <= y"])
def test_ordering_with_null_is_false_and_noted(text: str) -> None:
    result = compile_expression(text).evaluate_with_notes({"y": 1})
    assert result.value is False
    assert any("with null is false" in note.message for note in result.notes)


def test_not_of_null_comparison_is_true() -> None:
    assert compile_expression("not (x < 3)").evaluate({}) is True


def test_equality_with_null_is_plain() -> None:
    assert compile_expression("x == null").evaluate({}) is True
    assert compile_expression("x != 1").evaluate({}) is True


def test_membership_in_null_container_is_false() -> None:
    result = compile_expression("'a' in tags").evaluate_with_notes({})
    assert result.value is False
    assert any("treated as empty" in note.message for note in result.notes)
    assert compile_expression("'a' not in tags").evaluate({}) is True


def test_get_on_missing_mapping_returns_default() -> None:
    assert compile_expression("test_results.get('failed', 0) == 0").evaluate({}) is True


def test_arithmetic_with_null_is_error_that_says_missing() -> None:
    with pytest.raises(ExpressionRuntimeError, match="null means the key is missing"):
        compile_expression("revision_count + 1").evaluate({})


def test_fast_path_collects_no_notes_and_gives_same_value() -> None:
    compiled = compile_expression("a.b < 3 or c")
    assert compiled.evaluate({}) == compiled.evaluate_with_notes({}).value


def test_notes_are_not_repeated() -> None:
    result = compile_expression("[x for i in range(5)]").evaluate_with_notes({})
    assert len(result.notes) == 1


def test_bare_word_after_equality_or_in_a_list_is_its_text_when_no_such_key() -> None:
    """Victor reads `status == done` and `x in [a, b]` with bare words as strings."""
    equal = compile_expression("status == done")
    assert equal.evaluate({"status": "done"}) is True
    assert equal.evaluate({"status": "done", "done": "other"}) is False
    result = equal.evaluate_with_notes({"status": "done"})
    assert any("compared as the text 'done'" in note.message for note in result.notes)
    assert compile_expression("lang in [python, go]").evaluate({"lang": "go"}) is True
    assert compile_expression("lang not in (python, go)").evaluate({"lang": "c"}) is True


def test_bare_words_stay_keys_elsewhere() -> None:
    # A missing container is still empty, not the text of its name.
    assert compile_expression("'a' in tags").evaluate({}) is False
    # The left side and ordering comparisons read keys only.
    assert compile_expression("done == 'done'").evaluate({}) is False
    assert compile_expression("x < limit").evaluate({"x": 1}) is False
    assert compile_expression("x == null").evaluate({}) is True
