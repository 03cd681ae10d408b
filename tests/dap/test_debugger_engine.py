"""WorkflowDebugger against a fake executor: breakpoints, stepping, threads, time travel."""

from __future__ import annotations

from typing import Any

import pytest

from engine.debugger import (
    DebuggerError,
    Finished,
    Output,
    StepMode,
    Stopped,
    StopReason,
    ThreadChanged,
    WorkflowDebugger,
)
from tests.dap.fakes import fake_factory, make_workflow

pytestmark = pytest.mark.timeout(10)


def linear() -> Any:
    return make_workflow([(n, "transform", {}) for n in ("a", "b", "c", "d")])


def fanout() -> Any:
    return make_workflow(
        [
            ("start", "transform", {}),
            ("fan", "parallel", {"parallel_nodes": ("x", "y"), "next": ("end",)}),
            ("x", "transform", {"next": ()}),
            ("y", "transform", {"next": ()}),
            ("end", "transform", {}),
        ]
    )


def debugger(
    workflow: Any, actions: dict[str, Any] | None = None, **kw: Any
) -> tuple[WorkflowDebugger, Any, list[Any]]:
    made, factory = fake_factory(actions)
    events: list[Any] = []
    dbg = WorkflowDebugger(workflow, executor_factory=factory, listener=events.append, **kw)
    return dbg, made, events


async def test_breakpoint_stops_before_node_and_continue_runs_to_end() -> None:
    dbg, made, _ = debugger(linear())
    dbg.set_breakpoint("c")
    stop = await dbg.start(inputs={"seed": 1})
    assert (
        isinstance(stop, Stopped) and stop.reason is StopReason.BREAKPOINT and stop.node_id == "c"
    )
    assert made[0].runs == ["a", "b"]
    assert dbg.get_state() == {"seed": 1, "a": "a done", "b": "b done"}
    end = await dbg.continue_execution()
    assert isinstance(end, Finished) and end.status == "completed"
    assert made[0].runs == ["a", "b", "c", "d"]


async def test_stop_on_entry_and_step_over_each_node() -> None:
    dbg, _, _ = debugger(linear(), stop_on_entry=True)
    stop = await dbg.start()
    assert isinstance(stop, Stopped) and (stop.reason, stop.node_id) == (StopReason.ENTRY, "a")
    seen = []
    while isinstance(stop, Stopped):
        seen.append(stop.node_id)
        stop = await dbg.step_over()
    assert seen == ["a", "b", "c", "d"]
    assert isinstance(stop, Finished)


async def test_lambda_condition_and_hit_condition() -> None:
    counter = {"n": 0}

    def bump(state: Any) -> int:
        counter["n"] += 1
        return counter["n"]

    wf = make_workflow([("loop", "transform", {"next": ("loop",)})])
    made, factory = fake_factory({"loop": bump})
    dbg = WorkflowDebugger(wf, executor_factory=factory)
    dbg.set_breakpoint("loop", condition=lambda s: s.get("loop", 0) >= 2, hit_condition="% 2")
    stop = await dbg.start()
    # condition true from the 3rd entry (loop==2); hits counted only when it holds: 1st hit at
    # entry 3 (skipped, odd), 2nd hit at entry 4 -> stop with loop == 3
    assert isinstance(stop, Stopped)
    assert dbg.get_state()["loop"] == 3
    stop = await dbg.continue_execution()
    assert dbg.get_state()["loop"] == 5
    await dbg.stop()
    assert made[0].cancelled


async def test_bad_hit_condition_and_unknown_node_are_clear_errors() -> None:
    dbg, _, _ = debugger(linear())
    with pytest.raises(DebuggerError, match="hit condition"):
        dbg.set_breakpoint("a", hit_condition="often")
    with pytest.raises(DebuggerError, match=r"no node 'zz'.*nodes: a, b, c, d"):
        dbg.set_breakpoint("zz")
    with pytest.raises(DebuggerError, match="type:compute"):
        dbg.set_breakpoint("type:loop")


async def test_type_breakpoint_matches_every_node_of_that_type() -> None:
    wf = make_workflow([("a", "transform", {}), ("b", "compute", {}), ("c", "compute", {})])
    dbg, _, _ = debugger(wf)
    dbg.set_breakpoint("type:compute", function=True)
    stop = await dbg.start()
    assert (
        isinstance(stop, Stopped)
        and stop.node_id == "b"
        and stop.reason is StopReason.FUNCTION_BREAKPOINT
    )
    stop = await dbg.continue_execution()
    assert isinstance(stop, Stopped) and stop.node_id == "c"


