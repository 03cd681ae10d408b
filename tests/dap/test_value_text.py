"""How values read in logpoints, `evaluate` for the clipboard and the REPL, and what the
adapter answers once the workflow process was killed from outside."""

from __future__ import annotations

import json
import os
import signal
import textwrap
from pathlib import Path
from typing import Any

import pytest

from engine.debug_conditions import interpolate_log_message
from engine.debug_variables import clipboard_text, preview
from tests.dap.dap_client import DapClient
from tests.support import marker_line

pytestmark = pytest.mark.timeout(60)

WORKFLOW = textwrap.dedent(
    """\
    workflows:
      demo:
        nodes:
          - id: setup
            type: compute
            handler: setup
            output: info
          - id: look               # @look
            type: transform
            transform: "seen = true"
    """
)

LONG = "x" * 500 + "END"

HANDLERS = textwrap.dedent(
    f"""\
    import os

    def setup(node, context, tools):
        return {{
            "pid": os.getpid(),
            "long": {LONG!r},
            "mixed": {{"none": None, "flag": True, "names": ["a", None]}},
        }}

    HANDLERS = {{"setup": setup}}
    """
)


def test_logpoint_values_read_as_in_the_variables_view() -> None:
    state = {"items": ["a", None, True], "meta": {"ok": False, "n": None}, "name": "bob", "x": None}
    text = interpolate_log_message("{items} {meta} {name} {x} {{lit}}", state)
    assert text == f"{preview(state['items'])} {preview(state['meta'])} bob null {{lit}}"
    assert "None" not in text and "True" not in text and "False" not in text
    assert "[" in text and "null" in text and "true" in text


def test_clipboard_text_is_the_whole_value_as_json() -> None:
    value = {"k": [None, True, "t" * 300], "n": 1}
    text = clipboard_text(value)
    assert json.loads(text) == value
    assert clipboard_text("a" * 1000) == "a" * 1000
    assert clipboard_text(None) == "null" and clipboard_text(False) == "false"


def test_clipboard_text_is_cut_at_the_limit_with_a_note() -> None:
    text = clipboard_text(["y" * 100] * 100, limit=1000)
    assert len(text) < 1200
    assert "cut" in text and "1,000" in text


@pytest.fixture
def program(tmp_path: Path) -> Path:
    path = tmp_path / "demo.yaml"
    path.write_text(WORKFLOW)
    (tmp_path / "handlers.py").write_text(HANDLERS)
    return path


async def stop_at_look(client: DapClient, program: Path) -> dict[str, Any]:
    await client.launch(str(program), registry=[str(program.parent / "handlers.py")])
    await client.request(
        "setBreakpoints",
        {
            "source": {"path": str(program)},
            "breakpoints": [{"line": marker_line(WORKFLOW, "look") + 1}],
        },
    )
    mark = client.mark()
    await client.request("configurationDone")
    return await client.stopped(after=mark)


async def test_clipboard_and_repl_evaluate_return_the_full_value(
    client: DapClient, program: Path
) -> None:
    await stop_at_look(client, program)
    init = next(m for m in client.received if m.get("command") == "initialize")
    assert init["body"].get("supportsClipboardContext") is True
    copied = await client.request("evaluate", {"expression": "info.long", "context": "clipboard"})
    assert copied["result"] == LONG
    mixed = await client.request("evaluate", {"expression": "info.mixed", "context": "clipboard"})
    assert json.loads(mixed["result"]) == {"none": None, "flag": True, "names": ["a", None]}
    repl = await client.request("evaluate", {"expression": "info.long", "context": "repl"})
    assert LONG in repl["result"]
    hover = await client.request("evaluate", {"expression": "info.long", "context": "hover"})
    assert len(hover["result"]) <= 120


async def test_logpoint_output_reads_like_the_variables_view(
    client: DapClient, program: Path
) -> None:
    await client.launch(str(program), registry=[str(program.parent / "handlers.py")])
    await client.request(
        "setBreakpoints",
        {
            "source": {"path": str(program)},
            "breakpoints": [
                {"line": marker_line(WORKFLOW, "look") + 1, "logMessage": "got {info.mixed.names}"}
            ],
        },
    )
    await client.request("configurationDone")
    logged = await client.wait_for(
        lambda m: "got " in (m.get("body") or {}).get("output", ""), "logpoint output"
    )
    assert logged["body"]["output"] == "got ['a', null]\n"


async def test_requests_after_the_process_was_killed_say_it_exited(
    client: DapClient, program: Path
) -> None:
    stop = await stop_at_look(client, program)
    shown = await client.request("evaluate", {"expression": "info.pid", "context": "repl"})
    pid = int(shown["result"])
    mark = client.mark()
    os.kill(pid, signal.SIGKILL)
    await client.event("terminated", after=mark)
    exited = await client.event("exited", after=mark)
    assert exited["body"]["exitCode"] != 0
    outputs = "".join(
        m["body"]["output"] for m in client.received[mark + 1 :] if m.get("event") == "output"
    )
    assert "SIGKILL" in outputs
    for command, arguments in (
        ("evaluate", {"expression": "info.pid", "context": "repl"}),
        ("stackTrace", {"threadId": stop["threadId"]}),
        ("continue", {"threadId": stop["threadId"]}),
    ):
        response = await client.response(client.send(command, arguments))
        assert response["success"] is False
        message = response["message"]
        assert "launch one first" not in message
        assert "exited" in message and "SIGKILL" in message and "session has ended" in message
