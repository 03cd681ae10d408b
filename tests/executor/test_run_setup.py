"""`engine.run_setup.prepare_execution`: one setup for run/trace/replay/debug, one error type."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from engine.hitl import HitlRequest, HitlResponse
from engine.run_setup import PreparedRun, RunSetupError, prepare_execution
from tests.executor.helpers import ScriptedGate
from tests.support import REPO_ROOT, marker_line

EXAMPLES = REPO_ROOT / "examples"

SIMPLE = """\
workflows:
  w:
    nodes:
      - id: ask
        type: hitl
        prompt: "ok?"
        fallback: continue
        timeout: 5
      - id: done
        type: transform
        transform: "x = 1"
"""


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def test_example_project_settings_are_loaded() -> None:
    prepared = prepare_execution(
        EXAMPLES / "document_review.yaml", context_json='{"topic": "t", "text": "x"}'
    )
    assert prepared.workflow.name == "document_review"
    assert {"count_words", "find_todos"} <= set(prepared.registry.handlers)
    assert prepared.profile == "offline" and prepared.default_runner is not None
    assert prepared.project_root == EXAMPLES.resolve()
    assert prepared.initial_state() == {"topic": "t", "text": "x"}
    assert prepared.initial_state() is not prepared.initial_state()


def test_context_precedence_file_then_json_then_mapping(tmp_path: Path) -> None:
    workflow = write(tmp_path, "wf.yaml", SIMPLE)
    context = write(tmp_path, "ctx.json", json.dumps({"a": 1, "b": 1, "c": 1}))
    prepared = prepare_execution(
        workflow, context_file=context, context_json='{"b": 2, "c": 2}', context={"c": 3}
    )
    assert dict(prepared.inputs) == {"a": 1, "b": 2, "c": 3}


def test_relative_paths_follow_cwd(tmp_path: Path) -> None:
    write(tmp_path, "wf.yaml", SIMPLE)
    write(tmp_path, "ctx.json", '{"a": 1}')
    write(tmp_path, "answers.yaml", "ask: 'yes'\n")
    prepared = prepare_execution(
        "wf.yaml", context_file="ctx.json", hitl_answers="answers.yaml", cwd=tmp_path
    )
    assert prepared.path == tmp_path / "wf.yaml" and prepared.inputs == {"a": 1}


@pytest.mark.parametrize(
    ("kwargs", "needle"),
    [
        ({"context_json": "{nope"}, "--context is not valid JSON"),
        ({"context_json": "[1, 2]"}, "must be a JSON object"),
        ({"context_file": "missing.json"}, "cannot read context file"),
        ({"context_file": "list.json"}, "must be a JSON object"),
        ({"name": "other"}, "no workflow named 'other' (workflows: w)"),
        ({"profile": "ghost"}, "unknown profile 'ghost'"),
        ({"hitl_answers": "missing.yaml"}, "cannot read HITL answers"),
        ({"registry_flags": ["no_such_module_xyz"]}, "cannot import registry module"),
        ({"registry_flags": ["missing_registry.py"]}, "registry module file not found"),
    ],
)
def test_bad_input_is_one_line(tmp_path: Path, kwargs: dict[str, object], needle: str) -> None:
    workflow = write(tmp_path, "wf.yaml", SIMPLE)
    write(tmp_path, "list.json", "[1]")
    with pytest.raises(RunSetupError) as caught:
        prepare_execution(workflow, cwd=tmp_path, **kwargs)  # type: ignore[arg-type]
    message = str(caught.value)
    assert needle in message, message
    assert "\n" not in message


def test_missing_file_and_folder(tmp_path: Path) -> None:
    with pytest.raises(RunSetupError, match="workflow file not found"):
        prepare_execution(tmp_path / "nope.yaml")
    with pytest.raises(RunSetupError, match="is a folder"):
        prepare_execution(tmp_path)


def test_several_workflows_need_a_name(tmp_path: Path) -> None:
    text = SIMPLE + "  v:\n    nodes:\n      - id: a\n        type: transform\n"
    text += "        transform: 'y = 2'\n"
    workflow = write(tmp_path, "multi.yaml", text)
    with pytest.raises(RunSetupError, match=r"several workflows \(w, v\)\.") as caught:
        prepare_execution(workflow)
    assert caught.value.setting == "workflow"
    assert str(caught.value).endswith("Choose one with the `workflow` setting.")
    dap = caught.value.phrased({"workflow": "the `workflow` launch argument"})
    assert dap.endswith("Choose one with the `workflow` launch argument.")
    assert prepare_execution(workflow, name="v").workflow.name == "v"


def test_compile_errors_name_file_and_line(tmp_path: Path) -> None:
    text = """\
