"""End-to-end LSP behaviour through pytest-lsp with VS Code and Neovim client profiles."""

from __future__ import annotations

from pathlib import Path

import pytest
from lsprotocol import types
from pytest_lsp import LanguageClient

from tests.lsp.conftest import change_doc, encoding_of, lsp_column, open_doc, uses_pull
from tests.support import marker_line

WORKFLOW = """\
workflows:
  review:  # @wf_name
    description: "Review flow"
    nodes:
      - id: gather  # @gather
        type: compute
        tools: [shell]
        inputs:
          cmd: $ctx.diff_command
        output: changes  # @changes_output
        next: [decide]  # @next_decide
      - id: decide  # @decide
        type: condition
        condition: "changes.count > 0"
        branches: {"是😀": nowhere, "false": summarize}  # @bad_branch
      - id: summarize  # @summarize
        type: agent
        goal: "Summarize {{changes}} and $ctx.chnages"  # @typo
        output: summary
"""

FIXED = WORKFLOW.replace("nowhere", "summarize")


def pos(
    text: str, marker: str, needle: str, client: LanguageClient, offset: int = 0
) -> types.Position:
    line = marker_line(text, marker)
    line_text = text.splitlines()[line]
    column = line_text.index(needle) + offset
    return types.Position(line=line, character=lsp_column(line_text, column, encoding_of(client)))


def doc(path: Path) -> types.TextDocumentIdentifier:
    return types.TextDocumentIdentifier(uri=path.as_uri())


async def opened(
    client: LanguageClient, tmp_path: Path, text: str = WORKFLOW
) -> tuple[Path, list[types.Diagnostic]]:
    path = tmp_path / "review.yaml"
    path.write_text(text, encoding="utf-8")
    return path, await open_doc(client, path, text)


async def test_error_range_after_emoji_and_cjk(client: LanguageClient, tmp_path: Path) -> None:
    _, diagnostics = await opened(client, tmp_path)
    errors = [d for d in diagnostics if d.severity == types.DiagnosticSeverity.Error]
    assert [d.code for d in errors] == ["VW202"]
    start = pos(WORKFLOW, "bad_branch", "nowhere", client)
    assert errors[0].range.start == start
    assert errors[0].range.end.character == start.character + len("nowhere")
    assert errors[0].source == "victor"


async def test_typo_warning_and_quick_fix(client: LanguageClient, tmp_path: Path) -> None:
    path, diagnostics = await opened(client, tmp_path)
    typo = [
        d
        for d in diagnostics
        if d.code == "VW601" and d.severity == types.DiagnosticSeverity.Warning
    ]
    assert len(typo) == 1 and "did you mean 'changes'" in typo[0].message
    assert typo[0].range.start.line == marker_line(WORKFLOW, "typo")
    actions = await client.text_document_code_action_async(
        types.CodeActionParams(
            text_document=doc(path),
            range=typo[0].range,
            context=types.CodeActionContext(diagnostics=typo),
        )
    )
    fixes = [
        a
        for a in actions or []
        if isinstance(a, types.CodeAction) and a.title == "Change to 'changes'"
    ]
    assert fixes and fixes[0].edit is not None and fixes[0].edit.changes is not None
    (edits,) = fixes[0].edit.changes.values()
    assert edits[0].new_text == "changes"
    assert edits[0].range.start == pos(WORKFLOW, "typo", "chnages", client)
    # Run inputs are only hints: no noise in the problems panel.
    inputs = [d for d in diagnostics if "diff_command" in d.message]
    assert inputs and all(d.severity == types.DiagnosticSeverity.Hint for d in inputs)


async def test_edit_clears_then_close_clears(client: LanguageClient, tmp_path: Path) -> None:
    path, _ = await opened(client, tmp_path)
    diagnostics = await change_doc(client, path, FIXED, 2)
    assert not [d for d in diagnostics if d.severity == types.DiagnosticSeverity.Error]
    if not uses_pull(client):
        from tests.lsp.conftest import diagnostics_after

        cleared = await diagnostics_after(
            client,
            path.as_uri(),
            None,
            lambda: client.text_document_did_close(
                types.DidCloseTextDocumentParams(text_document=doc(path))
            ),
        )
        assert cleared == []


