"""Fast, read-only tables over `engine/schema/workflow.schema.json`.

The JSON Schema is the single source of field documentation. This module loads
it once (lazily) and precomputes, per context, a `FieldSpec` for every key: the
compiler's validator checks thousands of nodes with `check_value` and plain
dict lookups (no jsonschema at compile time); hover and completion read
`field_doc`, `node_type_doc` and the same tables.

Contexts are named by strings:

- a node type (`agent`, `compute`, ... see `node_types()`): its keys, common ones included;
- `None` or `"workflow"`: keys of one workflow body;
- a section name (see `section_names()`): `file`, `execution`, `retry_policy`,
  `llm_config`, `constraints` (legacy dict form), `team_member`, `hitl_choice`,
  `batch_config`, `temporal_context`, `schedule`, `services`, `service`, `metadata`,
  `node` (the union of every node type's keys, for nodes of unknown type),
  `stage_entry`, `ref_entry`, `overrides`, `override_preset`.

This module must NOT know about YAML parsing, source spans, editor protocols or
problem codes; callers turn its short messages into problems.
"""

from __future__ import annotations

import datetime
import json
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from types import MappingProxyType
from typing import Any

SCHEMA_ID = "https://victor-workflow-tools.dev/schema/workflow.schema.json"

_SCHEMA_FILE = Path(__file__).resolve().parent / "schema" / "workflow.schema.json"

# Section name -> $defs entry that holds its properties.
_SECTION_DEFS: Mapping[str, str] = MappingProxyType(
    {
        "workflow": "workflow",
        "execution": "execution",
        "retry_policy": "retryPolicy",
        "llm_config": "llmConfig",
        "constraints": "constraintsDict",
        "team_member": "teamMember",
        "hitl_choice": "hitlChoice",
        "batch_config": "batchConfig",
        "temporal_context": "temporalContext",
        "schedule": "schedule",
        "service": "service",
        "metadata": "metadata",
        "stage_entry": "stageEntry",
        "ref_entry": "refEntry",
        "overrides": "overrides",
        "override_preset": "overridePreset",
    }
)
_DEF_SECTIONS: Mapping[str, str] = MappingProxyType({d: s for s, d in _SECTION_DEFS.items()})
# Defs whose values are described by another table (maps and node entries).
_EXTRA_DEF_SECTIONS: Mapping[str, str] = MappingProxyType(
    {"node": "node", "nodeBody": "node", "stageTemplate": "node"}
)


@dataclass(frozen=True)
class FieldSpec:
    """Everything known about one key in one context.

    `json_types` is empty when any value is accepted. `enum` applies to scalar
    values; `item_types` / `item_enum` to the items of an array value.
    `section` names the table that describes the keys inside the value
    (`section_kind` "object"), inside each item ("items") or inside each map
    value ("values").
    """

    name: str
    description: str
    json_types: tuple[str, ...] = ()
    enum: tuple[Any, ...] | None = None
    default: Any = field(default=None, hash=False, compare=False)
    ignored_replacement: str | None = None
    ignored: bool = False
    ignored_reason: str | None = None
    item_types: tuple[str, ...] | None = None
    deprecated: bool = False
    # Extras beyond the basic contract.
    has_default: bool = False
    markdown: str = ""
    item_enum: tuple[Any, ...] | None = None
    minimum: float | None = None
    maximum: float | None = None
    min_items: int | None = None
    min_length: int | None = None
    enum_docs: Mapping[str, str] = field(default_factory=dict, hash=False, compare=False)
    examples: tuple[Any, ...] = field(default=(), hash=False, compare=False)
    section: str | None = None
    section_kind: str | None = None
    value_types: tuple[str, ...] | None = None
    """For maps such as `branches`: the JSON types every value must have."""


# ----------------------------------------------------------------------------- loading


def schema_path() -> Path:
    """Where the JSON Schema file lives (inside the installed `engine` package)."""
    return _SCHEMA_FILE


@cache
def load_schema() -> Mapping[str, Any]:
    """The parsed schema, loaded once. Treat it as read-only."""
    with _SCHEMA_FILE.open(encoding="utf-8") as handle:
        loaded: dict[str, Any] = json.load(handle)
    return loaded


def _resolve_pointer(pointer: str) -> Mapping[str, Any]:
    if not pointer.startswith("#/"):
        raise ValueError(f"schema uses a non-local $ref {pointer!r}; only '#/...' is supported")
    node: Any = load_schema()
    for part in pointer[2:].split("/"):
        node = node[part.replace("~1", "/").replace("~0", "~")]
    if not isinstance(node, Mapping):
        raise ValueError(f"schema $ref {pointer!r} does not point at a schema object")
    return node


