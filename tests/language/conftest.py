"""Fixtures for the language tests: run a test with each YAML parser."""

from __future__ import annotations

import pytest
import yaml

from engine import loader


@pytest.fixture(params=["c", "python"])
def parser(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Runs the test with libyaml and again with the pure-Python fallback parser."""
    if request.param == "c":
        if not loader.HAS_C_PARSER:
            pytest.skip("PyYAML was built without libyaml")
    else:
        monkeypatch.setattr(loader, "_Parser", yaml.SafeLoader)
    return str(request.param)
