"""What real editors send that tidy fixtures do not: percent-encoded URIs (spaces,
accents in paths), refused requests, ids written at awkward places, and cursor
positions where completion has to guess from broken or unusual YAML."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from lsprotocol import types
from pygls.exceptions import JsonRpcException
from pytest_lsp import LanguageClient, client_capabilities

import engine
from engine.config import CompileConfig
from engine.loader import editor_lines
from tests.lsp.conftest import (
    NEOVIM,
    TIMEOUT,
    VSCODE,
    change_doc,
    diagnostics_after,
    encoding_of,
    initialize,
    lsp_column,
    open_doc,
    uses_pull,
)
from tests.support import marker_line

BROKEN = """\
workflows:
  flow:
    nodes:
      - id: first  # @first
        next: [nowhere]  # @bad
      - id: second
"""


def doc(path: Path) -> types.TextDocumentIdentifier:
    return types.TextDocumentIdentifier(uri=path.as_uri())


def at(
    client: LanguageClient, text: str, marker: str, needle: str, offset: int = 0
) -> types.Position:
    # editor lines: `str.splitlines` also breaks at U+2028 and friends, editors do not
    lines = editor_lines(text)
    (line,) = [n for n, line_text in enumerate(lines) if f"@{marker}" in line_text]
    line_text = lines[line]
    column = line_text.index(needle) + offset
    return types.Position(line=line, character=lsp_column(line_text, column, encoding_of(client)))


# --- percent-encoded URIs ------------------------------------------------------------


async def test_documents_in_folders_with_spaces_and_accents_are_served(
    client: LanguageClient, tmp_path: Path
) -> None:
    folder = tmp_path / "My Flows é"
    folder.mkdir()
    path = folder / "review flow.yaml"
    path.write_text(BROKEN, encoding="utf-8")
    assert "%20" in path.as_uri()  # what VS Code and Neovim send for such a path

    diagnostics = await open_doc(client, path, BROKEN)
    assert [d.code for d in diagnostics if d.severity == types.DiagnosticSeverity.Error] == [
        "VW201"
    ]
    hover = await client.text_document_hover_async(
        types.HoverParams(doc(path), at(client, BROKEN, "first", "first"))
    )
    assert hover is not None and "first" in hover.contents.value  # type: ignore[union-attr]

    fixed = await change_doc(client, path, BROKEN.replace("nowhere", "second"), 2)
    assert not [d for d in fixed if d.severity == types.DiagnosticSeverity.Error]


async def test_workspace_symbols_list_an_open_file_with_a_space_once(
    client: LanguageClient, tmp_path: Path
) -> None:
    path = tmp_path / "my flow.yaml"
    path.write_text(BROKEN, encoding="utf-8")
    await open_doc(client, path, BROKEN)
    symbols = await asyncio.wait_for(
        client.workspace_symbol_async(types.WorkspaceSymbolParams(query="first")), TIMEOUT
    )
    assert symbols is not None
    assert [s.name for s in symbols] == ["first"]


async def test_library_with_a_space_in_its_path_revalidates_its_user(
    bare: LanguageClient, tmp_path: Path
) -> None:
    await initialize(bare, NEOVIM, tmp_path)
    folder = tmp_path / "shared nodes"
    folder.mkdir()
    library = folder / "gates lib.yaml"
    library.write_text("nodes:\n  - id: gate\n    goal: ok\n", encoding="utf-8")
    user = tmp_path / "flow.yaml"
    text = (
        "workflows:\n  flow:\n    nodes:\n"
        '      - $ref: "./shared nodes/gates lib.yaml#gate"\n'
        "      - id: after\n        goal: done\n"
    )
    user.write_text(text, encoding="utf-8")
    assert not [d for d in await open_doc(bare, user, text) if d.code == "VW301"]
    await open_doc(bare, library)
    # rename the node in the unsaved library buffer: the user's $ref no longer resolves
    renamed = "nodes:\n  - id: gate_renamed\n    goal: ok\n"
    await change_doc(bare, library, renamed, 2)
    report = await asyncio.wait_for(
        bare.text_document_diagnostic_async(types.DocumentDiagnosticParams(doc(user))), TIMEOUT
    )
    assert isinstance(report, types.RelatedFullDocumentDiagnosticReport)
    assert any("gate" in d.message for d in report.items if d.severity == 1), report.items


# --- refused requests ----------------------------------------------------------------


class RawSession:
    """The server over pipes, to see exactly what it writes to stderr."""

    def __init__(self, root: Path) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "victor_lsp"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        self.next_id = 0
        self.request("initialize", {"capabilities": {}, "rootUri": root.as_uri()})
        self.notify("initialized", {})

    def _send(self, message: dict[str, Any]) -> None:
        body = json.dumps({"jsonrpc": "2.0", **message}).encode()
        assert self.process.stdin is not None
        self.process.stdin.write(b"Content-Length: %d\r\n\r\n%s" % (len(body), body))
        self.process.stdin.flush()

    def _receive(self) -> dict[str, Any]:
        assert self.process.stdout is not None
        length = 0
        while (header := self.process.stdout.readline().strip()) != b"":
            if header.lower().startswith(b"content-length:"):
                length = int(header.split(b":")[1])
        assert length, "the server closed its output"
        message: dict[str, Any] = json.loads(self.process.stdout.read(length))
        return message

    def notify(self, method: str, params: Any) -> None:
        self._send({"method": method, "params": params})

    def request(self, method: str, params: Any) -> dict[str, Any]:
        """Send a request and return its answer; fails after TIMEOUT without one."""
        self.next_id += 1
        self._send({"id": self.next_id, "method": method, "params": params})
        answered: list[dict[str, Any]] = []

        def wait() -> None:
            while True:
                message = self._receive()
                if message.get("id") == self.next_id and "method" not in message:
                    answered.append(message)
                    return

        reader = threading.Thread(target=wait, daemon=True)
        reader.start()
        reader.join(TIMEOUT)
        if not answered:
            self.process.kill()
            raise AssertionError(f"no answer to {method} within {TIMEOUT} s")
        return answered[0]

    def close(self) -> str:
        """Shut down and exit; returns everything the server wrote to stderr."""
        self.request("shutdown", None)
        self.notify("exit", None)
        try:
            _, stderr = self.process.communicate(timeout=TIMEOUT)
        except subprocess.TimeoutExpired:
            self.process.kill()
            raise
        return stderr.decode("utf-8", "replace")


RENAMABLE = """\
workflows:
  flow:
    nodes:
      - id: first  # @first
        next: [second]
      - id: second
