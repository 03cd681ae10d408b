"""DAP framing and session rules that need no workflow run."""

from __future__ import annotations

import pytest

from tests.dap.dap_client import DapClient
from victor_dap.protocol import encode

pytestmark = pytest.mark.timeout(20)


async def test_initialize_response_precedes_initialized_event(client: DapClient) -> None:
    seq = client.send("initialize", {"adapterID": "victor"})
    response = await client.response(seq)
    event = await client.event("initialized")
    assert response["success"] and response["body"]["supportsStepBack"] is True
    assert client.index(response) < client.index(event)
    assert response["request_seq"] == seq
    assert [m["seq"] for m in client.received] == list(range(1, len(client.received) + 1))


async def test_unknown_command_gets_error_response(client: DapClient) -> None:
    response = await client.response(client.send("flyToTheMoon", {}))
    assert response["success"] is False and "flyToTheMoon" in response["message"]


async def test_malformed_messages_get_error_and_session_continues(client: DapClient) -> None:
    body = b"{not json"
    client.send_raw(b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body)
    error = await client.wait_for(
        lambda m: m.get("type") == "response" and not m["success"], "error"
    )
    assert "not valid JSON" in error["message"]
    client.send_raw(encode({"seq": 7, "type": "request"}))
    error2 = await client.wait_for(
        lambda m: m.get("type") == "response" and m.get("request_seq") == 7, "error for seq 7"
    )
    assert error2["success"] is False and "command" in error2["message"]
    capabilities = await client.request("initialize", {"adapterID": "victor"})
    assert capabilities["supportsConfigurationDoneRequest"] is True


@pytest.mark.parametrize(
    "frame",
    [
        b'Content-Length: abc\r\n\r\n{"seq":1,"type":"request","command":"threads"}',
        b'Content-Length: -5\r\nX-Extra: 1\r\n\r\n{"seq":1,"type":"request","command":"threads"}',
        b"Content-Type: application/json\r\n\r\n{}",
        b"garbage without a header\r\n\r\n",
        b"X" * 200_000 + b"\r\n\r\n",  # longer than the stream reader's line limit
    ],
    ids=["non-numeric-length", "negative-length", "no-length", "junk-header", "huge-header"],
)
async def test_bad_frame_is_reported_and_next_request_still_answered(
    client: DapClient, frame: bytes
) -> None:
    client.send_raw(frame)
    error = await client.wait_for(
        lambda m: m.get("type") == "response" and not m["success"], "error for the bad frame"
    )
    assert "malformed message" in error["message"]
    seq = client.send("initialize", {"adapterID": "victor"})
    response = await client.response(seq)
    assert response["success"] is True and response["command"] == "initialize"


async def test_content_length_counts_bytes_not_characters(client: DapClient) -> None:
    seq = client.send("evaluate", {"expression": "naïve — ünïcödé"})
    response = await client.response(seq)
    assert response["success"] is False  # no run: a clean error, not a framing failure
    assert encode({"x": "é"}).startswith(b"Content-Length: 10\r\n")


async def test_disconnect_is_always_answered(client: DapClient) -> None:
    response = await client.response(client.send("disconnect", {}))
    assert response["success"] is True


async def test_launch_with_bad_arguments_fails_with_readable_message(
    client: DapClient, tmp_path
) -> None:
    await client.request("initialize", {"adapterID": "victor"})
    seq = client.send("launch", {"program": str(tmp_path / "missing.yaml"), "stopOnEntry": "yes"})
    response = await client.response(seq)
    assert response["success"] is False
    assert "stopOnEntry" in response["message"] and "boolean" in response["message"]
    assert response["body"]["error"]["showUser"] is True
    output = await client.event("output", category="stderr")
    assert "stopOnEntry" in output["body"]["output"]


async def test_launch_with_compile_errors_lists_file_and_line(client: DapClient, tmp_path) -> None:
    program = tmp_path / "broken.yaml"
    program.write_text("workflows:\n  w:\n    nodes:\n      - id: a\n        type: wizard\n")
    await client.request("initialize", {"adapterID": "victor"})
    response = await client.response(client.send("launch", {"program": str(program)}))
    assert response["success"] is False
    assert f"{program}:5:" in response["message"]


async def test_every_advertised_request_has_a_handler(client: DapClient) -> None:
    capabilities = await client.request("initialize", {"adapterID": "victor"})
    requests = {
        "supportsConfigurationDoneRequest": ["configurationDone"],
        "supportsFunctionBreakpoints": ["setFunctionBreakpoints"],
        "supportsStepBack": ["stepBack", "reverseContinue"],
        "supportsSetVariable": ["setVariable"],
        "supportsSetExpression": ["setExpression"],
        "supportsRestartFrame": ["restartFrame"],
        "supportsGotoTargetsRequest": ["gotoTargets", "goto"],
        "supportsCompletionsRequest": ["completions"],
        "supportsRestartRequest": ["restart"],
        "supportsExceptionInfoRequest": ["exceptionInfo"],
        "supportsTerminateRequest": ["terminate"],
        "supportsBreakpointLocationsRequest": ["breakpointLocations"],
    }
    for capability, commands in requests.items():
        if capabilities.get(capability):
            for command in commands:
                answer = await client.response(client.send(command, {}))
                assert "unsupported request" not in answer.get("message", ""), command
    # `disconnect` always ends the launched run, so keeping it alive is not offered
    assert not capabilities.get("supportTerminateDebuggee")
