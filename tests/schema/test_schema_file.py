"""The JSON Schema file itself: valid 2020-12, standard keywords only, documented everywhere,
accepts every real Victor file and rejects the mistakes it is meant to catch."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from engine.schema_docs import SCHEMA_ID, schema_path
from tests.schema.conftest import to_json_data
from tests.support import corpus_dir, corpus_files

STANDARD_KEYWORDS = frozenset(
    """$schema $id $ref $defs $comment $anchor $dynamicRef $dynamicAnchor $vocabulary
    allOf anyOf oneOf not if then else dependentSchemas prefixItems items contains properties
    patternProperties additionalProperties propertyNames unevaluatedItems unevaluatedProperties
    type enum const multipleOf maximum exclusiveMaximum minimum exclusiveMinimum maxLength
    minLength pattern maxItems minItems uniqueItems maxContains minContains maxProperties
    minProperties required dependentRequired title description default deprecated readOnly
    writeOnly examples format contentEncoding contentMediaType contentSchema""".split()  # noqa: SIM905
)
EDITOR_KEYWORDS = frozenset({"markdownDescription"})
NAMED_SCHEMA_MAPS = ("properties", "patternProperties", "$defs", "dependentSchemas")
SINGLE_SCHEMAS = (
    "items", "additionalProperties", "not", "if", "then", "else", "contains",
    "propertyNames", "unevaluatedProperties", "unevaluatedItems",
)  # fmt: skip
SCHEMA_LISTS = ("allOf", "anyOf", "oneOf", "prefixItems")


def subschemas(
    schema: dict[str, Any], path: str = "#", *, into_conditions: bool = True
) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every schema object in the document, with a readable path."""
    yield path, schema
    for key, value in schema.items():
        if key.startswith("x-"):
            continue
        if key in NAMED_SCHEMA_MAPS and isinstance(value, dict):
            for name, sub in value.items():
                yield from subschemas(sub, f"{path}/{key}/{name}", into_conditions=into_conditions)
        elif key in SINGLE_SCHEMAS and isinstance(value, dict):
            if key == "if" and not into_conditions:
                continue
            yield from subschemas(value, f"{path}/{key}", into_conditions=into_conditions)
        elif key in SCHEMA_LISTS and isinstance(value, list):
            for i, sub in enumerate(value):
                yield from subschemas(sub, f"{path}/{key}/{i}", into_conditions=into_conditions)


def deref(root: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    seen = 0
    while "$ref" in schema and "description" not in schema:
        node: Any = root
        for part in schema["$ref"].removeprefix("#/").split("/"):
            node = node[part]
        schema = node
        seen += 1
        assert seen < 20, "reference loop"
    return schema


def test_schema_is_valid_draft_2020_12(schema: dict[str, Any]) -> None:
    Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["$id"] == SCHEMA_ID
    assert schema["title"] and schema["description"]


def test_schema_file_ships_inside_the_engine_package() -> None:
    path = schema_path()
    assert path.is_file()
    assert path.parent.name == "schema" and path.parent.parent.name == "engine"


def test_only_standard_keywords_and_x_annotations(schema: dict[str, Any]) -> None:
    odd = [
        f"{path}: {key}"
        for path, sub in subschemas(schema)
        for key in sub
        if key not in STANDARD_KEYWORDS and key not in EDITOR_KEYWORDS and not key.startswith("x-")
    ]
    assert odd == [], "non-standard keywords (yaml-language-server would ignore them)"


def test_all_refs_are_local_and_resolve(schema: dict[str, Any]) -> None:
    for path, sub in subschemas(schema):
        if "$ref" in sub:
            assert sub["$ref"].startswith("#/"), path
            deref(schema, {"$ref": sub["$ref"]})  # raises KeyError when dangling


def test_every_field_has_a_description(schema: dict[str, Any]) -> None:
    missing = []
    for path, sub in subschemas(schema, into_conditions=False):
        for name, prop in sub.get("properties", {}).items():
            target = deref(schema, prop)
            text = prop.get("description") or target.get("description")
            if not isinstance(text, str) or len(text.strip()) < 10:
                missing.append(f"{path}/properties/{name}")
    assert missing == []


def test_every_definition_has_a_description(schema: dict[str, Any]) -> None:
    assert [name for name, d in schema["$defs"].items() if not d.get("description")] == []


def test_enum_descriptions_cover_exactly_the_enum(schema: dict[str, Any]) -> None:
    for path, sub in subschemas(schema):
        if "x-enum-descriptions" in sub and "enum" in sub:
            assert set(sub["x-enum-descriptions"]) == set(sub["enum"]), path


def test_ignored_annotations_are_well_formed(schema: dict[str, Any]) -> None:
    found = 0
    for path, sub in subschemas(schema):
        for name, prop in sub.get("properties", {}).items():
            note = prop.get("x-victor-ignored")
            if note is None:
                continue
            found += 1
            assert set(note) == {"replacement", "reason"}, f"{path}/{name}"
            assert isinstance(note["reason"], str) and note["reason"].strip()
            if note["replacement"] is not None:
                # The suggested key must be valid right where the ignored one is written.
                replacement = sub["properties"].get(note["replacement"])
                assert replacement is not None, f"{path}/{name}"
                assert "x-victor-ignored" not in deref(schema, replacement)
            assert prop.get("deprecated") is True
    assert found >= 20


# ------------------------------------------------------------------------- corpus

CORPUS = [pytest.param(p, id=p.name) for p in corpus_files()] or [
    pytest.param(None, id="corpus-absent")
]


@pytest.mark.corpus
@pytest.mark.parametrize("path", CORPUS)
def test_corpus_file_validates(path: Path | None, validator: Draft202012Validator) -> None:
    corpus_dir()  # skips with a message when ../shared/corpus is absent
    assert path is not None
    data = to_json_data(path.read_text(encoding="utf-8"))
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(data)]
    assert errors == []