async def test_suppression_comments(client: LanguageClient, tmp_path: Path) -> None:
    text = WORKFLOW.replace(
        '        branches: {"是😀"',
        '        # victor: disable-next-line=VW202\n        branches: {"是😀"',
    )
    _, diagnostics = await opened(client, tmp_path, text)
    assert "VW202" not in {d.code for d in diagnostics}
    whole_file = tmp_path / "quiet.yaml"
    diagnostics = await open_doc(client, whole_file, "# victor: disable=VW601\n" + WORKFLOW)
    assert "VW601" not in {d.code for d in diagnostics} and "VW202" in {d.code for d in diagnostics}


async def test_not_a_workflow_gets_nothing(client: LanguageClient, tmp_path: Path) -> None:
    path = tmp_path / "compose.yaml"
    text = "services:\n  web:\n    image: nginx\n    ports: [80\n"
    assert await open_doc(client, path, text) == []
    symbols = await client.text_document_document_symbol_async(
        types.DocumentSymbolParams(text_document=doc(path))
    )
    assert not symbols


async def test_completion_node_ids_exclude_self(client: LanguageClient, tmp_path: Path) -> None:
    path, _ = await opened(client, tmp_path)
    result = await client.text_document_completion_async(
        types.CompletionParams(
            text_document=doc(path), position=pos(WORKFLOW, "next_decide", "decide", client)
        )
    )
    assert isinstance(result, types.CompletionList)
    labels = {item.label for item in result.items}
    assert {"decide", "summarize"} <= labels and "gather" not in labels


async def test_completion_keys_for_node_type(client: LanguageClient, tmp_path: Path) -> None:
    text = WORKFLOW.replace("        output: summary\n", "        output: summary\n        to\n")
    path, _ = await opened(client, tmp_path, text)
    line = len(text.splitlines()) - 1
    result = await client.text_document_completion_async(
        types.CompletionParams(
            text_document=doc(path), position=types.Position(line=line, character=10)
        )
    )
    assert isinstance(result, types.CompletionList)
    labels = {item.label for item in result.items}
    assert {"tools", "tool_budget"} <= labels  # agent keys starting with the typed prefix
    assert all(label.startswith("to") for label in labels)  # filtered by the typed prefix


async def test_completion_state_keys_after_ctx(client: LanguageClient, tmp_path: Path) -> None:
    path, _ = await opened(client, tmp_path)
    result = await client.text_document_completion_async(
        types.CompletionParams(
            text_document=doc(path), position=pos(WORKFLOW, "typo", "chnages", client)
        )
    )
    assert isinstance(result, types.CompletionList)
    assert {"changes", "summary"} <= {item.label for item in result.items}


async def test_hover_node_reference_and_state_key(client: LanguageClient, tmp_path: Path) -> None:
    path, _ = await opened(client, tmp_path)
    hover = await client.text_document_hover_async(
        types.HoverParams(
            text_document=doc(path), position=pos(WORKFLOW, "next_decide", "decide", client)
        )
    )
    assert hover is not None and isinstance(hover.contents, types.MarkupContent)
    assert "`condition`" in hover.contents.value and "summarize" in hover.contents.value
    hover = await client.text_document_hover_async(
        types.HoverParams(
            text_document=doc(path), position=pos(WORKFLOW, "typo", "{{changes", client, 3)
        )
    )
    assert hover is not None and isinstance(hover.contents, types.MarkupContent)
    assert "written by: `gather`" in hover.contents.value
    assert "read by:" in hover.contents.value


async def test_hover_field_doc(client: LanguageClient, tmp_path: Path) -> None:
    path, _ = await opened(client, tmp_path)
    hover = await client.text_document_hover_async(
        types.HoverParams(
            text_document=doc(path), position=pos(WORKFLOW, "next_decide", "next", client)
        )
    )
    assert hover is not None and isinstance(hover.contents, types.MarkupContent)
    assert "**next**" in hover.contents.value