"""


def test_refused_rename_answers_request_failed_without_logging_a_traceback(
    tmp_path: Path,
) -> None:
    path = tmp_path / "flow.yaml"
    session = RawSession(tmp_path)
    session.notify(
        "textDocument/didOpen",
        {
            "textDocument": {
                "uri": path.as_uri(),
                "languageId": "yaml",
                "version": 1,
                "text": RENAMABLE,
            }
        },
    )
    line = marker_line(RENAMABLE, "first")
    where = {
        "textDocument": {"uri": path.as_uri()},
        "position": {"line": line, "character": RENAMABLE.splitlines()[line].index("first")},
    }
    for new_name in ("second", "1bad", "__end__"):
        answer = session.request("textDocument/rename", {**where, "newName": new_name})
        assert answer["error"]["code"] == -32803, answer  # RequestFailed, shown to the user
    stderr = session.close()
    assert "Traceback" not in stderr, stderr


# --- ids written over a `$ref` or a `stage:` -----------------------------------------

GATES = """\
nodes:
  - id: approval_gate
    type: hitl
    hitl_type: approval
    prompt: "Ship it?"
"""

STAGES = """\
stage_templates:
  read_stage:
    type: agent
    goal: "Read the files"
"""

OVERRIDDEN = """\
workflows:
  flow:
    nodes:
      - id: reader  # @reader
        stage: read_stage
        next: [gate]  # @to_gate
      - $ref: "./gates.yaml#approval_gate"
        id: gate  # @gate
      - id: done
        goal: "Finish"
