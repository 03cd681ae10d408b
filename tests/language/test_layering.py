"""The engine stays pure: no protocol or adapter imports, no terminal UI outside engine/cli."""

from __future__ import annotations

import ast
from pathlib import Path

from tests.support import REPO_ROOT

FORBIDDEN_EVERYWHERE = ("pygls", "lsprotocol", "victor_lsp", "victor_dap")
TERMINAL_UI = ("typer", "rich", "engine.cli")


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def _offenders(banned: tuple[str, ...], files: list[Path]) -> list[str]:
    found = []
    for path in files:
        for name in _imports(path):
            if any(name == b or name.startswith(b + ".") for b in banned):
                found.append(f"{path.name} imports {name}")
    return found


def test_engine_never_imports_protocol_adapters() -> None:
    files = sorted((REPO_ROOT / "engine").rglob("*.py"))
    assert files, "engine sources not found"
    assert _offenders(FORBIDDEN_EVERYWHERE, files) == []


def test_terminal_ui_only_in_cli() -> None:
    files = [p for p in sorted((REPO_ROOT / "engine").rglob("*.py")) if "cli" not in p.parts]
    assert _offenders(TERMINAL_UI, files) == []


def test_checker_catches_a_forbidden_import(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text("from pygls.lsp.server import LanguageServer\n")
    assert _imports(bad) == {"pygls.lsp.server"}
