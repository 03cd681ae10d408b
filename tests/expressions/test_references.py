"""reference_spans / references: state keys used in conditions and transforms, with spans."""

from __future__ import annotations

from engine.expressions import reference_spans, references


def spans(text: str) -> list[tuple[str, str, str]]:
    return [
        (root, path, text[col:end])
        for root, path, line, col, _, end in reference_spans(text)
        if line == 0
    ]


def test_dotted_and_subscript_paths() -> None:
    text = "user.name == other['k'][0].x and items[i].id"
    assert spans(text) == [
        ("user", "user.name", "user.name"),
        ("other", "other.k[0].x", "other['k'][0].x"),
        ("items", "items", "items"),
        ("i", "i", "i"),
    ]


def test_ctx_forms_map_to_keys() -> None:
    text = "ctx.a and ctx['b'] and ctx.get('c', 1)"
    assert [root for root, *_ in reference_spans(text)] == ["a", "b", "c"]


def test_method_receivers_and_function_names() -> None:
    text = "test_results.get('failed', 0) == 0 and len(xs) > 0"
    assert [path for _, path, *_ in reference_spans(text)] == ["test_results", "xs"]


def test_comprehension_variables_and_literals_excluded() -> None:
    text = "[d.content for d in docs if d.ok and true]"
    assert [root for root, *_ in reference_spans(text)] == ["docs"]


def test_unicode_columns_are_code_points() -> None:
    text = "'é' == ключ.x"
    ((_, _, _, col, _, end_col),) = reference_spans(text)
    assert text[col:end_col] == "ключ.x"


def test_transform_reads_and_writes_with_lines() -> None:
    text = "total = a + b\nfor x in xs:\n    log.append(x)\n"
    refs = references(text)
    assert [(r.root, r.kind, r.line) for r in refs] == [
        ("total", "write", 0),
        ("a", "read", 0),
        ("b", "read", 0),
        ("xs", "read", 1),
        ("log", "read", 2),
        ("log", "write", 2),
    ]
    assert [root for root, *_ in reference_spans(text)] == ["a", "b", "xs", "log"]


def test_never_raises() -> None:
    for text in ["a +", "", "x.__class__", "(" * 500, "\x00", "def f(:"]:
        assert isinstance(reference_spans(text), list)
