"""What user code and the operating system can do to a `victor workflow run`, through the
real command: handlers that hang past their timeout, exit, raise deep in a helper, or return
values JSON cannot hold; Ctrl-C and SIGTERM in the middle of a node.

The run must end promptly with a clear message, the right exit code and a consistent history
record; never a Python traceback of victor itself.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
from pathlib import Path

import pytest

from tests.executor.test_run_cli import VICTOR, victor

pytestmark = pytest.mark.e2e

REGISTRY = """
import sys
import time


def slow(node, context, tools):
    time.sleep(60)  # far beyond every timeout below
    return {"ok": True}


def explode(node, context, tools):
    return _helper(context)


def _helper(context):
    raise ValueError("bad input from user code")  # @raise


def leave(node, context, tools):
    sys.exit(3)


def cycle(node, context, tools):
    value = {"name": "loop"}
    value["self"] = value
    return value


def not_a_number(node, context, tools):
    return {"nan": float("nan"), "inf": float("inf"), "ok": 1.5}


HANDLERS = {
    "slow": slow, "explode": explode, "leave": leave, "cycle": cycle,
    "not_a_number": not_a_number,
}
"""

WORKFLOWS = """
workflows:
  timed_out:
    nodes:
      - id: nap
        type: compute
        handler: slow
        timeout: 1
  sleepy:
    nodes:
      - id: first
        type: transform
        transform: "a = 1"
      - id: nap
        type: compute
        handler: slow
  explode:
    nodes:
      - id: boom
        type: compute
        handler: explode
  leave:
    nodes:
      - id: bye
        type: compute
        handler: leave
      - id: after
        type: transform
        transform: "b = 2"
  cycle:
    nodes:
      - id: loop
        type: compute
        handler: cycle
  not_a_number:
    nodes:
      - id: odd
        type: compute
        handler: not_a_number
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "reg.py").write_text(REGISTRY, encoding="utf-8")
    (tmp_path / "wf.yaml").write_text(WORKFLOWS, encoding="utf-8")
    return tmp_path


def _run(project: Path, name: str, *extra: str) -> subprocess.CompletedProcess[str]:
    return victor("wf.yaml", "-n", name, "--registry", "reg.py", *extra, cwd=project)


def _statuses(project: Path) -> dict[str, str]:
    with sqlite3.connect(project / "workflows.db") as db:
        return dict(db.execute("SELECT workflow_name, status FROM executions").fetchall())


def _strict_json(text: str) -> object:
    def reject(constant: str) -> object:
        raise AssertionError(f"{constant} is not JSON")

    return json.loads(text, parse_constant=reject)


def test_timed_out_sync_handler_does_not_hold_the_process(project: Path) -> None:
    # The handler thread sleeps 60 s; victor() gives up after 60 s, so waiting for it fails.
    proc = _run(project, "timed_out")
    assert proc.returncode == 1, proc.stderr
    assert "timed out after 1s" in proc.stdout
    assert "Traceback" not in proc.stderr


@pytest.mark.parametrize(
    ("sig", "word"), [(signal.SIGINT, "cancelled"), (signal.SIGTERM, "terminated")]
)
def test_signal_during_a_sync_handler_ends_the_run_promptly(
    project: Path, sig: signal.Signals, word: str
) -> None:
    env = {**os.environ, "VICTOR_HOME": str(project)}
    env.pop("VICTOR_HISTORY_URL", None)
    proc = subprocess.Popen(
        [str(VICTOR), "workflow", "run", "wf.yaml", "-n", "sleepy", "--registry", "reg.py"],
        cwd=project,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stderr is not None
        seen = []
        for line in proc.stderr:  # wait for the event, not for a time
            seen.append(line)
            if line.startswith("-> nap"):
                break
        proc.send_signal(sig)
        out, err = proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    err = "".join(seen) + err
    assert proc.returncode == 1, (out, err)
    assert "Traceback" not in err
    assert word in err
    assert "nap" in err  # names where the run was
    assert _statuses(project) == {"sleepy": "cancelled"}


def test_handler_exception_names_the_user_code_line(project: Path) -> None:
    proc = _run(project, "explode")
    assert proc.returncode == 1
    line = REGISTRY.splitlines().index(
        next(text for text in REGISTRY.splitlines() if "# @raise" in text)
    )
    where = f"reg.py:{line + 1} in _helper"
    assert "ValueError: bad input from user code" in proc.stdout
    assert where in proc.stdout, proc.stdout
    assert "Traceback" not in proc.stderr


def test_handler_exception_traceback_at_debug_level(project: Path) -> None:
    proc = _run(project, "explode", "--log-level", "DEBUG")
    assert proc.returncode == 1
    assert "Traceback" in proc.stderr
    assert "_helper" in proc.stderr


def test_handler_calling_sys_exit_fails_the_node_not_victor(project: Path) -> None:
    proc = _run(project, "leave", "--json")
    assert proc.returncode == 1, proc.stderr
    result = _strict_json(proc.stdout)
    assert isinstance(result, dict)
    assert result["error"]["node"] == "bye"
    assert "sys.exit(3)" in result["error"]["message"]
    assert _statuses(project) == {"leave": "failed"}


@pytest.mark.parametrize("json_flag", [(), ("--json",)], ids=["text", "json"])
def test_output_containing_itself_is_shown_and_recorded(
    project: Path, json_flag: tuple[str, ...]
) -> None:
    proc = _run(project, "cycle", *json_flag)
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    assert "ERROR" not in proc.stderr
    if json_flag:
        state = _strict_json(proc.stdout)["final_state"]  # type: ignore[index]
        assert state["loop"]["name"] == "loop"
        assert "cycle" in str(state["loop"]["self"])
    assert _statuses(project) == {"cycle": "completed"}
    shown = victor("--json", "-w", "cycle", cwd=project, command="history")
    assert shown.returncode == 0, shown.stderr
    assert _strict_json(shown.stdout)[0]["outputs"]["loop"]["name"] == "loop"  # type: ignore[index]


def test_non_finite_numbers_print_as_valid_json(project: Path) -> None:
    proc = _run(project, "not_a_number", "--json")
    assert proc.returncode == 0, proc.stderr
    odd = _strict_json(proc.stdout)["final_state"]["odd"]  # type: ignore[index]
    assert odd["ok"] == 1.5
    assert odd["nan"] is None and odd["inf"] is None
    shown = victor("--json", cwd=project, command="history")
    assert _strict_json(shown.stdout)[0]["outputs"]["odd"]["ok"] == 1.5  # type: ignore[index]
    execution = _strict_json(shown.stdout)[0]["execution_id"]  # type: ignore[index]
    inspected = victor(execution, "--json", cwd=project, command="inspect")
    assert _strict_json(inspected.stdout)["state"]["odd"]["nan"] is None  # type: ignore[index]


@pytest.mark.parametrize("fmt", ["json", "csv", "html", "chrome", "otlp"])
@pytest.mark.parametrize("name", ["cycle", "not_a_number"])
def test_trace_of_odd_outputs_exports_in_every_format(project: Path, fmt: str, name: str) -> None:
    out = project / f"trace.{fmt}"
    proc = victor(
        "wf.yaml", "-n", name, "--registry", "reg.py", "-f", fmt, "-o", str(out),
        cwd=project, command="trace",
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    text = out.read_text(encoding="utf-8")
    if fmt in ("json", "chrome", "otlp"):
        _strict_json(text)
    assert "NaN" not in text and "Infinity" not in text
