"""pytest-lsp fixtures and helpers: the server in a subprocess, driven by a VS Code
profile (push diagnostics, UTF-16) or a Neovim 0.11 profile (pull diagnostics, UTF-8)."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_lsp
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities

VSCODE = "visual-studio-code"
NEOVIM = "neovim@v0.11.0"
SERVER = ClientServerConfig(server_command=[sys.executable, "-m", "victor_lsp"])
TIMEOUT = 20.0


def uses_pull(client: LanguageClient) -> bool:
    caps = client.capabilities
    return bool(caps and caps.text_document and caps.text_document.diagnostic is not None)


def encoding_of(client: LanguageClient) -> str:
    caps = client.capabilities
    offered = caps.general.position_encodings if caps and caps.general else None
    # the server takes the first encoding the client offers (utf-16 when none)
    return next((e for e in offered or () if e in ("utf-8", "utf-16")), "utf-16")


def lsp_column(line_text: str, column: int, encoding: str) -> int:
    prefix = line_text[:column]
    if encoding == "utf-8":
        return len(prefix.encode("utf-8"))
    return len(prefix.encode("utf-16-le")) // 2


async def _await_push(
    client: LanguageClient, uri: str, version: int | None
) -> list[types.Diagnostic]:
    while True:
        params = await client.wait_for_notification(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
        if params.uri == uri and (version is None or params.version == version):
            return list(params.diagnostics)


async def diagnostics_after(
    client: LanguageClient, uri: str, version: int | None, send: Any
) -> list[types.Diagnostic]:
    """Run `send()` (didOpen/didChange/didClose) and return the diagnostics that follow."""
    if uses_pull(client):
        send()
        report = await asyncio.wait_for(
            client.text_document_diagnostic_async(
                types.DocumentDiagnosticParams(text_document=types.TextDocumentIdentifier(uri=uri))
            ),
            TIMEOUT,
        )
        assert isinstance(report, types.RelatedFullDocumentDiagnosticReport), report
        return list(report.items)
    waiter = asyncio.ensure_future(_await_push(client, uri, version))
    send()
    return await asyncio.wait_for(waiter, TIMEOUT)


async def open_doc(
    client: LanguageClient, path: Path, text: str | None = None
) -> list[types.Diagnostic]:
    text = path.read_text(encoding="utf-8") if text is None else text
    uri = path.as_uri()
    return await diagnostics_after(
        client,
        uri,
        1,
        lambda: client.text_document_did_open(
            types.DidOpenTextDocumentParams(
                text_document=types.TextDocumentItem(
                    uri=uri, language_id="yaml", version=1, text=text
                )
            )
        ),
    )


async def change_doc(
    client: LanguageClient, path: Path, text: str, version: int
) -> list[types.Diagnostic]:
    uri = path.as_uri()
    return await diagnostics_after(
        client,
        uri,
        version,
        lambda: client.text_document_did_change(
            types.DidChangeTextDocumentParams(
                text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=version),
                content_changes=[types.TextDocumentContentChangeWholeDocument(text=text)],
            )
        ),
    )


async def initialize(client: LanguageClient, profile: str, root: Path, options: Any = None) -> None:
    if types.CLIENT_REGISTER_CAPABILITY not in client.protocol.fm.features:
        # Real editors accept dynamic registrations (the server registers file watching).
        client.feature(types.CLIENT_REGISTER_CAPABILITY)(lambda _params: None)
    await client.initialize_session(
        types.InitializeParams(
            capabilities=client_capabilities(profile),
            root_uri=root.as_uri(),
            workspace_folders=[types.WorkspaceFolder(uri=root.as_uri(), name="ws")],
            initialization_options=options,
        )
    )


@pytest_lsp.fixture(params=[VSCODE, NEOVIM], config=SERVER)
async def client(
    request: pytest.FixtureRequest, lsp_client: LanguageClient, tmp_path: Path
) -> AsyncIterator[None]:
    await initialize(lsp_client, request.param, tmp_path)
    yield
    await lsp_client.shutdown_session()


@pytest_lsp.fixture(config=SERVER)
async def vscode(lsp_client: LanguageClient, tmp_path: Path) -> AsyncIterator[None]:
    await initialize(lsp_client, VSCODE, tmp_path)
    yield
    await lsp_client.shutdown_session()


@pytest_lsp.fixture(config=SERVER)
async def bare(lsp_client: LanguageClient) -> AsyncIterator[None]:
    """An uninitialised client: the test initialises it with its own options."""
    yield
    await lsp_client.shutdown_session()
