"""Copy-on-write helpers for the workflow state.

The state is one plain dict. The executor never mutates a value that a
snapshot may share: it replaces top-level keys, and internal maps such as
`_node_results` are rebuilt with one more entry (`with_entry`). A snapshot is
therefore a shallow copy, and every snapshot shares the unchanged values of
the others (structural sharing). Knows nothing of nodes or events.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any

NODE_RESULTS = "_node_results"
PARALLEL_RESULTS = "_parallel_results"
ERROR = "_error"
RESUME_NODE = "_resume_node"
ITERATION = "_iteration"


def snapshot(state: Mapping[str, Any]) -> dict[str, Any]:
    """A shallow copy: cheap, and safe because values are never mutated in place."""
    return dict(state)


FLATTEN_EVERY = 32
"""A layered snapshot holds a full copy at least every this many layers."""

_ABSENT: Any = object()


class LayeredState(Mapping[str, Any]):
    """An immutable state snapshot that shares structure with the one before it.

    A snapshot is the previous snapshot of the same thread plus the keys the
    node wrote; every `FLATTEN_EVERY` layers it is a full shallow copy. A
    lookup walks at most that many layers, and a long run copies each key
    about once per `FLATTEN_EVERY` nodes instead of once per node (a
    1,000-node chain spent most of its snapshot time copying). Iteration
    builds, and keeps, the full mapping on first use.
    """

    __slots__ = ("_delta", "_depth", "_flat", "_len", "_parent")

    def __init__(
        self,
        *,
        flat: dict[str, Any] | None = None,
        parent: LayeredState | None = None,
        delta: dict[str, Any] | None = None,
        depth: int = 0,
        length: int = 0,
    ) -> None:
        self._flat = flat
        self._parent = parent
        self._delta = delta or {}
        self._depth = depth
        self._len = len(flat) if flat is not None else length

    def __getitem__(self, key: str) -> Any:
        layer: LayeredState | None = self
        while layer is not None:
            if layer._flat is not None:
                return layer._flat[key]
            value = layer._delta.get(key, _MISSING_LAYER)
            if value is not _MISSING_LAYER:
                if value is _ABSENT:
                    raise KeyError(key)
                return value
            layer = layer._parent
        raise KeyError(key)

    def __contains__(self, key: object) -> bool:
        try:
            self[key]  # type: ignore[index]
        except KeyError:
            return False
        return True

    def __len__(self) -> int:
        return self._len

    def __iter__(self) -> Iterator[str]:
        return iter(self._materialize())

    def __repr__(self) -> str:
        return f"LayeredState({self._materialize()!r})"

    def _materialize(self) -> dict[str, Any]:
        if self._flat is not None:
            return self._flat
        chain: list[LayeredState] = []
        layer: LayeredState | None = self
        while layer is not None and layer._flat is None:
            chain.append(layer)
            layer = layer._parent
        flat = dict(layer._flat) if layer is not None and layer._flat is not None else {}
        for item in reversed(chain):
            for key, value in item._delta.items():
                if value is _ABSENT:
                    flat.pop(key, None)
                else:
                    flat[key] = value
        # Only `_flat` is set: another thread may be walking this layer right now, and
        # the parent and delta it reads stay valid (and equal to `flat`).
        self._flat = flat
        return flat


_MISSING_LAYER: Any = object()


def layered_snapshot(
    previous: LayeredState | None,
    state: Mapping[str, Any],
    written: Iterable[str] | None,
    exclude: frozenset[str] = frozenset(),
) -> LayeredState:
    """The snapshot of `state` after a node that wrote the top-level keys `written`.

    `previous` must be the snapshot taken after the previous node of the same
    thread; with no previous snapshot, unknown `written` keys (a debugger may
    have edited the state), or a chain `FLATTEN_EVERY` deep, it is a full copy.
    """
    if previous is None or written is None or previous._depth + 1 >= FLATTEN_EVERY:
        flat = {key: value for key, value in state.items() if key not in exclude}
        return LayeredState(flat=flat)
    delta: dict[str, Any] = {}
    length = previous._len
    for key in written:
        if key in exclude or key in delta:
            continue
        had = key in previous
        if key in state:
            delta[key] = state[key]
            length += 0 if had else 1
        elif had:
            delta[key] = _ABSENT
            length -= 1
    return LayeredState(parent=previous, delta=delta, depth=previous._depth + 1, length=length)


def with_entry(mapping: Mapping[str, Any] | None, key: str, value: Any) -> dict[str, Any]:
    """A new dict equal to `mapping` plus `key: value` (the original is untouched)."""
    new = dict(mapping) if mapping else {}
    new[key] = value
    return new


def public_view(state: Mapping[Any, Any]) -> dict[Any, Any]:
    """The user-visible state: every key not starting with `_` (run internals)."""
    return {key: value for key, value in state.items() if not str(key).startswith("_")}


def changed_keys(base: Mapping[str, Any], view: Mapping[str, Any]) -> Iterable[str]:
    """Public keys a branch added or replaced (identity check: values are never
    mutated in place, so an unchanged key still holds the very same object)."""
    missing = object()
    for key, value in view.items():
        if key.startswith("_"):
            continue
        if base.get(key, missing) is not value:
            yield key


def deep_merge(left: Mapping[str, Any], right: Mapping[str, Any]) -> dict[str, Any]:
    """Merge `right` into a copy of `left`: dicts merge recursively, others replace."""
    merged = dict(left)
    for key, value in right.items():
        current = merged.get(key)
        if isinstance(current, Mapping) and isinstance(value, Mapping):
            merged[key] = deep_merge(current, value)
        else:
            merged[key] = value
    return merged