"""


async def test_rename_a_node_whose_id_is_written_over_a_ref_or_stage(
    client: LanguageClient, tmp_path: Path
) -> None:
    (tmp_path / "gates.yaml").write_text(GATES, encoding="utf-8")
    (tmp_path / "stages.yaml").write_text(STAGES, encoding="utf-8")
    path = tmp_path / "flow.yaml"
    path.write_text(OVERRIDDEN, encoding="utf-8")
    diagnostics = await open_doc(client, path, OVERRIDDEN)
    assert not [d for d in diagnostics if d.severity == types.DiagnosticSeverity.Error]

    for marker, old, new in (("gate", "gate", "ship_gate"), ("reader", "reader", "read_files")):
        where = at(client, OVERRIDDEN, marker, old)
        prepared = await client.text_document_prepare_rename_async(
            types.PrepareRenameParams(doc(path), where)
        )
        assert isinstance(prepared, types.PrepareRenamePlaceholder)
        assert prepared.placeholder == old
        edit = await client.text_document_rename_async(types.RenameParams(doc(path), where, new))
        assert edit is not None and edit.changes is not None
        assert set(edit.changes) == {path.as_uri()}  # the library and stage file stay as they are
        renamed = apply_ascii_edits(OVERRIDDEN, list(edit.changes[path.as_uri()]))
        assert f"id: {new}" in renamed and f"id: {old} " not in renamed
        result = engine.compile(
            renamed, source=str(path), config=CompileConfig(workspace_root=str(tmp_path))
        )
        assert not result.errors, [p.format() for p in result.errors]
        assert new in result.workflows[0].node_index

    references = await client.text_document_references_async(
        types.ReferenceParams(
            text_document=doc(path),
            position=at(client, OVERRIDDEN, "to_gate", "gate"),
            context=types.ReferenceContext(include_declaration=True),
        )
    )
    assert references is not None
    assert sorted(r.range.start.line for r in references) == [
        marker_line(OVERRIDDEN, "to_gate"),
        marker_line(OVERRIDDEN, "gate"),
    ]


def apply_ascii_edits(text: str, edits: list[types.TextEdit]) -> str:
    lines = text.splitlines(keepends=True)
    starts = [0]
    for line in lines:
        starts.append(starts[-1] + len(line))
    ordered = sorted(edits, key=lambda e: (e.range.start.line, e.range.start.character))
    for edit in reversed(ordered):
        start = starts[edit.range.start.line] + edit.range.start.character
        end = starts[edit.range.end.line] + edit.range.end.character
        text = text[:start] + edit.new_text + text[end:]
    return text


# --- start_node ----------------------------------------------------------------------

STARTS = """\
workflows:
  flow:
    start_node: middle  # @start
    nodes:
      - id: first
        next: [middle]  # @edge
      - id: middle  # @middle
        description: "The entry"
      - id: last
"""


async def test_start_node_value_navigates_like_a_node_reference(
    client: LanguageClient, tmp_path: Path
) -> None:
    path = tmp_path / "flow.yaml"
    await open_doc(client, path, STARTS)
    on_start = at(client, STARTS, "start", "middle", 3)
    declaration = at(client, STARTS, "middle", "middle")

    hover = await client.text_document_hover_async(types.HoverParams(doc(path), on_start))
    assert hover is not None and "The entry" in hover.contents.value  # type: ignore[union-attr]

    definition = await client.text_document_definition_async(
        types.DefinitionParams(doc(path), on_start)
    )
    assert isinstance(definition, list) and [d.range.start for d in definition] == [declaration]

    references = await client.text_document_references_async(
        types.ReferenceParams(
            text_document=doc(path),
            position=on_start,
            context=types.ReferenceContext(include_declaration=True),
        )
    )
    assert references is not None
    assert sorted(r.range.start.line for r in references) == sorted(
        marker_line(STARTS, m) for m in ("start", "edge", "middle")
    )

    edit = await client.text_document_rename_async(types.RenameParams(doc(path), on_start, "entry"))
    assert edit is not None and edit.changes is not None
    renamed = apply_ascii_edits(STARTS, list(edit.changes[path.as_uri()]))
    assert renamed == STARTS.replace(": middle", ": entry").replace("[middle]", "[entry]")


async def test_completion_of_the_start_node_value(client: LanguageClient, tmp_path: Path) -> None:
    text = STARTS.replace("start_node: middle", "start_node: ")
    path = tmp_path / "flow.yaml"
    await open_doc(client, path, text)
    where = at(client, text, "start", "start_node: ", len("start_node: "))
    result = await client.text_document_completion_async(types.CompletionParams(doc(path), where))
    assert result is not None
    items = result.items if isinstance(result, types.CompletionList) else result
    assert [i.label for i in items] == ["first", "middle", "last"]


# --- completion at awkward places ----------------------------------------------------

AWKWARD = """\
workflows:
  flow:
    nodes:
      - id: check
        type: condition
        condition: "ready"
        branches: {"true": , "false": done}  # @flow_branches
      - id: done
        goal: "Finish"
      - id: cleanup
        goal: "Tidy up"
