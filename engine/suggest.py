""" "Did you mean …?": the closest known names to a misspelt one.

The one fuzzy matcher behind every suggestion (unknown node ids, keys, stages,
state keys). Knows nothing of where the names come from.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable

DEFAULT_CUTOFF = 0.6


def close_matches(
    word: str, candidates: Iterable[str], n: int = 1, cutoff: float = DEFAULT_CUTOFF
) -> list[str]:
    """Up to `n` candidates similar to `word`, best first."""
    return difflib.get_close_matches(word, list(candidates), n=n, cutoff=cutoff)


def did_you_mean(word: str, candidates: Iterable[str]) -> str:
    """` (did you mean 'x'?)` for the closest candidate, or "" when none is close."""
    match = close_matches(word, candidates)
    return f" (did you mean '{match[0]}'?)" if match else ""
