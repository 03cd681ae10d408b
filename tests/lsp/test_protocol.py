"""LSP protocol rules: encoding negotiation, incremental sync, pull-diagnostic result ids,
requests for documents that are not open, cancellation and the shutdown/exit handshake."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from lsprotocol import types
from pytest_lsp import LanguageClient, client_capabilities

from tests.lsp.conftest import NEOVIM, TIMEOUT, VSCODE, change_doc, lsp_column, open_doc
from tests.support import marker_line

UNKNOWN_TARGET = """\
workflows:
  f:
    nodes:
      - {name: "😀 是", id: a, next: [nowhere]}  # @emoji_next
      - id: b
"""


def with_encodings(profile: str, encodings: list[str] | None) -> types.ClientCapabilities:
    capabilities = client_capabilities(profile)
    capabilities.general = types.GeneralClientCapabilities(position_encodings=encodings)
    return capabilities


async def start(client: LanguageClient, capabilities: types.ClientCapabilities, root: Path) -> str:
    """Initialise with these capabilities; returns the position encoding the server chose."""
    client.feature(types.CLIENT_REGISTER_CAPABILITY)(lambda _params: None)
    result = await client.initialize_session(
        types.InitializeParams(capabilities=capabilities, root_uri=root.as_uri())
    )
    return str(result.capabilities.position_encoding)


@pytest.mark.parametrize(
    ("offered", "chosen"),
    [
        (None, "utf-16"),
        (["utf-16"], "utf-16"),
        (["utf-8", "utf-16"], "utf-8"),
        (["utf-16", "utf-8"], "utf-16"),
    ],
)
async def test_position_encoding_is_the_first_one_the_client_offers(
    bare: LanguageClient, tmp_path: Path, offered: list[str] | None, chosen: str
) -> None:
    assert await start(bare, with_encodings(VSCODE, offered), tmp_path) == chosen
    diagnostics = await open_doc(bare, tmp_path / "wf.yaml", UNKNOWN_TARGET)
    (unknown,) = [d for d in diagnostics if d.code == "VW201"]
    line_text = UNKNOWN_TARGET.splitlines()[marker_line(UNKNOWN_TARGET, "emoji_next")]
    assert unknown.range.start == types.Position(
        line=marker_line(UNKNOWN_TARGET, "emoji_next"),
        character=lsp_column(line_text, line_text.index("nowhere"), chosen),
    )


@pytest.mark.parametrize("encoding", ["utf-8", "utf-16"])
async def test_incremental_change_after_multibyte_text(
    bare: LanguageClient, tmp_path: Path, encoding: str
) -> None:
    await start(bare, with_encodings(VSCODE, [encoding]), tmp_path)
    path = tmp_path / "wf.yaml"
    await open_doc(bare, path, UNKNOWN_TARGET)
    line = marker_line(UNKNOWN_TARGET, "emoji_next")
    line_text = UNKNOWN_TARGET.splitlines()[line]
    start_col = line_text.index("nowhere")
    edit = types.Range(
        start=types.Position(line=line, character=lsp_column(line_text, start_col, encoding)),
        end=types.Position(line=line, character=lsp_column(line_text, start_col + 7, encoding)),
    )
    uri = path.as_uri()
    waiter = asyncio.ensure_future(_next_push(bare, uri, 2))
    bare.text_document_did_change(
        types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=2),
            content_changes=[
                types.TextDocumentContentChangePartial(range=edit, text="gone_😀_too")
            ],
        )
    )
    diagnostics = await asyncio.wait_for(waiter, TIMEOUT)
    (unknown,) = [d for d in diagnostics if d.code == "VW201"]
    assert "gone_😀_too" in unknown.message
    edited = line_text.replace("nowhere", "gone_😀_too")
    target = edited.index("gone_")
    assert unknown.range.start.character == lsp_column(edited, target, encoding)
    assert unknown.range.end.character == lsp_column(edited, target + len("gone_😀_too"), encoding)


async def _next_push(client: LanguageClient, uri: str, version: int) -> list[types.Diagnostic]:
    while True:
        params = await client.wait_for_notification(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
        if params.uri == uri and params.version == version:
            return list(params.diagnostics)


async def _pull(
    client: LanguageClient, uri: str, previous: str | None = None
) -> types.DocumentDiagnosticReport:
    return await asyncio.wait_for(
        client.text_document_diagnostic_async(
            types.DocumentDiagnosticParams(
                text_document=types.TextDocumentIdentifier(uri=uri), previous_result_id=previous
            )
        ),
        TIMEOUT,
    )


async def test_pull_diagnostics_carry_result_ids_and_report_unchanged(
    bare: LanguageClient, tmp_path: Path
) -> None:
    await start(bare, client_capabilities(NEOVIM), tmp_path)
    path = tmp_path / "wf.yaml"
    uri = path.as_uri()
    await open_doc(bare, path, UNKNOWN_TARGET)
    first = await _pull(bare, uri)
    assert isinstance(first, types.RelatedFullDocumentDiagnosticReport)
    assert first.result_id and "VW201" in {d.code for d in first.items}
    again = await _pull(bare, uri, first.result_id)
    assert isinstance(again, types.RelatedUnchangedDocumentDiagnosticReport)
    assert again.result_id == first.result_id
    fixed = UNKNOWN_TARGET.replace("nowhere", "b")
    await change_doc(bare, path, fixed, 2)
    after_edit = await _pull(bare, uri, first.result_id)
    assert isinstance(after_edit, types.RelatedFullDocumentDiagnosticReport)
    assert after_edit.result_id and after_edit.result_id != first.result_id
    assert "VW201" not in {d.code for d in after_edit.items}


async def test_requests_for_a_document_that_is_not_open_answer_empty(
    bare: LanguageClient, tmp_path: Path
) -> None:
    await start(bare, client_capabilities(VSCODE), tmp_path)
    missing = types.TextDocumentIdentifier(uri=(tmp_path / "never-opened.yaml").as_uri())
    here = types.Position(line=3, character=4)
    assert await bare.text_document_hover_async(types.HoverParams(missing, here)) is None
    assert await bare.text_document_definition_async(types.DefinitionParams(missing, here)) is None
    assert (
        await bare.text_document_document_symbol_async(types.DocumentSymbolParams(missing)) is None
    )
    assert await bare.text_document_completion_async(types.CompletionParams(missing, here)) is None
    report = await bare.text_document_diagnostic_async(types.DocumentDiagnosticParams(missing))
    assert isinstance(report, types.RelatedFullDocumentDiagnosticReport)
    assert list(report.items) == []


async def test_cancelled_requests_leave_the_server_serving(
    bare: LanguageClient, tmp_path: Path
) -> None:
    await start(bare, client_capabilities(VSCODE), tmp_path)
    path = tmp_path / "wf.yaml"
    await open_doc(bare, path, UNKNOWN_TARGET)
    here = types.Position(line=marker_line(UNKNOWN_TARGET, "emoji_next"), character=8)
    params = types.HoverParams(types.TextDocumentIdentifier(uri=path.as_uri()), here)
    for n in range(5):
        msg_id = f"doomed-{n}"
        bare.protocol.send_request(types.TEXT_DOCUMENT_HOVER, params, msg_id=msg_id)
        bare.protocol.notify(types.CANCEL_REQUEST, types.CancelParams(id=msg_id))
    bare.protocol.notify(types.CANCEL_REQUEST, types.CancelParams(id="never-sent"))
    symbols = await bare.text_document_document_symbol_async(
        types.DocumentSymbolParams(types.TextDocumentIdentifier(uri=path.as_uri()))
    )
    assert symbols and symbols[0].name == "f"


def _frame(message: dict[str, Any]) -> bytes:
    body = json.dumps(message).encode()
    return b"Content-Length: %d\r\n\r\n%s" % (len(body), body)


def _initialize_frames() -> bytes:
    return _frame(
        {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"capabilities": {}}}
    ) + _frame({"jsonrpc": "2.0", "method": "initialized", "params": {}})


@pytest.mark.parametrize(("shutdown_first", "code"), [(True, 0), (False, 1)])
def test_exit_ends_the_process_with_code_by_shutdown(shutdown_first: bool, code: int) -> None:
    frames = _initialize_frames()
    if shutdown_first:
        frames += _frame({"jsonrpc": "2.0", "id": 2, "method": "shutdown"})
    frames += _frame({"jsonrpc": "2.0", "method": "exit"})
    with subprocess.Popen(
        [sys.executable, "-m", "victor_lsp"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    ) as server:
        # stdin stays open: the server must leave on `exit`, not on end of input
        assert server.stdin is not None
        server.stdin.write(frames)
        server.stdin.flush()
        try:
            returncode = server.wait(TIMEOUT)
        except subprocess.TimeoutExpired:
            server.kill()
            raise AssertionError("the server did not exit on `exit`") from None
        stdout = server.stdout.read() if server.stdout else b""
        server.stdin.close()
    assert returncode == code
    assert stdout.startswith(b"Content-Length: ")  # only protocol on stdout
