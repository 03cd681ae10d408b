"""Run every real corpus workflow offline (scripted agents, stub registry) and check the
path taken against what the YAML itself says (read with PyYAML, not our compiler)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

import engine
from engine.agent_runners.scripted import ScriptedRunner
from engine.config import CompileConfig
from engine.events import ExecutionEventType as ET
from engine.execution_engine import WorkflowExecutor
from engine.hitl import AnswersResponder
from tests.executor.corpus_registry import corpus_registry
from tests.executor.helpers import Events
from tests.support import corpus_dir, corpus_files

pytestmark = pytest.mark.corpus

LIBRARIES = {"hitl_gates.yaml", "common_stages.yaml"}

# Input data the stubs cannot invent: initial context and per-node recorded outputs.
DOCS = [{"id": "d1", "content": "alpha"}]
FIXTURES: dict[str, dict[str, Any]] = {
    "code_review": {"context": {"lint_issues": 0, "type_issues": 0, "security_issues": 0}},
    "document_ingest": {
        "recorded": {
            "parse_pdf": [DOCS],
            "parse_docx": [DOCS],
            "parse_markdown": [DOCS],
            "parse_code": [DOCS],
            "chunking": [[{"id": "c1", "source": "d1", "position": 0, "text": "alpha"}]],
            "extract_entities": [{"c1": ["Alpha"]}],
            "extract_topics": [{"c1": ["letters"]}],
            "verify_embeddings": [{"passed": True}],
            "verify_ingestion": [{"count_match": True, "sample_search_works": True}],
        },
        "context": {"temporal_refs": {}, "document_count": 1, "validation_score": 0.9},
    },
}


def _key(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _cases() -> list[Any]:
    cases = []
    for path in corpus_files():
        if path.name in LIBRARIES:
            continue
        raw = yaml.safe_load(path.read_text())
        bodies = raw.get("workflows", raw)
        for name, body in bodies.items():
            if isinstance(body, dict) and "nodes" in body:
                cases.append(pytest.param(path.name, name, id=f"{path.stem}:{name}"))
    return cases


def _raw_nodes(path: Path, name: str) -> list[dict[str, Any]]:
    raw = yaml.safe_load(path.read_text())
    return list(raw.get("workflows", raw)[name]["nodes"])


def _yaml_successor(nodes: list[dict[str, Any]], node_id: str) -> str | None:
    """Where the YAML says a non-condition node goes: first `next`, else the next listed node."""
    ids = [n.get("id") for n in nodes]
    for position, raw in enumerate(nodes):
        if raw.get("id") == node_id:
            nxt = raw.get("next") or []
            if isinstance(nxt, str):
                nxt = [nxt]
            if nxt:
                return str(nxt[0])
            return ids[position + 1] if position + 1 < len(ids) else None
    raise AssertionError(f"{node_id} not in YAML")


@pytest.mark.parametrize(("file_name", "workflow_name"), _cases())
async def test_corpus_workflow_path_matches_yaml(file_name: str, workflow_name: str) -> None:
    path = corpus_dir() / file_name
    stages = (str(corpus_dir() / "common_stages.yaml"),)
    result = engine.compile(
        path.read_text(), source=str(path), config=CompileConfig(stage_libraries=stages)
    )
    assert result.ok, [p.format() for p in result.errors]
    workflow = result.workflow(workflow_name)
    assert workflow is not None
    events = Events()
    fixture = FIXTURES.get(workflow_name, {})
    hitl_ids = [n.id for n in workflow.nodes if n.type.value == "hitl"]
    executor = WorkflowExecutor(
        registry=corpus_registry(list(result.workflows)),
        agent_runner=ScriptedRunner({"*": "offline answer"}),
        hitl_responder=AnswersResponder(
            {node_id: {"approved": True, "value": "approved"} for node_id in hitl_ids}
        ),
        subscribers=[events],
        recorded_outputs=fixture.get("recorded"),
    )
    outcome = await executor.execute(workflow, dict(fixture.get("context", {})))
    raw_nodes = _raw_nodes(path, workflow_name)
    raw_by_id = {n["id"]: n for n in raw_nodes}
    executed = list(outcome.nodes_executed)
    assert executed and executed[0] == raw_nodes[0]["id"]
    conditions = iter(
        e.outputs
        for e in events.of(ET.NODE_COMPLETED)
        if e.thread == "main" and e.node_type == "condition"
    )
    for current, following in zip(executed, [*executed[1:], None], strict=True):
        raw = raw_by_id[current]
        if raw.get("type") == "condition":
            decision = next(conditions, None)
            if decision is None:  # the run failed at this condition
                assert following is None and not outcome.success
                break
            branches = {_key(k): str(v) for k, v in raw["branches"].items()}
            assert branches[decision["branch"]] == decision["target"]
            expected = decision["target"]
        else:
            expected = _yaml_successor(raw_nodes, current)
        if raw.get("type") == "parallel":
            children = {e.node_id for e in events.of(ET.BRANCH_STARTED)}
            assert set(raw["parallel_nodes"]) <= children
        if following is not None:
            assert following == expected, f"after {current} the YAML goes to {expected}"
        elif outcome.success:
            assert expected in (None, "__end__"), f"run ended at {current} but YAML continues"
    if not outcome.success:
        pytest.fail(f"{workflow_name} failed at {outcome.error}")
