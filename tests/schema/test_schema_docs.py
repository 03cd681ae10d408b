"""engine.schema_docs: the fast tables agree with the schema, the corpus and jsonschema."""

from __future__ import annotations

import datetime
import math
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from engine import schema_docs
from engine.model import NodeType
from engine.schema_docs import (
    FieldSpec,
    allows_unknown_keys,
    check_value,
    field_doc,
    node_fields,
    node_type_doc,
    node_types,
    section_fields,
    section_names,
    workflow_fields,
)
from tests.support import corpus_dir, corpus_files

COMMON_KEYS = {
    "id", "type", "name", "description", "next", "retry_policy", "continue_on_error",
    "circuit_breaker_enabled", "timeout", "timeout_seconds", "profile", "output",
}  # fmt: skip


def all_tables() -> list[tuple[str, str, FieldSpec]]:
    contexts = [*node_types(), *section_names()]
    return [(c, k, spec) for c in contexts for k, spec in section_fields(c).items()]


# ------------------------------------------------------------------------- tables


def test_node_types_match_the_model() -> None:
    assert node_types()[0] == "agent"  # the default type comes first
    assert set(node_types()) == {t.value for t in NodeType}


@pytest.mark.parametrize("node_type", [t.value for t in NodeType])
def test_node_fields_have_common_and_own_keys(node_type: str) -> None:
    fields = node_fields(node_type)
    assert set(fields) >= COMMON_KEYS
    assert fields["type"].enum == (node_type,)
    assert node_type_doc(node_type).strip()
    for key, spec in fields.items():
        assert spec.name == key


@pytest.mark.parametrize(
    ("node_type", "keys"),
    [
        ("agent", {"role", "goal", "tool_budget", "tools", "input_mapping", "llm_config"}),
        ("compute", {"handler", "tools", "inputs", "constraints", "execution_target", "fail_fast"}),
        ("condition", {"condition", "branches"}),
        ("parallel", {"parallel_nodes", "join_strategy"}),
        ("transform", {"transform"}),
        ("hitl", {"hitl_type", "prompt", "context_keys", "choices", "default_value", "fallback"}),
        ("team", {"goal", "team_formation", "members", "merge_strategy", "merge_mode"}),
    ],
)
def test_node_fields_by_type(node_type: str, keys: set[str]) -> None:
    fields = node_fields(node_type)
    assert keys <= set(fields)
    assert not any(fields[k].ignored for k in keys)


def test_keys_of_one_type_are_not_allowed_on_another() -> None:
    assert "handler" not in node_fields("agent")
    assert "goal" not in node_fields("compute")
    assert "branches" not in node_fields("transform")


def test_unknown_node_type_has_no_fields() -> None:
    assert dict(node_fields("start")) == {}
    assert node_type_doc("start") == ""


def test_every_spec_has_a_description() -> None:
    empty = [f"{c}.{k}" for c, k, spec in all_tables() if len(spec.description.strip()) < 10]
    assert empty == []
    assert all(spec.markdown.strip() for _, _, spec in all_tables())


def test_workflow_fields() -> None:
    fields = workflow_fields()
    real: tuple[str, ...] = (
        "description",
        "metadata",
        "nodes",
        "start_node",
        "execution",
        "batch_config",
    )
    real += ("temporal_context", "services", "schedule", "max_iterations", "timeout")
    for key in real:
        assert key in fields and not fields[key].ignored, key
    ignored: tuple[str, ...] = (
        "error_handling",
        "state_schema",
        "defaults",
        "teams",
        "config",
        "version",
    )
    ignored += ("vertical", "arguments", "variables", "max_timeout_seconds")
    for key in ignored:
        assert fields[key].ignored, key
    assert fields["max_iterations"].default == 25
    assert fields["nodes"].section == "node" and fields["nodes"].section_kind == "items"
    assert fields["execution"].section == "execution"
    assert fields["services"].section == "service" and fields["services"].section_kind == "values"


