"""State query paths: parse, read, copy-on-write write."""

from __future__ import annotations

from typing import Any

import pytest

from engine.expressions import (
    ExpressionSyntaxError,
    PathIndexError,
    PathKeyError,
    format_path,
    get_path,
    parse_path,
    set_path,
)


@pytest.mark.parametrize(
    ("text", "path"),
    [
        ("user.name", ("user", "name")),
        ("items[0].id", ("items", 0, "id")),
        ("data['k'].x", ("data", "k", "x")),
        ('data["a.b"][-1]', ("data", "a.b", -1)),
        ("data['it\\'s']", ("data", "it's")),
        ("  spaced.key  ", ("spaced", "key")),
        ("_internal.v2-beta", ("_internal", "v2-beta")),
        ("ключ.é", ("ключ", "é")),
    ],
)
def test_parse_path(text: str, path: tuple[object, ...]) -> None:
    assert parse_path(text) == path


@pytest.mark.parametrize("text", ["", "a.", "a..b", "a[", "a[x]", "a]", ".a", "a['b'", "a b"])
def test_parse_path_errors(text: str) -> None:
    with pytest.raises(ExpressionSyntaxError):
        parse_path(text)


def test_parse_path_error_has_column() -> None:
    with pytest.raises(ExpressionSyntaxError) as info:
        parse_path("items[x].id")
    assert info.value.column == 5


def test_format_path_round_trip() -> None:
    for path in [("a", 0, "b"), ("a", "b.c"), ("a", "it's"), ("x", "0")]:
        assert parse_path(format_path(path)) == path


STATE: dict[str, Any] = {"user": {"name": "Ann"}, "items": [{"id": "a"}, {"id": "b"}], "n": 3}


def test_get_path() -> None:
    assert get_path(STATE, "user.name") == "Ann"
    assert get_path(STATE, "items[1].id") == "b"
    assert get_path(STATE, ("items", -1)) == {"id": "b"}


def test_get_path_errors_are_clear() -> None:
    with pytest.raises(PathKeyError, match="no key 'age' in user"):
        get_path(STATE, "user.age")
    with pytest.raises(PathIndexError, match="items has 2 items"):
        get_path(STATE, "items[5]")
    with pytest.raises(KeyError, match="n is a int"):
        get_path(STATE, "n.x")
    with pytest.raises(KeyError, match="is a list"):
        get_path(STATE, "items.id")


def test_set_path_is_copy_on_write() -> None:
    new: dict[str, Any] = set_path(STATE, "items[0].id", "z")
    assert new["items"][0] == {"id": "z"}
    assert STATE["items"][0] == {"id": "a"}
    assert new["user"] is STATE["user"]
    assert new["items"][1] is STATE["items"][1]
    assert new is not STATE


def test_set_path_creates_missing_mappings() -> None:
    assert set_path({}, "a.b.c", 1) == {"a": {"b": {"c": 1}}}


def test_set_path_errors() -> None:
    with pytest.raises(PathIndexError):
        set_path(STATE, "items[9]", 1)
    with pytest.raises(KeyError):
        set_path(STATE, "n.x", 1)