def _deref(schema: Mapping[str, Any]) -> tuple[dict[str, Any], str | None]:
    """Follow `$ref`s; sibling keywords of a `$ref` win over the target's.

    Returns the merged schema and the name of the last `$defs` entry passed
    through (used to find the section a value belongs to).
    """
    merged: dict[str, Any] = {}
    def_name: str | None = None
    current: Mapping[str, Any] = schema
    for _ in range(32):
        for key, value in current.items():
            if key != "$ref":
                merged.setdefault(key, value)
        target = current.get("$ref")
        if not isinstance(target, str):
            break
        parts = target.split("/")
        if len(parts) == 3 and parts[1] == "$defs" and def_name is None:
            def_name = parts[2]
        current = _resolve_pointer(target)
    return merged, def_name


# ----------------------------------------------------------------------------- building specs


def _as_tuple(value: Any) -> tuple[Any, ...]:
    if isinstance(value, str):
        return (value,)
    if isinstance(value, Iterable):
        return tuple(value)
    return ()


def _section_of(def_name: str | None) -> str | None:
    if def_name is None:
        return None
    return _DEF_SECTIONS.get(def_name) or _EXTRA_DEF_SECTIONS.get(def_name)


def _alternatives(schema: Mapping[str, Any]) -> list[tuple[dict[str, Any], str | None]]:
    branches = schema.get("oneOf") or schema.get("anyOf")
    if not branches:
        return []
    return [_deref(branch) for branch in branches]


def _items_info(
    items: Mapping[str, Any] | None,
) -> tuple[tuple[str, ...] | None, tuple[Any, ...] | None, str | None]:
    if not isinstance(items, Mapping):
        return None, None, None
    resolved, def_name = _deref(items)
    section = _section_of(def_name)
    types = list(_as_tuple(resolved.get("type")))
    enum = _as_tuple(resolved["enum"]) if "enum" in resolved else None
    for alt, alt_def in _alternatives(resolved):
        types.extend(t for t in _as_tuple(alt.get("type")) if t not in types)
        section = section or _section_of(alt_def)
    if not types and section is not None:
        types = ["object"]
    return (tuple(types) or None), enum, section


def _build_spec(name: str, raw: Mapping[str, Any]) -> FieldSpec:
    schema, def_name = _deref(raw)
    types: list[str] = list(_as_tuple(schema.get("type")))
    enum: list[Any] | None = list(schema["enum"]) if "enum" in schema else None
    section = _section_of(def_name)
    section_kind = "object" if section else None
    item_types, item_enum, item_section = _items_info(schema.get("items"))

    for alt, alt_def in _alternatives(schema):
        for json_type in _as_tuple(alt.get("type")):
            if json_type not in types:
                types.append(json_type)
        if "enum" in alt and alt.get("type") not in ("array", "object"):
            enum = (enum or []) + [v for v in alt["enum"] if v not in (enum or [])]
        if alt.get("type") == "array" and item_types is None:
            item_types, item_enum, item_section = _items_info(alt.get("items"))
        alt_section = _section_of(alt_def)
        if alt_section and section is None:
            section, section_kind = alt_section, "object"

    if section is None and item_section is not None:
        section, section_kind = item_section, "items"
    extra = schema.get("additionalProperties")
    value_types: tuple[str, ...] | None = None
    if isinstance(extra, Mapping):
        resolved_extra, extra_def = _deref(extra)
        value_types = _as_tuple(resolved_extra.get("type")) or None
        value_section = _section_of(extra_def)
        if section is None and value_section is not None:
            section, section_kind = value_section, "values"

    ignored = schema.get("x-victor-ignored")
    description = str(schema.get("description", ""))
    enum_docs = schema.get("x-enum-descriptions") or {}
    return FieldSpec(
        name=name,
        description=description,
        json_types=tuple(types),
        enum=tuple(enum) if enum is not None else None,
        default=schema.get("default"),
        has_default="default" in schema,
        ignored=isinstance(ignored, Mapping),
        ignored_replacement=ignored.get("replacement") if isinstance(ignored, Mapping) else None,
        ignored_reason=ignored.get("reason") if isinstance(ignored, Mapping) else None,
        item_types=item_types,
        item_enum=item_enum,
        deprecated=bool(schema.get("deprecated", False)),
        markdown=str(schema.get("markdownDescription", description)),
        minimum=schema.get("minimum"),
        maximum=schema.get("maximum"),
        min_items=schema.get("minItems", schema.get("minProperties")),
        min_length=schema.get("minLength"),
        enum_docs=MappingProxyType(dict(enum_docs)),
        examples=tuple(schema.get("examples", ())),
        section=section,
        section_kind=section_kind,
        value_types=value_types,
    )


