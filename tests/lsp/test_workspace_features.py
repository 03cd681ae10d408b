"""Workspace-wide LSP features end to end: workspace symbols, workspace (pull)
diagnostics, "extract to node library" and renaming library nodes across files."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from pathlib import Path

import pytest
from lsprotocol import types
from pytest_lsp import LanguageClient

import engine
import engine.model
from engine.config import CompileConfig
from engine.model import CompileResult, FileKind
from tests.lsp.conftest import NEOVIM, TIMEOUT, change_doc, initialize, open_doc
from tests.support import marker_line

# --- fixtures' texts -----------------------------------------------------------------

ALPHA = """\
workflows:
  ingest:  # @ingest
    nodes:
      - id: fetch_docs  # @fetch_docs
        type: agent
        goal: "Fetch the documents"
        output: docs
        next: [parse_docs]
      - id: parse_docs  # @parse_docs
        type: agent
        goal: "Parse {{docs}}"
        output: parsed
"""

BETA = """\
workflows:
  publish:  # @publish
    nodes:
      - id: parse_report  # @parse_report
        type: agent
        goal: "Parse the report"
        output: report
        next: [upload]
      - id: upload  # @upload
        type: agent
        goal: "Upload {{report}}"
"""

NOT_A_WORKFLOW = "name: ci\non:\n  push: {}\njobs:\n  build: {runs-on: linux}\n"

BROKEN_NEXT = "workflows:\n  broken:\n    nodes:\n      - id: a\n        next: [nowhere]  # @bad\n"


def doc(path: Path) -> types.TextDocumentIdentifier:
    return types.TextDocumentIdentifier(uri=path.as_uri())


def at(text: str, marker: str, needle: str) -> types.Position:
    """Position of `needle` on the marker's line (fixture texts are ASCII: any encoding)."""
    line = marker_line(text, marker)
    return types.Position(line=line, character=text.splitlines()[line].index(needle))


def apply_edits(text: str, edits: list[types.TextEdit]) -> str:
    """Apply LSP text edits to an ASCII text, as an editor would (all at once)."""
    assert text.isascii(), "helper only handles ASCII texts"
    lines = text.splitlines(keepends=True)
    starts = [0]
    for line in lines:
        starts.append(starts[-1] + len(line))

    def offset(position: types.Position) -> int:
        if position.line >= len(lines):
            return len(text)
        return min(starts[position.line] + position.character, starts[position.line + 1])

    result = text
    ordered = sorted(edits, key=lambda e: (offset(e.range.start), offset(e.range.end)))
    for edit in reversed(ordered):
        start, end = offset(edit.range.start), offset(edit.range.end)
        result = result[:start] + edit.new_text + result[end:]
    return result


def compile_file(path: Path) -> CompileResult:
    return engine.compile(
        path.read_text(encoding="utf-8"),
        source=str(path),
        config=CompileConfig(workspace_root=str(path.parent)),
    )


def errors_of(result: CompileResult) -> list[str]:
    return [p.format() for p in result.errors]


# --- workspace/symbol ----------------------------------------------------------------


