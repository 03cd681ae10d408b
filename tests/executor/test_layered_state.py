"""Layered snapshots: equal to a full copy, sharing values, flattened periodically."""

from __future__ import annotations

import random

from engine.state import FLATTEN_EVERY, LayeredState, layered_snapshot


def test_layers_equal_full_copies_through_writes_and_removals() -> None:
    rng = random.Random(7)
    state: dict[str, object] = {"_node_results": {}, "seed": 1}
    previous: LayeredState | None = None
    history: list[tuple[LayeredState, dict[str, object]]] = []
    for step in range(200):
        written = []
        for _ in range(rng.randint(0, 3)):
            key = f"k{rng.randint(0, 40)}"
            if rng.random() < 0.2 and key in state:
                del state[key]
            else:
                state[key] = [step]
            written.append(key)
        previous = layered_snapshot(previous, state, written, frozenset({"_node_results"}))
        expected = {k: v for k, v in state.items() if k != "_node_results"}
        history.append((previous, expected))
    for snap, expected in history:
        assert len(snap) == len(expected)
        assert dict(snap) == expected
        assert snap == expected and expected == snap
        assert all(snap[k] is v for k, v in expected.items())
        assert "_node_results" not in snap


def test_unknown_writes_take_a_full_copy_and_depth_is_bounded() -> None:
    state = {"a": 1}
    first = layered_snapshot(None, state, ())
    chain = first
    for i in range(FLATTEN_EVERY * 3):
        state[f"x{i}"] = i
        chain = layered_snapshot(chain, state, (f"x{i}",))
        assert chain._depth < FLATTEN_EVERY
    state["edited"] = True
    full = layered_snapshot(chain, state, None)
    assert full._depth == 0 and full["edited"] is True and len(full) == len(state)


def test_values_are_shared_not_copied() -> None:
    big = list(range(1000))
    state = {"big": big}
    snap = layered_snapshot(None, state, ())
    state["other"] = 1
    later = layered_snapshot(snap, state, ("other",))
    assert later["big"] is big and "other" not in snap
