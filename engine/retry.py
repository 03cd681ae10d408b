"""Retry schedules: exponential backoff with a cap and jitter, on an injectable clock.

`Backoff` computes the delay before each retry; `Clock` gives the time and the
sleep the executor uses, so tests drive retries with `FakeClock` and measure the
delays exactly. Knows nothing of nodes or events.
"""

from __future__ import annotations

import asyncio
import random
import time
from dataclasses import dataclass, field
from typing import Protocol


class Clock(Protocol):
    """Time source and sleeper used for retries and durations."""

    def monotonic(self) -> float: ...

    async def sleep(self, seconds: float) -> None: ...


class SystemClock:
    """The real clock."""

    def monotonic(self) -> float:
        return time.perf_counter()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


@dataclass
class FakeClock:
    """A clock for tests: `sleep` advances time at once and records the delay."""

    now: float = 0.0
    sleeps: list[float] = field(default_factory=list)

    def monotonic(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds
        await asyncio.sleep(0)


@dataclass(frozen=True, slots=True)
class Backoff:
    """`max_attempts` tries in all; delay before retry n (1-based) is
    `min(initial_delay * multiplier**(n-1), max_delay)`, then spread by
    +/- `jitter` (a fraction) using `rng`."""

    max_attempts: int = 1
    initial_delay: float = 1.0
    multiplier: float = 2.0
    max_delay: float = 32.0
    jitter: float = 0.0

    def delay(self, retry: int, rng: random.Random | None = None) -> float:
        base = min(self.initial_delay * self.multiplier ** max(retry - 1, 0), self.max_delay)
        if self.jitter <= 0 or base <= 0:
            return max(base, 0.0)
        spread = (rng or _RNG).uniform(-self.jitter, self.jitter)
        return max(base * (1.0 + spread), 0.0)


NO_RETRY = Backoff()

_RNG = random.Random()
