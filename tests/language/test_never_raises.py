"""Property: compile never raises, whatever the text (random or mutated real files)."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine import compile
from engine.model import CompileResult
from tests.support import corpus_files

SEEDS = [p.read_text(encoding="utf-8") for p in corpus_files()[:6]] or [
    "workflows:\n  w:\n    nodes:\n      - id: a\n        next: [b]\n      - id: b\n"
]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=400))
def test_random_text(text: str) -> None:
    assert isinstance(compile(text, source="/tmp/r.yaml"), CompileResult)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.sampled_from(SEEDS),
    cut=st.floats(min_value=0, max_value=1),
    insert=st.text(alphabet=" :-[]{}#&*!|>'\"\n\tab1", max_size=12),
)
def test_mutated_real_files(seed: str, cut: float, insert: str) -> None:
    position = int(len(seed) * cut)
    mutated = seed[:position] + insert + seed[position + len(insert) :]
    assert isinstance(compile(mutated, source="/tmp/m.yaml"), CompileResult)