def test_sections() -> None:
    names = set(section_names())
    expected = {"execution", "retry_policy", "llm_config", "team_member", "constraints"}
    expected |= {"batch_config", "temporal_context", "schedule", "service", "metadata"}
    expected |= {"stage_entry", "ref_entry", "overrides", "override_preset", "file"}
    assert names >= expected
    assert section_fields("execution")["max_timeout_seconds"].ignored_replacement == (
        "max_execution_timeout_seconds"
    )
    retry = {"max_attempts", "max_retries", "initial_delay", "delay_seconds"}
    retry |= {"backoff_multiplier", "max_delay", "jitter", "exponential_backoff"}
    assert set(section_fields("retry_policy")) == retry
    assert section_fields("constraints")["filesystem_allowed"].ignored
    assert section_fields("hitl") is node_fields("hitl")
    with pytest.raises(KeyError, match="execution"):
        section_fields("executoin")


def test_ignored_keys_carry_replacement_and_reason() -> None:
    agent = node_fields("agent")
    assert agent["allowed_tools"].ignored and agent["allowed_tools"].ignored_replacement == "tools"
    assert agent["output_key"].ignored_replacement == "output"
    assert agent["instructions"].ignored and agent["instructions"].ignored_replacement is None
    assert agent["allowed_tools"].deprecated
    # On team nodes output_key is the real key and output is the ignored one.
    team = node_fields("team")
    assert not team["output_key"].ignored
    assert team["output"].ignored_replacement == "output_key"
    for _, _, spec in all_tables():
        if spec.ignored:
            assert spec.ignored_reason
        else:
            assert spec.ignored_reason is None and spec.ignored_replacement is None


def test_sections_of_nested_values() -> None:
    assert node_fields("agent")["retry_policy"].section == "retry_policy"
    assert node_fields("agent")["llm_config"].section == "llm_config"
    assert node_fields("team")["members"].section == "team_member"
    assert node_fields("team")["members"].section_kind == "items"
    assert node_fields("compute")["constraints"].section == "constraints"
    assert node_fields("hitl")["choices"].section == "hitl_choice"
    assert section_fields("stage_entry")["overrides"].section == "overrides"


def test_open_and_closed_sections() -> None:
    for open_section in ("llm_config", "metadata", "service", "services", "file"):
        assert allows_unknown_keys(open_section), open_section
    for closed in ("execution", "retry_policy", "team_member", "constraints", *node_types()):
        assert not allows_unknown_keys(closed), closed


def test_union_tables_cover_every_node_key() -> None:
    every_key = {k for t in node_types() for k in node_fields(t)}
    assert every_key <= set(section_fields("node"))
    assert every_key - {"id"} <= set(section_fields("overrides"))
    assert "stage" in section_fields("stage_entry") and "$ref" in section_fields("ref_entry")
    # A key that is real on some node type is not reported as ignored in the union.
    assert not section_fields("node")["output_key"].ignored
    assert not section_fields("node")["handler"].ignored


# ------------------------------------------------------------------------- hover docs


def test_field_doc_renders_markdown() -> None:
    doc = field_doc("compute", "constraints")
    assert doc is not None and doc.startswith("**constraints**") and "blocked" in doc
    doc = field_doc(None, "max_iterations")
    assert doc is not None and "`25`" in doc
    doc = field_doc("hitl", "fallback")
    assert doc is not None and "`continue`" in doc and "`abort`" in doc
    doc = field_doc("agent", "allowed_tools")
    assert doc is not None and "Ignored by Victor" in doc and "`tools`" in doc
    assert field_doc("retry_policy", "jitter") is not None


def test_field_doc_unknown_is_none() -> None:
    assert field_doc("agent", "handler") is None
    assert field_doc("nonsense", "id") is None
    assert field_doc(None, "nodez") is None


