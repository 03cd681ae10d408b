"""Team nodes: run the members through the agent runner in the team's formation.

Formations:
- `sequential`: members in order; each sees the team goal and the results so far.
- `pipeline`: members in order; each gets the previous member's response as `input`.
- `parallel`: members concurrently, each with the team goal only.
- Mapped (documented): `hierarchical` -> sequential with the first member as
  lead; `consensus` -> parallel; `round_robin`, `dynamic`, `adaptive`,
  `hybrid`, `expert` -> sequential.

The node's result `{response, success, formation, member_results, tool_calls}`,
plus Victor's own keys `final_output` (= response), `team_members`,
`team_formation` and `team_iterations`, goes under its output key
(`output_key`, default `team_result`). `merge_strategy` shapes
`member_results` (`list` gives a list, the others a dict by member id).
`merge_mode` decides what happens when the output key already holds a value:
`team_wins` replaces it, `graph_wins` keeps it, `merge` deep-merges dicts,
`error` fails on a conflict. `total_tool_budget` bounds the members' tool
calls. `max_iterations` bounds the member turns (each formation here gives
every member one turn, so a team with more members than `max_iterations`
fails before any member runs). A debugger gate may hold each member
(`before_member`/`after_member`) and skip it; skipped members are listed
under `skipped_members`. Knows nothing of which agent runner is used.
"""

from __future__ import annotations

import asyncio
from typing import Any

from engine.agent_runners import AgentRequest, AgentResponse
from engine.model import TeamMember, TeamNode
from engine.node_runners.base import NodeEnv, NodeError, Place, StepResult
from engine.state import deep_merge
from engine.templating import render

FORMATION_MAP = {
    "sequential": "sequential",
    "pipeline": "pipeline",
    "parallel": "parallel",
    "hierarchical": "sequential",
    "consensus": "parallel",
    "round_robin": "sequential",
    "dynamic": "sequential",
    "adaptive": "sequential",
    "hybrid": "sequential",
    "expert": "sequential",
}


async def run_team(env: NodeEnv, node: TeamNode, state: dict[str, Any], place: Place) -> StepResult:
    if not node.members:
        raise NodeError(f"team node {node.id!r} has no members")
    formation = FORMATION_MAP.get(node.team_formation.lower())
    if formation is None:
        raise NodeError(
            f"team node {node.id!r}: unknown team_formation {node.team_formation!r} "
            f"(use one of {', '.join(FORMATION_MAP)})"
        )
    turns = len(node.members)  # every formation here gives each member one turn
    if turns > node.max_iterations:
        raise NodeError(
            f"team {node.id!r} needs {turns} member turns in formation "
            f"{node.team_formation!r}, over max_iterations={node.max_iterations}; "
            "raise max_iterations or use fewer members"
        )
    runner = env.runner_for(node)
    team_goal = render(node.goal, state)
    hooks = env.member_hooks
    skipped: list[str] = []

    async def ask(index: int, member: TeamMember, inputs: dict[str, Any]) -> AgentResponse | None:
        if hooks and await env.before_member(node, place, member, index, state):
            skipped.append(member.id)
            return None
        goal = render(member.goal, state) if member.goal else team_goal
        request = AgentRequest(
            node_id=node.id,
            member_id=member.id,
            role=member.role,
            goal=goal,
            workflow=env.workflow.name,
            tools=member.tools or None,
            tool_budget=member.tool_budget,
            inputs={"team_goal": team_goal, **inputs},
            profile=node.profile,
            visit=place.visit,
        )
        response = await runner.run(request)
        if hooks:
            await env.after_member(node, place, member, index, response.as_dict())
        if not response.success:
            raise NodeError(f"team {node.id!r} member {member.id!r} failed: {response.error}")
        return response

    responses: list[tuple[str, AgentResponse]] = []
    if formation == "parallel":
        answers = await asyncio.gather(*(ask(i, m, {}) for i, m in enumerate(node.members)))
        responses = [(m.id, a) for m, a in zip(node.members, answers, strict=True) if a is not None]
    else:
        previous = ""
        for index, member in enumerate(node.members):
            if formation == "pipeline":
                inputs: dict[str, Any] = {"input": previous}
            else:
                inputs = {"previous_results": {mid: r.response for mid, r in responses}}
            answer = await ask(index, member, inputs)
            if answer is None:
                continue
            responses.append((member.id, answer))
            previous = answer.response
    used = sum(r.tool_calls for _, r in responses)
    if used > node.total_tool_budget:
        raise NodeError(
            f"team {node.id!r} used {used} tool calls, "
            f"over total_tool_budget={node.total_tool_budget}"
        )
    if node.merge_strategy == "list":
        members: Any = [r.as_dict() for _, r in responses]
    else:
        members = {mid: r.as_dict() for mid, r in responses}
    if formation == "parallel":
        final = "\n\n".join(f"[{mid}] {r.response}" for mid, r in responses)
    else:
        final = responses[-1][1].response if responses else ""
    result: Any = {
        "response": final,
        "success": True,
        "formation": node.team_formation,
        "member_results": members,
        "tool_calls": used,
        # Victor's TeamNodeRunner output keys, for workflows that read them.
        "final_output": final,
        "team_members": len(node.members),
        "team_formation": node.team_formation,
        "team_iterations": len(responses),
    }
    if skipped:
        result["skipped_members"] = skipped
    existing = state.get(node.output)
    mode = node.merge_mode
    if existing is not None:
        if mode == "graph_wins":
            return StepResult(output=result, store=False)
        if mode == "merge" and isinstance(existing, dict):
            result = deep_merge(existing, result)
        elif mode == "error" and existing != result:
            raise NodeError(
                f"team {node.id!r}: state key {node.output!r} already holds a value and "
                "merge_mode is 'error'"
            )
    return StepResult(output=result)
