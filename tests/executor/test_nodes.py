"""Node semantics: every node type, state flow, routing and loop limits."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import pytest

from engine.agent_runners.scripted import ScriptedRunner
from engine.events import ExecutionEventType as ET
from engine.execution_engine import WorkflowExecutor
from engine.hitl import AnswersResponder
from tests.executor.helpers import Events, compile_one, registry


async def test_agent_goal_templates_and_victor_result_shape() -> None:
    wf = compile_one(
        """
workflows:
  w:
    nodes:
      - id: a
        type: agent
        role: planner
        goal: "Fix {{task.title}} in ${repo} for $ctx.user.name"
        output: plan
"""
    )
    seen: list[str] = []

    class Echo:
        async def run(self, request: Any) -> Any:
            from engine.agent_runners import AgentResponse

            seen.append(request.goal)
            return AgentResponse(response="done")

    executor = WorkflowExecutor(agent_runner=Echo())
    result = await executor.execute(
        wf, {"task": {"title": "bug 7"}, "repo": "core", "user": {"name": "ana"}}
    )
    assert result.success, result.error
    assert seen == ["Fix bug 7 in core for ana"]
    assert result.final_state["plan"] == {
        "response": "done",
        "success": True,
        "tool_calls": 0,
        "error": None,
    }


def _record_requests(runner: ScriptedRunner) -> list[Any]:
    """The requests the runner receives, in order (the runner still answers them)."""
    requests: list[Any] = []
    original = runner.run

    async def recording(request: Any) -> Any:
        requests.append(request)
        return await original(request)

    runner.run = recording  # type: ignore[method-assign]
    return requests


async def test_goal_uses_response_text_of_agent_results() -> None:
    wf = compile_one(
        """
workflows:
  w:
    nodes:
      - id: first
        type: agent
        goal: "start"
      - id: second
        type: agent
        goal: "continue from {{first}}"
"""
    )
    runner = ScriptedRunner({"first": "alpha", "second": "got: {{missing}}"})
    requests = _record_requests(runner)
    result = await WorkflowExecutor(agent_runner=runner).execute(wf)
    assert result.success
    assert requests[1].goal == "continue from alpha"


async def test_agent_without_input_mapping_gets_the_public_state_only() -> None:
    wf = compile_one(
        """
workflows:
  w:
    nodes:
      - id: first
        type: agent
        goal: "start"
      - id: second
        type: agent
        goal: "continue"
      - id: mapped
        type: agent
        goal: "mapped"
        input_mapping: {plan: first}
"""
    )
    runner = ScriptedRunner({"*": "ok"})
    requests = _record_requests(runner)
    result = await WorkflowExecutor(agent_runner=runner).execute(wf, {"task": "t"})
    assert result.success, result.error
    assert dict(requests[1].inputs) == {"task": "t", "first": result.final_state["first"]}
    assert dict(requests[2].inputs) == {"plan": result.final_state["first"]}


async def test_missing_runner_fails_before_start_naming_nodes() -> None:
    wf = compile_one(
        """
workflows:
  w:
    nodes:
      - id: prep
        type: transform
        transform: "x = 1"
      - id: think
        type: agent
        goal: "go"
"""
    )
    executor = WorkflowExecutor()
    problems = executor.preflight(wf)
    assert problems and "think" in problems[0] and "agent profile" in problems[0]
    assert "--profile" not in problems[0]  # the executor's API names no CLI option
    events = Events()
    executor.subscribe(events)
    result = await executor.execute(wf)
    assert result.status == "failed"
    assert result.nodes_executed == ()
    assert "think" in result.error["message"]
    assert not events.of(ET.NODE_STARTED)


async def test_compute_handler_inputs_resolved_nested_and_not_mutated() -> None:
    wf = compile_one(
        """
workflows:
  w:
    nodes:
      - id: c
        type: compute
        handler: echo
        inputs:
          path: $ctx.cfg.path
          nested:
            items: [$ctx.cfg.path, literal]
          text: "file {{cfg.path}}"
        output: echoed
"""
    )
    seen: dict[str, Any] = {}

    def echo(node: Any, context: Any, tools: Any) -> Any:
        seen.update(context.inputs)
        with pytest.raises(TypeError):
            context.state["cfg"] = 1  # read-only view
        return dict(context.inputs)

    cfg = {"path": "a.py"}
    result = await WorkflowExecutor(registry=registry(handlers={"echo": echo})).execute(
        wf, {"cfg": cfg}
    )
    assert result.success, result.error
    assert seen == {"path": "a.py", "nested": {"items": ["a.py", "literal"]}, "text": "file a.py"}
    assert result.final_state["echoed"]["path"] == "a.py"
    assert cfg == {"path": "a.py"}


async def test_compute_tools_in_sequence_and_failure() -> None:
    text = """
