"""Find state references in template text: `{{key}}`, `${key}`, `$ctx.key`, `{key}`.

Shared by the compiler (state reads with spans), the executor's renderer, the
LSP and the debugger's hover. Returns offsets into the text only; knows
nothing of YAML positions, state values or protocols.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

from engine.model import StateRefKind

_PATH = r"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*|\[\d+\])*"
_MUSTACHE = re.compile(r"\{\{\s*(" + _PATH + r")\s*\}\}")
_DOLLAR = re.compile(r"\$\{(" + _PATH + r")\}")
_CTX = re.compile(r"\$ctx\.(" + _PATH + r")")
_BRACE = re.compile(r"(?<![{$])\{(" + _PATH + r")\}(?!\})")


@dataclass(frozen=True, slots=True)
class TemplateRef:
    """One reference: the dotted path, its root key, and offsets of the whole token."""

    path: str
    kind: StateRefKind
    start: int
    end: int
    path_start: int

    @property
    def key(self) -> str:
        return root_key(self.path)


@functools.lru_cache(maxsize=16384)
def root_key(path: str) -> str:
    """The state key a dotted path starts with (`user.name[0]` -> `user`)."""
    # Cached: every state read of every compile asks, mostly for the same few paths.
    cut = len(path)
    for sep in (".", "["):
        index = path.find(sep)
        if index != -1:
            cut = min(cut, index)
    return path[:cut]


def find_refs(text: str, *, braces: bool = False) -> list[TemplateRef]:
    """Every reference in text, in order. `braces` also finds HITL-style `{key}`."""
    if "{" not in text and "$" not in text:
        return []
    return list(template_refs(text, braces))


@functools.lru_cache(maxsize=16384)
def template_refs(text: str, braces: bool = False) -> tuple[TemplateRef, ...]:
    """`find_refs` as an immutable tuple, cached on the text.

    Recompiling an edited file sees mostly unchanged goals and prompts, and the
    refs are frozen, so sharing them between compiles is safe."""
    if "{" not in text and "$" not in text:
        return ()
    found: list[TemplateRef] = []
    patterns = [
        (_MUSTACHE, StateRefKind.MUSTACHE),
        (_DOLLAR, StateRefKind.DOLLAR),
        (_CTX, StateRefKind.CTX),
    ]
    if braces:
        patterns.append((_BRACE, StateRefKind.BRACE))
    for pattern, kind in patterns:
        for match in pattern.finditer(text):
            found.append(
                TemplateRef(match.group(1), kind, match.start(), match.end(), match.start(1))
            )
    found.sort(key=lambda ref: ref.start)
    return tuple(found)
