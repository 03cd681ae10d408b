"""What a node is about to read: the resolved inputs reported on NODE_STARTED events.

Per node type: compute -> its `inputs` with `$ctx.key` resolved; agent ->
the rendered goal plus `input_mapping`; team -> the rendered team goal; hitl
-> its `context_keys`; transform and condition expressions -> the top-level
keys they read. Values are the state's own objects (the state is
copy-on-write, so nothing is copied). Registered conditions and transforms
read the whole state and report None. Never raises: a node that cannot
resolve its inputs fails in its runner, with the real error. Knows nothing of
events or subscribers.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from engine.model import Node, NodeType
from engine.node_runners.base import NodeEnv
from engine.templating import lookup, render, resolve_inputs

log = logging.getLogger(__name__)

_MISSING = object()


def node_inputs(env: NodeEnv, node: Node, state: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """The inputs `node` would read from `state` now, or None when it reads the whole state."""
    reader = _READERS.get(node.type)
    if reader is None:
        return None
    try:
        return reader(env, node, state)
    except Exception:  # the runner reports the real error when the node runs
        log.debug("inputs of node %s not resolvable before it runs", node.id, exc_info=True)
        return None


def _keys(state: Mapping[str, Any], keys: Iterable[str]) -> dict[str, Any]:
    found = {}
    for key in keys:
        value = state.get(key, _MISSING)
        if value is not _MISSING:
            found[key] = value
    return found


def _compute(env: NodeEnv, node: Any, state: Mapping[str, Any]) -> Mapping[str, Any] | None:
    return resolve_inputs(dict(node.inputs), state) if node.inputs else {}


def _agent(env: NodeEnv, node: Any, state: Mapping[str, Any]) -> Mapping[str, Any] | None:
    inputs: dict[str, Any] = {"goal": render(node.goal, state)}
    for param, key in node.input_mapping.items():
        value = lookup(state, str(key).removeprefix("$ctx."), _MISSING)
        if value is not _MISSING:
            inputs[param] = value
    return inputs


def _team(env: NodeEnv, node: Any, state: Mapping[str, Any]) -> Mapping[str, Any] | None:
    return {"goal": render(node.goal, state)}


def _hitl(env: NodeEnv, node: Any, state: Mapping[str, Any]) -> Mapping[str, Any] | None:
    found = {}
    for key in node.context_keys:
        value = lookup(state, key, _MISSING)
        if value is not _MISSING:
            found[key] = value
    return found


def _transform(env: NodeEnv, node: Any, state: Mapping[str, Any]) -> Mapping[str, Any] | None:
    text = node.transform.strip()
    if text in env.registry.transforms:
        return None
    return _keys(state, env.compiled_transform(node.transform).reads)


def _condition(env: NodeEnv, node: Any, state: Mapping[str, Any]) -> Mapping[str, Any] | None:
    if node.condition in env.registry.conditions:
        return None
    compiled = env.compiled_condition(node.condition)
    return None if compiled.reads_all else _keys(state, compiled.names)


_READERS: dict[NodeType, Callable[[NodeEnv, Any, Mapping[str, Any]], Mapping[str, Any] | None]] = {
    NodeType.COMPUTE: _compute,
    NodeType.AGENT: _agent,
    NodeType.TEAM: _team,
    NodeType.HITL: _hitl,
    NodeType.TRANSFORM: _transform,
    NodeType.CONDITION: _condition,
}