# ------------------------------------------------------------------------- negatives


def errors_for(validator: Draft202012Validator, text: str) -> list[str]:
    return [
        f"{'/'.join(str(p) for p in e.absolute_path)}: {e.message}"
        for e in validator.iter_errors(to_json_data(text))
    ]


def one_node(node_yaml: str) -> str:
    body = "\n".join("      " + line for line in node_yaml.strip().splitlines())
    return f"workflows:\n  demo:\n    nodes:\n{body}\n"


def test_minimal_workflow_is_valid(validator: Draft202012Validator) -> None:
    text = one_node('- id: a\n  goal: "Say hello"\n- id: b\n  type: transform\n  transform: x = 1')
    assert errors_for(validator, text) == []


@pytest.mark.parametrize(
    ("node", "expected"),
    [
        ("- id: h\n  type: hitl\n  fallback: reject", "'reject' is not one of"),
        ("- id: h\n  type: hitl\n  hitl_type: vote", "'vote' is not one of"),
        ("- id: p\n  type: parallel\n  parallel_nodes: [a]\n  join_strategy: most", "not one of"),
        ("- id: c\n  type: compute\n  execution_target: cloud", "'cloud' is not one of"),
        ("- id: t\n  type: team\n  team_formation: mob\n  members: [{id: m}]", "not one of"),
        ("- id: a\n  tool_budget: many", "'many' is not of type 'integer'"),
        ("- id: a\n  next: b", "'b' is not of type 'array'"),
        ("- id: a\n  llm_config: {temperature: hot}", "'hot' is not of type 'number'"),
        ("- id: c\n  type: compute\n  toolz: [shell]", "'toolz' was unexpected"),
        ("- id: a\n  gaol: typo", "'gaol' was unexpected"),
        ("- id: a\n  handler: not_on_agents", "'handler' was unexpected"),
        ("- id: a\n  type: start", "'start' is not one of"),
        ("- goal: no id", "'id' is a required property"),
        ("- id: c\n  type: compute\n  constraints: [none, llm]", "not valid under any"),
        ("- id: c\n  type: compute\n  constraints: [gpu]", "not valid under any"),
        ("- id: c\n  type: compute\n  constraints: all", "not valid under any"),
        ("- id: c\n  type: compute\n  constraints: {gpu_allowed: true}", "not valid under any"),
        ("- id: t\n  type: team\n  members: []", "should be non-empty"),
        ("- id: t\n  type: team\n  goal: no members", "'members' is a required property"),
        ("- id: t\n  type: team\n  members: [{id: m, skill: x}]", "'skill' was unexpected"),
        ("- id: s\n  stage: analyze_stage\n  bogus: 1", "'bogus' was unexpected"),
        ("- id: s\n  stage: analyze_stage\n  overrides: {bogus: 1}", "'bogus' was unexpected"),
        ("- $ref: ./lib.yaml#a\n  bogus: 1", "'bogus' was unexpected"),
        ("- id: a\n  retry_policy: {max_attempts: 0}", "less than the minimum"),
        ("- id: a\n  retry_policy: {attempts: 3}", "'attempts' was unexpected"),
        # YAML 1.1 reads an unquoted Yes as a boolean: the choice would never show as text.
        ("- id: h\n  type: hitl\n  choices: [Yes, Later]", "True is not valid"),
    ],
)
def test_schema_rejects(validator: Draft202012Validator, node: str, expected: str) -> None:
    errors = errors_for(validator, one_node(node))
    assert any(expected in e for e in errors), errors


