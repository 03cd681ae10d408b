"""HITL nodes: ask the configured responder; store `{approved, value, reason, status}`.

Stored under the node's explicit `output`, else `<id>_response` (Victor's
NodeRunner convention). The prompt's `{key}` placeholders read `context_keys`;
`{{key}}`/`$ctx.key` work too. No answer within `timeout` applies `fallback`:
`continue`/`skip` go on, `abort`/`retry` fail the node. Knows nothing of
terminals or editors.
"""

from __future__ import annotations

from typing import Any

from engine.hitl import DEFAULT_HITL_TIMEOUT, TIMEOUT, HitlRequest
from engine.model import HitlNode
from engine.node_runners.base import NodeEnv, NodeError, Place, StepResult
from engine.templating import lookup, render, render_braces


def hitl_output_key(node: HitlNode) -> str:
    explicit = "output" in node.fields or "output_key" in node.fields
    return node.output if explicit else f"{node.id}_response"


async def run_hitl(env: NodeEnv, node: HitlNode, state: dict[str, Any], place: Place) -> StepResult:
    missing = object()
    context = {}
    for key in node.context_keys:
        value = lookup(state, key, missing)
        if value is not missing:
            context[key] = value
    timeout = node.timeout if node.timeout is not None else DEFAULT_HITL_TIMEOUT
    request = HitlRequest(
        node_id=node.id,
        hitl_type=node.hitl_type,
        prompt=render(render_braces(node.prompt, context), state),
        context=context,
        choices=node.choices,
        default_value=node.default_value,
        timeout=timeout,
        fallback=node.fallback,
    )
    response = await env.ask_human(node, place.thread, request)
    if response.status == TIMEOUT:
        raise NodeError(
            f"HITL node {node.id!r} got no answer within {timeout:g}s "
            f"(fallback {node.fallback!r}); "
            "set `fallback: continue` to go on with the default, or give an answers file "
            "(`--hitl-answers` on the command line, `hitlAnswers` in a launch configuration)"
        )
    return StepResult(output=response.as_dict(), output_key=hitl_output_key(node))