"""


def completion_labels(
    result: types.CompletionList | Sequence[types.CompletionItem] | None,
) -> list[str]:
    assert result is not None
    items = result.items if isinstance(result, types.CompletionList) else result
    return [item.label for item in items]


async def test_completion_of_a_branch_target_in_a_flow_mapping(
    client: LanguageClient, tmp_path: Path
) -> None:
    path = tmp_path / "flow.yaml"
    await open_doc(client, path, AWKWARD)
    target = at(client, AWKWARD, "flow_branches", '"true": ', len('"true": '))
    result = await client.text_document_completion_async(types.CompletionParams(doc(path), target))
    assert completion_labels(result) == ["done", "cleanup", "__end__"]
    label = at(client, AWKWARD, "flow_branches", '"true"')  # a branch label is free text
    result = await client.text_document_completion_async(types.CompletionParams(doc(path), label))
    assert not result or not completion_labels(result)


async def test_completion_on_a_blank_line_of_the_nodes_list_offers_whole_items(
    client: LanguageClient, tmp_path: Path
) -> None:
    text = AWKWARD + "      \n"
    path = tmp_path / "flow.yaml"
    await open_doc(client, path, text)
    blank = types.Position(line=len(text.splitlines()) - 1, character=6)
    result = await client.text_document_completion_async(types.CompletionParams(doc(path), blank))
    assert "compute node" in completion_labels(result)
    assert isinstance(result, types.CompletionList)
    (compute,) = [i for i in result.items if i.label == "compute node"]
    assert isinstance(compute.text_edit, types.TextEdit)
    body = compute.text_edit.new_text
    assert body.startswith("- id: ")  # the list item's dash comes with the snippet
    assert all(line.startswith(" " * 8) for line in body.splitlines()[1:])  # keys line up


STAGE_LIBRARY = """\
stage_templates:
  run_tests:
    type: compute
    handler: test_runner
      # @new_key
  review:
    type:  # @type_value
"""


async def test_completion_in_a_stage_library(client: LanguageClient, tmp_path: Path) -> None:
    path = tmp_path / "stages.yaml"
    text = STAGE_LIBRARY.replace("      # @new_key", "    \n    # @new_key")
    await open_doc(client, path, text)
    blank = types.Position(line=marker_line(text, "new_key") - 1, character=4)
    result = await client.text_document_completion_async(types.CompletionParams(doc(path), blank))
    keys = completion_labels(result)
    assert "inputs" in keys and "output" in keys  # compute keys, documented by the schema
    assert "handler" not in keys and "type" not in keys  # already there
    assert "id" not in keys  # the node that uses the template has the id
    typed = at(client, text, "type_value", "type:", len("type: "))
    result = await client.text_document_completion_async(types.CompletionParams(doc(path), typed))
    assert {"agent", "compute", "hitl"} <= set(completion_labels(result))


# --- characters str.splitlines breaks at but editors do not ---------------------------

SEPARATORS = (
    "workflows:\n"
    "  flow:\n"
    "    nodes:\n"
    "      - id: first\n"
    '        goal: "pasted\u2028text\x85with\u2029separators"  # @goal\n'
    "        next: [nowhere]  # @bad\n"
    "      - id: second\n"
)


async def test_incremental_edits_after_unicode_line_separators(
    client: LanguageClient, tmp_path: Path
) -> None:
    path = tmp_path / "flow.yaml"
    diagnostics = await open_doc(client, path, SEPARATORS)
    (bad,) = [d for d in diagnostics if d.code == "VW201"]
    assert bad.range.start == at(client, SEPARATORS, "bad", "nowhere")
    # the editor replaces `nowhere` with `second`: only that range is sent
    edit = types.Range(start=bad.range.start, end=bad.range.end)
    uri = path.as_uri()
    fixed = await diagnostics_after(
        client,
        uri,
        2,
        lambda: client.text_document_did_change(
            types.DidChangeTextDocumentParams(
                text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=2),
                content_changes=[types.TextDocumentContentChangePartial(range=edit, text="second")],
            )
        ),
    )
    assert not [d for d in fixed if d.severity == types.DiagnosticSeverity.Error], fixed
    # completion on the edited line sees the same text as the editor
    where = at(client, SEPARATORS.replace("nowhere", "second"), "bad", "second")
    result = await client.text_document_completion_async(types.CompletionParams(doc(path), where))
    assert "second" in completion_labels(result)


# --- hover in library files ----------------------------------------------------------

NODE_LIBRARY = """\
nodes:
  - id: approval_gate
    type: hitl
    hitl_type: approval  # @hitl_type
    prompt: "Ship it?"
