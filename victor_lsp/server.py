"""The pygls language server: document lifecycle, scheduling and feature handlers.

Handlers are a few lines each: find the document's analysis and call a
converter in `victor_lsp.convert`, `.navigation` or `.assist`. Domain logic
lives in `engine` (`compile`, `queries`, `stateflow`, `suppressions`).

Scheduling: one compile per (uri, version), run in a single worker thread so
the event loop keeps answering; edits are debounced per document; a result
is published only if its version is still the document's version.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import Any
from urllib.parse import unquote

from lsprotocol import types
from pygls.exceptions import JsonRpcException
from pygls.lsp.server import LanguageServer
from pygls.workspace import TextDocument

from engine.config import RegistryNames
from engine.model import FileKind
from victor_lsp import assist, convert, navigation
from victor_lsp.documents import (
    Analysis,
    AnalysisStore,
    CompileInputs,
    analyze,
)
from victor_lsp.history_stats import HistoryStats, default_history_location
from victor_lsp.positions import Encoding, PositionMap
from victor_lsp.protocol import AnswerEveryRequest
from victor_lsp.settings import SECTION, Settings, parse_settings
from victor_lsp.text_sync import use_lsp_lines

log = logging.getLogger(__name__)

DEBOUNCE_SECONDS = 0.2
MAX_WORKSPACE_FILES = 2000
_SKIP_DIRS = frozenset(
    {".git", "node_modules", ".venv", "venv", "__pycache__", ".tox", "dist", "build"}
)


class RequestFailed(JsonRpcException):
    """LSP `RequestFailed`: the request was valid but cannot be done (shown to the user)."""

    CODE = -32803


class _QuietRefusals(logging.Filter):
    """pygls logs every error answer with its traceback; a refusal we raise on purpose
    (a rename to a duplicate id, say) is an answer for the user, not a server fault."""

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        return not isinstance(error, RequestFailed)


_JSON_RPC_LOG = logging.getLogger("pygls.protocol.json_rpc")


class VictorLanguageServer(LanguageServer):
    def __init__(self) -> None:
        super().__init__("victor-lsp", "0.1.0", max_workers=4, protocol_cls=AnswerEveryRequest)
        self.settings = Settings()
        self.registry: RegistryNames | None = None
        self.store = AnalysisStore()
        self.history = HistoryStats(on_update=self._history_updated)
        self.debounce = DEBOUNCE_SECONDS
        self._compiler = ThreadPoolExecutor(max_workers=1, thread_name_prefix="victor-compile")
        self._inflight: dict[tuple[str, int | None], tuple[str, asyncio.Future[Analysis]]] = {}
        """Compiles under way by (uri, version), with the text each one compiles."""
        self._timers: dict[str, asyncio.TimerHandle | asyncio.Task[None]] = {}
        self._disk: dict[str, tuple[object, Analysis]] = {}
        """Analyses of workspace files on disk, with the file's stamp when read."""
        self.shutdown_requested = False
        """`shutdown` came before `exit`: the process exits with 0, else 1 (LSP spec)."""

    # --- environment ---------------------------------------------------------------

    @property
    def encoding(self) -> Encoding:
        try:
            return Encoding(str(self.workspace.position_encoding or "utf-16"))
        except ValueError:
            return Encoding.UTF16

    @property
    def pull_diagnostics(self) -> bool:
        caps = self.client_capabilities.text_document
        return bool(caps and caps.diagnostic is not None)

    def compile_inputs(self, path: str) -> CompileInputs:
        return CompileInputs(
            stage_libraries=tuple(self._absolute(p) for p in self.settings.stage_libraries),
            registry=self.registry,
            disabled_checks=self.settings.disabled_checks,
            workspace_root=self.folder_of(path),
        )

    def folder_of(self, path: str) -> str | None:
        """The workspace folder holding `path` (the innermost one), or None for a file
        outside them all: `$ref` targets must lie inside it, so a workflow in a second
        folder of a multi-root workspace or a file opened on its own can use its
        neighbours."""
        folders = [convert.uri_to_path(f.uri) for f in self.workspace.folders.values()]
        if self.workspace.root_uri and self.workspace.root_path:
            folders.append(self.workspace.root_path)
        target = os.path.abspath(path)
        holding = [
            folder
            for folder in map(os.path.abspath, folders)
            if target == folder or target.startswith(folder.rstrip(os.sep) + os.sep)
        ]
        return max(holding, key=len) if holding else None

    def _absolute(self, path: str) -> str:
        root = self.workspace.root_path if self.workspace.root_uri else None
        return path if os.path.isabs(path) or not root else os.path.join(root, path)

    def document(self, uri: str) -> TextDocument | None:
        """The open document of `uri`, however the client percent-encoded it.

        pygls keys open documents by the *unquoted* URI, while clients send
        `file:///My%20Flows/...`: looking up the raw URI would miss every file
        whose path has a space or a non-ASCII character."""
        return self.workspace.text_documents.get(unquote(uri))

    def open_uris(self) -> list[str]:
        """The URIs of the open documents, spelled as the client sent them."""
        return [document.uri for document in self.workspace.text_documents.values()]

    def read_file(self, path: str) -> str:
        """Library reads see unsaved editor buffers first."""
        document = self.document(convert.path_to_uri(path))
        if document is not None:
            return document.source
        with open(path, encoding="utf-8") as handle:
            return handle.read()

    def positions_for(self, path: str) -> PositionMap | None:
        document = self.document(convert.path_to_uri(path))
        current = self.store.current.get(document.uri) if document is not None else None
        if current is not None:
            return current.positions
        try:
            return PositionMap(self.read_file(path), self.encoding)
        except OSError:
            return None

    # --- analyses ----------------------------------------------------------------------

    async def analysis(self, uri: str) -> Analysis | None:
        """The analysis of the document's current version, compiling it if needed."""
        document = self.document(uri)
        if document is None:
            return None
        version, text = document.version, document.source
        # a document closed and reopened numbers its versions from 1 again: the text,
        # not the version alone, says whether an analysis is this document's
        cached = self.store.get(uri, version)
        if cached is not None and cached.text == text and self.fresh(cached):
            return cached
        key = (uri, version)
        text_and_future = self._inflight.get(key)
        future = text_and_future[1] if text_and_future and text_and_future[0] == text else None
        if future is None:
            loop = asyncio.get_running_loop()
            path = convert.uri_to_path(uri)
            inputs, encoding = self.compile_inputs(path), self.encoding
            was_workflow = uri in self.store.last_good
            future = asyncio.ensure_future(
                loop.run_in_executor(
                    self._compiler,
                    self._analyze,
                    uri,
                    version,
                    text,
                    path,
                    inputs,
                    encoding,
                    was_workflow,
                )
            )
            self._inflight[key] = (text, future)
            future.add_done_callback(partial(self._compiled, key, future))
        result = await asyncio.shield(future)
        now = self.document(uri)
        if now is not None and now.source == result.text:  # not closed (or reopened) since
            self.store.put(result)
        return result

    def _compiled(
        self, key: tuple[str, int | None], future: asyncio.Future[Analysis], _done: object
    ) -> None:
        found = self._inflight.get(key)
        if found is not None and found[1] is future:
            del self._inflight[key]

    def _analyze(
        self,
        uri: str,
        version: int | None,
        text: str,
        path: str,
        inputs: CompileInputs,
        encoding: Encoding,
        was_workflow: bool = False,
    ) -> Analysis:
        """Compile on the compile thread, stamping each library as it is read, so a
        later request can tell the analysis went stale when one of them changed."""
        stamps: dict[str, object] = {}

        def read(other: str) -> str:
            stamps.setdefault(other, self._stamp(other))
            return self.read_file(other)

        analysis = analyze(uri, version, text, path, inputs, encoding, read, was_workflow)
        for other in analysis.result.dependencies:
            stamps.setdefault(other, self._stamp(other))
        stamps.pop(path, None)
        analysis.inputs = tuple(stamps.items())
        return analysis

    def fresh(self, analysis: Analysis) -> bool:
        """No file the analysis read changed since (an unsaved buffer or on disk)."""
        return all(self._stamp(other) == stamp for other, stamp in analysis.inputs)

    async def served(self, uri: str) -> Analysis | None:
        """The current analysis if the document is open and a workflow file, else None."""
        analysis = await self.analysis(uri)
        return analysis if analysis is not None and analysis.served else None

    async def usable(self, uri: str) -> Analysis | None:
        """The current analysis if it parsed, else the last one that did (or None)."""
        current = await self.analysis(uri)
        if current is None or (not current.served and current.parsed):
            return None
        found = self.store.usable(uri)
        return found if found is not None and found.served else None

    def schedule(self, uri: str, delay: float) -> None:
        """(Re)start the debounce timer of a document; the compile runs when it fires."""
        previous = self._timers.pop(uri, None)
        if previous is not None:
            previous.cancel()
        self._timers[uri] = asyncio.ensure_future(self._after(uri, delay))

    async def _after(self, uri: str, delay: float) -> None:
        try:
            if delay > 0:
                await asyncio.sleep(delay)
            await self.refresh(uri)
        except asyncio.CancelledError:
            pass
        except Exception:
            log.exception("analysis of %s failed", uri)
        finally:
            if self._timers.get(uri) is asyncio.current_task():
                self._timers.pop(uri, None)

    async def refresh(self, uri: str) -> None:
        analysis = await self.analysis(uri)
        if analysis is None:
            return
        self.publish(analysis)
        await self._revalidate_dependents(analysis)

    def publish(self, analysis: Analysis) -> None:
        document = self.document(analysis.uri)
        if document is None or document.version != analysis.version:
            return  # stale: a newer version is on its way
        if self.pull_diagnostics:
            return
        items = convert.diagnostics(analysis, self.positions_for) if analysis.served else []
        self.text_document_publish_diagnostics(
            types.PublishDiagnosticsParams(
                uri=analysis.uri, diagnostics=items, version=analysis.version
            )
        )

    async def _revalidate_dependents(self, changed: Analysis) -> None:
        for uri in self.store.dependents(changed.path):
            if uri == changed.uri:
                continue
            self.store.current.pop(uri, None)
            self.schedule(uri, 0)
        self._refresh_pull_clients()

    def _refresh_pull_clients(self) -> None:
        workspace = self.client_capabilities.workspace
        diagnostics = workspace.diagnostics if workspace else None
        if self.pull_diagnostics and diagnostics is not None and diagnostics.refresh_support:
            self.workspace_diagnostic_refresh(None)

    def revalidate_all(self) -> None:
        """Settings changed: every analysis is redone."""
        self.store.invalidate_all()
        self.revalidate_open()

    def revalidate_open(self) -> None:
        """Recompile the open documents and forget disk analyses (files came or went)."""
        self._disk.clear()
        for uri in self.open_uris():
            self.store.current.pop(uri, None)
            self.schedule(uri, 0)
        self._refresh_pull_clients()

    # --- settings ------------------------------------------------------------------------

    def apply_settings(self, raw: Any) -> None:
        settings, errors = parse_settings(raw)
        root = self.workspace.root_path if self.workspace.root_uri else None
        registry, registry_error = _load_registry(settings.registry, root)
        if registry_error:
            errors.append(registry_error)
        self.settings = settings
        self.registry = registry
        self.history.set_location(settings.history_path or default_history_location(root))
        if errors:
            self.window_show_message(
                types.ShowMessageParams(
                    type=types.MessageType.Warning,
                    message="Victor settings: " + "; ".join(errors) + ". Using defaults for these.",
                )
            )

    async def pull_configuration(self) -> None:
        workspace = self.client_capabilities.workspace
        if not (workspace and workspace.configuration):
            return
        try:
            values = await self.workspace_configuration_async(
                types.ConfigurationParams(items=[types.ConfigurationItem(section=SECTION)])
            )
        except Exception:
            log.warning("workspace/configuration failed", exc_info=True)
            return
        if values and values[0] is not None:
            self.apply_settings(values[0])
            self.revalidate_all()

    def _history_updated(self) -> None:
        try:
            self.workspace_inlay_hint_refresh(None)
        except Exception:
            log.debug("inlay hint refresh not sent", exc_info=True)

    def history_for(self, analysis: Analysis) -> dict[str, Any]:
        return dict(self.history.get([wf.name for wf in analysis.result.workflows]))

    # --- workspace files -----------------------------------------------------------------

    async def workspace_analyses(self) -> list[Analysis]:
        """Open documents plus workflow files on disk under the workspace folders.

        Disk files compile on the compile thread, so the event loop keeps
        answering while a large workspace is read.
        """
        found = {uri: a for uri, a in self.store.current.items() if a.served}
        skip = {unquote(uri) for uri in found} | set(self.workspace.text_documents)
        loop = asyncio.get_running_loop()
        on_disk = await loop.run_in_executor(self._compiler, self._disk_analyses, skip)
        found.update((a.uri, a) for a in on_disk)
        return list(found.values())

    def _disk_analyses(self, skip: set[str]) -> list[Analysis]:
        found = []
        for path in self._workspace_yaml_files():
            uri = convert.path_to_uri(path)
            if unquote(uri) in skip:
                continue
            analysis = self._disk_analysis(path, uri)
            if analysis is not None and analysis.served:
                found.append(analysis)
        return found

    async def workflow_analyses(self) -> list[Analysis]:
        """Current analyses of every workflow file: open documents, then files on disk."""
        for uri in self.open_uris():
            await self.analysis(uri)
        analyses = await self.workspace_analyses()
        return [a for a in analyses if a.result.kind is FileKind.WORKFLOWS]

    async def file_analysis(self, path: str) -> Analysis | None:
        """The analysis of a file: its open document's current text, else the disk."""
        uri = convert.path_to_uri(path)
        document = self.document(uri)
        if document is not None:
            return await self.analysis(document.uri)
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._compiler, self._disk_analysis, path, uri)

    def _stamp(self, path: str) -> object:
        """What says a file changed: its open document's version, else its mtime."""
        document = self.document(convert.path_to_uri(path))
        if document is not None:
            return ("open", document.version)
        try:
            return os.stat(path).st_mtime_ns
        except OSError:
            return None

    def _disk_analysis(self, path: str, uri: str) -> Analysis | None:
        """A file on disk, compiled again when it or a library it uses changed."""
        stamp = self._stamp(path)
        cached = self._disk.get(path)
        if cached is not None and cached[0] == stamp and self.fresh(cached[1]):
            return cached[1]
        try:
            with open(path, encoding="utf-8") as handle:
                text = handle.read()
        except (OSError, UnicodeDecodeError):
            return None
        analysis = self._analyze(uri, None, text, path, self.compile_inputs(path), self.encoding)
        self._disk[path] = (stamp, analysis)
        return analysis

    def _workspace_yaml_files(self) -> Iterable[str]:
        roots = [convert.uri_to_path(f.uri) for f in self.workspace.folders.values()]
        if not roots and self.workspace.root_path:
            roots = [self.workspace.root_path]
        count = 0
        for root in roots:
            for directory, dirs, files in os.walk(root):
                dirs[:] = [d for d in dirs if d not in _SKIP_DIRS and not d.startswith(".")]
                for name in files:
                    if name.endswith((".yaml", ".yml")):
                        count += 1
                        if count > MAX_WORKSPACE_FILES:
                            return
                        yield os.path.join(directory, name)