def test_misspelt_field_suggestions() -> None:
    from engine.suggest import close_matches

    assert close_matches("toolz", node_fields("compute")) == ["tools"]
    assert close_matches("paralel_nodes", node_fields("parallel")) == ["parallel_nodes"]
    assert close_matches("zzzzzz", node_fields("agent")) == []


def test_schema_loaded_once() -> None:
    assert schema_docs.load_schema() is schema_docs.load_schema()
    assert schema_docs.schema_path().is_file()


# ------------------------------------------------------------------------- check_value


@pytest.mark.parametrize(
    ("context", "key", "value", "message"),
    [
        ("agent", "tool_budget", 10, None),
        ("agent", "tool_budget", 10.0, None),
        ("agent", "tool_budget", "many", "expected integer, got string"),
        ("agent", "tool_budget", True, "expected integer, got boolean"),
        ("agent", "tool_budget", -1, "must be at least 0 (got -1)"),
        ("agent", "timeout", 1.5, None),
        ("agent", "timeout", 30, None),
        ("agent", "tools", ["read", "grep"], None),
        ("agent", "tools", "read", "expected array, got string"),
        ("agent", "tools", ["read", 3], "item 2: expected string, got integer"),
        ("agent", "id", "", "must not be empty"),
        ("hitl", "fallback", "continue", None),
        ("hitl", "fallback", "reject", "must be one of abort, continue, skip, retry (got reject)"),
        ("hitl", "choices", ["Yes", {"label": "No"}], None),
        ("hitl", "choices", [True], "item 1: expected string or object, got boolean"),
        ("hitl", "default_value", {"any": ["thing"]}, None),
        ("compute", "constraints", "none", None),
        ("compute", "constraints", ["llm", "write"], None),
        ("compute", "constraints", {"llm_allowed": False}, None),
        ("compute", "constraints", "all", "must be one of none (got all)"),
        ("compute", "constraints", ["gpu"], "item 1 must be one of"),
        ("compute", "constraints", 5, "expected string or array or object, got integer"),
        ("compute", "execution_target", "docker", None),
        ("compute", "execution_target", "cloud", "must be one of in-process, subprocess, docker"),
        ("condition", "branches", {"true": "a", "false": "b"}, None),
        ("condition", "branches", {"true": ["a"]}, "value of 'true': expected string, got array"),
        ("condition", "branches", {}, "must not be empty"),
        ("team", "members", [], "must not be empty"),
        ("team", "team_formation", "adaptive", None),
        ("parallel", "join_strategy", "first", None),
        ("schedule", "start_date", datetime.date(2025, 1, 1), None),
        ("retry_policy", "jitter", 2, "must be at most 1 (got 2)"),
        ("metadata", "version", "1.0", None),
        ("metadata", "version", 2, None),
        ("agent", "llm_config", {"temperature": 0.2}, None),
        ("agent", "llm_config", [], "expected object, got array"),
    ],
)
def test_check_value(context: str, key: str, value: Any, message: str | None) -> None:
    result = check_value(section_fields(context)[key], value)
    if message is None:
        assert result is None
    else:
        assert result is not None and result.startswith(message), result


def test_enum_does_not_confuse_booleans_with_numbers() -> None:
    spec = FieldSpec(name="x", description="d", json_types=("integer",), enum=(1, 2))
    assert check_value(spec, 1) is None
    assert check_value(spec, True) == "expected integer, got boolean"


scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-5, max_value=5000),
    st.floats(allow_nan=False, allow_infinity=False, min_value=-10, max_value=5000),
    st.text(max_size=6),
    st.sampled_from(
        ["none", "llm", "all", "abort", "continue", "agent", "in-process", "team_wins"]
    ),
)
values = st.one_of(
    scalars,
    st.lists(scalars, max_size=3),
    st.dictionaries(st.text(max_size=4), scalars, max_size=3),
)


