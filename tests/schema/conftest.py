"""Shared fixtures for the schema tests: the parsed schema and a 2020-12 validator."""

from __future__ import annotations

import json
from typing import Any

import pytest
import yaml
from jsonschema import Draft202012Validator

from engine.schema_docs import load_schema


def to_json_data(text: str) -> Any:
    """YAML text -> JSON-compatible data, as an editor's YAML language server sees it.

    Dates become strings and non-string keys (`true:`) become their JSON spelling.
    """
    return json.loads(json.dumps(yaml.safe_load(text), default=str))


@pytest.fixture(scope="session")
def schema() -> dict[str, Any]:
    return dict(load_schema())


@pytest.fixture(scope="session")
def validator(schema: dict[str, Any]) -> Draft202012Validator:
    return Draft202012Validator(schema)