workflows:
  w:
    nodes:
      - id: c
        type: compute
        tools: [first, second]
        inputs: {v: 2}
        output: out
"""
    calls: list[str] = []

    def first(inputs: Any, context: Any) -> int:
        calls.append("first")
        return inputs["v"] * 10

    def second(inputs: Any, context: Any) -> int:
        calls.append("second")
        raise RuntimeError("boom")

    events = Events()
    executor = WorkflowExecutor(
        registry=registry(tools={"first": first, "second": second}), subscribers=[events]
    )
    result = await executor.execute(compile_one(text))
    assert calls == ["first", "second"]
    assert result.status == "failed"
    assert "second" in result.error["message"] and "boom" in result.error["message"]
    tool_events = events.of(ET.TOOL_CALLED)
    assert [e.tool_calls[0].tool_name for e in tool_events] == ["first", "second"]
    assert [e.tool_calls[0].success for e in tool_events] == [True, False]


async def test_compute_without_handler_or_tools_records_params() -> None:
    wf = compile_one(
        "workflows:\n  w:\n    nodes:\n      - id: c\n        type: compute\n"
        "        inputs: {a: $ctx.x}\n"
    )
    result = await WorkflowExecutor().execute(wf, {"x": 5})
    assert result.final_state["c"] == {"status": "no_tools_executed", "params": {"a": 5}}


async def test_shell_tool_runs_in_project_root(tmp_path: Any) -> None:
    (tmp_path / "marker.txt").write_text("hi")
    wf = compile_one(
        """
workflows:
  w:
    nodes:
      - id: sh
        type: compute
        tools: [shell]
        inputs:
          commands: ["ls", "exit 3"]
        output: out
"""
    )
    result = await WorkflowExecutor(project_root=tmp_path).execute(wf)
    assert result.status == "failed"
    assert "exited with status 3" in result.error["message"]
    wf_ok = compile_one(
        "workflows:\n  w:\n    nodes:\n      - id: sh\n        type: compute\n"
        "        tools: [shell]\n        inputs: {commands: [ls]}\n        output: out\n"
    )
    ok = await WorkflowExecutor(project_root=tmp_path).execute(wf_ok)
    assert ok.success
    assert "marker.txt" in ok.final_state["out"]["shell"]["stdout"]


async def test_constraints_block_capabilities_and_tools() -> None:
    wf = compile_one(
        """
workflows:
  w:
    nodes:
      - id: c
        type: compute
        tools: [save]
        constraints: [write]
        inputs: {path: "out.txt"}
"""
    )

    def save(inputs: Any, context: Any) -> str:
        raise AssertionError("a tool needing a blocked capability must not run")

    save.capabilities = frozenset({"write"})  # type: ignore[attr-defined]
    result = await WorkflowExecutor(registry=registry(tools={"save": save})).execute(wf)
    assert result.status == "failed"
    assert "write" in result.error["message"] and "constraints" in result.error["message"]


async def test_compute_timeout_with_blocking_sync_handler() -> None:
    wf = compile_one(
        "workflows:\n  w:\n    nodes:\n      - id: slow\n        type: compute\n"
        "        handler: block\n        timeout: 0.05\n"
    )
    release = threading.Event()

    def block(node: Any, context: Any, tools: Any) -> str:
        release.wait(5)
        return "late"

    try:
        result = await WorkflowExecutor(registry=registry(handlers={"block": block})).execute(wf)
    finally:
        release.set()
    assert result.status == "failed"
    assert "timed out after 0.05s" in result.error["message"]


async def test_condition_expression_value_default_and_unmatched() -> None:
    text = """
workflows:
  w:
    nodes:
      - id: route
        type: condition
        condition: "review.choice"
        branches:
          "approved": yes_node
          "default": other
      - id: yes_node
        type: transform
        transform: "picked = 'yes'"
        next: [__end__]
      - id: other
        type: transform
        transform: "picked = 'other'"
