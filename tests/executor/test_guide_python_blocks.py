"""Every Python block of the user guide, executed as written (`victor.workflows` -> `engine`).

The blocks are read from ../shared/spec/workflow-execution-guide.md, so a changed or new
snippet is tested as it stands; each block gets the names it assumes (a `workflow`, a
`state`, two snapshots, a history holding `exec_1` / `exec_2`...) and its effect is
checked afterwards. Skips when the shared guide is absent.
"""

from __future__ import annotations

import ast
import builtins
import contextlib
import inspect
import io
import re
import textwrap
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from engine.compiler import compile
from engine.model import Workflow
from tests.support import SHARED_DIR

GUIDE = SHARED_DIR / "spec" / "workflow-execution-guide.md"

WORKFLOW = textwrap.dedent(
    """\
    workflows:
      my_workflow:
        nodes:
          - id: node_1
            type: transform
            transform: "value = 50"
          - id: node_2
            type: parallel
            parallel_nodes: [branch_a, branch_b]
            next: [node_3]
          - id: branch_a
            type: transform
            transform: "a = value + 1"
            next: []
          - id: branch_b
            type: transform
            transform: "b = value + 2"
            next: []
          - id: node_3
            type: transform
            transform: "done = True"
    """
)


@dataclass(frozen=True)
class Block:
    heading: str
    code: str


def _guide_blocks() -> list[Block]:
    if not GUIDE.is_file():
        return []
    blocks: list[Block] = []
    heading = ""
    lines = iter(GUIDE.read_text(encoding="utf-8").splitlines())
    for line in lines:
        if line.startswith("#"):
            heading = line.lstrip("#").strip()
        elif line.strip() == "```python":
            body: list[str] = []
            for inner in lines:
                if inner.strip() == "```":
                    break
                body.append(inner)
            code = "\n".join(body).replace("victor.workflows", "engine")
            blocks.append(Block(heading, code))
    return blocks


BLOCKS = _guide_blocks()


def _workflow() -> Workflow:
    result = compile(WORKFLOW, source="guide.yaml")
    assert result.ok, result.problems
    return result.workflows[0]


