"""Settings that shape compilation: stage libraries, known registry names, environment.

Plain frozen dataclasses; no I/O here. `engine.project_config` builds them from
`victor.toml`, the CLI from its flags, the LSP from client settings.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True)
class RegistryNames:
    """Names the configured registry provides; used only for validation warnings."""

    conditions: frozenset[str] = frozenset()
    transforms: frozenset[str] = frozenset()
    handlers: frozenset[str] = frozenset()
    tools: frozenset[str] = frozenset()


@dataclass(frozen=True)
class CompileConfig:
    """How to compile one file.

    - `stage_libraries`: extra stage template files (the workflow's own folder
      is searched automatically).
    - `registry`: when set, unknown named conditions/transforms/handlers/tools
      draw warnings; when None they are not checked.
    - `environ`: the environment for `$env.X` / `${X:-d}`; None means os.environ.
    - `workspace_root`: `$ref` targets must lie inside it (default: the
      referencing file's folder).
    - `read_file`: reads a library file (the LSP passes one that sees unsaved
      editor buffers); None reads from disk.
    - `disabled_checks`: problem codes to drop.
    """

    stage_libraries: tuple[str, ...] = ()
    registry: RegistryNames | None = None
    environ: Mapping[str, str] | None = None
    workspace_root: str | None = None
    read_file: Callable[[str], str] | None = field(default=None, compare=False)
    disabled_checks: frozenset[str] = frozenset()
