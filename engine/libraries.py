"""Node libraries (`$ref`) and stage template libraries (`stage:` + `overrides:`).

Finds, reads, parses and caches library files, and merges a referencing node
entry with its library node or stage template into one plain mapping:
`$ref` keys of the entry override the library node; `stage` copies the
template, lets the node's own keys replace template keys, then deep-merges
`overrides` (dicts merge, lists replace). Knows nothing of validation rules
beyond reporting what cannot be resolved.
"""

from __future__ import annotations

import copy
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from engine.loader import ParsedYaml, parse_yaml
from engine.text_files import UnreadableFileError, read_text_file
from engine.yaml_tree import YMap, YScalar, YSeq

ReadFile = Callable[[str], str]


@dataclass(frozen=True)
class LibraryFile:
    """One parsed library file and what it offers."""

    path: str
    parsed: ParsedYaml
    nodes: dict[str, YMap] = field(default_factory=dict)
    stages: dict[str, YMap] = field(default_factory=dict)


class LibraryError(Exception):
    """A `$ref` or `stage` that cannot be resolved; the message says what to do."""

    def __init__(self, code: str, message: str, library: LibraryFile | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.library = library


_CACHE: dict[str, tuple[str, LibraryFile]] = {}
_CACHE_LIMIT = 256


def _read_disk(path: str) -> str:
    try:
        return read_text_file(path)
    except UnreadableFileError as exc:
        raise OSError(str(exc)) from exc


def load_library(path: str, read_file: ReadFile | None = None) -> LibraryFile:
    """Parse a library file (cached on its text). Raises LibraryError when unreadable."""
    reader = read_file or _read_disk
    try:
        text = reader(path)
    except (OSError, UnicodeDecodeError) as exc:
        raise LibraryError("VW511", f"cannot read library file {path}: {exc}") from exc
    cached = _CACHE.get(path)
    if cached is not None and cached[0] == text:
        return cached[1]
    library = _index(path, parse_yaml(text, path))
    if len(_CACHE) >= _CACHE_LIMIT:
        _CACHE.pop(next(iter(_CACHE)))
    _CACHE[path] = (text, library)
    return library


def _index(path: str, parsed: ParsedYaml) -> LibraryFile:
    nodes: dict[str, YMap] = {}
    stages: dict[str, YMap] = {}
    root = parsed.root
    if isinstance(root, YMap):
        node_list = root.get("nodes")
        if isinstance(node_list, YSeq):
            for item in node_list.items:
                if isinstance(item, YMap):
                    node_id = item.get("id")
                    if isinstance(node_id, YScalar) and isinstance(node_id.value, str):
                        nodes.setdefault(node_id.value, item)
        for section, prefix in (("stage_templates", ""), ("override_presets", "preset:")):
            table = root.get(section)
            if isinstance(table, YMap):
                for entry in table.entries:
                    if isinstance(entry.value, YMap):
                        stages.setdefault(f"{prefix}{entry.key.value}", entry.value)
    return LibraryFile(path, parsed, nodes, stages)


def split_ref(ref: str) -> tuple[str, str | None]:
    """`"./file.yaml#node"` -> ("./file.yaml", "node"); without `#`, node is None."""
    path, _, node = ref.partition("#")
    return path.strip(), (node.strip() or None)


def resolve_ref_path(ref_path: str, referencing_source: str, workspace_root: str | None) -> str:
    """Absolute library path for a `$ref`, refusing paths outside the workspace."""
    base = Path(referencing_source).resolve().parent
    target = (base / ref_path).resolve()
    root = Path(workspace_root).resolve() if workspace_root else base
    if target != root and root not in target.parents:
        raise LibraryError(
            "VW513",
            f"$ref path '{ref_path}' leaves the workspace ({root}); "
            "move the library inside the workspace or set the workspace root.",
        )
    return str(target)


def resolve_ref(
    ref: str, referencing_source: str, workspace_root: str | None, read_file: ReadFile | None
) -> tuple[LibraryFile, YMap, str]:
    """The library node a `$ref` names: (library, node mapping, node id)."""
    ref_path, node_id = split_ref(ref)
    if not ref_path:
        raise LibraryError("VW511", '$ref needs a file path, e.g. "./common.yaml#node_id".')
    path = resolve_ref_path(ref_path, referencing_source, workspace_root)
    if not os.path.exists(path) and read_file is None:
        raise LibraryError("VW511", f"$ref file not found: {ref_path} (looked for {path}).")
    library = load_library(path, read_file)
    if node_id is None:
        if not library.nodes:
            raise LibraryError("VW512", f"{ref_path} has no `nodes:` list to reference.", library)
        node_id = next(iter(library.nodes))
    node = library.nodes.get(node_id)
    if node is None:
        known = ", ".join(sorted(library.nodes)) or "none"
        raise LibraryError(
            "VW512", f"node '{node_id}' not found in {ref_path}; its nodes are: {known}.", library
        )
    return library, node, node_id


def stage_library_paths(source: str, configured: Iterable[str]) -> list[str]:
    """Configured stage libraries, then stage libraries in the workflow's own folder."""
    paths: list[str] = []
    seen: set[str] = set()
    for path in configured:
        resolved = str(Path(path).resolve())
        if resolved not in seen:
            seen.add(resolved)
            paths.append(resolved)
    folder = Path(source).resolve().parent
    try:
        candidates = sorted(folder.glob("*.y*ml"))
    except OSError:
        candidates = []
    own = str(Path(source).resolve())
    for candidate in candidates:
        resolved = str(candidate)
        if resolved in seen or resolved == own:
            continue
        try:
            head = candidate.read_text(encoding="utf-8", errors="replace")
        except OSError:
            continue
        if "stage_templates:" in head or "override_presets:" in head:
            seen.add(resolved)
            paths.append(resolved)
    return paths


def find_stage(
    name: str, library_paths: Iterable[str], read_file: ReadFile | None
) -> tuple[LibraryFile, YMap] | None:
    for path in library_paths:
        try:
            library = load_library(path, read_file)
        except LibraryError:
            continue
        template = library.stages.get(name)
        if template is not None:
            return library, template
    return None


def known_stages(library_paths: Iterable[str], read_file: ReadFile | None) -> list[str]:
    names: list[str] = []
    for path in library_paths:
        try:
            names.extend(load_library(path, read_file).stages)
        except LibraryError:
            continue
    return names


def deep_merge(base: Any, overrides: Any) -> Any:
    """Dicts merge recursively; anything else (lists included) replaces."""
    if isinstance(base, dict) and isinstance(overrides, dict):
        merged = dict(base)
        for key, value in overrides.items():
            merged[key] = deep_merge(merged[key], value) if key in merged else copy.deepcopy(value)
        return merged
    return copy.deepcopy(overrides)
