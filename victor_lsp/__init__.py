"""Victor workflow language server (pygls 2.x): a thin adapter over `engine`.

Run with `python -m victor_lsp` (stdio) or `python -m victor_lsp --tcp --port N`.
Translates engine results to LSP and back; no workflow semantics live here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from victor_lsp.server import VictorLanguageServer

__all__ = ["create_server"]


def create_server() -> VictorLanguageServer:
    from victor_lsp.server import create_server as _create

    return _create()
