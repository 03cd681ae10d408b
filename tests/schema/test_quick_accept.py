"""Property: the fast path of field checking never accepts what `check_value` rejects.

`schema_docs.quick_accept` lets validation skip `check_value` for values it is
sure about; if it ever drifted from `check_value`, invalid values would pass
silently. Every field spec of the schema is tried with generated values.
"""

from __future__ import annotations

import datetime
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine import schema_docs
from engine.schema_docs import FieldSpec


def _all_specs() -> list[FieldSpec]:
    tables = [schema_docs.node_fields(kind) for kind in schema_docs.node_types()]
    tables.append(schema_docs.workflow_fields())
    tables.extend(schema_docs.section_fields(name) for name in schema_docs.section_names())
    unique = {(spec.name, id(spec)): spec for table in tables for spec in table.values()}
    return list(unique.values())


SPECS = _all_specs()
ENUM_OPTIONS = sorted(
    {repr(o): o for s in SPECS for o in (*(s.enum or ()), *(s.item_enum or ()))}.values(),
    key=repr,
)
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**7), max_value=10**7),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=60),
    st.sampled_from([*ENUM_OPTIONS, "", "true", "1", "llm", "x" * 50]),
    st.just(datetime.date(2025, 1, 1)),
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(st.sampled_from(["a", "b", "true", "x", "default"]), inner, max_size=4)
    ),
    max_leaves=8,
)


def test_the_schema_has_specs_of_every_shape() -> None:
    assert len(SPECS) > 100
    assert any(s.enum for s in SPECS) and any(s.item_enum for s in SPECS)
    assert any(s.minimum is not None for s in SPECS) and any(s.value_types for s in SPECS)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(spec=st.sampled_from(SPECS), value=VALUES)
def test_quick_accept_never_accepts_what_check_value_rejects(spec: FieldSpec, value: Any) -> None:
    if schema_docs.quick_accept(spec).accepts(value):
        assert schema_docs.check_value(spec, value) is None, (spec.name, value)


def test_quick_accept_takes_the_common_valid_values() -> None:
    """The fast path is used: enum options and plain values of the right type pass it."""
    taken = 0
    for spec in SPECS:
        quick = schema_docs.quick_accept(spec)
        for option in spec.enum or ():
            if schema_docs.check_value(spec, option) is None:
                taken += quick.accepts(option)
    assert taken > 20


def test_nan_is_not_a_valid_bounded_number() -> None:
    """`.nan` slips past every `minimum`/`maximum` comparison; it must still be refused."""
    bounded = [s for s in SPECS if s.minimum is not None or s.maximum is not None]
    assert bounded
    for spec in bounded:
        assert schema_docs.check_value(spec, float("nan")) is not None, spec.name
        assert not schema_docs.quick_accept(spec).accepts(float("nan")), spec.name