async def test_step_into_parallel_enters_branch_threads_and_step_out_stops_after_parallel() -> None:
    dbg, _, events = debugger(fanout())
    dbg.set_breakpoint("fan")
    stop = await dbg.start()
    assert isinstance(stop, Stopped) and stop.node_id == "fan"
    stop = await dbg.step_into()
    assert isinstance(stop, Stopped) and stop.node_id == "x" and stop.thread == "x"
    assert [f.node_id for f in dbg.get_stack_trace()][:2] == ["x", "fan"]
    assert "x" in dbg.threads
    stop = await dbg.step_out()
    assert isinstance(stop, Stopped) and stop.node_id == "fan" and stop.thread == "main"
    assert dbg.get_state()["x"] == "x done" and dbg.get_state()["y"] == "y done"
    started = [e.thread for e in events if isinstance(e, ThreadChanged) and e.started]
    ended = [e.thread for e in events if isinstance(e, ThreadChanged) and not e.started]
    assert {"x", "y"} <= set(started) and {"x", "y"} <= set(ended)


async def test_step_over_parallel_runs_all_branches() -> None:
    dbg, made, _ = debugger(fanout())
    dbg.set_breakpoint("fan")
    await dbg.start()
    stop = await dbg.step_over()
    assert isinstance(stop, Stopped) and stop.node_id == "end" and stop.thread == "main"
    assert {"x", "y"} <= set(made[0].runs)


async def test_step_back_shows_earlier_snapshot_without_rerunning() -> None:
    dbg, made, _ = debugger(linear())
    dbg.set_breakpoint("d")
    await dbg.start()
    assert made[0].runs == ["a", "b", "c"]
    back = dbg.step_back()
    assert back.node_id == "c"
    assert "c" not in dbg.get_state()
    back = dbg.step_back()
    assert back.node_id == "b" and dbg.get_state() == {"a": "a done"}
    assert made[0].runs == ["a", "b", "c"]  # nothing re-ran
    with pytest.raises(DebuggerError, match="start of the run"):
        dbg.step_back()
        dbg.step_back()


async def test_continue_from_the_past_forks_a_timeline() -> None:
    dbg, made, _ = debugger(linear())
    dbg.set_breakpoint("d")
    await dbg.start()
    dbg.step_back()
    dbg.step_back()  # before b
    first_timeline = dbg.timeline
    stop = await dbg.step_over()
    assert isinstance(stop, Stopped) and stop.node_id == "c"
    assert made[0].runs == ["a", "b", "c", "b"]
    assert dbg.timeline is not first_timeline and dbg.timeline.parent == first_timeline.id
    assert [e.frame.node_id for e in first_timeline.entries] == ["a", "b", "c", "d"]
    assert [e.frame.node_id for e in dbg.timeline.entries] == ["a", "b", "c"]


async def test_set_state_in_the_past_applies_to_the_forked_run() -> None:
    seen: list[Any] = []

    def record(state: Any) -> str:
        seen.append(state.get("a"))
        return "c"

    dbg, _, _ = debugger(linear(), {"c": record})
    dbg.set_breakpoint("d")
    await dbg.start()
    dbg.step_back()  # before c
    dbg.set_state("a", "edited")
    stop = await dbg.step_over()
    assert isinstance(stop, Stopped) and stop.node_id == "d"
    assert seen == ["a done", "edited"]


async def test_reverse_continue_goes_to_previous_breakpoint() -> None:
    dbg, _, _ = debugger(linear())
    dbg.set_breakpoint("b")
    dbg.set_breakpoint("d")
    await dbg.start()
    stop = await dbg.continue_execution()
    assert isinstance(stop, Stopped) and stop.node_id == "d"
    back = dbg.reverse_continue()
    assert back.node_id == "b" and back.reason is StopReason.BREAKPOINT
    back = dbg.reverse_continue()
    assert back.node_id == "a" and back.reason is StopReason.ENTRY


async def test_goto_and_restart_node() -> None:
    dbg, made, _ = debugger(linear())
    dbg.set_breakpoint("b")
    await dbg.start()
    dbg.goto("d")
    stop = await dbg.wait()
    assert isinstance(stop, Stopped) and stop.reason is StopReason.GOTO and stop.node_id == "d"
    assert made[0].runs == ["a"]
    dbg.restart_node("a")
    stop = await dbg.wait()
    assert isinstance(stop, Stopped) and stop.reason is StopReason.RESTART and stop.node_id == "a"
    assert dbg.get_state() == {}


async def test_exception_stop_then_restart_frame_runs_node_again() -> None:
    attempts = {"n": 0}

    def flaky(state: Any) -> str:
        attempts["n"] += 1
        if attempts["n"] == 1:
            raise RuntimeError("boom")
        return "ok"

    dbg, made, _ = debugger(linear(), {"b": flaky})
    stop = await dbg.start()
    assert isinstance(stop, Stopped) and stop.reason is StopReason.EXCEPTION
    assert stop.node_id == "b" and stop.text == "boom"
    dbg.restart_node()
    stop = await dbg.wait()
    assert isinstance(stop, Stopped) and stop.reason is StopReason.RESTART
    end = await dbg.continue_execution()
    assert isinstance(end, Finished) and end.status == "completed"
    assert made[0].runs == ["a", "b", "b", "c", "d"]


