"""Transform nodes: a registered transform function, or the transform language.

Either way the result is a dict of top-level state assignments; the state is
never mutated here. Knows nothing of how the language is parsed.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from engine.model import TransformNode
from engine.node_runners.base import NodeEnv, NodeError, Place, StepResult


async def run_transform(
    env: NodeEnv, node: TransformNode, state: dict[str, Any], place: Place
) -> StepResult:
    text = node.transform.strip()
    named = env.registry.transforms.get(text)
    if named is not None:
        updates = named(MappingProxyType(state))
        if hasattr(updates, "__await__"):
            updates = await updates
        if updates is None:
            updates = {}
        if not isinstance(updates, Mapping):
            raise NodeError(
                f"transform {text!r} returned {type(updates).__name__}; it must return a dict "
                "of state keys to set"
            )
    else:
        updates = env.compiled_transform(node.transform).execute(state)
    return StepResult(output=updates, updates=updates, store=False)