def _table(properties: Mapping[str, Any]) -> Mapping[str, FieldSpec]:
    return MappingProxyType({key: _build_spec(key, value) for key, value in properties.items()})


@cache
def _tables() -> Mapping[str, Mapping[str, FieldSpec]]:
    schema = load_schema()
    defs = schema["$defs"]
    tables: dict[str, Mapping[str, FieldSpec]] = {"file": _table(schema.get("properties", {}))}
    for section, def_name in _SECTION_DEFS.items():
        tables[section] = _table(defs[def_name].get("properties", {}))
    tables["services"] = MappingProxyType({})  # a map of service name -> `service`
    for node_type in node_types():
        tables[node_type] = _table(defs[f"{node_type}Node"]["properties"])
    union = {k: v for k, v in tables["stage_entry"].items() if k not in ("stage", "overrides")}
    tables["node"] = MappingProxyType(union)
    return MappingProxyType(tables)


@cache
def _open_sections() -> frozenset[str]:
    defs = load_schema()["$defs"]
    open_ = {s for s, d in _SECTION_DEFS.items() if defs[d].get("additionalProperties", True)}
    # The file level is open: Victor ignores unknown top-level keys of a workflows file.
    return frozenset(open_ | {"services", "file"})


# ----------------------------------------------------------------------------- public API


@cache
def node_types() -> tuple[str, ...]:
    """The node types, in the schema's order (`agent` first: it is the default)."""
    enum = load_schema()["$defs"]["field_type"]["enum"]
    return tuple(str(t) for t in enum)


def node_type_doc(node_type: str) -> str:
    """Markdown describing a node type; empty for an unknown type."""
    node_def = load_schema()["$defs"].get(f"{node_type}Node")
    if node_def is None or node_type not in node_types():
        return ""
    return str(node_def.get("markdownDescription") or node_def.get("description", ""))


def node_fields(node_type: str) -> Mapping[str, FieldSpec]:
    """Every key allowed on a node of this type, common keys included.

    Unknown types get an empty mapping (report the bad `type` itself first).
    """
    return _node_tables().get(node_type, _EMPTY)


_EMPTY: Mapping[str, FieldSpec] = MappingProxyType({})


@cache
def _node_tables() -> Mapping[str, Mapping[str, FieldSpec]]:
    tables = _tables()
    return MappingProxyType({t: tables[t] for t in node_types()})


def workflow_fields() -> Mapping[str, FieldSpec]:
    """Every key allowed in one workflow body."""
    return _tables()["workflow"]


def section_fields(section: str) -> Mapping[str, FieldSpec]:
    """Keys of a named section (see the module docstring); node types work too.

    `services` is a map of service name -> `service`, so it has no fixed keys.
    Raises KeyError naming the valid sections for an unknown name.
    """
    tables = _tables()
    if section in tables:
        return tables[section]
    raise KeyError(
        f"unknown schema section {section!r}; expected one of {', '.join(section_names())}"
    )


def section_names() -> tuple[str, ...]:
    """Names accepted by `section_fields` (node types excluded)."""
    return tuple(name for name in _tables() if name not in node_types())


def allows_unknown_keys(section: str) -> bool:
    """Whether a section is open (`metadata`, `llm_config`, `service`, ...).

    Node types and the other sections reject unknown keys.
    """
    return section in _open_sections()


def field_doc(node_type: str | None, key: str) -> str | None:
    """Markdown hover text for `key` in a context, or None when the key is unknown.

    The context is a node type, a section name, or None for a workflow body.
    """
    context = "workflow" if node_type is None else node_type
    table = _tables().get(context)
    if table is None:
        return None
    spec = table.get(key)
    if spec is None:
        return None
    return _render_doc(spec)


def _render_doc(spec: FieldSpec) -> str:
    facts: list[str] = []
    if spec.json_types:
        facts.append("*Type:* " + " | ".join(_type_label(spec, t) for t in spec.json_types))
    if spec.has_default and spec.default is not None:
        facts.append(f"*Default:* `{json.dumps(spec.default, ensure_ascii=False)}`")
    if spec.enum and not spec.enum_docs:
        facts.append("*Values:* " + ", ".join(f"`{v}`" for v in spec.enum))
    header = f"**{spec.name}**"
    if facts:
        header += "  \n" + " · ".join(facts)
    return f"{header}\n\n{spec.markdown}".rstrip()


def _type_label(spec: FieldSpec, json_type: str) -> str:
    if json_type == "array" and spec.item_types:
        return f"array of {' | '.join(spec.item_types)}"
    return json_type


