"""Property test: random and mutated YAML through didOpen/didChange never crashes the
server, and every request gets an answer (not an error)."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Coroutine, Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lsprotocol import types
from pytest_lsp import LanguageClient

from tests.lsp.conftest import NEOVIM, SERVER, initialize
from tests.support import corpus_files

Run = Callable[[Coroutine[Any, Any, Any]], Any]
SEEDS = [p.read_text(encoding="utf-8") for p in corpus_files()[:6]] or [
    "workflows:\n  w:\n    nodes:\n      - id: a\n        next: [b]\n      - id: b\n"
]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Run, LanguageClient, Path]]:
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()

    def run(coro: Coroutine[Any, Any, Any]) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, loop).result(30)

    root = tmp_path_factory.mktemp("prop")
    client: LanguageClient = run(SERVER.start())
    if types.CLIENT_REGISTER_CAPABILITY not in client.protocol.fm.features:
        client.feature(types.CLIENT_REGISTER_CAPABILITY)(lambda _params: None)
    run(initialize(client, NEOVIM, root))
    yield run, client, root
    run(client.shutdown_session())
    run(client.stop())
    loop.call_soon_threadsafe(loop.stop)
    thread.join(10)


@st.composite
def texts(draw: st.DrawFn) -> str:
    if draw(st.booleans()):
        return draw(
            st.text(alphabet=st.sampled_from(list("ab:-[]{}\n #'\"|>&*!$.é😀\t")), max_size=300)
        )
    text = draw(st.sampled_from(SEEDS))
    for _ in range(draw(st.integers(1, 4))):
        if not text:
            break
        start = draw(st.integers(0, len(text)))
        end = draw(st.integers(start, min(len(text), start + 80)))
        action = draw(st.sampled_from(["delete", "insert", "duplicate"]))
        if action == "delete":
            text = text[:start] + text[end:]
        elif action == "insert":
            text = text[:start] + draw(st.text(max_size=20)) + text[start:]
        else:
            text = text[:end] + text[start:end] + text[end:]
    return text


_versions: dict[str, int] = {}


async def _exercise(client: LanguageClient, uri: str, text: str, line: int, column: int) -> None:
    version = _versions.get(uri, 0) + 1
    _versions[uri] = version
    if version == 1:
        client.text_document_did_open(
            types.DidOpenTextDocumentParams(
                text_document=types.TextDocumentItem(
                    uri=uri, language_id="yaml", version=1, text=text
                )
            )
        )
    else:
        client.text_document_did_change(
            types.DidChangeTextDocumentParams(
                text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=version),
                content_changes=[types.TextDocumentContentChangeWholeDocument(text=text)],
            )
        )
    doc = types.TextDocumentIdentifier(uri=uri)
    where = types.Position(line=line, character=column)
    await client.text_document_diagnostic_async(types.DocumentDiagnosticParams(text_document=doc))
    await client.text_document_document_symbol_async(types.DocumentSymbolParams(text_document=doc))
    await client.text_document_hover_async(types.HoverParams(text_document=doc, position=where))
    await client.text_document_completion_async(
        types.CompletionParams(text_document=doc, position=where)
    )
    await client.text_document_definition_async(
        types.DefinitionParams(text_document=doc, position=where)
    )
    await client.text_document_folding_range_async(types.FoldingRangeParams(text_document=doc))
    await client.text_document_code_lens_async(types.CodeLensParams(text_document=doc))
    await client.text_document_selection_range_async(
        types.SelectionRangeParams(text_document=doc, positions=[where])
    )
    await client.text_document_code_action_async(
        types.CodeActionParams(
            text_document=doc,
            range=types.Range(where, where),
            context=types.CodeActionContext(diagnostics=[]),
        )
    )


@settings(
    max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(text=texts(), line=st.integers(0, 60), column=st.integers(0, 80), slot=st.integers(0, 2))
def test_server_survives_any_text(
    server: tuple[Run, LanguageClient, Path], text: str, line: int, column: int, slot: int
) -> None:
    run, client, root = server
    uri = (root / f"doc{slot}.yaml").as_uri()
    run(_exercise(client, uri, text, line, column))
    assert client.error is None
