"""What every validator sees, and small helpers to build problems and fixes.

Knows nothing of individual rules.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from engine.config import CompileConfig
from engine.model import Fix, Node, Problem, RelatedInfo, Severity, SourceSpan, TextEdit, Workflow
from engine.node_drafts import NodeDraft
from engine.suggest import close_matches, did_you_mean
from engine.yaml_tree import YMap


@dataclass(frozen=True)
class ValidationContext:
    workflow: Workflow | None
    body: YMap | None
    drafts: Sequence[NodeDraft]
    lines: Sequence[str]
    config: CompileConfig
    source: str

    def problem(
        self,
        code: str,
        severity: Severity,
        message: str,
        span: SourceSpan,
        *,
        node: Node | str | None = None,
        related: Iterable[RelatedInfo] = (),
        fixes: Iterable[Fix] = (),
        unnecessary: bool = False,
    ) -> Problem:
        node_id = node.id if node is not None and not isinstance(node, str) else node
        return Problem(
            code,
            severity,
            message,
            self.source,
            span,
            workflow=self.workflow.name if self.workflow else None,
            node=node_id,
            related=tuple(related),
            fixes=tuple(fixes),
            unnecessary=unnecessary,
        )

    def replace_fix(self, title: str, span: SourceSpan, text: str, preferred: bool = True) -> Fix:
        return Fix(title, (TextEdit(self.source, span, text),), preferred)


__all__ = ["ValidationContext", "close_matches", "did_you_mean"]