async def test_workspace_symbols_across_open_and_disk_files(
    client: LanguageClient, tmp_path: Path
) -> None:
    alpha, beta = tmp_path / "alpha.yaml", tmp_path / "sub" / "beta.yaml"
    beta.parent.mkdir()
    alpha.write_text(ALPHA, encoding="utf-8")
    beta.write_text(BETA, encoding="utf-8")  # never opened: found on disk
    (tmp_path / "ci.yaml").write_text(NOT_A_WORKFLOW, encoding="utf-8")
    await open_doc(client, alpha)

    found = await client.workspace_symbol_async(types.WorkspaceSymbolParams(query="parse"))
    assert found is not None
    by_name = {s.name: s for s in found}
    assert set(by_name) == {"parse_docs", "parse_report"}
    docs, report = by_name["parse_docs"], by_name["parse_report"]
    # the client library decodes these as SymbolInformation: both carry a full Location
    assert isinstance(docs.location, types.Location)
    assert isinstance(report.location, types.Location)
    assert docs.location.uri == alpha.as_uri()
    assert docs.location.range.start == at(ALPHA, "parse_docs", "parse_docs")
    assert docs.container_name == "ingest"
    assert report.location.uri == beta.as_uri()
    assert report.location.range.start == at(BETA, "parse_report", "parse_report")
    assert report.container_name == "publish"
    assert {s.kind for s in found} == {types.SymbolKind.Function}

    workflows = await client.workspace_symbol_async(types.WorkspaceSymbolParams(query="PUBL"))
    assert workflows is not None
    assert [(s.name, s.kind) for s in workflows] == [("publish", types.SymbolKind.Class)]
    assert isinstance(workflows[0].location, types.Location)
    assert workflows[0].location.range.start == at(BETA, "publish", "publish")

    everything = await client.workspace_symbol_async(types.WorkspaceSymbolParams(query=""))
    assert everything is not None
    assert sorted(s.name for s in everything) == sorted(
        ["ingest", "fetch_docs", "parse_docs", "publish", "parse_report", "upload"]
    )
    assert {s.location.uri for s in everything} == {alpha.as_uri(), beta.as_uri()}

    nothing = await client.workspace_symbol_async(types.WorkspaceSymbolParams(query="zzz_none"))
    assert nothing == []


async def test_workspace_symbols_follow_unsaved_edits(
    client: LanguageClient, tmp_path: Path
) -> None:
    alpha = tmp_path / "alpha.yaml"
    alpha.write_text(ALPHA, encoding="utf-8")
    await open_doc(client, alpha)
    edited = ALPHA.replace("parse_docs", "split_docs")
    await change_doc(client, alpha, edited, 2)
    found = await client.workspace_symbol_async(types.WorkspaceSymbolParams(query="_docs"))
    assert found is not None
    assert sorted(s.name for s in found) == ["fetch_docs", "split_docs"]


async def test_workspace_symbols_include_library_nodes(
    client: LanguageClient, tmp_path: Path
) -> None:
    library = tmp_path / "lib" / "gates.yaml"
    library.parent.mkdir()
    library.write_text(GATES, encoding="utf-8")  # on disk only
    (tmp_path / "release.yaml").write_text(RELEASE, encoding="utf-8")
    found = await client.workspace_symbol_async(types.WorkspaceSymbolParams(query="gate"))
    assert found is not None
    in_library = [s for s in found if s.location.uri == library.as_uri()]
    assert [(s.name, s.kind, s.container_name) for s in in_library] == [
        ("approval_gate", types.SymbolKind.Function, "gates.yaml")
    ]
    assert in_library[0].location.range.start == at(GATES, "gate", "approval_gate")


# --- workspace/diagnostic (pull clients) -------------------------------------------


async def _workspace_report(
    client: LanguageClient, previous: dict[str, str]
) -> dict[str, types.WorkspaceDocumentDiagnosticReport]:
    report = await asyncio.wait_for(
        client.workspace_diagnostic_async(
            types.WorkspaceDiagnosticParams(
                previous_result_ids=[
                    types.PreviousResultId(uri=uri, value=value) for uri, value in previous.items()
                ]
            )
        ),
        TIMEOUT,
    )
    assert isinstance(report, types.WorkspaceDiagnosticReport)
    return {item.uri: item for item in report.items}


