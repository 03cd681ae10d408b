"""One analysis per (uri, version): compile once, share across every feature.

`Analysis` holds the compile result, the raw YAML tree, the position map and
the diagnostics-ready problem list of one document version. `AnalysisStore`
caches them, remembers the last analysis that parsed (so outline, completion
and hover keep working while the text is broken), and knows which open
documents depend on which library files. Knows LSP only through `PositionMap`.
"""

from __future__ import annotations

import logging
import os
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from engine.config import CompileConfig, RegistryNames
from engine.loader import editor_lines
from engine.model import CompileResult, FileKind, Problem
from engine.yaml_tree import YNode
from victor_lsp.positions import Encoding, PositionMap

log = logging.getLogger(__name__)

_UNPARSABLE = frozenset({"VW001", "VW004"})
"""Loader codes meaning the text is not YAML at all (syntax error, too deep)."""
_WORKFLOW_MARKERS = ("nodes", "stage_templates", "override_presets")
_TOP_LEVEL_MARKER = re.compile(
    r"^(?:workflows|nodes|stage_templates|override_presets)[ \t]*:", re.MULTILINE
)
"""A text that does not parse is ours only when one of these keys starts a line..."""


def looks_like_workflow_file(text: str) -> bool:
    """Cheap pre-check before compiling: no `nodes:`/stage keys means not ours."""
    return any(f"{marker}:" in text for marker in _WORKFLOW_MARKERS)


@dataclass
class Analysis:
    uri: str
    version: int | None
    text: str
    path: str
    result: CompileResult
    positions: PositionMap
    problems: tuple[Problem, ...]
    """Problems of this file after suppressions and disabled checks."""
    parsed: bool
    """The text was valid YAML (features can trust spans)."""
    inputs: tuple[tuple[str, object], ...] = ()
    """(path, stamp) of every other file the compile read, as the server stamps them;
    the analysis is stale once one of them changed (see `VictorLanguageServer.fresh`)."""
    _root: YNode | None = field(default=None, repr=False)
    _root_done: bool = field(default=False, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def root(self) -> YNode | None:
        """The raw YAML tree, parsed on first use (folding, selection ranges)."""
        with self._lock:
            if not self._root_done:
                syntax = self.result.syntax
                if syntax is None and self.parsed:
                    from engine.loader import parse_yaml

                    syntax = parse_yaml(self.text, self.path)
                self._root = syntax.root if syntax is not None and self.parsed else None
                self._root_done = True
        return self._root

    @property
    def served(self) -> bool:
        return self.result.kind is not FileKind.NOT_WORKFLOW

    @property
    def lines(self) -> list[str]:
        return editor_lines(self.text)


@dataclass(frozen=True)
class CompileInputs:
    """Everything besides the text that shapes a compile."""

    stage_libraries: tuple[str, ...] = ()
    registry: RegistryNames | None = None
    disabled_checks: frozenset[str] = frozenset()
    workspace_root: str | None = None


def analyze(
    uri: str,
    version: int | None,
    text: str,
    path: str,
    inputs: CompileInputs,
    encoding: Encoding,
    read_file: Callable[[str], str] | None,
    was_workflow: bool = False,
) -> Analysis:
    """Compile one text and prepare what every feature needs. Never raises.

    `was_workflow`: an earlier version of this document parsed as a workflow file,
    so a syntax error now is the user's edit in progress, worth reporting."""
    from engine.compiler import compile as compile_text

    positions = PositionMap(text, encoding)
    if not looks_like_workflow_file(text):
        empty = CompileResult(source=path, kind=FileKind.NOT_WORKFLOW)
        return Analysis(uri, version, text, path, empty, positions, (), parsed=False)
    config = CompileConfig(
        stage_libraries=inputs.stage_libraries,
        registry=inputs.registry,
        workspace_root=inputs.workspace_root,
        read_file=read_file,
        disabled_checks=inputs.disabled_checks,
    )
    try:
        result = compile_text(text, source=path, config=config)
    except Exception:  # the compiler must not raise; if it does, stay alive and say so
        log.exception("engine.compile raised on %s", uri)
        result = CompileResult(source=path, kind=FileKind.NOT_WORKFLOW)
    parsed = result.kind is not FileKind.NOT_WORKFLOW and not any(
        p.code in _UNPARSABLE and p.source == path for p in result.problems
    )
    if not parsed and not was_workflow and not _TOP_LEVEL_MARKER.search(text):
        # ...or when it parsed as one before: a values file with a nested `nodes:`
        # that is mid-edit is somebody else's YAML
        empty = CompileResult(source=path, kind=FileKind.NOT_WORKFLOW)
        return Analysis(uri, version, text, path, empty, positions, (), parsed=False)
    # compile() already ran state-flow analysis, disabled checks and suppressions:
    # the CLI, the DAP and this server report the same problems.
    kept = tuple(p for p in result.problems if p.code.upper() not in inputs.disabled_checks)
    return Analysis(uri, version, text, path, result, positions, kept, parsed=parsed)


@dataclass
class AnalysisStore:
    """Analyses by uri, plus the last one that parsed."""

    current: dict[str, Analysis] = field(default_factory=dict)
    last_good: dict[str, Analysis] = field(default_factory=dict)

    def get(self, uri: str, version: int | None) -> Analysis | None:
        found = self.current.get(uri)
        if found is not None and found.version == version:
            return found
        return None

    def put(self, analysis: Analysis) -> None:
        existing = self.current.get(analysis.uri)
        if existing is not None and _newer(existing.version, analysis.version):
            return  # a late compile of an old version never replaces a newer one
        self.current[analysis.uri] = analysis
        if analysis.parsed and analysis.served:
            self.last_good[analysis.uri] = analysis

    def usable(self, uri: str) -> Analysis | None:
        """The current analysis if it parsed, else the last one that did."""
        found = self.current.get(uri)
        if found is not None and found.parsed:
            return found
        return self.last_good.get(uri, found)

    def forget(self, uri: str) -> None:
        self.current.pop(uri, None)
        self.last_good.pop(uri, None)

    def invalidate_all(self) -> None:
        self.current.clear()

    def dependents(self, path: str) -> list[str]:
        """Open documents whose last compile read `path` (a library or stage file).

        The files the server saw it read count too: a `$ref` whose node is missing
        leaves its library out of `result.dependencies`, yet fixing the library
        must fix the `$ref`."""
        target = os.path.normcase(os.path.abspath(path))
        return [
            uri
            for uri, analysis in self.current.items()
            if any(
                os.path.normcase(os.path.abspath(d)) == target
                for d in (*analysis.result.dependencies, *(p for p, _ in analysis.inputs))
            )
        ]


def _newer(existing: int | None, incoming: int | None) -> bool:
    return existing is not None and incoming is not None and existing > incoming
