"""Settings for one workflow file: project config layered with explicit overrides.

Finds `victor.toml` / `[tool.victor]`, builds the CompileConfig (stage
libraries, workspace root) and loads the registry. Used by the CLI, the
guide's compiler API, the DAP and the LSP alike. Raises ValueError with a
one-line message for bad configuration. Knows nothing of terminals.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

from engine.config import CompileConfig, RegistryNames
from engine.project_config import ProjectConfig, ProjectConfigError, find_project_config


def project_config_for(path: str | Path) -> ProjectConfig:
    try:
        return find_project_config(path)
    except ProjectConfigError as exc:
        raise ValueError(str(exc)) from exc


def compile_config_for(
    path: str | Path,
    *,
    stages: Iterable[str | Path] = (),
    registry: RegistryNames | None = None,
) -> CompileConfig:
    """Compile settings for a workflow file: stage libraries and the workspace root."""
    project = project_config_for(path)
    root = project.root if project.root is not None else Path(path).resolve().parent
    stage_paths = tuple(str(Path(s).resolve()) for s in stages) + project.stage_libraries
    return CompileConfig(stage_libraries=stage_paths, registry=registry, workspace_root=str(root))


def registry_modules_for(path: str | Path, flags: Sequence[str]) -> tuple[tuple[str, ...], Path]:
    """Registry modules (project's, then flags) and the folder relative paths start from."""
    project = project_config_for(path)
    base = project.root if project.root is not None else Path(path).resolve().parent
    return (*project.registry, *flags), base


def registry_names_for(path: str | Path, flags: Sequence[str]) -> RegistryNames | None:
    """Names of the configured registry, or None when no registry is configured."""
    modules, base = registry_modules_for(path, flags)
    if not modules:
        return None
    from engine.registry import Registry, RegistryError

    try:
        return Registry.from_modules(modules, base_dir=base).names()
    except RegistryError as exc:
        raise ValueError(str(exc)) from exc
