"""Environment substitution in workflow text values, as Victor does it, but safer.

- `$env.NAME` becomes the variable's value, or stays as written when unset.
- `${NAME:-default}` becomes the value, else the default.
- `${NAME}` becomes the value when the variable exists; otherwise it is kept
  for runtime templating (Victor erased it, breaking `${key}` placeholders).

Knows nothing of YAML or workflows: it maps plain Python data.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

_ENV_DOT = re.compile(r"\$env\.([A-Za-z_][A-Za-z0-9_]*)")
_ENV_BRACE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")


def substitute_text(text: str, environ: Mapping[str, str]) -> str:
    """Apply both substitution forms to one string."""
    if "$" not in text:
        return text

    def dot(match: re.Match[str]) -> str:
        value = environ.get(match.group(1))
        return match.group(0) if value is None else value

    def brace(match: re.Match[str]) -> str:
        value = environ.get(match.group(1))
        if value is not None:
            return value
        default = match.group(2)
        return default if default is not None else match.group(0)

    return _ENV_BRACE.sub(brace, _ENV_DOT.sub(dot, text))


def substitute(value: Any, environ: Mapping[str, str]) -> Any:
    """Substitute in every string of a nested structure; returns new containers only when needed."""
    if isinstance(value, str):
        return substitute_text(value, environ)
    if isinstance(value, dict):
        return {k: substitute(v, environ) for k, v in value.items()}
    if isinstance(value, list):
        return [substitute(v, environ) for v in value]
    return value