async def test_workspace_diagnostics_for_open_and_disk_files(
    bare: LanguageClient, tmp_path: Path
) -> None:
    await initialize(bare, NEOVIM, tmp_path)
    client = bare
    opened, on_disk = tmp_path / "opened.yaml", tmp_path / "on_disk.yaml"
    opened.write_text(BROKEN_NEXT, encoding="utf-8")
    on_disk.write_text(BROKEN_NEXT.replace("broken", "other"), encoding="utf-8")
    (tmp_path / "ci.yaml").write_text(NOT_A_WORKFLOW, encoding="utf-8")
    (tmp_path / "clean.yaml").write_text(ALPHA, encoding="utf-8")
    await open_doc(client, opened)

    first = await _workspace_report(client, {})
    assert set(first) == {opened.as_uri(), on_disk.as_uri(), (tmp_path / "clean.yaml").as_uri()}
    for uri in (opened.as_uri(), on_disk.as_uri()):
        report = first[uri]
        assert isinstance(report, types.WorkspaceFullDocumentDiagnosticReport)
        assert [d.code for d in report.items if d.severity == types.DiagnosticSeverity.Error] == [
            "VW201"
        ]
        (bad,) = [d for d in report.items if d.code == "VW201"]
        assert bad.range.start == at(BROKEN_NEXT, "bad", "nowhere")
        assert report.result_id
    assert first[opened.as_uri()].version == 1  # an open document reports its version
    assert first[on_disk.as_uri()].version is None  # a file on disk has none
    clean = first[(tmp_path / "clean.yaml").as_uri()]
    assert isinstance(clean, types.WorkspaceFullDocumentDiagnosticReport)
    assert not [d for d in clean.items if d.severity == types.DiagnosticSeverity.Error]

    # Asking again with the result ids: nothing changed, so every report is `unchanged`.
    previous = {uri: r.result_id for uri, r in first.items() if r.result_id}
    second = await _workspace_report(client, previous)
    assert set(second) == set(first)
    for uri, report in second.items():
        assert isinstance(report, types.WorkspaceUnchangedDocumentDiagnosticReport), uri
        assert report.result_id == previous[uri]

    # Fix the open document (unsaved) and the file on disk (the editor's watcher says so).
    await change_doc(client, opened, BROKEN_NEXT.replace("[nowhere]", "[__end__]"), 2)
    on_disk.write_text(BROKEN_NEXT.replace("[nowhere]", "[__end__]"), encoding="utf-8")
    client.workspace_did_change_watched_files(
        types.DidChangeWatchedFilesParams(
            changes=[types.FileEvent(uri=on_disk.as_uri(), type=types.FileChangeType.Changed)]
        )
    )
    third = await _workspace_report(client, previous)
    for uri in (opened.as_uri(), on_disk.as_uri()):
        report = third[uri]
        assert isinstance(report, types.WorkspaceFullDocumentDiagnosticReport), uri
        assert report.result_id != previous[uri]
        assert not [d for d in report.items if d.severity == types.DiagnosticSeverity.Error]
    assert third[opened.as_uri()].version == 2
    assert isinstance(
        third[(tmp_path / "clean.yaml").as_uri()], types.WorkspaceUnchangedDocumentDiagnosticReport
    )


async def test_workspace_diagnostics_of_disk_files_follow_their_libraries(
    bare: LanguageClient, tmp_path: Path
) -> None:
    """A workflow only on disk is checked again when a library it uses changes: on disk
    (no watcher event needed) or unsaved in an open buffer."""
    await initialize(bare, NEOVIM, tmp_path)
    library = tmp_path / "lib" / "gates.yaml"
    library.parent.mkdir()
    library.write_text(GATES, encoding="utf-8")
    user = tmp_path / "hotfix.yaml"
    user.write_text(HOTFIX, encoding="utf-8")

    def errors(report: types.WorkspaceDocumentDiagnosticReport) -> list[str]:
        assert isinstance(report, types.WorkspaceFullDocumentDiagnosticReport)
        return [str(d.code) for d in report.items if d.severity == types.DiagnosticSeverity.Error]

    first = await _workspace_report(bare, {})
    assert errors(first[user.as_uri()]) == []

    library.write_text(GATES.replace("id: notify", "id: notify_team"), encoding="utf-8")
    second = await _workspace_report(bare, {})
    assert len(errors(second[user.as_uri()])) == 1  # `#notify` no longer resolves

    await open_doc(bare, library, GATES)  # the buffer still has the old text, unsaved
    third = await _workspace_report(bare, {})
    assert errors(third[user.as_uri()]) == []


