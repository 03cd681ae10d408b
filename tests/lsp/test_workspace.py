"""Settings, multi-file libraries and the real corpus, through the VS Code profile."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from lsprotocol import types
from pytest_lsp import LanguageClient

from tests.lsp.conftest import VSCODE, diagnostics_after, initialize, open_doc
from tests.support import corpus_files, marker_line

LIBRARY = """\
nodes:
  - id: approval_gate  # @gate
    type: hitl
    prompt: "Approve?"
"""

USER = """\
workflows:
  flow:
    nodes:
      - $ref: "./gates.yaml#approval_gate"  # @ref
      - id: finish
        type: agent
        goal: "Done"
"""

UNKNOWN_NEXT = "workflows:\n  f:\n    nodes:\n      - id: a\n        next: [nowhere]\n"
"""Draws VW201 (unknown `next` target) unless that check is disabled."""


async def test_invalid_settings_message_and_defaults(bare: LanguageClient, tmp_path: Path) -> None:
    await initialize(bare, VSCODE, tmp_path, {"registry": 42, "checks": {"VW601": "no"}})
    assert any("registry" in m.message and "defaults" in m.message for m in bare.messages)
    path = tmp_path / "wf.yaml"
    diagnostics = await open_doc(bare, path, USER.replace("$ref", "x_ref"))
    assert diagnostics is not None  # still serving


async def test_disabled_check_setting(bare: LanguageClient, tmp_path: Path) -> None:
    await initialize(bare, VSCODE, tmp_path, {"victor": {"checks": {"VW201": False}}})
    diagnostics = await open_doc(bare, tmp_path / "wf.yaml", UNKNOWN_NEXT)
    assert "VW201" not in {d.code for d in diagnostics}  # reported when enabled: see below


async def test_library_edit_revalidates_user(bare: LanguageClient, tmp_path: Path) -> None:
    await initialize(bare, VSCODE, tmp_path)
    library, user = tmp_path / "gates.yaml", tmp_path / "flow.yaml"
    library.write_text(LIBRARY, encoding="utf-8")
    user.write_text(USER, encoding="utf-8")
    await open_doc(bare, library)
    diagnostics = await open_doc(bare, user)
    assert not [d for d in diagnostics if d.severity == types.DiagnosticSeverity.Error]
    # $ref definition jumps into the library
    line = marker_line(USER, "ref")
    locations = await bare.text_document_definition_async(
        types.DefinitionParams(
            text_document=types.TextDocumentIdentifier(uri=user.as_uri()),
            position=types.Position(line=line, character=USER.splitlines()[line].index("./gates")),
        )
    )
    assert isinstance(locations, list) and locations[0].uri == library.as_uri()
    assert locations[0].range.start.line == marker_line(LIBRARY, "gate")
    # Renaming the node in the (unsaved) library breaks the user's $ref.
    revalidated = await diagnostics_after(
        bare,
        user.as_uri(),
        1,
        lambda: bare.text_document_did_change(
            types.DidChangeTextDocumentParams(
                text_document=types.VersionedTextDocumentIdentifier(
                    uri=library.as_uri(), version=2
                ),
                content_changes=[
                    types.TextDocumentContentChangeWholeDocument(
                        text=LIBRARY.replace("approval_gate", "gate")
                    )
                ],
            )
        ),
    )
    assert [d for d in revalidated if d.severity == types.DiagnosticSeverity.Error]


@pytest.mark.corpus
@pytest.mark.skipif(
    not corpus_files(), reason="corpus not found (../shared/corpus is absent in this clone)"
)
async def test_corpus_opens_without_errors(bare: LanguageClient, tmp_path: Path) -> None:
    # Skipped at collection, not in the body: a server that was never initialised
    # cannot be shut down cleanly by the fixture.
    files = corpus_files()
    for file in files:
        shutil.copy(file, tmp_path / file.name)
    await initialize(bare, VSCODE, tmp_path)
    for file in files:
        diagnostics = await open_doc(bare, tmp_path / file.name)
        errors = [d for d in diagnostics if d.severity == types.DiagnosticSeverity.Error]
        assert errors == [], f"{file.name}: {[(d.code, d.message) for d in errors]}"


async def test_prints_from_user_registry_code_do_not_corrupt_the_protocol(
    bare: LanguageClient, tmp_path: Path
) -> None:
    noisy = tmp_path / "noisy_registry.py"
    noisy.write_text(
        "import sys\n"
        "print('Content-Length: 5\\r\\n\\r\\nhello from a registry module')\n"
        "sys.stdout.flush()\n"
        "handlers = {'shout': lambda *args: print('shouting')}\n"
    )
    await initialize(bare, VSCODE, tmp_path, {"victor": {"registry": [str(noisy)]}})
    diagnostics = await open_doc(bare, tmp_path / "wf.yaml", UNKNOWN_NEXT)
    assert "VW201" in {d.code for d in diagnostics}
    assert not bare.messages, [m.message for m in bare.messages]


async def test_relative_registry_path_resolves_against_the_workspace(
    bare: LanguageClient, tmp_path: Path
) -> None:
    (tmp_path / "my_registry.py").write_text("handlers = {'shout': lambda *args: None}\n")
    await initialize(bare, VSCODE, tmp_path, {"victor": {"registry": ["my_registry.py"]}})
    assert not bare.messages, [m.message for m in bare.messages]
