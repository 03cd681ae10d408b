"""Open documents whose lines are the LSP's lines, for incremental sync.

pygls applies a ranged `didChange` to `str.splitlines()` lines, which also break
at U+2028, U+2029, U+0085, form feed and a few control characters; editors and
the LSP break only at \\n, \\r\\n and \\r. A goal pasted with a U+2028 in it would
make every later edit land on the wrong line and silently corrupt the server's
copy. These subclasses count lines as the client does. Knows nothing of
workflows.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from typing import Any

from pygls.workspace import TextDocument, Workspace

log = logging.getLogger(__name__)

_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+$")


def lsp_lines(text: str) -> list[str]:
    """Lines with their line breaks, split only at \\n, \\r\\n and \\r."""
    return _LINE.findall(text)


class LspLinesDocument(TextDocument):
    @property
    def lines(self) -> Sequence[str]:
        return tuple(lsp_lines(self.source))


class LspLinesWorkspace(Workspace):
    def _create_text_document(
        self,
        doc_uri: str,
        source: str | None = None,
        version: int | None = None,
        language_id: str | None = None,
    ) -> TextDocument:
        return LspLinesDocument(
            doc_uri,
            source=source,
            version=version,
            language_id=language_id,
            sync_kind=self._sync_kind,
            position_codec=self._position_codec,
        )


def use_lsp_lines(protocol: Any) -> None:
    """Swap the workspace pygls just built in `initialize` (still empty) for one whose
    documents count lines as the client does. Keeps pygls' own if its shape changed."""
    workspace = getattr(protocol, "_workspace", None)
    if not isinstance(workspace, Workspace) or workspace.text_documents:
        log.debug("pygls workspace not replaced: unexpected shape")
        return
    try:
        replacement = LspLinesWorkspace(
            workspace.root_uri,
            workspace._sync_kind,
            list(workspace.folders.values()),
            workspace.position_encoding,
        )
    except Exception:  # a pygls whose Workspace changed: its own still works
        log.debug("pygls workspace not replaced", exc_info=True)
        return
    protocol._workspace = replacement
