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


def test_bare_words_are_marked_where_evaluation_reads_them_as_text() -> None:
    """`status == done`, `x != done`, `x in [a, b]`: the right-side names are bare words."""
    text = "status == done and lang in [python, 'go', go] and n != other and m == [p, q.r]"
    marked = {(r.root, text[r.column : r.end_column]) for r in references(text) if r.bare_word}
    assert marked == {
        ("done", "done"),
        ("python", "python"),
        ("go", "go"),
        ("other", "other"),
        ("p", "p"),
    }
    plain = {r.root for r in references(text) if not r.bare_word}
    assert plain == {"status", "lang", "n", "m", "q"}


def test_other_right_sides_are_plain_reads() -> None:
    for text in ["x < limit", "tag in tags", "x in [*xs, a]", "x == y.z", "f(a) == 'a'"]:
        assert not any(r.bare_word for r in references(text)), text
    # Only the right side: the left one is read as a key.
    assert [(r.root, r.bare_word) for r in references("done == status")] == [
        ("done", False),
        ("status", True),
    ]
    # Loop variables, literal names and `ctx` are never bare words.
    comprehension = "[i for i in xs if i == j]"
    assert [(r.root, r.bare_word) for r in references(comprehension)] == [
        ("xs", False),
        ("j", True),
    ]
    assert [r.root for r in references("x == None or x == ctx")] == ["x", "x"]
    loop = "for v in vs:\n    hit = hit or kind == v\n"
    assert not any(r.bare_word and r.root == "v" for r in references(loop))