async def test_document_pull_diagnostics_unchanged_on_repeat(
    bare: LanguageClient, tmp_path: Path
) -> None:
    await initialize(bare, NEOVIM, tmp_path)
    path = tmp_path / "opened.yaml"
    path.write_text(BROKEN_NEXT, encoding="utf-8")
    await open_doc(bare, path)
    first = await bare.text_document_diagnostic_async(
        types.DocumentDiagnosticParams(text_document=doc(path))
    )
    assert isinstance(first, types.RelatedFullDocumentDiagnosticReport) and first.result_id
    again = await bare.text_document_diagnostic_async(
        types.DocumentDiagnosticParams(text_document=doc(path), previous_result_id=first.result_id)
    )
    assert isinstance(again, types.RelatedUnchangedDocumentDiagnosticReport)
    assert again.result_id == first.result_id


# --- code action: extract to node library ------------------------------------------

EXTRACT = """\
workflows:
  review:
    nodes:
      - id: gather  # @gather
        type: compute
        tools: [shell]
        output: changes
      - id: approve  # @approve
        type: hitl
        prompt: "Approve {changes}?"
        context_keys: [changes]
        next: [summarize]
      - id: summarize  # @summarize
        type: agent
        goal: "Summarize {{changes}}"
"""


def _extract_actions(
    actions: Sequence[types.CodeAction | types.Command] | None,
) -> list[types.CodeAction]:
    return [
        a
        for a in actions or []
        if isinstance(a, types.CodeAction) and a.kind == types.CodeActionKind.RefactorExtract
    ]


async def _extract_actions_at(
    client: LanguageClient, workflow: Path, line: int, character: int
) -> list[types.CodeAction]:
    """The "extract to node library" actions offered at one position."""
    at = types.Position(line=line, character=character)
    actions = await client.text_document_code_action_async(
        types.CodeActionParams(
            text_document=doc(workflow),
            range=types.Range(start=at, end=at),
            context=types.CodeActionContext(diagnostics=[]),
        )
    )
    return _extract_actions(actions)


def _apply_extract(
    action: types.CodeAction, workflow: Path, library: Path
) -> tuple[list[types.TextEdit], list[types.TextEdit]]:
    """Apply the action's edit to the files (as the editor does); returns both edit lists."""
    assert action.edit is not None and action.edit.document_changes is not None
    creates = [c for c in action.edit.document_changes if isinstance(c, types.CreateFile)]
    assert [c.uri for c in creates] == ([] if library.exists() else [library.as_uri()])
    text_edits: dict[str, list[types.TextEdit]] = {}
    for change in action.edit.document_changes:
        if isinstance(change, types.TextDocumentEdit):
            text_edits.setdefault(change.text_document.uri, []).extend(
                e for e in change.edits if isinstance(e, types.TextEdit)
            )
    assert set(text_edits) == {library.as_uri(), workflow.as_uri()}
    before = library.read_text(encoding="utf-8") if library.exists() else ""
    library.write_text(apply_edits(before, text_edits[library.as_uri()]), encoding="utf-8")
    workflow.write_text(
        apply_edits(workflow.read_text(encoding="utf-8"), text_edits[workflow.as_uri()]),
        encoding="utf-8",
    )
    return text_edits[library.as_uri()], text_edits[workflow.as_uri()]


async def _extract(
    client: LanguageClient, workflow: Path, text: str, marker: str
) -> types.CodeAction:
    found = await _extract_actions_at(client, workflow, marker_line(text, marker), 8)
    assert len(found) == 1, found
    return found[0]