@pytest.mark.parametrize(
    "node",
    [
        "- id: a\n  allowed_tools: [read]\n  output_key: r\n  instructions: x\n  sandbox_dir: d",
        "- id: h\n  type: hitl\n  gate_type: approval\n  title: T\n  config: {x: 1}",
        "- id: c\n  type: compute\n  config: {x: 1}\n  constraints: {filesystem_allowed: true}",
        "- id: c\n  type: compute\n  constraints: none",
        "- id: c\n  type: compute\n  constraints: [llm, network, write, filesystem]",
        "- id: a\n  llm_config: {temperature: 0.2, seed: 7}",
        "- $ref: ./hitl_gates.yaml#approval_gate\n  next: [b]",
        "- id: s\n  stage: test_stage\n  overrides: {inputs: {cmd: x}, timeout: 9}\n  next: [b]",
        "- id: h\n  type: hitl\n  choices: ['Yes', {label: 'No', value: false}]",
        "- id: c\n  type: condition\n  condition: x > 1\n  branches: {'true': a, 'false': b}",
        "- id: p\n  type: parallel\n  parallel_nodes: [a]\n  join_strategy: first",
    ],
)
def test_schema_accepts_ignored_and_optional_forms(
    validator: Draft202012Validator, node: str
) -> None:
    assert errors_for(validator, one_node(node)) == []


def test_workflow_level_keys(validator: Draft202012Validator) -> None:
    text = (
        "workflows:\n  w:\n    nodes: [{id: a}]\n"
        "    execution: {max_timeout_seconds: 900, default_node_timeout: 300}\n"
        "    error_handling: {on_failure: [log]}\n    variables: {x: 1}\n"
        "    batch_config: {batch_size: 5, retry_strategy: end_of_batch}\n"
        "    services: {db: {type: sqlite, config: {path: x}, image: 'redis:7'}}\n"
        "    schedule: {cron: '0 2 * * *', start_date: 2025-01-01}\n"
    )
    assert errors_for(validator, text) == []
    bad = "workflows:\n  w:\n    nodes: [{id: a}]\n    execution: {max_iteration: 5}\n"
    assert any("'max_iteration' was unexpected" in e for e in errors_for(validator, bad))
    bad = "workflows:\n  w:\n    nodez: []\n    nodes: [{id: a}]\n"
    assert any("'nodez' was unexpected" in e for e in errors_for(validator, bad))
    bad = "workflows:\n  w:\n    batch_config: {retry_strategy: later}\n    nodes: [{id: a}]\n"
    assert any("'later' is not one of" in e for e in errors_for(validator, bad))


def test_file_shapes(validator: Draft202012Validator) -> None:
    assert errors_for(validator, "version: 1\nmy_flow:\n  nodes: [{id: a}]\n") == []
    assert errors_for(validator, "my_flow:\n  description: no nodes\n") != []
    assert errors_for(validator, "nodes:\n  - {id: gate, type: hitl}\n") == []
    assert errors_for(validator, "nodes:\n  - {id: gate, type: hitl, fallback: x}\n") != []
    library = "version: '1.0'\nstage_templates:\n  s: {type: compute, tools: [shell]}\n"
    assert errors_for(validator, library) == []
    assert errors_for(validator, "stage_templates:\n  s: {type: compute, goal: x}\n") != []
    assert errors_for(validator, "override_presets:\n  quick: {tool_budget: 5}\n") == []
    assert errors_for(validator, "override_presets:\n  quick: {budget: 5}\n") != []
