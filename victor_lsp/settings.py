"""Client settings (section `victor`) -> validated `Settings`, never an exception.

Accepted from `initializationOptions` (either the section itself or
`{"victor": {...}}`) and from `workspace/configuration`. Every invalid value is
replaced by its default and described in a message the server shows once.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

SECTION = "victor"


@dataclass(frozen=True)
class Settings:
    registry: tuple[str, ...] = ()
    """Python modules whose handlers/conditions/transforms/tools feed completion and checks."""
    stage_libraries: tuple[str, ...] = ()
    history_path: str | None = None
    checks: Mapping[str, bool] = field(default_factory=dict)
    """Problem code -> enabled. Codes absent here are on."""

    @property
    def disabled_checks(self) -> frozenset[str]:
        return frozenset(code.upper() for code, on in self.checks.items() if not on)


def parse_settings(raw: Any) -> tuple[Settings, list[str]]:
    """Validated settings plus one message per value that was ignored."""
    errors: list[str] = []
    if raw is None:
        return Settings(), errors
    if isinstance(raw, Mapping) and isinstance(raw.get(SECTION), Mapping):
        raw = raw[SECTION]
    if not isinstance(raw, Mapping):
        return Settings(), [f"settings `{SECTION}` must be an object, got {type(raw).__name__}"]
    registry = _strings(raw, "registry", errors)
    stages = _strings(raw, "stageLibraries", errors)
    history = raw.get("historyPath")
    if history is not None and not isinstance(history, str):
        errors.append(f"`{SECTION}.historyPath` must be a string path or URL; ignored")
        history = None
    checks_raw = raw.get("checks", {})
    checks: dict[str, bool] = {}
    if not isinstance(checks_raw, Mapping):
        errors.append(f"`{SECTION}.checks` must map problem codes to true/false; ignored")
    else:
        for code, on in checks_raw.items():
            if isinstance(code, str) and isinstance(on, bool):
                checks[code.upper()] = on
            else:
                errors.append(
                    f"`{SECTION}.checks.{code}` must be true or false (got {on!r}); ignored"
                )
    return Settings(registry, stages, history or None, checks), errors


def _strings(raw: Mapping[str, Any], key: str, errors: list[str]) -> tuple[str, ...]:
    value = raw.get(key, ())
    if value is None:
        return ()
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
        errors.append(f"`{SECTION}.{key}` must be a list of strings; ignored")
        return ()
    return tuple(v for v in value if v.strip())
