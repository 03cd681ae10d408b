"""`victor workflow replay --recorded` end to end: agent and HITL outputs come from the history.

The original run uses a scripted agent runner and answers its HITL node from a file. The
replay selects a profile whose runner can only fail (an OpenAI endpoint on a closed
port) and gets no answers file: it can only succeed, with the same outputs, if no agent
runner and no HITL responder is ever called. A control replay without `--recorded`
shows that the profile does fail when called.
"""

from __future__ import annotations

import json
import os
import socket
from pathlib import Path

import pytest

from tests.observability.test_cli_observe import victor

pytestmark = pytest.mark.e2e

WORKFLOW = """\
workflows:
  assist:
    nodes:
      - id: draft
        type: agent
        role: writer
        goal: "Draft a reply about {{topic}}"
        output: draft
      - id: approve
        type: hitl
        hitl_type: input
        prompt: "Your verdict on the draft?"
        context_keys: [draft]
        output: verdict
      - id: polish
        type: agent
        role: editor
        goal: "Polish: {{draft}}"
        output: final
      - id: finish
        type: transform
        transform: "done = True"
"""

RESPONSES = """\
draft: "Dear reader, caching helps."
polish: "Dear reader, caching really helps."
"""


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


@pytest.fixture
def project(tmp_path: Path) -> Path:
    folder = tmp_path / "project"
    folder.mkdir()
    (folder / "assist.yaml").write_text(WORKFLOW)
    (folder / "responses.yaml").write_text(RESPONSES)
    (folder / "answers.json").write_text(json.dumps({"approve": "ship it"}))
    (folder / "victor.toml").write_text(
        'default_profile = "offline"\n\n'
        '[profiles.offline]\nrunner = "scripted"\nresponses = "responses.yaml"\n\n'
        '[profiles.unreachable]\nrunner = "openai"\n'
        f'base_url = "http://127.0.0.1:{closed_port()}/v1"\nmodel = "none"\ntimeout = 10\n'
    )
    return folder


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    environ = {k: v for k, v in os.environ.items() if k != "VICTOR_HISTORY_URL"}
    environ["VICTOR_HOME"] = str(tmp_path / "home")
    return environ


def test_recorded_replay_calls_no_runner_and_no_hitl(project: Path, env: dict[str, str]) -> None:
    original = victor(env, "run", "assist.yaml", "-c", '{"topic": "caching"}',
                      "--hitl-answers", "answers.json", cwd=project)  # fmt: skip
    assert original.returncode == 0, original.stderr
    runs = json.loads(victor(env, "history", "--json").stdout)
    assert len(runs) == 1 and runs[0]["status"] == "completed"
    exec_id = runs[0]["execution_id"]
    outputs = runs[0]["outputs"]
    assert outputs["draft"]["response"] == "Dear reader, caching helps."
    assert outputs["verdict"]["value"] == "ship it"

    # Control: the selected profile does fail when its runner is called.
    live = victor(env, "replay", exec_id, "-p", "unreachable", "--json", cwd=project)
    assert live.returncode == 1
    assert json.loads(live.stdout)["status_2"] == "failed"

    replay = victor(env, "replay", exec_id, "--recorded", "-p", "unreachable", "--json",
                    cwd=project)  # fmt: skip
    assert replay.returncode == 0, replay.stderr
    comparison = json.loads(replay.stdout)
    assert comparison["status_2"] == "completed"
    assert comparison["outputs_equal"] is True, comparison["output_diff"]
    assert comparison["node_diff"]["nodes_only_in_1"] == []
    assert comparison["node_diff"]["nodes_only_in_2"] == []
    assert comparison["node_diff"]["status_changes"] == {}  # compared from the history

    replayed = json.loads(victor(env, "inspect", comparison["execution_id_2"], "--json").stdout)
    state = replayed["state"]
    assert state["draft"]["response"] == "Dear reader, caching helps."
    assert state["final"]["response"] == "Dear reader, caching really helps."
    assert state["verdict"]["value"] == "ship it"  # only the answers file said this
    assert state["done"] is True