"""
    executor = WorkflowExecutor()
    wf = compile_one(text)
    ok = await executor.execute(wf, {"review": {"choice": "approved"}})
    assert ok.final_state["picked"] == "yes" and ok.nodes_executed == ("route", "yes_node")
    fallback = await executor.execute(wf, {"review": {"choice": "weird"}})
    assert fallback.final_state["picked"] == "other"

    no_default = compile_one(text.replace('"default": other', '"rejected": other'))
    failed = await executor.execute(no_default, {"review": {"choice": "weird"}})
    assert failed.status == "failed"
    message = failed.error["message"]
    assert "route" in message and "'weird'" in message and "'approved'" in message


async def test_condition_bool_expression_and_named_condition() -> None:
    text = """
workflows:
  w:
    nodes:
      - id: check
        type: condition
        condition: "{cond}"
        branches:
          "true": big
          "false": small
      - id: big
        type: transform
        transform: "size = 'big'"
        next: [__end__]
      - id: small
        type: transform
        transform: "size = 'small'"
"""
    wf = compile_one(text.replace("{cond}", "n > 3 and not blocked"))
    result = await WorkflowExecutor().execute(wf, {"n": 5, "blocked": False})
    assert result.final_state["size"] == "big"
    named = compile_one(text.replace("{cond}", "is_big"))
    reg = registry(conditions={"is_big": lambda state: state["n"] > 3})
    result = await WorkflowExecutor(registry=reg).execute(named, {"n": 1})
    assert result.final_state["size"] == "small"


@pytest.mark.parametrize(
    ("condition", "context", "size"),
    [
        # Victor reads a bare `key` as its truthiness, whatever the value's type.
        ("flag", {"flag": 0}, "small"),
        ("flag", {"flag": "yes"}, "big"),
        ("flag", {"flag": []}, "small"),
        ("flag", {}, "small"),
        # Victor's bare-word literals: no state key of that name -> the text itself.
        ("status == done", {"status": "done"}, "big"),
        ("status != done", {"status": "done"}, "small"),
        ("lang in [python, go]", {"lang": "go"}, "big"),
        ("lang not in [python, go]", {"lang": "rust"}, "big"),
        # A word that is a state key is still read (key-to-key comparison).
        ("status == wanted", {"status": "a", "wanted": "b"}, "small"),
        ("lang in [first, 'go']", {"lang": "x", "first": "x"}, "big"),
    ],
)
async def test_condition_bare_keys_and_bare_words_as_victor_reads_them(
    condition: str, context: dict[str, Any], size: str
) -> None:
    wf = compile_one(
        f"""
workflows:
  w:
    nodes:
      - id: check
        type: condition
        condition: "{condition}"
        branches:
          "true": big
          "false": small
      - id: big
        type: transform
        transform: "size = 'big'"
        next: [__end__]
      - id: small
        type: transform
        transform: "size = 'small'"
"""
    )
    result = await WorkflowExecutor().execute(wf, context)
    assert result.success, result.error
    assert result.final_state["size"] == size


async def test_condition_value_that_names_a_branch_wins_over_truthiness() -> None:
    wf = compile_one(
        """
workflows:
  w:
    nodes:
      - id: check
        type: condition
        condition: decision
        branches:
          "Approve": yes_node
          "true": truthy
      - id: yes_node
        type: transform
        transform: "picked = 'approve'"
        next: [__end__]
      - id: truthy
        type: transform
        transform: "picked = 'truthy'"
"""
    )
    executor = WorkflowExecutor()
    approve = await executor.execute(wf, {"decision": "Approve"})
    assert approve.final_state["picked"] == "approve"
    other = await executor.execute(wf, {"decision": "Discuss"})
    assert other.final_state["picked"] == "truthy"
    falsy = await executor.execute(wf, {"decision": ""})
    assert falsy.status == "failed" and falsy.error is not None
    assert "no 'default' branch" in falsy.error["message"]


async def test_transform_language_and_registered_transform() -> None:
    wf = compile_one(
        """
workflows:
  w:
    nodes:
      - id: t1
        type: transform
        transform: |
          total = a + b
          label = "sum=" + str(total)
      - id: t2
        type: transform
        transform: double
"""
    )
    reg = registry(transforms={"double": lambda s: {"total": s["total"] * 2}})
    result = await WorkflowExecutor(registry=reg).execute(wf, {"a": 1, "b": 2})
    assert result.final_state["total"] == 6
    assert result.final_state["label"] == "sum=3"


async def test_end_sentinel_and_only_first_next_followed() -> None:
    wf = compile_one(
        """
