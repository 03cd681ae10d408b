""" "Did you mean …?": the closest known names to a misspelt one.

The one fuzzy matcher behind every suggestion (unknown node ids, keys, stages,
state keys). Knows nothing of where the names come from.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Iterable

DEFAULT_CUTOFF = 0.6


def close_matches(
    word: str, candidates: Iterable[str], n: int = 1, cutoff: float = DEFAULT_CUTOFF
) -> list[str]:
    """Up to `n` candidates similar to `word`, best first."""
    pool = list(candidates)
    if len(pool) > _PREFILTER_FROM:
        pool = _plausible(word, pool, cutoff)
    return difflib.get_close_matches(word, pool, n=n, cutoff=cutoff)


# Below this many candidates difflib is fast enough on its own.
_PREFILTER_FROM = 64


def _plausible(word: str, pool: list[str], cutoff: float) -> list[str]:
    """The candidates difflib could accept; the result of `get_close_matches` is unchanged.

    Thousands of candidates come from large workflows (every state key written),
    and difflib's per-character `quick_ratio` on each dominated a compile. The
    characters a candidate shares with `word` bound the matches `quick_ratio`
    counts, and `ratio() <= quick_ratio()`, so a candidate whose bound already
    misses `cutoff` can never be returned. Counted with `bytes.translate`, the
    fastest way, hence ASCII only: other candidates are all kept."""
    if not word.isascii():
        return pool
    word_bytes = word.encode()
    size = len(word)
    need = {
        length: _least_matches(size, length, cutoff)
        for length in {len(c) for c in pool if type(c) is str}
    }
    return [
        c
        for c in pool
        if type(c) is not str
        or not c.isascii()
        or len(c) - len(c.encode().translate(None, word_bytes)) >= need[len(c)]
    ]


def _least_matches(size: int, length: int, cutoff: float) -> float:
    """Fewest matches whose ratio (difflib's formula) reaches `cutoff`; inf when none can."""
    total = size + length
    if not total:
        return 0  # difflib rates two empty strings 1.0
    for matches in range(min(size, length) + 1):
        if 2.0 * matches / total >= cutoff:
            return matches
    return math.inf


def did_you_mean(word: str, candidates: Iterable[str]) -> str:
    """` (did you mean 'x'?)` for the closest candidate, or "" when none is close."""
    match = close_matches(word, candidates)
    return f" (did you mean '{match[0]}'?)" if match else ""