# ----------------------------------------------------------------------------- value checks

_EXACT_TYPE_NAMES: Mapping[type, str] = MappingProxyType(
    {
        bool: "boolean",
        int: "integer",
        float: "number",
        str: "string",
        list: "array",
        tuple: "array",
        dict: "object",
        type(None): "null",
    }
)
_PY_TYPE_NAMES: tuple[tuple[type, str], ...] = (
    *_EXACT_TYPE_NAMES.items(),
    # YAML timestamps (`start_date: 2025-01-01`) load as dates; they are strings in JSON.
    (datetime.date, "string"),
)
_CONTAINERS = frozenset({"array", "object"})
_NUMBERS = frozenset({"integer", "number"})


def json_type_of(value: Any) -> str:
    """The JSON type name of a loaded YAML value (`object` for any mapping)."""
    exact = _EXACT_TYPE_NAMES.get(type(value))
    if exact is not None:
        return exact
    for py_type, name in _PY_TYPE_NAMES:
        if isinstance(value, py_type):
            return name
    if isinstance(value, Mapping):
        return "object"
    return type(value).__name__


def _matches_type(value: Any, actual: str, allowed: tuple[str, ...]) -> bool:
    if actual in allowed:
        return True
    if actual == "integer" and "number" in allowed:
        return True
    # JSON Schema counts 3.0 as an integer.
    return (
        actual == "number" and "integer" in allowed and math.isfinite(value) and value == int(value)
    )


def _one_of(values: tuple[Any, ...]) -> str:
    return ", ".join(str(v) for v in values)


def _in_enum(value: Any, enum: tuple[Any, ...]) -> bool:
    if value not in enum:
        return False
    # `True == 1` in Python; an enum of strings must not accept booleans or numbers.
    return any(type(value) is type(option) and value == option for option in enum)


def check_value(spec: FieldSpec, value: Any) -> str | None:
    """None when `value` fits `spec`, else a short message for the user.

    Examples: "expected integer, got string", "must be one of a, b (got c)".
    Only the value itself is checked: the keys inside a section value
    (`retry_policy`, `llm_config`, ...) are checked against `section_fields`,
    and cross-field rules (`none` mixed with other constraints, reachability,
    ...) belong to the compiler.
    """
    actual = json_type_of(value)
    types = spec.json_types
    if types and actual not in types and not _matches_type(value, actual, types):
        return f"expected {' or '.join(types)}, got {actual}"
    if spec.enum is not None and actual not in _CONTAINERS and not _in_enum(value, spec.enum):
        return f"must be one of {_one_of(spec.enum)} (got {value})"
    if actual == "string":
        if spec.min_length and len(str(value)) < spec.min_length:
            return "must not be empty"
    elif actual in _NUMBERS:
        bounded = spec.minimum is not None or spec.maximum is not None
        if bounded and value != value:  # NaN: every bound comparison is False
            return "must be a number (got .nan)"
        if spec.minimum is not None and value < spec.minimum:
            return f"must be at least {spec.minimum:g} (got {value})"
        if spec.maximum is not None and value > spec.maximum:
            return f"must be at most {spec.maximum:g} (got {value})"
    elif actual in _CONTAINERS:
        if spec.min_items and len(value) < spec.min_items:
            return "must not be empty"
        if actual == "array":
            return _check_items(spec, value)
        if spec.value_types:
            return _check_map_values(spec.value_types, value)
    return None


@dataclass(frozen=True, slots=True)
class QuickAccept:
    """Values that `check_value(spec, value)` accepts, recognisable without calling it.

    Precomputed once per spec (see `quick_accept`) so the validator passes the
    usual well-typed value with a few lookups. `accepts` answering False only
    means "ask `check_value`", which stays the one definition of what is valid.
    Only exact built-in types are recognised (no bool-as-int, no dates).
    """

    types: frozenset[type]
    """Exact types whose every value is accepted."""
    values: frozenset[tuple[type, Any]]
    """Accepted `(type(value), value)` pairs of hashable scalars (enum options)."""
    str_min: int | None
    """Strings of at least this length are accepted (None: strings are not)."""
    number_types: frozenset[type]
    """Numbers of these types within [low, high] are accepted."""
    low: float | None
    high: float | None
    list_min: int | None
    """Lists of at least this length whose items pass are accepted (None: lists are not)."""
    item_types: frozenset[type] | None
    """Exact types an item may have (None: any)."""
    item_values: frozenset[tuple[type, Any]] | None
    """When set, each item must be one of these `(type, value)` pairs."""
    dict_min: int | None
    """Mappings of at least this size whose values pass are accepted (None: they are not)."""
    value_types: frozenset[type] | None
    """Exact types a mapping's value may have (None: any)."""

    def accepts(self, value: Any) -> bool:
        value_type = type(value)
        if value_type in self.types:
            return True
        if value_type in _SCALAR_TYPES:
            if (value_type, value) in self.values:
                return True
            if value_type is str:
                return self.str_min is not None and len(value) >= self.str_min
            if value_type in self.number_types:
                low, high = self.low, self.high
                return (low is None or value >= low) and (high is None or value <= high)
            return False
        if value_type is list:
            if self.list_min is None or len(value) < self.list_min:
                return False
            if self.item_values is not None:
                pairs = self.item_values
                return all(
                    type(item) in _SCALAR_TYPES and (type(item), item) in pairs for item in value
                )
            allowed = self.item_types
            return allowed is None or all(type(item) in allowed for item in value)
        if value_type is dict:
            if self.dict_min is None or len(value) < self.dict_min:
                return False
            allowed = self.value_types
            return allowed is None or all(type(item) in allowed for item in value.values())
        return False


