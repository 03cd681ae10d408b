"""The VS Code extension's package.json against the Python side's contracts.

- `contributes.debuggers[0].configurationAttributes.launch` lists exactly the adapter's launch
  arguments (victor_dap.launch_args.LAUNCH_ARGUMENT_DOCS), with the same JSON types and docs.
- The settings the extension sends are ones the language server accepts.
- Every command the language server puts in a code lens is contributed by the extension.
- yamlValidation points at the generated copy of the engine's schema.
Reads files only; must not need node, npm or VS Code.
"""

from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path
from typing import Any

import pytest

from victor_dap.launch_args import LAUNCH_ARGUMENT_DOCS, LaunchArguments

REPO_ROOT = Path(__file__).resolve().parents[2]
EXTENSION = REPO_ROOT / "vscode-extension"


@pytest.fixture(scope="module")
def manifest() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((EXTENSION / "package.json").read_text(encoding="utf-8"))
    return loaded


def _launch(manifest: dict[str, Any]) -> dict[str, Any]:
    debugger = manifest["contributes"]["debuggers"][0]
    assert debugger["type"] == "victor-workflow"
    launch: dict[str, Any] = debugger["configurationAttributes"]["launch"]
    return launch


def test_launch_attributes_are_the_adapter_launch_arguments(manifest: dict[str, Any]) -> None:
    properties = _launch(manifest)["properties"]
    assert set(properties) == set(LAUNCH_ARGUMENT_DOCS)


@pytest.mark.parametrize("name", sorted(LAUNCH_ARGUMENT_DOCS))
def test_launch_attribute_type_and_description_match(manifest: dict[str, Any], name: str) -> None:
    json_type, description = LAUNCH_ARGUMENT_DOCS[name]
    attribute = _launch(manifest)["properties"].get(name)
    assert attribute is not None, f"package.json lacks launch attribute {name}"
    assert attribute["type"] == json_type
    assert attribute["description"] == description


def test_required_launch_attributes_are_the_fields_without_default(
    manifest: dict[str, Any],
) -> None:
    without_default = {
        f.name
        for f in dataclasses.fields(LaunchArguments)
        if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
    }
    assert set(_launch(manifest)["required"]) == without_default


def test_debug_configurations_use_only_launch_arguments(manifest: dict[str, Any]) -> None:
    debugger = manifest["contributes"]["debuggers"][0]
    bodies = debugger["initialConfigurations"] + [
        s["body"] for s in debugger["configurationSnippets"]
    ]
    for body in bodies:
        unknown = set(body) - {"type", "request", "name"} - set(LAUNCH_ARGUMENT_DOCS)
        assert not unknown, f"unknown launch attributes {unknown} in {body.get('name')}"


def test_settings_defaults_are_accepted_by_the_language_server(manifest: dict[str, Any]) -> None:
    from victor_lsp.settings import parse_settings

    properties = manifest["contributes"]["configuration"]["properties"]
    section = {
        key.removeprefix("victor."): spec["default"]
        for key, spec in properties.items()
        if key
        in {"victor.registry", "victor.stageLibraries", "victor.historyPath", "victor.checks"}
    }
    assert set(section) == {"registry", "stageLibraries", "historyPath", "checks"}
    _settings, errors = parse_settings(section)
    assert errors == []
    _settings, errors = parse_settings(
        {"victor": {"registry": ["pkg.handlers"], "checks": {"VW101": False}}}
    )
    assert errors == []


def test_code_lens_commands_of_the_language_server_are_contributed(
    manifest: dict[str, Any],
) -> None:
    contributed = {c["command"] for c in manifest["contributes"]["commands"]}
    sources = "\n".join(
        p.read_text(encoding="utf-8") for p in (REPO_ROOT / "victor_lsp").glob("*.py")
    )
    used = set(re.findall(r"[\"'](victor\.[A-Za-z]+Workflow)[\"']", sources))
    if not used:
        pytest.skip("victor_lsp emits no workflow commands yet")
    assert used <= contributed, f"not contributed by the extension: {used - contributed}"
    assert {"victor.runWorkflow", "victor.debugWorkflow", "victor.traceWorkflow"} <= contributed


def test_yaml_validation_uses_the_generated_schema_copy(manifest: dict[str, Any]) -> None:
    [validation] = manifest["contributes"]["yamlValidation"]
    assert validation["url"] == "./schema/workflow.schema.json"
    assert {"*.workflow.yaml", "**/workflows/*.yaml"} <= set(validation["fileMatch"])
    assert (REPO_ROOT / "engine" / "schema" / "workflow.schema.json").is_file()
    ignored = (EXTENSION / ".gitignore").read_text(encoding="utf-8").split()
    assert "schema/" in ignored, "the schema copy is generated and must stay out of git"
    assert "!schema/**" in (EXTENSION / ".vscodeignore").read_text(encoding="utf-8").split()


def test_activation_is_limited_to_workflow_files(manifest: dict[str, Any]) -> None:
    events = manifest["activationEvents"]
    assert "onLanguage:yaml" not in events and "*" not in events
    assert "onDebugResolve:victor-workflow" in events
    assert {b["language"] for b in manifest["contributes"]["breakpoints"]} == {
        "yaml",
        "victor-workflow",
    }