async def _run(code: str, namespace: dict[str, Any]) -> dict[str, Any]:
    """Run a block with top-level `await` / `async for`, as the guide writes them."""
    compiled = builtins.compile(code, "<guide>", "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)
    outcome = eval(compiled, namespace)  # the guide's own code, by design
    if outcome is not None:
        await outcome
    return namespace


STATE = {"user": {"name": "Ada"}, "items": [{"id": 7}], "data": {"results": {"summary": "ok"}}}


def _capture_two_snapshots(namespace: dict[str, Any]) -> None:
    """`snapshot_1` / `snapshot_2`, which the guide's blocks use, in the block's own manager."""
    manager = namespace["manager"]
    namespace["snapshot_1"] = manager.capture_state({"value": 1}, node_id="before")
    namespace["snapshot_2"] = manager.capture_state({"value": 2, "extra": True}, node_id="after")


async def _split_at_manager(code: str, namespace: dict[str, Any]) -> None:
    """Run the block up to its `manager = ...` line, take the snapshots, run the rest."""
    lines = code.splitlines()
    cut = next(i for i, line in enumerate(lines) if line.startswith("manager = ")) + 1
    await _run("\n".join(lines[:cut]), namespace)
    _capture_two_snapshots(namespace)
    await _run("\n".join(lines[cut:]), namespace)


def _check_conditional_breakpoints(ns: dict[str, Any], out: str) -> None:
    debugger = ns["debugger"]
    conditions = {bp.node_id: bp.condition for bp in debugger.breakpoints}
    assert set(conditions) == {"node_1", "node_2"}
    assert conditions["node_1"]({"value": 101}) and not conditions["node_1"]({"value": 5})


def _check_state_queries(ns: dict[str, Any], out: str) -> None:
    assert (ns["value"], ns["item"], ns["result"]) == ("Ada", 7, "ok")


def _check_visualization(ns: dict[str, Any], out: str) -> None:
    assert "Ada" in out and "extra" in out


def _check_trace_analysis(ns: dict[str, Any], out: str) -> None:
    assert "Total duration: " in out and "Slowest nodes: []" in out


def _check_stats(ns: dict[str, Any], out: str) -> None:
    assert "Success rate: 50.0%" in out and "Duration trend: " in out


def _check_retry(ns: dict[str, Any], out: str) -> None:
    assert ns["executor"].error_recovery.backoff().max_attempts == 4


def _check_execution_api(ns: dict[str, Any], out: str) -> None:
    assert ns["result"].success and Path("trace.json").is_file()


def _check_streaming(ns: dict[str, Any], out: str) -> None:
    assert "node_3: node_completed" in out and "None: workflow_completed" in out


async def _check_debugger(ns: dict[str, Any], out: str) -> None:
    from engine.debugger import Finished, Stopped

    # step_over reached the parallel node, step_into a branch, step_out the parallel again.
    public = {k: v for k, v in ns["state"].items() if not k.startswith("_")}
    assert public == {"task": "fix bug", "value": 50, "a": 51, "b": 52}
    assert ns["stack"][0].node_id == "node_2"
    assert ns["variables"]
    debugger = ns["debugger"]
    # continue_execution stopped at the conditional breakpoint (value 50 > 10).
    assert isinstance(debugger.stopped, Stopped) and debugger.stopped.node_id == "node_3"
    assert isinstance(await debugger.continue_execution(), Finished)


def _check_state_manager(ns: dict[str, Any], out: str) -> None:
    assert ns["value"] == "Ada" and ns["restored_state"] == ns["state"]
    assert "extra" in ns["diff"].added


def _check_compare(ns: dict[str, Any], out: str) -> None:
    assert "Output differences:" in out and "Performance difference:" in out
    assert ns["comparison"].output_diff


def _check_custom_tracer(ns: dict[str, Any], out: str) -> None:
    from engine.trace import NodeTraceRecord

    tracer = ns["CustomTracer"]()
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        tracer.on_node_complete(
            NodeTraceRecord(node_id="slow", start_time=0.0, duration_seconds=11.0)
        )
        tracer.on_node_complete(
            NodeTraceRecord(node_id="quick", start_time=0.0, duration_seconds=1.0)
        )
    assert printed.getvalue() == "Slow node: slow\n"


def _check_auto_capture(ns: dict[str, Any], out: str) -> None:
    assert ns["manager"].auto_capture is True


def _check_export(ns: dict[str, Any], out: str) -> None:
    assert Path("custom.txt").read_text() == "custom:"


Setup = Callable[[Path], dict[str, Any]]


def _with_workflow(tmp: Path) -> dict[str, Any]:
    return {"workflow": _workflow()}


def _with_state(tmp: Path) -> dict[str, Any]:
    return {"state": dict(STATE)}


def _with_history(tmp: Path) -> dict[str, Any]:
    from engine.history import WorkflowExecutionHistory

    history = WorkflowExecutionHistory()  # the default location: $VICTOR_HOME
    history.record_execution(
        "my_workflow", execution_id="exec_1", outputs={"a": 1}, duration_seconds=1.0
    )
    history.record_execution(
        "my_workflow",
        execution_id="exec_2",
        outputs={"a": 2},
        duration_seconds=3.0,
        success=False,
    )
    history.close()
    return {}


def _with_compiled(tmp: Path) -> dict[str, Any]:
    from engine.execution_engine import WorkflowExecutor

    return {"executor": WorkflowExecutor(), "compiled": _workflow(), "inputs": {}}


def _with_executor_class(tmp: Path) -> dict[str, Any]:
    from engine.execution_engine import WorkflowExecutor

    return {"WorkflowExecutor": WorkflowExecutor}


def _with_workflow_file(tmp: Path) -> dict[str, Any]:
    (tmp / "workflow.yaml").write_text(WORKFLOW)
    return {}


def _with_custom_format(tmp: Path) -> dict[str, Any]:
    from engine.trace import register_trace_format

    def write_custom(trace: Any, path: Path) -> None:
        path.write_text("custom:" + ",".join(n.node_id for n in trace.nodes))

    register_trace_format("custom", write_custom)
    return {}


def _nothing(tmp: Path) -> dict[str, Any]:
    return {}


CASES: dict[str, tuple[Setup, Callable[[dict[str, Any], str], object]]] = {
    "Conditional Breakpoints": (_with_workflow, _check_conditional_breakpoints),
    "State Queries": (_with_state, _check_state_queries),
    "State Visualization": (_with_state, _check_visualization),
    "Trace Analysis": (_nothing, _check_trace_analysis),
    "Performance Analysis": (_with_history, _check_stats),
    "Configuring Retry": (_with_executor_class, _check_retry),
    "Execution API": (_with_workflow_file, _check_execution_api),
    "Streaming API": (_with_compiled, _check_streaming),
    "Debugger API": (_with_workflow, _check_debugger),
    "State Manager API": (_with_state, _check_state_manager),
    "Example 3: Compare Executions": (_with_history, _check_compare),
    "Custom Trace Handlers": (_nothing, _check_custom_tracer),
    "State Snapshots": (_nothing, _check_auto_capture),
    "Export Formats": (_with_custom_format, _check_export),
}
"""Guide heading -> (names the block assumes, what must hold after it ran)."""

PREFIX_BLOCKS = {"State Visualization": "State Queries"}
"""Blocks that continue an earlier one (they use its `manager` and `snapshot_id`)."""

SNAPSHOT_BLOCKS = {"State Manager API"}
"""Blocks that use `snapshot_1` / `snapshot_2` of the manager they create themselves."""


def test_every_python_block_of_the_guide_has_a_case() -> None:
    if not GUIDE.is_file():
        pytest.skip(f"guide not found at {GUIDE} (../shared is absent in this clone)")
    headings = [block.heading for block in BLOCKS]
    assert sorted(headings) == sorted(CASES), "a guide snippet has no test case here"


@pytest.mark.parametrize("block", BLOCKS, ids=[re.sub(r"\W+", "-", b.heading) for b in BLOCKS])
async def test_guide_block_runs_as_written(
    block: Block,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("VICTOR_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("VICTOR_HISTORY_URL", raising=False)
    setup, check = CASES[block.heading]
    namespace: dict[str, Any] = {"__name__": "guide", **setup(tmp_path)}
    try:
        if block.heading in PREFIX_BLOCKS:
            earlier = next(b for b in BLOCKS if b.heading == PREFIX_BLOCKS[block.heading])
            await _run(earlier.code, namespace)
            _capture_two_snapshots(namespace)
            await _run(block.code, namespace)
        elif block.heading in SNAPSHOT_BLOCKS:
            await _split_at_manager(block.code, namespace)
        else:
            await _run(block.code, namespace)
        checked = check(namespace, capsys.readouterr().out)
        if inspect.isawaitable(checked):
            await checked
    finally:
        if block.heading == "Export Formats":
            from engine.trace_export import unregister_format

            unregister_format("custom")
