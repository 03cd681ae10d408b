"""Hostile documents: every feature answers promptly and the server stays up.

A 5 MB single line, 10,000 nested flow mappings, binary junk, a 5,000-node
workflow and two libraries whose `$ref`s point at each other.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

import pytest
from lsprotocol import types
from pytest_lsp import LanguageClient

from tests.lsp.conftest import TIMEOUT, open_doc

pytestmark = pytest.mark.timeout(120)


def _long_line() -> str:
    return 'workflows:\n  f:\n    nodes:\n      - id: a\n        goal: "' + "é" * 5_000_000 + '"\n'


def _nested_flow() -> str:
    return "nodes:\n  - " + "{a: " * 10_000 + "1" + "}" * 10_000 + "\n"


def _binary() -> str:
    return "nodes:\x00\ufffe" + "".join(chr(i % 0xD7FF) for i in range(1, 200_000, 7))


def _many_nodes() -> str:
    body = "".join(
        f'      - id: n{i}\n        type: transform\n        transform: "v{i} = {i}"\n'
        for i in range(5_000)
    )
    return "workflows:\n  f:\n    nodes:\n" + body


HOSTILE: dict[str, Callable[[], str]] = {
    "5MB-line": _long_line,
    "nested-flow": _nested_flow,
    "binary": _binary,
    "5000-nodes": _many_nodes,
}


async def _every_feature(client: LanguageClient, uri: str, line: int) -> None:
    doc = types.TextDocumentIdentifier(uri=uri)
    here = types.Position(line=line, character=10)
    whole = types.Range(start=types.Position(line=0, character=0), end=here)
    at = {"text_document": doc, "position": here}
    await asyncio.wait_for(
        asyncio.gather(
            client.text_document_hover_async(types.HoverParams(**at)),
            client.text_document_completion_async(types.CompletionParams(**at)),
            client.text_document_document_symbol_async(
                types.DocumentSymbolParams(text_document=doc)
            ),
            client.text_document_folding_range_async(types.FoldingRangeParams(text_document=doc)),
            client.text_document_selection_range_async(
                types.SelectionRangeParams(text_document=doc, positions=[here])
            ),
            client.text_document_definition_async(types.DefinitionParams(**at)),
            client.text_document_references_async(
                types.ReferenceParams(
                    context=types.ReferenceContext(include_declaration=True), **at
                )
            ),
            client.text_document_code_lens_async(types.CodeLensParams(text_document=doc)),
            client.text_document_inlay_hint_async(
                types.InlayHintParams(text_document=doc, range=whole)
            ),
            client.text_document_code_action_async(
                types.CodeActionParams(
                    text_document=doc,
                    range=whole,
                    context=types.CodeActionContext(diagnostics=[]),
                )
            ),
        ),
        TIMEOUT * 3,
    )


@pytest.mark.parametrize("name", list(HOSTILE))
async def test_hostile_document_is_served(
    vscode: LanguageClient, tmp_path: Path, name: str
) -> None:
    text = HOSTILE[name]()
    path = tmp_path / "hostile.yaml"
    diagnostics = await open_doc(vscode, path, text)
    assert isinstance(diagnostics, list)
    await _every_feature(vscode, path.as_uri(), 3)
    # still serving an ordinary document afterwards
    sane = tmp_path / "sane.yaml"
    later = await open_doc(
        vscode, sane, "workflows:\n  g:\n    nodes:\n      - id: a\n        next: [zzz]\n"
    )
    assert "VW201" in {d.code for d in later}


async def test_libraries_referring_to_each_other_terminate(
    vscode: LanguageClient, tmp_path: Path
) -> None:
    (tmp_path / "b.yaml").write_text('nodes:\n  - $ref: "./a.yaml#na"\n    id: nb\n')
    a_text = (
        'nodes:\n  - $ref: "./b.yaml#nb"\n    id: na\n'
        'workflows:\n  wa:\n    nodes:\n      - $ref: "./b.yaml#nb"\n'
    )
    path = tmp_path / "a.yaml"
    path.write_text(a_text)
    diagnostics = await open_doc(vscode, path, a_text)
    assert all(d.severity != types.DiagnosticSeverity.Error for d in diagnostics), diagnostics
    await _every_feature(vscode, path.as_uri(), 6)
