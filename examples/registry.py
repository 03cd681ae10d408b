"""Example registry module: the escape hatches the example workflows use.

A registry module exposes up to four dicts (Victor's convention):

- HANDLERS:   name -> handler(node, context, tools) -> output
              `context.inputs` are the node's inputs with `$ctx.key` resolved,
              `context.state` a read-only view of the state, `context.get(key)`
              reads an input or a state key. `await tools.call(name, inputs)`
              runs a registered tool. Sync handlers run in a worker thread;
              async handlers are awaited. The return value is stored under the
              node's `output`.
- CONDITIONS: name -> condition(state) -> branch key (str or bool)
- TRANSFORMS: name -> transform(state) -> dict of state keys to set
- TOOLS:      name -> tool(inputs, context) -> output
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def count_words(node: Any, context: Any, tools: Any) -> dict[str, int]:
    text = str(context.inputs.get("text", ""))
    return {"words": len(text.split()), "chars": len(text)}


def find_todos(node: Any, context: Any, tools: Any) -> dict[str, Any]:
    text = str(context.inputs.get("text", ""))
    todos = [line.strip() for line in text.splitlines() if "TODO" in line]
    return {"count": len(todos), "items": todos}


async def lint_report(node: Any, context: Any, tools: Any) -> dict[str, Any]:
    upper = await tools.call("shout", {"text": context.inputs.get("title", "")})
    return {"title": upper, "ok": True}


def review_verdict(state: Mapping[str, Any]) -> str:
    todos = state.get("todos", {}).get("count", 0)
    return "needs_work" if todos > 2 else "good"


def summarize(state: Mapping[str, Any]) -> dict[str, Any]:
    stats = state.get("stats", {})
    return {
        "summary": f"{stats.get('words', 0)} words, {state.get('todos', {}).get('count', 0)} TODOs"
    }


def shout(inputs: Mapping[str, Any], context: Any) -> str:
    return str(inputs.get("text", "")).upper()


HANDLERS = {"count_words": count_words, "find_todos": find_todos, "lint_report": lint_report}
CONDITIONS = {"review_verdict": review_verdict}
TRANSFORMS = {"summarize": summarize}
TOOLS = {"shout": shout}