def _load_registry(
    modules: tuple[str, ...], workspace_root: str | None
) -> tuple[RegistryNames | None, str | None]:
    """Registry names from the configured modules; relative `.py` paths are in the workspace."""
    if not modules:
        return None, None
    try:
        from engine.registry import Registry

        return Registry.from_modules(modules, base_dir=workspace_root).names(), None
    except Exception as exc:  # a broken user module must not take the server down
        return None, f"could not load registry modules {', '.join(modules)}: {exc}"


def _result_id(items: list[types.Diagnostic]) -> str:
    """A pull-diagnostics result id naming the content, so equal reports answer `unchanged`
    (also when a library edit recompiled the document without changing its problems)."""
    return hashlib.blake2b(repr(items).encode("utf-8"), digest_size=12).hexdigest()


def create_server() -> VictorLanguageServer:
    """A fresh server with every feature registered (tests and `__main__`)."""
    ls = VictorLanguageServer()
    if not any(isinstance(f, _QuietRefusals) for f in _JSON_RPC_LOG.filters):
        _JSON_RPC_LOG.addFilter(_QuietRefusals())
    _register(ls)
    return ls


def _register(ls: VictorLanguageServer) -> None:
    @ls.feature(types.INITIALIZE)
    def initialize(ls: VictorLanguageServer, params: types.InitializeParams) -> None:
        use_lsp_lines(ls.protocol)
        ls.apply_settings(params.initialization_options)

    @ls.feature(types.SHUTDOWN)
    def shutdown(ls: VictorLanguageServer, params: None) -> None:
        ls.shutdown_requested = True

    @ls.feature(types.INITIALIZED)
    async def initialized(ls: VictorLanguageServer, params: types.InitializedParams) -> None:
        await ls.pull_configuration()
        watch = ls.client_capabilities.workspace
        if (
            watch
            and watch.did_change_watched_files
            and watch.did_change_watched_files.dynamic_registration
        ):
            options = types.DidChangeWatchedFilesRegistrationOptions(
                watchers=[types.FileSystemWatcher(glob_pattern="**/*.{yaml,yml}")]
            )
            try:
                await ls.client_register_capability_async(
                    types.RegistrationParams(
                        registrations=[
                            types.Registration(
                                id="victor-watch-yaml",
                                method=types.WORKSPACE_DID_CHANGE_WATCHED_FILES,
                                register_options=options,
                            )
                        ]
                    )
                )
            except Exception:
                log.debug("file watching not registered", exc_info=True)

    @ls.feature(types.WORKSPACE_DID_CHANGE_CONFIGURATION)
    async def did_change_configuration(
        ls: VictorLanguageServer, params: types.DidChangeConfigurationParams
    ) -> None:
        settings = params.settings
        if isinstance(settings, dict) and SECTION in settings:
            ls.apply_settings(settings[SECTION])
            ls.revalidate_all()
        else:
            await ls.pull_configuration()

    @ls.feature(types.TEXT_DOCUMENT_DID_OPEN)
    def did_open(ls: VictorLanguageServer, params: types.DidOpenTextDocumentParams) -> None:
        ls.schedule(params.text_document.uri, 0)

    @ls.feature(types.TEXT_DOCUMENT_DID_CHANGE)
    def did_change(ls: VictorLanguageServer, params: types.DidChangeTextDocumentParams) -> None:
        ls.schedule(params.text_document.uri, ls.debounce)

    @ls.feature(types.TEXT_DOCUMENT_DID_SAVE)
    def did_save(ls: VictorLanguageServer, params: types.DidSaveTextDocumentParams) -> None:
        ls._disk.pop(convert.uri_to_path(params.text_document.uri), None)

    @ls.feature(types.TEXT_DOCUMENT_DID_CLOSE)
    def did_close(ls: VictorLanguageServer, params: types.DidCloseTextDocumentParams) -> None:
        uri = params.text_document.uri
        timer = ls._timers.pop(uri, None)
        if timer is not None:
            timer.cancel()
        ls.store.forget(uri)
        if not ls.pull_diagnostics:
            ls.text_document_publish_diagnostics(
                types.PublishDiagnosticsParams(uri=uri, diagnostics=[])
            )
        # users of a library closed with unsaved edits read the file on disk again
        for user in ls.store.dependents(convert.uri_to_path(uri)):
            ls.store.current.pop(user, None)
            ls.schedule(user, 0)

    @ls.feature(types.WORKSPACE_DID_CHANGE_WATCHED_FILES)
    def did_change_watched_files(
        ls: VictorLanguageServer, params: types.DidChangeWatchedFilesParams
    ) -> None:
        if any(change.type != types.FileChangeType.Changed for change in params.changes):
            # a created or deleted file can make any `$ref`/`stage:` resolve or break,
            # including ones whose compile never read it (it was not there)
            ls.revalidate_open()
            return
        for change in params.changes:
            path = convert.uri_to_path(change.uri)
            ls._disk.pop(path, None)
            for uri in ls.store.dependents(path):
                ls.store.current.pop(uri, None)
                ls.schedule(uri, 0)
        ls._refresh_pull_clients()

    @ls.feature(
        types.TEXT_DOCUMENT_DIAGNOSTIC,
        types.DiagnosticOptions(
            identifier="victor", inter_file_dependencies=True, workspace_diagnostics=True
        ),
    )
    async def document_diagnostic(
        ls: VictorLanguageServer, params: types.DocumentDiagnosticParams
    ) -> types.DocumentDiagnosticReport:
        analysis = await ls.served(params.text_document.uri)
        items = convert.diagnostics(analysis, ls.positions_for) if analysis else []
        result_id = _result_id(items)
        if params.previous_result_id == result_id:
            return types.RelatedUnchangedDocumentDiagnosticReport(result_id=result_id)
        return types.RelatedFullDocumentDiagnosticReport(items=items, result_id=result_id)

    @ls.feature(types.WORKSPACE_DIAGNOSTIC)
    async def workspace_diagnostic(
        ls: VictorLanguageServer, params: types.WorkspaceDiagnosticParams
    ) -> types.WorkspaceDiagnosticReport:
        for uri in ls.open_uris():
            await ls.analysis(uri)
        previous = {p.uri: p.value for p in params.previous_result_ids}
        reports: list[types.WorkspaceDocumentDiagnosticReport] = []
        for analysis in await ls.workspace_analyses():
            items = convert.diagnostics(analysis, ls.positions_for)
            result_id = _result_id(items)
            if previous.get(analysis.uri) == result_id:
                reports.append(
                    types.WorkspaceUnchangedDocumentDiagnosticReport(
                        uri=analysis.uri, version=analysis.version, result_id=result_id
                    )
                )
            else:
                reports.append(
                    types.WorkspaceFullDocumentDiagnosticReport(
                        uri=analysis.uri, version=analysis.version, items=items, result_id=result_id
                    )
                )
        return types.WorkspaceDiagnosticReport(items=reports)

    @ls.feature(types.TEXT_DOCUMENT_DOCUMENT_SYMBOL)
    async def document_symbol(
        ls: VictorLanguageServer, params: types.DocumentSymbolParams
    ) -> list[types.DocumentSymbol] | None:
        analysis = await ls.usable(params.text_document.uri)
        return convert.document_symbols(analysis) if analysis else None

    @ls.feature(types.WORKSPACE_SYMBOL)
    async def workspace_symbol(
        ls: VictorLanguageServer, params: types.WorkspaceSymbolParams
    ) -> list[types.WorkspaceSymbol]:
        return convert.workspace_symbols(await ls.workspace_analyses(), params.query)

    @ls.feature(types.TEXT_DOCUMENT_FOLDING_RANGE)
    async def folding_range(
        ls: VictorLanguageServer, params: types.FoldingRangeParams
    ) -> list[types.FoldingRange] | None:
        analysis = await ls.usable(params.text_document.uri)
        return convert.folding_ranges(analysis.root) if analysis else None

    @ls.feature(types.TEXT_DOCUMENT_SELECTION_RANGE)
    async def selection_range(
        ls: VictorLanguageServer, params: types.SelectionRangeParams
    ) -> list[types.SelectionRange] | None:
        analysis = await ls.served(params.text_document.uri)
        if analysis is None:
            return None
        return [
            convert.selection_range(
                analysis.root, analysis.positions, *analysis.positions.column(p)
            )
            for p in params.positions
        ]

    @ls.feature(types.TEXT_DOCUMENT_HOVER)
    async def hover(ls: VictorLanguageServer, params: types.HoverParams) -> types.Hover | None:
        analysis = await ls.usable(params.text_document.uri)
        return (
            assist.hover(analysis, params.position, ls.history_for(analysis)) if analysis else None
        )

    @ls.feature(
        types.TEXT_DOCUMENT_COMPLETION,
        types.CompletionOptions(trigger_characters=[".", "{", "[", ":", " ", "-"]),
    )
    async def completion(
        ls: VictorLanguageServer, params: types.CompletionParams
    ) -> types.CompletionList | None:
        uri = params.text_document.uri
        analysis = await ls.usable(uri)
        document = ls.document(uri)
        if analysis is None or document is None:
            return None
        return assist.completion(analysis, document.source, params.position, ls.registry)

    @ls.feature(types.TEXT_DOCUMENT_DEFINITION)
    async def definition(
        ls: VictorLanguageServer, params: types.DefinitionParams
    ) -> list[types.Location] | None:
        analysis = await ls.served(params.text_document.uri)
        if analysis is None:
            return None
        if navigation.library_node_at(analysis, params.position) is not None:
            return navigation.library_definition(
                analysis, params.position, await ls.workflow_analyses()
            )
        return navigation.definition(analysis, params.position, ls.positions_for)

    @ls.feature(types.TEXT_DOCUMENT_REFERENCES)
    async def references(
        ls: VictorLanguageServer, params: types.ReferenceParams
    ) -> list[types.Location] | None:
        analysis = await ls.served(params.text_document.uri)
        if analysis is None:
            return None
        include = params.context.include_declaration
        if navigation.library_node_at(analysis, params.position) is not None:
            return navigation.library_references(
                analysis, params.position, include, await ls.workflow_analyses()
            )
        return navigation.references(analysis, params.position, include)

    @ls.feature(types.TEXT_DOCUMENT_DOCUMENT_HIGHLIGHT)
    async def document_highlight(
        ls: VictorLanguageServer, params: types.DocumentHighlightParams
    ) -> list[types.DocumentHighlight] | None:
        analysis = await ls.served(params.text_document.uri)
        return navigation.highlights(analysis, params.position) if analysis else None

    @ls.feature(types.TEXT_DOCUMENT_PREPARE_RENAME)
    async def prepare_rename(
        ls: VictorLanguageServer, params: types.PrepareRenameParams
    ) -> types.PrepareRenamePlaceholder | None:
        analysis = await ls.served(params.text_document.uri)
        if analysis is None:
            return None
        target = navigation.ref_target_at(analysis, params.position)
        if target is not None:  # the `#node` of a `$ref`: renames the library node
            return types.PrepareRenamePlaceholder(range=target.range, placeholder=target.node_id)
        try:
            return navigation.prepare_library_rename(
                analysis, params.position
            ) or navigation.prepare_rename(analysis, params.position)
        except ValueError as exc:
            raise RequestFailed(str(exc)) from None

    @ls.feature(types.TEXT_DOCUMENT_RENAME)
    async def rename(
        ls: VictorLanguageServer, params: types.RenameParams
    ) -> types.WorkspaceEdit | None:
        analysis = await ls.served(params.text_document.uri)
        if analysis is None:
            return None
        position = params.position
        target = navigation.ref_target_at(analysis, position)
        if target is not None:  # the `#node` of a `$ref`: rename it in its library
            library = await ls.file_analysis(target.library)
            where = navigation.library_position(library, target.node_id) if library else None
            if library is None or where is None:
                raise RequestFailed(f"cannot read node {target.node_id!r} in {target.library}")
            analysis, position = library, where
        try:
            if navigation.library_node_at(analysis, position) is not None:
                return navigation.library_rename(
                    analysis, position, params.new_name, await ls.workflow_analyses()
                )
            return navigation.rename(analysis, position, params.new_name)
        except ValueError as exc:
            raise RequestFailed(str(exc)) from None

    @ls.feature(
        types.TEXT_DOCUMENT_CODE_ACTION,
        types.CodeActionOptions(
            code_action_kinds=[types.CodeActionKind.QuickFix, types.CodeActionKind.RefactorExtract]
        ),
    )
    async def code_action(
        ls: VictorLanguageServer, params: types.CodeActionParams
    ) -> list[types.CodeAction] | None:
        analysis = await ls.served(params.text_document.uri)
        return assist.code_actions(analysis, params, ls.positions_for) if analysis else None

    @ls.feature(types.TEXT_DOCUMENT_CODE_LENS)
    async def code_lens(
        ls: VictorLanguageServer, params: types.CodeLensParams
    ) -> list[types.CodeLens] | None:
        analysis = await ls.usable(params.text_document.uri)
        return assist.code_lenses(analysis) if analysis else None

    @ls.feature(types.TEXT_DOCUMENT_INLAY_HINT)
    async def inlay_hint(
        ls: VictorLanguageServer, params: types.InlayHintParams
    ) -> list[types.InlayHint] | None:
        analysis = await ls.served(params.text_document.uri)
        if analysis is None:
            return None
        return assist.inlay_hints(analysis, params.range, ls.history_for(analysis))