"""


async def test_hover_field_docs_in_node_and_stage_libraries(
    client: LanguageClient, tmp_path: Path
) -> None:
    library = tmp_path / "gates.yaml"
    await open_doc(client, library, NODE_LIBRARY)
    hover = await client.text_document_hover_async(
        types.HoverParams(doc(library), at(client, NODE_LIBRARY, "hitl_type", "hitl_type", 3))
    )
    assert hover is not None and "approval" in hover.contents.value  # type: ignore[union-attr]

    stages = tmp_path / "stages.yaml"
    await open_doc(client, stages, STAGE_LIBRARY)
    line = STAGE_LIBRARY.splitlines().index("    handler: test_runner")
    hover = await client.text_document_hover_async(
        types.HoverParams(doc(stages), types.Position(line=line, character=6))
    )
    assert hover is not None and "handler" in hover.contents.value.lower()  # type: ignore[union-attr]


async def test_rename_refuses_ids_that_yaml_reads_as_booleans_or_null(
    client: LanguageClient, tmp_path: Path
) -> None:
    path = tmp_path / "flow.yaml"
    await open_doc(client, path, RENAMABLE)
    where = at(client, RENAMABLE, "first", "first")
    for new_name in ("yes", "No", "on", "OFF", "true", "null", "Null", "y", "n"):
        try:
            edit = await client.text_document_rename_async(
                types.RenameParams(doc(path), where, new_name)
            )
        except JsonRpcException as refused:
            assert new_name in str(refused)
            continue
        # accepted: the renamed file must still name the node with a string
        assert edit is not None and edit.changes is not None
        renamed = apply_ascii_edits(RENAMABLE, list(edit.changes[path.as_uri()]))
        result = engine.compile(renamed, source=str(path))
        assert not result.errors, (new_name, [p.format() for p in result.errors])


# --- extract to node library keeps the file's line endings -----------------------------


async def test_extract_to_library_keeps_crlf_line_endings(
    client: LanguageClient, tmp_path: Path
) -> None:
    text = RENAMABLE.replace("\n", "\r\n")
    path = tmp_path / "flow.yaml"
    path.write_bytes(text.encode("utf-8"))
    await open_doc(client, path, text)
    where = at(client, RENAMABLE, "first", "first")
    actions = await client.text_document_code_action_async(
        types.CodeActionParams(
            text_document=doc(path),
            range=types.Range(start=where, end=where),
            context=types.CodeActionContext(diagnostics=[]),
        )
    )
    (extract,) = [
        a
        for a in actions or ()
        if isinstance(a, types.CodeAction) and a.kind == types.CodeActionKind.RefactorExtract
    ]
    assert extract.edit is not None
    texts = {path.as_uri(): text, (tmp_path / "flow.nodes.yaml").as_uri(): ""}
    for change in extract.edit.document_changes or ():
        if isinstance(change, types.TextDocumentEdit):
            uri = change.text_document.uri
            edits = [e for e in change.edits if isinstance(e, types.TextEdit)]
            texts[uri] = apply_ascii_edits(texts[uri], edits)
    for uri, edited in texts.items():
        assert edited.count("\n") == edited.count("\r\n") > 0, (uri, edited)


# --- every request gets an answer ------------------------------------------------------


def test_a_request_with_invalid_params_is_answered_with_invalid_params(tmp_path: Path) -> None:
    path = tmp_path / "flow.yaml"
    session = RawSession(tmp_path)
    opened = {"uri": path.as_uri(), "languageId": "yaml", "version": 1, "text": RENAMABLE}
    session.notify("textDocument/didOpen", {"textDocument": opened})
    # no `position`: the request cannot be read, but it still has an id to answer
    answer = session.request("textDocument/hover", {"textDocument": {"uri": path.as_uri()}})
    assert answer["error"]["code"] == -32602, answer
    where = {"textDocument": {"uri": path.as_uri()}, "position": {"line": 3, "character": 12}}
    assert session.request("textDocument/hover", where)["result"] is not None  # still serving
    stderr = session.close()
    assert "Traceback" not in stderr, stderr


def test_requests_after_shutdown_are_answered_with_an_error(tmp_path: Path) -> None:
    session = RawSession(tmp_path)
    assert session.request("shutdown", None).get("error") is None
    answer = session.request("workspace/symbol", {"query": ""})
    assert answer["error"]["code"] == -32600, answer  # InvalidRequest: the server is shutting down
    session.notify("exit", None)
    assert session.process.wait(TIMEOUT) == 0


# --- files created or deleted on disk -------------------------------------------------

MISSING_LIBRARIES = """\
workflows:
  flow:
    nodes:
      - $ref: "./gates.yaml#gate"
      - id: reader
        stage: read_stage
      - id: after
        goal: "Finish"
