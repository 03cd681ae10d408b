"""Option values the observability commands must refuse before doing any work, through the
real `victor` command: one line naming the option and the accepted values, exit 2, no
traceback, nothing run, nothing deleted."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from tests.observability.test_cli_observe import WORKFLOW, env, one_line_error, victor

__all__ = ["env"]  # the fixture, shared with test_cli_observe

pytestmark = pytest.mark.e2e


@pytest.fixture
def recorded(tmp_path: Path, env: dict[str, str]) -> tuple[Path, str]:
    """A project folder with one recorded run of the demo workflow; its execution id."""
    workflow = tmp_path / "demo.yaml"
    workflow.write_text(WORKFLOW)
    result = victor(env, "run", str(workflow), "--json")
    assert result.returncode == 0, result.stderr
    return workflow, json.loads(result.stdout)["execution_id"]


def _usage_error(result: subprocess.CompletedProcess[str], *words: str) -> str:
    line = one_line_error(result)
    assert result.returncode == 2, result.stderr
    for word in words:
        assert word in line, line
    return line


def _count(env: dict[str, str]) -> int:
    listed = victor(env, "history", "--json", "-l", "0")
    assert listed.returncode == 0, listed.stderr
    return len(json.loads(listed.stdout))


@pytest.mark.parametrize("command", ["trace", "debug"])
def test_unknown_log_level(env: dict[str, str], recorded: tuple[Path, str], command: str) -> None:
    workflow, _ = recorded
    result = victor(env, command, str(workflow), "--log-level", "LOUD")
    _usage_error(result, "--log-level", "LOUD")


@pytest.mark.parametrize("option", ["--keep", "--limit"])
def test_negative_counts_are_refused_and_delete_nothing(
    env: dict[str, str], recorded: tuple[Path, str], option: str
) -> None:
    result = victor(env, "history", option, "-1")
    _usage_error(result, option)
    assert _count(env) == 1


def test_unknown_status_lists_the_statuses(env: dict[str, str], recorded: tuple[Path, str]) -> None:
    result = victor(env, "history", "--status", "bogus")
    _usage_error(result, "--status", "bogus", "completed", "failed", "interrupted")
    ok = victor(env, "history", "--status", "completed", "--json")
    assert ok.returncode == 0 and len(json.loads(ok.stdout)) == 1


def test_unknown_history_format_without_export(
    env: dict[str, str], recorded: tuple[Path, str]
) -> None:
    _usage_error(victor(env, "history", "-f", "xml"), "xml", "json", "csv")


def test_replay_checks_the_trace_format_before_running(
    tmp_path: Path, env: dict[str, str], recorded: tuple[Path, str]
) -> None:
    _, execution = recorded
    result = victor(env, "replay", execution, "-e", "-f", "bogus", cwd=tmp_path)
    _usage_error(result, "bogus", "json", "html")
    assert "->" not in result.stderr  # no node ran
    assert _count(env) == 1  # no replay recorded


def test_victor_home_that_is_a_file(tmp_path: Path, env: dict[str, str]) -> None:
    home = tmp_path / "home-file"
    home.write_text("")
    result = victor(dict(env, VICTOR_HOME=str(home)), "history")
    line = one_line_error(result)
    assert "VICTOR_HOME" in line and "not a folder" in line, line