async def test_extract_node_to_library_compiles_to_the_same_node(
    client: LanguageClient, tmp_path: Path
) -> None:
    workflow, library = tmp_path / "review.yaml", tmp_path / "review.nodes.yaml"
    workflow.write_text(EXTRACT, encoding="utf-8")
    await open_doc(client, workflow)
    original = compile_file(workflow).workflows[0]
    assert errors_of(compile_file(workflow)) == []

    action = await _extract(client, workflow, EXTRACT, "approve")
    assert "approve" in action.title and "review.nodes.yaml" in action.title
    _apply_extract(action, workflow, library)

    library_text = library.read_text(encoding="utf-8")
    assert library_text.startswith("nodes:\n")
    assert "id: approve" in library_text and "summarize" in library_text
    new_text = workflow.read_text(encoding="utf-8")
    assert '$ref: "./review.nodes.yaml#approve"' in new_text
    assert "prompt:" not in new_text  # the node's body moved out
    assert new_text.count("- id:") == 2  # gather and summarize stay

    lib_result = compile_file(library)
    assert lib_result.kind is FileKind.NODE_LIBRARY and errors_of(lib_result) == []
    result = compile_file(workflow)
    assert errors_of(result) == []
    extracted = result.workflows[0]
    assert [(n.id, n.type) for n in extracted.nodes] == [(n.id, n.type) for n in original.nodes]
    approve = extracted.node("approve")
    assert approve.origin is not None and approve.origin.source == str(library)
    assert approve.next == original.node("approve").next
    assert approve.fields.get("prompt") == "Approve {changes}?"


async def test_extract_second_node_appends_to_existing_library(
    client: LanguageClient, tmp_path: Path
) -> None:
    workflow, library = tmp_path / "review.yaml", tmp_path / "review.nodes.yaml"
    workflow.write_text(EXTRACT, encoding="utf-8")
    await open_doc(client, workflow)
    original = compile_file(workflow).workflows[0]
    _apply_extract(await _extract(client, workflow, EXTRACT, "approve"), workflow, library)

    after_first = workflow.read_text(encoding="utf-8")
    await change_doc(client, workflow, after_first, 2)
    _apply_extract(await _extract(client, workflow, after_first, "gather"), workflow, library)

    lib_result = compile_file(library)
    assert errors_of(lib_result) == [], library.read_text(encoding="utf-8")
    assert library.read_text(encoding="utf-8").count("nodes:") == 1
    result = compile_file(workflow)
    assert errors_of(result) == [], workflow.read_text(encoding="utf-8")
    extracted = result.workflows[0]
    assert [(n.id, n.type) for n in extracted.nodes] == [(n.id, n.type) for n in original.nodes]
    assert {n.id for n in extracted.nodes if n.origin is not None} == {"gather", "approve"}


@pytest.mark.parametrize("marker", ["approve"])
async def test_no_extract_for_a_node_already_from_a_library(
    client: LanguageClient, tmp_path: Path, marker: str
) -> None:
    workflow, library = tmp_path / "review.yaml", tmp_path / "review.nodes.yaml"
    workflow.write_text(EXTRACT, encoding="utf-8")
    await open_doc(client, workflow)
    _apply_extract(await _extract(client, workflow, EXTRACT, marker), workflow, library)
    after = workflow.read_text(encoding="utf-8")
    await change_doc(client, workflow, after, 2)
    line = next(i for i, text in enumerate(after.splitlines()) if "$ref" in text)
    assert await _extract_actions_at(client, workflow, line, 10) == []


# --- renaming a node-library node across files -----------------------------------

GATES = """\
nodes:
  - id: approval_gate  # @gate
    type: hitl
    prompt: "Approve?"
  - id: notify  # @notify
    type: agent
    goal: "Tell the team"
"""

RELEASE = """\
workflows:
  release:
    nodes:
      - id: build
        type: agent
        goal: "Build"
        next: [approval_gate]  # @edge
      - $ref: "./lib/gates.yaml#approval_gate"  # @ref_open
        next: [ship]
      - id: ship
        type: agent
        goal: "Ship it"
"""

HOTFIX = """\
workflows:
  hotfix:
    nodes:
      - $ref: ./lib/gates.yaml#approval_gate  # @ref_disk
        id: hotfix_gate
        next: [announce]
      - $ref: "./lib/gates.yaml#notify"
        id: announce
"""

