"""Project configuration: `victor.toml` or `[tool.victor]` in `pyproject.toml`.

Found by walking up from a workflow file. Lists stage libraries, registry
modules, agent profiles and the history location. Relative paths are resolved
against the folder of the file that declares them. Knows nothing of the CLI,
which layers its own flags on top.

Format (both files; in pyproject.toml under `[tool.victor]`)::

    stage_libraries = ["stages/common_stages.yaml"]
    registry = ["my_project.escape_hatches"]
    default_profile = "offline"
    history_url = "sqlite:///path/to/workflows.db"   # optional

    [profiles.offline]
    runner = "scripted"
    responses = "responses.yaml"

    [profiles.local]
    runner = "openai"
    base_url = "http://127.0.0.1:11434/v1"
    model = "llama3.1"
    api_key_env = "OPENAI_API_KEY"
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from engine.text_files import UnreadableFileError, read_text_file

CONFIG_FILE_NAMES = ("victor.toml", "pyproject.toml")


class ProjectConfigError(Exception):
    """A project configuration file exists but cannot be used."""

    def __init__(self, path: Path, message: str) -> None:
        super().__init__(f"{path}: {message}")
        self.path = path
        self.message = message


@dataclass(frozen=True)
class ProjectConfig:
    """The project's settings; `path` is None when no file was found."""

    path: Path | None = None
    root: Path | None = None
    stage_libraries: tuple[str, ...] = ()
    registry: tuple[str, ...] = ()
    default_profile: str | None = None
    profiles: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    history_url: str | None = None


def find_project_config(start: str | Path) -> ProjectConfig:
    """Walk up from `start` (a file or folder) to the first config file.

    A pyproject.toml without `[tool.victor]` is skipped. Raises
    ProjectConfigError for a file that is not valid TOML or has wrong types.
    """
    here = Path(start).resolve()
    folder = here if here.is_dir() else here.parent
    for candidate_dir in (folder, *folder.parents):
        for name in CONFIG_FILE_NAMES:
            candidate = candidate_dir / name
            if not candidate.is_file():
                continue
            table = _read_table(candidate)
            if table is None:
                continue
            return _parse(candidate, table)
    return ProjectConfig()


def _read_table(path: Path) -> Mapping[str, Any] | None:
    try:
        data = tomllib.loads(read_text_file(path))
    except UnreadableFileError as exc:
        raise ProjectConfigError(path, f"cannot read: {exc}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ProjectConfigError(path, f"not valid TOML: {exc}") from exc
    if path.name == "pyproject.toml":
        tool = data.get("tool")
        victor = tool.get("victor") if isinstance(tool, dict) else None
        return victor if isinstance(victor, dict) else None
    victor_table = data.get("victor")
    if isinstance(victor_table, dict):
        merged = dict(victor_table)
        if "profiles" in data and "profiles" not in merged:
            merged["profiles"] = data["profiles"]
        return merged
    return data


def _string_list(path: Path, table: Mapping[str, Any], key: str) -> tuple[str, ...]:
    value = table.get(key, [])
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ProjectConfigError(path, f"`{key}` must be a list of strings")
    return tuple(value)


def _parse(path: Path, table: Mapping[str, Any]) -> ProjectConfig:
    root = path.parent
    stages = tuple(
        str((root / entry).resolve()) for entry in _string_list(path, table, "stage_libraries")
    )
    profiles_raw = table.get("profiles", {})
    if not isinstance(profiles_raw, dict) or not all(
        isinstance(v, dict) for v in profiles_raw.values()
    ):
        raise ProjectConfigError(path, "`profiles` must be a table of tables")
    profiles = {
        name: _resolve_profile_paths(root, dict(body)) for name, body in profiles_raw.items()
    }
    default_profile = table.get("default_profile")
    if default_profile is not None and not isinstance(default_profile, str):
        raise ProjectConfigError(path, "`default_profile` must be a string")
    history_url = table.get("history_url")
    if history_url is not None and not isinstance(history_url, str):
        raise ProjectConfigError(path, "`history_url` must be a string")
    return ProjectConfig(
        path=path,
        root=root,
        stage_libraries=stages,
        registry=_string_list(path, table, "registry"),
        default_profile=default_profile,
        profiles=profiles,
        history_url=history_url,
    )


_PATH_KEYS = ("responses", "recording")


def _resolve_profile_paths(root: Path, profile: dict[str, Any]) -> dict[str, Any]:
    for key in _PATH_KEYS:
        value = profile.get(key)
        if isinstance(value, str) and not Path(value).is_absolute():
            profile[key] = str((root / value).resolve())
    return profile