workflows:
  w:
    nodes:
      - id: a
        type: transform
        transform: "x = 1"
        next: [c, b]
      - id: b
        type: transform
        transform: "x = 2"
      - id: c
        type: transform
        transform: "y = 1"
        next: [__end__]
      - id: d
        type: transform
        transform: "never = 1"
"""
    )
    result = await WorkflowExecutor().execute(wf)
    assert result.nodes_executed == ("a", "c")
    assert "never" not in result.final_state


PARALLEL = """
workflows:
  w:
    nodes:
      - id: fan
        type: parallel
        parallel_nodes: [one, two, three]
        join_strategy: {strategy}
        next: [after]
      - id: one
        type: compute
        handler: h1
        output: r1
      - id: two
        type: compute
        handler: h2
        output: r2
      - id: three
        type: transform
        transform: "shared = 'three'"
      - id: after
        type: transform
        transform: "joined = True"
"""


def _parallel_registry(fail_two: bool, fail_all: bool = False) -> Any:
    def h1(node: Any, context: Any, tools: Any) -> str:
        if fail_all:
            raise RuntimeError("one broke")
        return "r1"

    def h2(node: Any, context: Any, tools: Any) -> str:
        if fail_two or fail_all:
            raise RuntimeError("two broke")
        return "r2"

    return registry(handlers={"h1": h1, "h2": h2})


async def test_parallel_all_merges_in_order_and_skips_child_auto_chain() -> None:
    events = Events()
    wf = compile_one(PARALLEL.replace("{strategy}", "all"))
    result = await WorkflowExecutor(
        registry=_parallel_registry(False), subscribers=[events]
    ).execute(wf, {"shared": "start"})
    assert result.success, result.error
    assert result.nodes_executed == ("fan", "after")
    state = result.final_state
    assert (state["r1"], state["r2"], state["shared"], state["joined"]) == (
        "r1",
        "r2",
        "three",
        True,
    )
    assert state["_parallel_results"]["one"] == {"success": True, "output": "r1"}
    threads = {e.thread for e in events.of(ET.NODE_STARTED) if e.node_id in ("one", "two")}
    assert threads == {"one", "two"}
    assert len(events.of(ET.BRANCH_STARTED)) == 3 and len(events.of(ET.BRANCH_FINISHED)) == 3


@pytest.mark.parametrize(
    ("strategy", "fail_two", "fail_all", "succeeds"),
    [
        ("all", True, False, False),
        ("any", True, False, True),
        ("any", False, True, True),  # the transform child still succeeds
        ("merge", True, False, True),
        ("merge", False, True, True),
    ],
)
async def test_parallel_failure_under_each_join_strategy(
    strategy: str, fail_two: bool, fail_all: bool, succeeds: bool
) -> None:
    wf = compile_one(PARALLEL.replace("{strategy}", strategy))
    result = await WorkflowExecutor(registry=_parallel_registry(fail_two, fail_all)).execute(wf)
    assert result.success is succeeds, result.error
    results = result.final_state["_parallel_results"]
    assert results["two"]["success"] is False
    if strategy == "any" and results["two"].get("cancelled"):  # "three" won the race
        assert "succeeded first" in results["two"]["error"]
    else:
        assert "two broke" in results["two"]["error"]
    if not succeeds:
        assert result.error["node"] == "fan" and "two" in result.error["message"]
    else:
        assert "r2" not in result.final_state


async def test_parallel_any_fails_when_no_child_succeeds() -> None:
    text = PARALLEL.replace("{strategy}", "any").replace(
        "parallel_nodes: [one, two, three]", "parallel_nodes: [one, two]"
    )
    result = await WorkflowExecutor(registry=_parallel_registry(False, True)).execute(
        compile_one(text)
    )
    assert result.status == "failed" and "2 of 2 branches failed" in result.error["message"]


async def test_hitl_answers_file_and_victor_storage(tmp_path: Any) -> None:
    wf = compile_one(
        """
workflows:
  w:
    nodes:
      - id: ask
        type: hitl
        hitl_type: approval
        prompt: "Deploy {env}?"
        context_keys: [env]
      - id: pick
        type: hitl
        hitl_type: choice
        choices: [a, b]
        output: choice
