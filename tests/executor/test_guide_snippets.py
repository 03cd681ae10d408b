"""The guide's Execution API, Streaming API and Error Recovery snippets, run as written
(with `victor.workflows` -> `engine`)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

WORKFLOW = """
workflows:
  my_workflow:
    nodes:
      - id: node_1
        type: transform
        transform: "step = 1"
      - id: node_2
        type: condition
        condition: "task == 'fix bug'"
        branches:
          "true": node_3
          "false": node_4
      - id: node_3
        type: transform
        transform: "fixed = True"
        next: [__end__]
      - id: node_4
        type: transform
        transform: "fixed = False"
"""


@pytest.fixture
def workflow_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "workflow.yaml"
    path.write_text(WORKFLOW)
    monkeypatch.chdir(tmp_path)
    return path


async def test_execution_api_snippet(workflow_file: Path) -> None:
    from engine.execution_engine import WorkflowExecutor
    from engine.unified_compiler import UnifiedWorkflowCompiler

    # Compile workflow
    compiler = UnifiedWorkflowCompiler()
    compiled = compiler.compile_yaml("workflow.yaml", "my_workflow")

    # Execute
    executor = WorkflowExecutor(debug_mode=True, trace_mode=True)
    result = await executor.execute(
        compiled,
        inputs={"task": "fix bug"},
        breakpoints=["node_1", "node_3"],
    )

    # Get trace
    trace = executor.get_trace()
    summary = trace.get_summary()

    # Export trace
    executor.export_trace("trace.json")

    assert result.success and result.nodes_executed == ("node_1", "node_2", "node_3")
    assert summary
    assert json.loads((workflow_file.parent / "trace.json").read_text())


async def test_streaming_api_snippet(
    workflow_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from engine.execution_engine import WorkflowExecutor
    from engine.unified_compiler import UnifiedWorkflowCompiler

    compiled = UnifiedWorkflowCompiler().compile_yaml("workflow.yaml", "my_workflow")
    executor = WorkflowExecutor()
    inputs = {"task": "other"}

    async for event in executor.execute_stream(compiled, inputs):
        print(f"{event.node_id}: {event.event_type.value}")
        print(f"  Status: {event.status.value}")
        print(f"  Duration: {event.duration_seconds:.3f}s")

    out = capsys.readouterr().out
    assert "node_4: node_completed" in out and "node_3:" not in out
    assert "None: workflow_completed" in out


async def test_error_recovery_snippet() -> None:
    from engine.execution_engine import ErrorRecovery, ErrorRecoveryStrategy, WorkflowExecutor

    recovery = ErrorRecovery(
        strategy=ErrorRecoveryStrategy.RETRY,
        max_retries=3,
        retry_delay_seconds=1.0,
        backoff_multiplier=2.0,
    )

    executor = WorkflowExecutor(error_recovery=recovery)
    assert executor.error_recovery.backoff().max_attempts == 4


async def test_error_handling_yaml_snippet() -> None:
    """The guide's `continue_on_error` + `retry_policy` agent node."""
    from engine.agent_runners import AgentResponse
    from engine.execution_engine import WorkflowExecutor
    from engine.retry import FakeClock
    from tests.executor.helpers import compile_one

    wf = compile_one(
        """
workflows:
  w:
    nodes:
      - id: risky_node
        type: agent
        role: executor
        goal: "Perform risky operation"
        continue_on_error: true  # Continue even if this node fails
        retry_policy:
          max_attempts: 3
          backoff_multiplier: 2.0
      - id: after
        type: transform
        transform: "done = True"
"""
    )
    attempts: list[Any] = []

    class Failing:
        async def run(self, request: Any) -> AgentResponse:
            attempts.append(request)
            return AgentResponse(response="", success=False, error="model unavailable")

    clock = FakeClock()
    result = await WorkflowExecutor(agent_runner=Failing(), clock=clock).execute(wf)
    assert len(attempts) == 3 and len(clock.sleeps) == 2
    assert result.success and result.final_state["done"] is True
    assert result.final_state["risky_node"]["error"] == "model unavailable"
