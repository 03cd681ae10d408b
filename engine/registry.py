"""The registry of user code: compute handlers, named conditions, transforms, tools.

Victor's escape-hatch convention: a Python module exposes `HANDLERS`,
`CONDITIONS`, `TRANSFORMS` and/or `TOOLS` dicts of name -> callable. Modules
are named by dotted import path or by a `.py` file path; packages can also
publish such a module (or a `Registry`) in the `victor.workflows` entry-point
group. Built-in tools (`shell`) are always present. Knows nothing of the
executor, the CLI or editors.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

from engine.config import RegistryNames

ENTRY_POINT_GROUP = "victor.workflows"

_KINDS = ("HANDLERS", "CONDITIONS", "TRANSFORMS", "TOOLS")


class RegistryError(Exception):
    """A registry module cannot be imported or has the wrong shape."""


@dataclass(frozen=True)
class Registry:
    """Name -> callable maps. Later sources override earlier ones when merged."""

    handlers: Mapping[str, Callable[..., Any]] = field(default_factory=dict)
    conditions: Mapping[str, Callable[..., Any]] = field(default_factory=dict)
    transforms: Mapping[str, Callable[..., Any]] = field(default_factory=dict)
    tools: Mapping[str, Callable[..., Any]] = field(default_factory=dict)
    sources: tuple[str, ...] = ()

    @staticmethod
    def builtin() -> Registry:
        """Only the built-in tools."""
        from engine.tools import BUILTIN_TOOLS

        return Registry(tools=dict(BUILTIN_TOOLS), sources=("builtin",))

    @classmethod
    def from_modules(
        cls, modules: Iterable[str], *, base_dir: str | Path | None = None, builtins: bool = True
    ) -> Registry:
        """Load each module (dotted name or `.py` path) and merge them in order."""
        registry = cls.builtin() if builtins else cls()
        for spec in modules:
            registry = registry.merged(cls.from_module(_import(spec, base_dir), name=spec))
        return registry

    @classmethod
    def from_module(cls, module: ModuleType | Any, *, name: str | None = None) -> Registry:
        """Read the four dicts of one module (or object); missing ones are empty."""
        if isinstance(module, Registry):
            return module
        found: dict[str, dict[str, Callable[..., Any]]] = {}
        label = str(name or getattr(module, "__name__", repr(module)))
        for kind in _KINDS:
            table = getattr(module, kind, None)
            if table is None:
                found[kind] = {}
                continue
            if not isinstance(table, Mapping) or not all(
                isinstance(key, str) and callable(value) for key, value in table.items()
            ):
                raise RegistryError(f"{label}: {kind} must be a dict of name -> callable")
            found[kind] = dict(table)
        return cls(
            handlers=found["HANDLERS"],
            conditions=found["CONDITIONS"],
            transforms=found["TRANSFORMS"],
            tools=found["TOOLS"],
            sources=(label,),
        )

    @classmethod
    def from_entry_points(cls) -> Registry:
        """Merge everything published in the `victor.workflows` entry-point group."""
        from importlib.metadata import entry_points

        registry = cls()
        for entry in entry_points(group=ENTRY_POINT_GROUP):
            try:
                loaded = entry.load()
            except Exception as exc:  # a broken plugin must name itself
                raise RegistryError(f"entry point {entry.name!r} ({entry.value}): {exc}") from exc
            registry = registry.merged(cls.from_module(loaded, name=f"entry point {entry.name}"))
        return registry

    def merged(self, other: Registry) -> Registry:
        return Registry(
            handlers={**self.handlers, **other.handlers},
            conditions={**self.conditions, **other.conditions},
            transforms={**self.transforms, **other.transforms},
            tools={**self.tools, **other.tools},
            sources=self.sources + other.sources,
        )

    def names(self) -> RegistryNames:
        """The names, for compile-time validation warnings."""
        return RegistryNames(
            conditions=frozenset(self.conditions),
            transforms=frozenset(self.transforms),
            handlers=frozenset(self.handlers),
            tools=frozenset(self.tools),
        )


def _import(spec: str, base_dir: str | Path | None) -> ModuleType:
    if spec.endswith(".py") or "/" in spec or "\\" in spec:
        path = Path(spec)
        if not path.is_absolute() and base_dir is not None:
            path = Path(base_dir) / path
        if not path.is_file():
            raise RegistryError(f"registry module file not found: {path}")
        module_name = f"_victor_registry_{abs(hash(str(path.resolve())))}"
        if module_name in sys.modules:
            return sys.modules[module_name]
        loader_spec = importlib.util.spec_from_file_location(module_name, path)
        if loader_spec is None or loader_spec.loader is None:
            raise RegistryError(f"cannot load registry module {path}")
        module = importlib.util.module_from_spec(loader_spec)
        sys.modules[module_name] = module
        try:
            loader_spec.loader.exec_module(module)
        except Exception as exc:
            del sys.modules[module_name]
            raise RegistryError(f"{path}: import failed: {type(exc).__name__}: {exc}") from exc
        return module
    added = False
    if base_dir is not None and str(base_dir) not in sys.path:
        sys.path.insert(0, str(base_dir))
        added = True
    try:
        return importlib.import_module(spec)
    except ImportError as exc:
        raise RegistryError(
            f"cannot import registry module {spec!r}: {exc} "
            "(check the name, or pass a path to a .py file)"
        ) from exc
    except Exception as exc:
        raise RegistryError(
            f"registry module {spec!r} failed: {type(exc).__name__}: {exc}"
        ) from exc
    finally:
        if added:
            sys.path.remove(str(base_dir))