async def test_uncaught_filter_off_lets_the_run_fail() -> None:
    def boom(state: Any) -> None:
        raise RuntimeError("boom")

    dbg, _, _ = debugger(linear(), {"b": boom})
    dbg.set_exception_filters([])
    end = await dbg.start()
    assert isinstance(end, Finished) and end.status == "failed"


async def test_pause_stops_at_next_node() -> None:
    holder: list[WorkflowDebugger] = []

    def pause(state: Any) -> str:
        holder[0].pause()
        return "b"

    dbg, _, _ = debugger(linear(), {"b": pause})
    holder.append(dbg)
    stop = await dbg.start()
    assert isinstance(stop, Stopped) and stop.reason is StopReason.PAUSE and stop.node_id == "c"


async def test_terminate_while_stopped_cancels() -> None:
    dbg, made, _ = debugger(linear())
    dbg.set_breakpoint("b")
    await dbg.start()
    end = await dbg.stop()
    assert end.status == "cancelled" and made[0].runs == ["a"]


async def test_variables_scopes_and_paging() -> None:
    wf = make_workflow([("a", "transform", {}), ("b", "transform", {})])
    dbg, _, _ = debugger(wf, {"a": lambda s: list(range(250))})
    dbg.set_breakpoint("b")
    await dbg.start(inputs={"_internal": 1, "user": {"name": "ann"}})
    scopes = {s.name: s for s in dbg.scopes()}
    assert set(scopes) == {"State", "Node", "Execution"}
    state_vars = {v.name: v for v in dbg.variables.children(scopes["State"].handle)}
    assert "_internal" not in state_vars
    items = state_vars["a"]
    assert items.indexed == 250 and items.handle
    page = dbg.variables.children(items.handle, 200, 10)
    assert [v.name for v in page] == [f"[{i}]" for i in range(200, 210)]
    assert page[0].path == "a[200]"
    user = dbg.variables.children(state_vars["user"].handle)
    assert user[0].name == "name" and user[0].value == "'ann'" and user[0].path == "user.name"
    execution = {v.name: v for v in dbg.variables.children(scopes["Execution"].handle)}
    assert execution["execution_id"].value == repr(dbg.execution_id)
    assert "internals" in execution
    await dbg.continue_execution()
    with pytest.raises(KeyError, match="no longer valid"):
        dbg.variables.children(items.handle)


async def test_threads_hold_while_another_thread_is_stopped() -> None:
    dbg, made, _ = debugger(fanout())
    dbg.set_breakpoint("x")
    stop = await dbg.start()
    assert isinstance(stop, Stopped) and stop.thread == "x"
    assert "y" not in made[0].runs  # y waits at its gate while x is stopped
    dbg.resume(StepMode.RUN)
    end = await dbg.wait()
    assert isinstance(end, Finished) and end.status == "completed"


async def test_logpoint_without_expressions_emits_output_and_does_not_stop() -> None:
    dbg, _, events = debugger(linear())
    dbg.set_breakpoint("b", log_message="at b {{literal}}")
    end = await dbg.start()
    assert isinstance(end, Finished)
    assert [e.text for e in events if isinstance(e, Output)] == ["at b {literal}\n"]


async def _run_slow_handler(code_debugged: Any) -> Finished:
    from engine.execution_engine import WorkflowExecutor
    from tests.executor.helpers import SLOW_WORKFLOW, compile_one, slow_registry

    reg = slow_registry()
    dbg = WorkflowDebugger(
        compile_one(SLOW_WORKFLOW),
        executor_factory=lambda gate, subs: WorkflowExecutor(
            registry=reg, gate=gate, subscribers=subs
        ),
        code_debugged=code_debugged,
    )
    dbg.set_exception_filters([])
    dbg.set_breakpoint("slow")
    stop = await dbg.start()
    assert isinstance(stop, Stopped) and stop.node_id == "slow"
    end = await dbg.continue_execution()
    assert isinstance(end, Finished)
    return end


async def test_a_node_whose_code_is_being_debugged_runs_without_its_timeout() -> None:
    end = await _run_slow_handler(lambda node: node.type.value == "compute")
    assert end.status == "completed", end.error
    assert (end.state or {})["got"] == (end.state or {})["later"] == "done"

    end = await _run_slow_handler(lambda node: node.id == "after")
    assert end.status == "failed" and "'slow' timed out after 0.02s" in (end.error or "")
