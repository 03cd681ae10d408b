"""Template rendering against the workflow state: `{{key}}`, `${key}`, `$ctx.key`.

Dotted paths work in all three (`{{user.name}}`, `$ctx.plan.steps`). A dict
value with a `"response"` field renders as that text (Victor's agent results).
Placeholders whose key is absent stay as written, so a runtime `${x}` is never
erased. Also resolves `$ctx.key` references inside nested compute `inputs`.
Knows nothing of nodes, the executor or I/O.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

_MISSING: Any = object()

_PATH = r"[A-Za-z_][\w-]*(?:\.[\w-]+)*"
_TEMPLATE = re.compile(
    r"\{\{\s*(?P<mustache>" + _PATH + r")\s*\}\}"
    r"|\$\{(?P<dollar>" + _PATH + r")\}"
    r"|\$ctx\.(?P<ctx>" + _PATH + r")"
)
_CTX_WHOLE = re.compile(r"^\$ctx\.(" + _PATH + r")$")


def lookup(state: Mapping[str, Any], path: str, default: Any = _MISSING) -> Any:
    """Follow a dotted path through mappings (and list indices); `default` when absent."""
    current: Any = state
    for part in path.split("."):
        if isinstance(current, Mapping):
            if part not in current:
                return default
            current = current[part]
        elif isinstance(current, list | tuple) and part.isdigit() and int(part) < len(current):
            current = current[int(part)]
        else:
            found = getattr(current, part, _MISSING) if not isinstance(current, str) else _MISSING
            if found is _MISSING:
                return default
            current = found
    return current


def to_text(value: Any) -> str:
    """How a state value reads inside a prompt."""
    if isinstance(value, Mapping) and "response" in value:
        return str(value["response"])
    if isinstance(value, str):
        return value
    if isinstance(value, Mapping | list | tuple):
        try:
            return json.dumps(value, default=str, ensure_ascii=False)
        except (TypeError, ValueError):
            return str(value)
    return str(value)


def render(text: str, state: Mapping[str, Any]) -> str:
    """Substitute every placeholder whose key exists in `state`."""
    if "{" not in text and "$ctx." not in text:
        return text

    def substitute(match: re.Match[str]) -> str:
        path = match.group("mustache") or match.group("dollar") or match.group("ctx")
        value = lookup(state, path)
        if value is _MISSING:
            return match.group(0)
        return to_text(value)

    return _TEMPLATE.sub(substitute, text)


def render_braces(text: str, values: Mapping[str, Any]) -> str:
    """HITL prompts: single-brace `{key}` for the node's `context_keys` only."""
    for key, value in values.items():
        text = text.replace("{" + key + "}", to_text(value))
    return text


def resolve_inputs(value: Any, state: Mapping[str, Any]) -> Any:
    """Resolve compute `inputs`: a whole-string `$ctx.path` becomes the state value.

    Nested lists and dicts are resolved too (Victor leaves them raw). A string
    that embeds `$ctx.x` among other text is rendered as a template. Values
    are never mutated; containers are rebuilt only when something changed.
    """
    if isinstance(value, str):
        if "$ctx." not in value and "{{" not in value:
            return value
        whole = _CTX_WHOLE.match(value)
        if whole:
            found = lookup(state, whole.group(1))
            return None if found is _MISSING else found
        return render(value, state)
    if isinstance(value, Mapping):
        return {key: resolve_inputs(item, state) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [resolve_inputs(item, state) for item in value]
    return value