async def test_definition_references_highlight(client: LanguageClient, tmp_path: Path) -> None:
    path, _ = await opened(client, tmp_path)
    where = pos(WORKFLOW, "next_decide", "decide", client)
    locations = await client.text_document_definition_async(
        types.DefinitionParams(text_document=doc(path), position=where)
    )
    assert isinstance(locations, list) and len(locations) == 1
    assert locations[0].range.start == pos(WORKFLOW, "decide", "decide", client)
    refs = await client.text_document_references_async(
        types.ReferenceParams(
            text_document=doc(path),
            position=where,
            context=types.ReferenceContext(include_declaration=True),
        )
    )
    assert refs is not None
    assert sorted(r.range.start.line for r in refs) == [
        marker_line(WORKFLOW, "next_decide"),
        marker_line(WORKFLOW, "decide"),
    ]
    # state key -> the node that writes it
    locations = await client.text_document_definition_async(
        types.DefinitionParams(
            text_document=doc(path), position=pos(WORKFLOW, "typo", "{{changes", client, 3)
        )
    )
    assert isinstance(locations, list) and locations[0].range.start.line == marker_line(
        WORKFLOW, "changes_output"
    )
    highlights = await client.text_document_document_highlight_async(
        types.DocumentHighlightParams(text_document=doc(path), position=where)
    )
    assert highlights is not None and len(highlights) == 2


async def test_rename_node_and_refuse_duplicate(client: LanguageClient, tmp_path: Path) -> None:
    path, _ = await opened(client, tmp_path, FIXED)
    where = pos(FIXED, "summarize", "summarize", client)
    prepared = await client.text_document_prepare_rename_async(
        types.PrepareRenameParams(text_document=doc(path), position=where)
    )
    assert prepared is not None
    edit = await client.text_document_rename_async(
        types.RenameParams(text_document=doc(path), position=where, new_name="write_up")
    )
    assert edit is not None and edit.changes is not None
    (edits,) = edit.changes.values()
    assert len(edits) == 3  # the id and both branch targets
    assert all(e.new_text == "write_up" for e in edits)
    with pytest.raises(Exception, match="already has a node 'gather'"):
        await client.text_document_rename_async(
            types.RenameParams(text_document=doc(path), position=where, new_name="gather")
        )


async def test_symbols_lenses_folding(client: LanguageClient, tmp_path: Path) -> None:
    path, _ = await opened(client, tmp_path)
    symbols = await client.text_document_document_symbol_async(
        types.DocumentSymbolParams(text_document=doc(path))
    )
    assert symbols is not None
    (workflow,) = symbols
    assert isinstance(workflow, types.DocumentSymbol) and workflow.name == "review"
    assert [(c.name, c.detail) for c in workflow.children or []] == [
        ("gather", "compute"),
        ("decide", "condition"),
        ("summarize", "agent"),
    ]
    lenses = await client.text_document_code_lens_async(
        types.CodeLensParams(text_document=doc(path))
    )
    assert lenses is not None
    assert {lens.command.command for lens in lenses if lens.command} == {
        "victor.runWorkflow",
        "victor.debugWorkflow",
        "victor.traceWorkflow",
    }
    assert [list(lens.command.arguments or []) for lens in lenses if lens.command] == [
        [path.as_uri(), "review"]
    ] * 3
    assert all(lens.range.start.line == marker_line(WORKFLOW, "wf_name") for lens in lenses)
    folds = await client.text_document_folding_range_async(
        types.FoldingRangeParams(text_document=doc(path))
    )
    assert folds and any(f.start_line == marker_line(WORKFLOW, "gather") for f in folds)


async def test_outline_survives_broken_yaml(client: LanguageClient, tmp_path: Path) -> None:
    path, _ = await opened(client, tmp_path)
    broken = WORKFLOW.replace("        type: agent\n", "        type: [agent\n")
    diagnostics = await change_doc(client, path, broken, 2)
    assert any(d.code == "VW001" for d in diagnostics)
    symbols = await client.text_document_document_symbol_async(
        types.DocumentSymbolParams(text_document=doc(path))
    )
    assert symbols and symbols[0].name == "review"