"""
    )
    answers = tmp_path / "answers.yaml"
    answers.write_text("ask: 'no'\npick: {value: b, reason: because}\n")
    events = Events()
    executor = WorkflowExecutor(
        hitl_responder=AnswersResponder.from_file(answers), subscribers=[events]
    )
    result = await executor.execute(wf, {"env": "prod"})
    assert result.success, result.error
    assert result.final_state["ask_response"] == {
        "approved": False,
        "value": "no",
        "reason": None,
        "status": "rejected",
    }
    assert result.final_state["choice"]["value"] == "b"
    requested = events.of(ET.HITL_REQUESTED, "ask")[0]
    assert requested.metadata["prompt"] == "Deploy prod?"
    assert events.of(ET.HITL_ANSWERED, "pick")


async def test_hitl_timeout_applies_fallback() -> None:
    text = """
workflows:
  w:
    nodes:
      - id: ask
        type: hitl
        timeout: 0.02
        fallback: {fallback}
        default_value: dflt
"""

    class Silent:
        async def ask(self, request: Any) -> Any:
            await asyncio.Event().wait()

    go_on = await WorkflowExecutor(hitl_responder=Silent()).execute(
        compile_one(text.replace("{fallback}", "continue"))
    )
    assert go_on.success
    assert go_on.final_state["ask_response"]["value"] == "dflt"
    abort = await WorkflowExecutor(hitl_responder=Silent()).execute(
        compile_one(text.replace("{fallback}", "abort"))
    )
    assert abort.status == "failed" and "no answer within" in abort.error["message"]


TEAM = """
workflows:
  w:
    nodes:
      - id: crew
        type: team
        goal: "Build {{thing}}"
        team_formation: {formation}
        members:
          - id: m1
            role: planner
            goal: "plan"
          - id: m2
            role: executor
            goal: "do"
        output_key: crew_out
"""


@pytest.mark.parametrize("formation", ["sequential", "pipeline", "parallel", "hierarchical"])
async def test_team_formations(formation: str) -> None:
    requests: list[Any] = []

    class Runner:
        async def run(self, request: Any) -> Any:
            from engine.agent_runners import AgentResponse

            requests.append(request)
            return AgentResponse(response=f"{request.member_id} says hi")

    wf = compile_one(TEAM.replace("{formation}", formation))
    result = await WorkflowExecutor(agent_runner=Runner()).execute(wf, {"thing": "x"})
    assert result.success, result.error
    out = result.final_state["crew_out"]
    assert set(out["member_results"]) == {"m1", "m2"}
    # Victor's TeamNodeRunner keys too.
    assert out["final_output"] == out["response"]
    assert (out["team_members"], out["team_formation"], out["team_iterations"]) == (
        2,
        formation,
        2,
    )
    assert [r.member_id for r in requests] == ["m1", "m2"] or formation == "parallel"
    assert requests[0].inputs["team_goal"] == "Build x"
    if formation == "pipeline":
        assert requests[1].inputs["input"] == "m1 says hi"
        assert out["response"] == "m2 says hi"
    if formation == "parallel":
        assert "[m1]" in out["response"] and "[m2]" in out["response"]


async def test_loop_limits_max_iterations_and_visit_limit() -> None:
    text = """
workflows:
  w:
    execution:
      max_iterations: {iterations}
    nodes:
      - id: inc
        type: transform
        transform: "n = n + 1"
      - id: again
        type: condition
        condition: "n < 1000"
        branches:
          "true": inc
          "false": __end__
"""
    result = await WorkflowExecutor().execute(
        compile_one(text.replace("{iterations}", "5")), {"n": 0}
    )
    assert result.status == "failed"
    assert "max_iterations (5)" in result.error["message"]
    assert result.final_state["n"] == 6

    visits = text.replace(
        "max_iterations: {iterations}", "max_iterations: 500\n      node_visit_limit: 3"
    )
    result = await WorkflowExecutor().execute(compile_one(visits), {"n": 0})
    assert result.status == "failed"
    assert "per-node visit limit (3)" in result.error["message"] and result.error["node"] == "inc"


async def test_workflow_timeout() -> None:
    wf = compile_one(
        "workflows:\n  w:\n    execution:\n      timeout: 0.05\n    nodes:\n"
        "      - id: wait\n        type: compute\n        handler: forever\n"
    )

    async def forever(node: Any, context: Any, tools: Any) -> None:
        await asyncio.Event().wait()

    result = await WorkflowExecutor(registry=registry(handlers={"forever": forever})).execute(wf)
    assert result.status == "failed"
    assert "timed out after 0.05s" in result.error["message"]
