"""Large states over the adapter <-> workflow process wire: 10,000 keys, 1 MB strings.

Messages between the two processes are JSON lines; a state this size makes
lines of megabytes in both directions (the launch's inputs, a `variables`
answer), and the session must keep working.
"""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from tests.dap.dap_client import DapClient

pytestmark = pytest.mark.timeout(60)

WORKFLOW = textwrap.dedent(
    """\
    workflows:
      big:
        nodes:
          - id: first
            type: transform
            transform: "seen = len(huge)"
          - id: second
            type: transform
            transform: "done = true"
    """
)

KEYS = 10_000
HUGE = 1_000_000


@pytest.fixture
def program(tmp_path: Path) -> Path:
    path = tmp_path / "big.yaml"
    path.write_text(WORKFLOW)
    state: dict[str, object] = {f"key{i:05d}": i for i in range(KEYS)}
    state["huge"] = "x" * HUGE
    (tmp_path / "big.json").write_text(json.dumps(state))
    return path


async def test_a_state_of_10000_keys_and_a_1mb_string_pages_and_steps(
    client: DapClient, program: Path
) -> None:
    await client.launch(
        str(program), contextFile=str(program.parent / "big.json"), stopOnEntry=True
    )
    await client.request("configurationDone")
    stop = await client.stopped()
    frames = (await client.request("stackTrace", {"threadId": stop["threadId"]}))["stackFrames"]
    scopes = (await client.request("scopes", {"frameId": frames[0]["id"]}))["scopes"]
    state = scopes[0]
    assert state["namedVariables"] == KEYS + 1

    page = (
        await client.request(
            "variables",
            {"variablesReference": state["variablesReference"], "start": 5000, "count": 50},
        )
    )["variables"]
    assert [v["name"] for v in page] == [f"key{i:05d}" for i in range(5000, 5050)]

    everything = (
        await client.request("variables", {"variablesReference": state["variablesReference"]})
    )["variables"]
    assert len(everything) == KEYS + 1
    huge = next(v for v in everything if v["name"] == "huge")
    assert huge["value"].startswith("'xxx") and len(huge["value"]) < 1000

    length = await client.request("evaluate", {"expression": "len(huge)", "context": "repl"})
    assert length["result"] == str(HUGE)

    mark = client.mark()
    await client.request("next", {"threadId": stop["threadId"]})
    await client.stopped(after=mark)
    seen = await client.request("evaluate", {"expression": "seen", "context": "watch"})
    assert seen["result"] == str(HUGE)