UNRELATED = """\
workflows:
  local:
    nodes:
      - id: approval_gate
        type: agent
        goal: "A node of its own, not from the library"
"""


def _library_workspace(tmp_path: Path) -> tuple[Path, Path, Path, Path]:
    library = tmp_path / "lib" / "gates.yaml"
    library.parent.mkdir()
    library.write_text(GATES, encoding="utf-8")
    release, hotfix, unrelated = (
        tmp_path / "release.yaml",
        tmp_path / "hotfix.yaml",
        tmp_path / "unrelated.yaml",
    )
    # The open document's unsaved text is what counts, not the file on disk.
    release.write_text(RELEASE.replace("Ship it", "(old text on disk)"), encoding="utf-8")
    hotfix.write_text(HOTFIX, encoding="utf-8")  # only on disk
    unrelated.write_text(UNRELATED, encoding="utf-8")
    return library, release, hotfix, unrelated


async def _open_library_workspace(
    client: LanguageClient, tmp_path: Path
) -> tuple[Path, Path, Path, Path]:
    library, release, hotfix, unrelated = _library_workspace(tmp_path)
    await open_doc(client, library)
    diagnostics = await open_doc(client, release, RELEASE)
    assert not [d for d in diagnostics if d.severity == types.DiagnosticSeverity.Error]
    return library, release, hotfix, unrelated


async def test_rename_library_node_rewrites_every_ref(
    client: LanguageClient, tmp_path: Path
) -> None:
    library, release, hotfix, unrelated = await _open_library_workspace(client, tmp_path)
    where = at(GATES, "gate", "approval_gate")
    prepared = await client.text_document_prepare_rename_async(
        types.PrepareRenameParams(text_document=doc(library), position=where)
    )
    assert isinstance(prepared, types.PrepareRenamePlaceholder)
    assert prepared.placeholder == "approval_gate"
    assert prepared.range.start == where
    assert prepared.range.end.character == where.character + len("approval_gate")

    edit = await client.text_document_rename_async(
        types.RenameParams(text_document=doc(library), position=where, new_name="sign_off")
    )
    assert edit is not None and edit.changes is not None
    assert set(edit.changes) == {library.as_uri(), release.as_uri(), hotfix.as_uri()}
    renamed = {
        library: apply_edits(GATES, list(edit.changes[library.as_uri()])),
        release: apply_edits(RELEASE, list(edit.changes[release.as_uri()])),
        hotfix: apply_edits(HOTFIX, list(edit.changes[hotfix.as_uri()])),
    }
    assert renamed[library] == GATES.replace("id: approval_gate", "id: sign_off")
    # The $ref and the edge naming the id the node inherits from the library.
    assert renamed[release] == RELEASE.replace("approval_gate", "sign_off")
    assert renamed[release].count("sign_off") == 2
    # A local `id:` override keeps the workflow's own name: only the $ref changes.
    assert renamed[hotfix] == HOTFIX.replace("#approval_gate", "#sign_off")

    for path, text in renamed.items():
        path.write_text(text, encoding="utf-8")
    for path in (release, hotfix, unrelated):
        result = compile_file(path)
        assert errors_of(result) == [], path.name
    release_flow = compile_file(release).workflows[0]
    assert [n.id for n in release_flow.nodes] == ["build", "sign_off", "ship"]
    gate = release_flow.node("sign_off")
    assert gate.origin is not None and gate.origin.name == "sign_off"
    assert gate.type is engine.model.NodeType.HITL
    hotfix_gate = compile_file(hotfix).workflows[0].node("hotfix_gate")
    assert hotfix_gate.origin is not None and hotfix_gate.origin.name == "sign_off"
    assert unrelated.read_text(encoding="utf-8") == UNRELATED


