"""Resource limits of the expression language and the guarded operations that enforce them.

Every operation that can make a value much larger than its operands (repetition,
concatenation, powers, shifts, joins, string conversion) checks the size of its
result *before* computing it. This module knows nothing of parsing or state.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

MAX_TEXT_LENGTH = 20_000
"""Characters of expression or transform text."""
MAX_DEPTH = 100
"""Nesting depth of the syntax tree."""
MAX_STEPS = 200_000
"""Loop and comprehension iterations per evaluation."""
MAX_RANGE = 100_000
"""Elements of one range()."""
MAX_SEQUENCE = 1_000_000
"""Items (or characters) a repetition, concatenation or join may produce."""
MAX_INT_BITS = 4_096
"""Bits of an integer that a power, product or shift may produce."""
MAX_WEIGHT = 2_000_000
"""Logical size (items plus characters) of a value that is converted to text."""


class LimitExceeded(Exception):
    """An operation would exceed a limit; the message says which and why."""


def weight(value: Any, budget: int = MAX_WEIGHT) -> int:
    """Logical size of a value, counting shared parts each time; stops past `budget`."""
    total = 0
    stack = [value]
    while stack:
        item = stack.pop()
        total += 1
        if isinstance(item, str | bytes):
            total += len(item)
        elif isinstance(item, Mapping):
            total += len(item)
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list | tuple | set | frozenset):
            stack.extend(item)
        if total > budget:
            return total
    return total


def check_weight(value: Any, what: str) -> None:
    if weight(value) > MAX_WEIGHT:
        raise LimitExceeded(f"{what}: the value is too large (limit {MAX_WEIGHT:,} items)")


def _is_sequence(value: Any) -> bool:
    # A tuple of types: `str | list | tuple` would build a new union on every call.
    return isinstance(value, (str, list, tuple))


def repeat(seq: Any, times: int) -> Any:
    if times <= 0:
        return seq * times
    produced = weight(seq, MAX_SEQUENCE) * times if not isinstance(seq, str) else len(seq) * times
    if produced > MAX_SEQUENCE:
        raise LimitExceeded(
            f"repetition would produce about {produced:,} items (limit {MAX_SEQUENCE:,})"
        )
    return seq * times


def mul(left: Any, right: Any) -> Any:
    if _is_sequence(left) and isinstance(right, int) and not isinstance(right, bool):
        return repeat(left, right)
    if _is_sequence(right) and isinstance(left, int) and not isinstance(left, bool):
        return repeat(right, left)
    if (
        isinstance(left, int)
        and isinstance(right, int)
        and left.bit_length() + right.bit_length() > MAX_INT_BITS
    ):
        raise LimitExceeded(f"product exceeds {MAX_INT_BITS} bits")
    return left * right


def add(left: Any, right: Any) -> Any:
    if _is_sequence(left) and _is_sequence(right):
        size = len(left) + len(right)
        if size > MAX_SEQUENCE:
            raise LimitExceeded(
                f"concatenation would produce {size:,} items (limit {MAX_SEQUENCE:,})"
            )
    result = left + right
    if type(result) is int and result.bit_length() > MAX_INT_BITS:
        raise LimitExceeded(f"sum exceeds {MAX_INT_BITS} bits")
    return result


def power(base: Any, exponent: Any) -> Any:
    if isinstance(exponent, int) and isinstance(base, int | float):
        if abs(exponent) > 100_000:
            raise LimitExceeded(f"exponent {exponent} is too large")
        big = isinstance(base, int) and exponent > 0 and abs(base) > 1
        if big and exponent * int(base).bit_length() > MAX_INT_BITS:
            raise LimitExceeded(f"{base} ** {exponent} exceeds {MAX_INT_BITS} bits")
    return base**exponent


def lshift(value: Any, count: Any) -> Any:
    if (
        isinstance(value, int)
        and isinstance(count, int)
        and value
        and count + value.bit_length() > MAX_INT_BITS
    ):
        raise LimitExceeded(f"shift by {count} exceeds {MAX_INT_BITS} bits")
    return value << count


def modulo(left: Any, right: Any) -> Any:
    if isinstance(left, str | bytes):
        # printf-style formatting can pad to any width; refuse it outright.
        raise LimitExceeded("'%' string formatting is not supported; use + and str()")
    return left % right


def bounded_range(*args: Any) -> range:
    for arg in args:
        if not isinstance(arg, int) or isinstance(arg, bool):
            raise TypeError(f"range() needs integers, got {type(arg).__name__}")
    result = range(*args)
    if len(result) > MAX_RANGE:
        raise LimitExceeded(f"range of {len(result):,} numbers (limit {MAX_RANGE:,})")
    return result


def bounded_str(value: Any) -> str:
    if isinstance(value, str):
        return value
    check_weight(value, "str()")
    return str(value)
