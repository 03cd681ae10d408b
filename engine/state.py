"""Copy-on-write helpers for the workflow state.

The state is one plain dict. The executor never mutates a value that a
snapshot may share: it replaces top-level keys, and internal maps such as
`_node_results` are rebuilt with one more entry (`with_entry`). A snapshot is
therefore a shallow copy, and every snapshot shares the unchanged values of
the others (structural sharing). Knows nothing of nodes or events.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

NODE_RESULTS = "_node_results"
PARALLEL_RESULTS = "_parallel_results"
ERROR = "_error"
RESUME_NODE = "_resume_node"
ITERATION = "_iteration"


def snapshot(state: Mapping[str, Any]) -> dict[str, Any]:
    """A shallow copy: cheap, and safe because values are never mutated in place."""
    return dict(state)


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
