"""Runs the npm DebugClient suite (dap.e2e.test.mjs) against `python -m victor_dap`.

Skips only when npm is absent. Installs the pinned devDependencies with `npm ci`
when node_modules is missing (needs the npm registry).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(300)]


def test_debugclient_suite() -> None:
    npm = shutil.which("npm")
    if npm is None:
        pytest.skip("npm is not installed; the DebugClient end-to-end suite needs Node.js and npm")
    if not (HERE / "node_modules" / "@vscode" / "debugadapter-testsupport").is_dir():
        install = subprocess.run(
            [npm, "ci", "--no-audit", "--no-fund"], cwd=HERE, capture_output=True, text=True
        )
        assert install.returncode == 0, f"npm ci failed:\n{install.stdout}\n{install.stderr}"
    env = dict(os.environ, VICTOR_PYTHON=sys.executable, VICTOR_REPO=str(REPO))
    result = subprocess.run(
        [npm, "test"], cwd=HERE, env=env, capture_output=True, text=True, timeout=240
    )
    assert result.returncode == 0, f"DebugClient suite failed:\n{result.stdout}\n{result.stderr}"
    assert "# fail 0" in result.stdout or "fail 0" in result.stdout