"""


async def test_creating_a_missing_library_revalidates_open_workflows(
    client: LanguageClient, tmp_path: Path
) -> None:
    path = tmp_path / "flow.yaml"
    before = await open_doc(client, path, MISSING_LIBRARIES)
    assert [d for d in before if d.severity == types.DiagnosticSeverity.Error]
    (tmp_path / "gates.yaml").write_text(GATES.replace("approval_gate", "gate"), encoding="utf-8")
    (tmp_path / "stages.yaml").write_text(STAGES, encoding="utf-8")
    created = [
        types.FileEvent(uri=(tmp_path / name).as_uri(), type=types.FileChangeType.Created)
        for name in ("gates.yaml", "stages.yaml")
    ]
    after = await diagnostics_after(
        client,
        path.as_uri(),
        1,
        lambda: client.workspace_did_change_watched_files(
            types.DidChangeWatchedFilesParams(changes=created)
        ),
    )
    assert not [d for d in after if d.severity == types.DiagnosticSeverity.Error], after


async def test_a_buffer_closed_while_compiling_is_not_reported_afterwards(
    client: LanguageClient, tmp_path: Path
) -> None:
    path = tmp_path / "flow.yaml"
    path.write_text(RENAMABLE, encoding="utf-8")
    await open_doc(client, path, RENAMABLE)
    filler = "".join(f"      - id: filler_{n}\n        goal: g\n" for n in range(3000))
    unsaved = RENAMABLE.replace("first", "discarded_edit") + filler
    uri = path.as_uri()
    client.text_document_did_change(
        types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=2),
            content_changes=[types.TextDocumentContentChangeWholeDocument(text=unsaved)],
        )
    )
    # a request starts compiling version 2 (a big text: it takes a while), a round trip
    # makes sure it started, then the user closes the buffer without saving
    hover = asyncio.ensure_future(
        client.text_document_hover_async(
            types.HoverParams(doc(path), types.Position(line=0, character=0))
        )
    )
    elsewhere = types.TextDocumentIdentifier(uri=(tmp_path / "not-open.yaml").as_uri())
    for _ in range(2):  # round trips: the hover is sent and its compile has begun
        await client.text_document_folding_range_async(types.FoldingRangeParams(elsewhere))
    assert not hover.done()
    client.text_document_did_close(types.DidCloseTextDocumentParams(doc(path)))
    await asyncio.wait_for(hover, TIMEOUT)
    symbols = await asyncio.wait_for(
        client.workspace_symbol_async(types.WorkspaceSymbolParams(query="")), TIMEOUT
    )
    names = {s.name for s in symbols or ()}
    assert "first" in names and "discarded_edit" not in names, names  # the file on disk counts


async def _cleared_on_close(client: LanguageClient, uri: str) -> None:
    """Wait for the unversioned empty publish a push server sends on didClose."""
    while True:
        params = await client.wait_for_notification(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
        if params.uri == uri and params.version is None and not params.diagnostics:
            return


async def test_reopening_with_the_same_version_while_the_old_text_compiles(
    client: LanguageClient, tmp_path: Path
) -> None:
    """VS Code numbers a reopened document from 1 again: version 1 is a new text."""
    path = tmp_path / "flow.yaml"
    filler = "".join(f"      - id: filler_{n}\n        goal: g\n" for n in range(3000))
    old_text = RENAMABLE + filler
    uri = path.as_uri()
    item = types.TextDocumentItem(uri=uri, language_id="yaml", version=1, text=old_text)
    client.text_document_did_open(types.DidOpenTextDocumentParams(item))
    hover = asyncio.ensure_future(
        client.text_document_hover_async(
            types.HoverParams(doc(path), types.Position(line=0, character=0))
        )
    )
    elsewhere = types.TextDocumentIdentifier(uri=(tmp_path / "not-open.yaml").as_uri())
    for _ in range(2):  # round trips: the hover is sent and the big compile has begun
        await client.text_document_folding_range_async(types.FoldingRangeParams(elsewhere))
    cleared = asyncio.ensure_future(_cleared_on_close(client, uri))
    client.text_document_did_close(types.DidCloseTextDocumentParams(doc(path)))
    if not uses_pull(client):
        # The old text may have been published as version 1 before the close (the
        # compile can win the race): only what follows the close's clearing counts.
        await asyncio.wait_for(cleared, TIMEOUT)
    else:
        cleared.cancel()
    new_text = BROKEN.replace("first", "reopened")
    diagnostics = await open_doc(client, path, new_text)
    await asyncio.wait_for(hover, TIMEOUT)
    assert [d.code for d in diagnostics if d.severity == types.DiagnosticSeverity.Error] == [
        "VW201"
    ]
    symbols = await client.text_document_document_symbol_async(
        types.DocumentSymbolParams(doc(path))
    )
    assert symbols is not None
    children = [c.name for s in symbols for c in getattr(s, "children", None) or ()]
    assert children == ["reopened", "second"]


async def test_no_completion_inside_a_comment(client: LanguageClient, tmp_path: Path) -> None:
    text = AWKWARD.replace('goal: "Finish"', "next: [cleanup]  # see the docs ")
    path = tmp_path / "flow.yaml"
    await open_doc(client, path, text)
    line = next(n for n, t in enumerate(text.splitlines()) if "see the docs" in t)
    end = types.Position(line=line, character=len(text.splitlines()[line]))
    result = await client.text_document_completion_async(types.CompletionParams(doc(path), end))
    assert not result or not completion_labels(result)
    # a `#` inside quotes is text, not a comment: state keys still complete after it
    quoted = AWKWARD.replace('goal: "Finish"', 'goal: "Fix #12 with $ctx."  # @ctx_after_hash')
    await change_doc(client, path, quoted, 2)
    where = at(client, quoted, "ctx_after_hash", '$ctx."', len("$ctx."))
    result = await client.text_document_completion_async(types.CompletionParams(doc(path), where))
    assert completion_labels(result)  # the keys nodes write (`check`, `done`, ...)


# --- other YAML stays quiet, even when it does not parse --------------------------------

HELM_VALUES_MID_EDIT = """\
cluster:
  name: prod
  nodes:
    count: 3
    labels: [a, b
  zone: eu
"""


async def test_broken_yaml_that_is_not_a_workflow_gets_no_diagnostics(
    client: LanguageClient, tmp_path: Path
) -> None:
    values = tmp_path / "values.yaml"
    assert await open_doc(client, values, HELM_VALUES_MID_EDIT) == []
    # a workflow file that stops parsing while being edited still says why
    path = tmp_path / "flow.yaml"
    await open_doc(client, path, RENAMABLE)
    broken = await change_doc(client, path, RENAMABLE.replace("[second]", "[second"), 2)
    assert [d.code for d in broken] == ["VW001"]
    # and so does a new file that is plainly a workflow file
    fresh = tmp_path / "new.yaml"
    assert [d.code for d in await open_doc(client, fresh, "workflows:\n  f:\n    nodes: [\n")] == [
        "VW001"
    ]


# --- $ref in a second workspace folder, or outside every folder ---------------------------

USES_SIBLING = """\
workflows:
  flow:
    nodes:
      - $ref: "./gates.yaml#approval_gate"
      - id: after
        goal: "Finish"
"""


async def test_ref_to_a_sibling_file_outside_the_first_workspace_folder(
    bare: LanguageClient, tmp_path: Path
) -> None:
    first, second, elsewhere = (tmp_path / name for name in ("first", "second", "elsewhere"))
    for folder in (first, second, elsewhere):
        folder.mkdir()
        (folder / "gates.yaml").write_text(GATES, encoding="utf-8")
    bare.feature(types.CLIENT_REGISTER_CAPABILITY)(lambda _params: None)
    await bare.initialize_session(
        types.InitializeParams(
            capabilities=client_capabilities(VSCODE),
            root_uri=first.as_uri(),
            workspace_folders=[
                types.WorkspaceFolder(uri=first.as_uri(), name="first"),
                types.WorkspaceFolder(uri=second.as_uri(), name="second"),
            ],
        )
    )
    for folder in (second, elsewhere):
        diagnostics = await open_doc(bare, folder / "flow.yaml", USES_SIBLING)
        assert not [d for d in diagnostics if d.severity == types.DiagnosticSeverity.Error], (
            folder.name,
            diagnostics,
        )


async def test_no_quick_fix_rewrites_a_ref_string(client: LanguageClient, tmp_path: Path) -> None:
    """A problem inside a library node is reported at the `$ref` that pulls it in; its
    "Change to ..." fix must not replace the `$ref` path with the suggested value."""
    (tmp_path / "gates.yaml").write_text(
        GATES.replace("hitl_type: approval", "hitl_type: aproval"), encoding="utf-8"
    )
    path = tmp_path / "flow.yaml"
    diagnostics = await open_doc(client, path, USES_SIBLING)
    (typo,) = [d for d in diagnostics if d.code == "VW103"]
    actions = await client.text_document_code_action_async(
        types.CodeActionParams(
            text_document=doc(path),
            range=typo.range,
            context=types.CodeActionContext(diagnostics=[typo]),
        )
    )
    for action in actions or ():
        assert isinstance(action, types.CodeAction)
        if action.kind != types.CodeActionKind.QuickFix or action.edit is None:
            continue
        for uri, edits in (action.edit.changes or {}).items():
            fixed = apply_ascii_edits(USES_SIBLING, list(edits)) if uri == path.as_uri() else ""
            assert '$ref: "./gates.yaml#approval_gate"' in fixed or uri != path.as_uri(), fixed


async def test_closing_an_edited_library_unsaved_revalidates_its_users(
    client: LanguageClient, tmp_path: Path
) -> None:
    library = tmp_path / "gates.yaml"
    library.write_text(GATES, encoding="utf-8")
    path = tmp_path / "flow.yaml"
    await open_doc(client, library, GATES)
    assert not [
        d
        for d in await open_doc(client, path, USES_SIBLING)
        if d.severity == types.DiagnosticSeverity.Error
    ]
    uri = path.as_uri()

    def edit_library() -> None:
        client.text_document_did_change(
            types.DidChangeTextDocumentParams(
                text_document=types.VersionedTextDocumentIdentifier(
                    uri=library.as_uri(), version=2
                ),
                content_changes=[
                    types.TextDocumentContentChangeWholeDocument(
                        text=GATES.replace("approval_gate", "renamed_gate")
                    )
                ],
            )
        )

    broken = await diagnostics_after(client, uri, 1, edit_library)
    assert [d.code for d in broken if d.severity == types.DiagnosticSeverity.Error]
    # the user discards the library edit: the file on disk holds the node again
    restored = await diagnostics_after(
        client,
        uri,
        1,
        lambda: client.text_document_did_close(types.DidCloseTextDocumentParams(doc(library))),
    )
    assert not [d for d in restored if d.severity == types.DiagnosticSeverity.Error], restored


async def test_workspace_diagnostics_of_a_disk_file_whose_ref_was_broken(
    bare: LanguageClient, tmp_path: Path
) -> None:
    await initialize(bare, NEOVIM, tmp_path)
    library = tmp_path / "gates.yaml"
    library.write_text(GATES.replace("approval_gate", "other_gate"), encoding="utf-8")
    user = tmp_path / "flow.yaml"
    user.write_text(USES_SIBLING, encoding="utf-8")

    async def user_errors() -> list[str]:
        report = await asyncio.wait_for(
            bare.workspace_diagnostic_async(types.WorkspaceDiagnosticParams([])), TIMEOUT
        )
        (found,) = [r for r in report.items if r.uri == user.as_uri()]
        assert isinstance(found, types.WorkspaceFullDocumentDiagnosticReport)
        return [str(d.code) for d in found.items if d.severity == types.DiagnosticSeverity.Error]

    assert "VW512" in await user_errors()  # `#approval_gate` is not in the library
    await open_doc(bare, library, GATES)  # the unsaved buffer has it
    assert await user_errors() == []