def _comparable(spec: FieldSpec, value: Any) -> bool:
    """Values whose validity depends only on what FieldSpec records."""
    if isinstance(value, dict) and spec.section is not None:
        return False  # check_value leaves the keys of a section to its own table
    if isinstance(value, list) and spec.name == "constraints":
        return len(set(map(repr, value))) == len(value) and ("none" not in value or len(value) == 1)
    return not (isinstance(value, float) and not math.isfinite(value))


@pytest.mark.parametrize("node_type", [t.value for t in NodeType])
@settings(max_examples=60, deadline=None)
@given(value=values)
def test_check_value_agrees_with_jsonschema(node_type: str, value: Any) -> None:
    root = Draft202012Validator(dict(schema_docs.load_schema()))
    node_schema = schema_docs.load_schema()["$defs"][f"{node_type}Node"]["properties"]
    for key, spec in node_fields(node_type).items():
        if not _comparable(spec, value):
            continue
        expected_ok = root.evolve(schema=node_schema[key]).is_valid(value)
        message = check_value(spec, value)
        assert (message is None) == expected_ok, (key, value, message)


# ------------------------------------------------------------------------- corpus


def _corpus_nodes(data: Any) -> list[tuple[str, dict[str, Any]]]:
    """(context, node mapping) for every node entry, template and preset in a file."""
    found: list[tuple[str, dict[str, Any]]] = []

    def context_of(node: dict[str, Any]) -> str:
        if "$ref" in node:
            return "ref_entry"
        if "stage" in node:
            return "stage_entry"
        return str(node.get("type", "agent"))

    def add_workflow(body: Any) -> None:
        for node in body.get("nodes", []) if isinstance(body, dict) else []:
            found.append((context_of(node), node))

    if isinstance(data.get("workflows"), dict):
        for body in data["workflows"].values():
            add_workflow(body)
    elif "stage_templates" in data or "override_presets" in data:
        found += [(context_of(n), n) for n in (data.get("stage_templates") or {}).values()]
        found += [("override_preset", n) for n in (data.get("override_presets") or {}).values()]
    elif isinstance(data.get("nodes"), list):
        found += [(context_of(n), n) for n in data["nodes"]]
    else:
        for body in data.values():
            add_workflow(body)
    return found


CORPUS = [pytest.param(p, id=p.name) for p in corpus_files()] or [
    pytest.param(None, id="corpus-absent")
]


@pytest.mark.corpus
@pytest.mark.parametrize("path", CORPUS)
def test_corpus_keys_and_values_pass_the_fast_checks(path: Path | None) -> None:
    corpus_dir()
    assert path is not None
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    nodes = _corpus_nodes(data)
    assert nodes, "every corpus file has nodes, templates or presets"
    problems = []
    for context, node in nodes:
        fields = section_fields(context)
        for key, value in node.items():
            spec = fields.get(key)
            if spec is None:
                problems.append(f"{node.get('id')}: unknown key {key!r} for {context}")
            elif (message := check_value(spec, value)) is not None:
                problems.append(f"{node.get('id')}.{key}: {message}")
    assert problems == []


@pytest.mark.corpus
def test_corpus_ignored_keys_are_flagged() -> None:
    flagged: set[str] = set()
    for path in sorted(corpus_dir().glob("*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        for context, node in _corpus_nodes(data):
            fields = section_fields(context)
            flagged |= {k for k in node if k in fields and fields[k].ignored}
            if isinstance(node.get("constraints"), dict):
                legacy = section_fields("constraints")
                flagged |= {k for k in node["constraints"] if legacy[k].ignored}
        for body in (data.get("workflows") or {}).values():
            flagged |= {k for k in body if workflow_fields()[k].ignored}
            execution = body.get("execution") or {}
            flagged |= {k for k in execution if section_fields("execution")[k].ignored}
    # The keys the reference lists as silently ignored by Victor in these files.
    expected = {"allowed_tools", "instructions", "sandbox_dir", "filesystem_allowed"}
    expected |= {"error_handling", "max_timeout_seconds"}
    assert expected <= flagged
    assert "output_key" not in flagged  # only team nodes use it in the corpus, where it is real