workflows:
  w:
    nodes:
      - id: a
        next: [nowhere]  # @bad
      - id: b
        type: condition
        condition: "x >"  # @syntax
        branches: {"true": a}
"""
    workflow = write(tmp_path, "broken.yaml", text)
    with pytest.raises(RunSetupError) as caught:
        prepare_execution(workflow)
    error = caught.value
    assert len(error.problems) >= 2
    lines = {p.span.line for p in error.problems}
    assert {marker_line(text, "bad"), marker_line(text, "syntax")} <= lines
    first = error.problems[0]
    assert str(error).startswith(f"{workflow}:{first.span.line + 1}:{first.span.column + 1}: ")
    assert f"(and {len(error.problems) - 1} more error(s))" in str(error)
    assert "\n" not in str(error)


def test_agent_nodes_without_runner_fail_when_the_executor_is_built(tmp_path: Path) -> None:
    text = "workflows:\n  w:\n    nodes:\n      - id: think\n        type: agent\n"
    text += "        goal: go\n"
    prepared = prepare_execution(write(tmp_path, "agent.yaml", text))
    with pytest.raises(RunSetupError, match="no agent runner: think") as caught:
        prepared.executor()
    error = caught.value
    assert error.setting == "profile"
    assert "Choose a profile with the `profile` setting" in str(error)
    assert "-p/--profile" not in str(error)
    assert "Choose a profile with -p/--profile" in error.phrased({"profile": "-p/--profile"})
    # replay feeds recorded outputs instead: no runner needed
    executor = prepared.executor(recorded_outputs={"think": [{"response": "r"}]})
    result = asyncio.run(executor.execute(prepared.workflow, prepared.initial_state()))
    assert result.success and result.final_state["think"] == {"response": "r"}


class _Yes:
    def __init__(self) -> None:
        self.asked: list[str] = []

    async def ask(self, request: HitlRequest) -> HitlResponse:
        self.asked.append(request.node_id)
        return HitlResponse(True, "from debugger")


def test_debugger_injects_its_gate_and_hitl_responder(tmp_path: Path) -> None:
    prepared: PreparedRun = prepare_execution(write(tmp_path, "wf.yaml", SIMPLE))
    gate = ScriptedGate()
    responder = _Yes()
    executor = prepared.executor(gate=gate, hitl_responder=responder, debug_mode=True)
    result = asyncio.run(executor.execute(prepared.workflow, prepared.initial_state()))
    assert result.success and responder.asked == ["ask"]
    assert result.final_state["ask_response"]["value"] == "from debugger"
    assert [c[:2] for c in gate.calls] == [
        ("before", "ask"),
        ("after", "ask"),
        ("before", "done"),
        ("after", "done"),
    ]


def test_answers_file_falls_back_to_the_given_responder(tmp_path: Path) -> None:
    text = SIMPLE.replace(
        "      - id: done",
        "      - id: second\n        type: hitl\n        prompt: 'again?'\n"
        "        fallback: abort\n      - id: done",
    )
    workflow = write(tmp_path, "wf.yaml", text)
    answers = write(tmp_path, "answers.json", '{"ask": "from file"}')
    responder = _Yes()
    prepared = prepare_execution(workflow, hitl_answers=answers, hitl_fallback=responder)
    result = asyncio.run(prepared.executor().execute(prepared.workflow, {}))
    assert result.success, result.error
    assert result.final_state["ask_response"]["value"] == "from file"
    assert responder.asked == ["second"]


def test_dry_run_setup_loads_no_runner(tmp_path: Path) -> None:
    prepared = prepare_execution(EXAMPLES / "document_review.yaml", load_runners=False)
    assert prepared.default_runner is None and prepared.profile is None