_SCALAR_TYPES = frozenset({str, int, float, bool, type(None)})
"""Exact types `QuickAccept.values` may be probed with (hashable, compared by value)."""


def _exact_types(allowed: Iterable[str] | None) -> frozenset[type] | None:
    """Exact Python types whose values have one of these JSON types (None: no restriction)."""
    names = tuple(allowed or ())
    if not names:
        return None
    return frozenset(
        py_type
        for py_type, name in _EXACT_TYPE_NAMES.items()
        if name in names or (name == "integer" and "number" in names)
    )


def quick_accept(spec: FieldSpec) -> QuickAccept:
    """What `check_value(spec, value)` is sure to accept; mirrors its rules step by step."""
    allowed = _exact_types(spec.json_types)

    def type_ok(py_type: type) -> bool:
        return allowed is None or py_type in allowed

    scalar_ok = spec.enum is None  # an enum restricts every scalar to its options
    bounded = spec.minimum is not None or spec.maximum is not None
    types: set[type] = {bool, type(None)} if scalar_ok else set()
    if scalar_ok and not spec.min_length:
        types.add(str)
    if scalar_ok and not bounded:
        types.update((int, float))
    container_min = spec.min_items or 0
    if not container_min and not spec.item_types and spec.item_enum is None:
        types.update((list, tuple))
    if not container_min and not spec.value_types:
        types.add(dict)
    item_values = None
    if spec.item_enum is not None:
        item_ok = _exact_types(spec.item_types)
        item_values = frozenset(
            (type(option), option)
            for option in spec.item_enum
            if type(option) in _SCALAR_TYPES
            and (item_ok is None or type(option) in item_ok)
            and _in_enum(option, spec.item_enum)
        )
    # Enum options are checked by check_value itself: an option it rejects
    # (say, a number below `minimum`) is simply not taken.
    values = frozenset(
        (type(option), option)
        for option in spec.enum or ()
        if type(option) in _SCALAR_TYPES and check_value(spec, option) is None
    )
    return QuickAccept(
        types=frozenset(t for t in types if type_ok(t)),
        values=values,
        str_min=(spec.min_length or 0) if scalar_ok and type_ok(str) else None,
        number_types=frozenset(t for t in (int, float) if scalar_ok and type_ok(t)),
        low=spec.minimum,
        high=spec.maximum,
        list_min=container_min if type_ok(list) else None,
        item_types=_exact_types(spec.item_types),
        item_values=item_values,
        dict_min=container_min if type_ok(dict) else None,
        value_types=_exact_types(spec.value_types),
    )


def _check_map_values(allowed: tuple[str, ...], mapping: Mapping[Any, Any]) -> str | None:
    for key, item in mapping.items():
        item_type = json_type_of(item)
        if item_type not in allowed and not _matches_type(item, item_type, allowed):
            return f"value of {key!r}: expected {' or '.join(allowed)}, got {item_type}"
    return None


def _check_items(spec: FieldSpec, items: Iterable[Any]) -> str | None:
    item_types = spec.item_types
    item_enum = spec.item_enum
    if not item_types and item_enum is None:
        return None
    for position, item in enumerate(items, start=1):
        item_type = json_type_of(item)
        if item_types and not _matches_type(item, item_type, item_types):
            expected = " or ".join(item_types)
            return f"item {position}: expected {expected}, got {item_type}"
        if item_enum is not None and not _in_enum(item, item_enum):
            return f"item {position} must be one of {_one_of(item_enum)} (got {item})"
    return None