@pytest.mark.parametrize(
    ("new_name", "message"),
    [
        ("notify", "already has a node 'notify'"),
        ("build", "already has a node 'build'"),  # clashes inside a referencing workflow
        ("__end__", "reserved"),
        ("not an id", "not a valid node id"),
    ],
)
async def test_rename_library_node_refused(
    client: LanguageClient, tmp_path: Path, new_name: str, message: str
) -> None:
    library, *_ = await _open_library_workspace(client, tmp_path)
    with pytest.raises(Exception, match=message):
        await client.text_document_rename_async(
            types.RenameParams(
                text_document=doc(library),
                position=at(GATES, "gate", "approval_gate"),
                new_name=new_name,
            )
        )


async def test_library_node_references_and_definition_list_ref_sites(
    client: LanguageClient, tmp_path: Path
) -> None:
    library, release, hotfix, _ = await _open_library_workspace(client, tmp_path)
    where = at(GATES, "gate", "approval_gate")
    found = await client.text_document_references_async(
        types.ReferenceParams(
            text_document=doc(library),
            position=where,
            context=types.ReferenceContext(include_declaration=True),
        )
    )
    assert found is not None
    places = sorted((loc.uri, loc.range.start.line, loc.range.start.character) for loc in found)
    expected = [
        (library.as_uri(), where.line, where.character),
        (release.as_uri(), *_pos(at(RELEASE, "ref_open", "approval_gate"))),
        (hotfix.as_uri(), *_pos(at(HOTFIX, "ref_disk", "approval_gate"))),
    ]
    assert places == sorted(expected)
    without = await client.text_document_references_async(
        types.ReferenceParams(
            text_document=doc(library),
            position=where,
            context=types.ReferenceContext(include_declaration=False),
        )
    )
    assert without is not None and library.as_uri() not in {loc.uri for loc in without}
    assert len(without) == 2

    definition = await client.text_document_definition_async(
        types.DefinitionParams(text_document=doc(library), position=where)
    )
    assert isinstance(definition, list)
    assert sorted(loc.uri for loc in definition) == sorted([release.as_uri(), hotfix.as_uri()])

    # `notify` is used by hotfix only.
    notify = await client.text_document_references_async(
        types.ReferenceParams(
            text_document=doc(library),
            position=at(GATES, "notify", "notify"),
            context=types.ReferenceContext(include_declaration=False),
        )
    )
    assert notify is not None and [loc.uri for loc in notify] == [hotfix.as_uri()]


def _pos(position: types.Position) -> tuple[int, int]:
    return position.line, position.character


async def test_rename_from_a_ref_renames_the_library_node(
    client: LanguageClient, tmp_path: Path
) -> None:
    library, release, hotfix, _ = _library_workspace(tmp_path)
    await open_doc(client, release, RELEASE)  # the library stays closed: read from disk
    where = at(RELEASE, "ref_open", "approval_gate")
    prepared = await client.text_document_prepare_rename_async(
        types.PrepareRenameParams(text_document=doc(release), position=where)
    )
    assert isinstance(prepared, types.PrepareRenamePlaceholder)
    assert (prepared.placeholder, prepared.range.start) == ("approval_gate", where)
    edit = await client.text_document_rename_async(
        types.RenameParams(text_document=doc(release), position=where, new_name="sign_off")
    )
    assert edit is not None and edit.changes is not None
    assert set(edit.changes) == {library.as_uri(), release.as_uri(), hotfix.as_uri()}
    assert apply_edits(GATES, list(edit.changes[library.as_uri()])) == GATES.replace(
        "id: approval_gate", "id: sign_off"
    )
    assert apply_edits(RELEASE, list(edit.changes[release.as_uri()])) == RELEASE.replace(
        "approval_gate", "sign_off"
    )
    # On the path part of the $ref there is nothing to rename.
    on_path = at(RELEASE, "ref_open", "lib/gates")
    assert (
        await client.text_document_prepare_rename_async(
            types.PrepareRenameParams(text_document=doc(release), position=on_path)
        )
        is None
    )
