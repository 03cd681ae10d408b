"""Branches cancelled by join_strategy `any` read back as `cancelled`, not `skipped`."""

from __future__ import annotations

import asyncio
from typing import Any

from engine.execution_engine import WorkflowExecutor
from engine.history import WorkflowExecutionHistory
from engine.trace import WorkflowTracer
from tests.executor.helpers import compile_one, registry

ANY = """\
workflows:
  race:
    nodes:
      - id: fan
        type: parallel
        parallel_nodes: [slow, quick]
        join_strategy: any
        next: [after]
      - id: slow
        type: compute
        handler: slow
        output: slow_out
      - id: quick
        type: compute
        handler: quick
        output: quick_out
      - id: after
        type: transform
        transform: "done = True"
"""


def race_registry() -> Any:
    slow_started = asyncio.Event()

    async def slow(node: Any, context: Any, tools: Any) -> str:
        slow_started.set()
        await asyncio.Event().wait()  # finishes only by being cancelled
        return "never"

    async def quick(node: Any, context: Any, tools: Any) -> str:
        await slow_started.wait()
        return "first"

    return registry(handlers={"slow": slow, "quick": quick})


async def test_tracer_and_history_record_a_cancelled_branch_as_cancelled(
    history_target: str,
) -> None:
    workflow = compile_one(ANY, "race")
    tracer = WorkflowTracer()
    with WorkflowExecutionHistory(history_target) as history:
        recorder = history.recorder(workflow)
        executor = WorkflowExecutor(
            registry=race_registry(), subscribers=[tracer.handle_event, recorder]
        )
        result = await asyncio.wait_for(executor.execute(workflow), timeout=10)
        assert result.success, result.error
        assert history.flush(10.0)
        stored = history.require_execution(result.execution_id)

    trace = tracer.get_trace()
    assert trace is not None
    traced = {record.node_id: record.status for record in trace.nodes}
    recorded = {node.node_id: node.status for node in stored.nodes}
    for statuses in (traced, recorded):
        assert statuses["slow"] == "cancelled", statuses
        assert statuses["quick"] == "completed" and statuses["after"] == "completed"
    slow = next(node for node in stored.nodes if node.node_id == "slow")
    assert "join_strategy any" in (slow.error or "")
