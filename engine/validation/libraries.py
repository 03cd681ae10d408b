"""Checks for library files: node libraries (`nodes:`) and stage libraries.

Their entries are checked as nodes (field types, unknown keys) but not as a
graph: a library has no start and no edges of its own.
"""

from __future__ import annotations

import os

from engine.config import CompileConfig
from engine.loader import ParsedYaml
from engine.model import Problem
from engine.node_drafts import DraftContext, NodeDraft, build_draft
from engine.validation.context import ValidationContext
from engine.validation.fields import check_node_fields
from engine.yaml_tree import YMap, YSeq


def check_library(parsed: ParsedYaml, source: str) -> list[Problem]:
    root = parsed.root
    if not isinstance(root, YMap):
        return []
    problems: list[Problem] = []
    ctx = ValidationContext(None, root, (), parsed.lines, CompileConfig(), source)
    draft_ctx = DraftContext(source, os.environ, None, (), None)
    entries: list[YMap] = []
    nodes = root.get("nodes")
    if isinstance(nodes, YSeq):
        entries.extend(item for item in nodes.items if isinstance(item, YMap))
    templates = root.get("stage_templates")
    if isinstance(templates, YMap):
        entries.extend(e.value for e in templates.entries if isinstance(e.value, YMap))
    for index, entry in enumerate(entries):
        draft: NodeDraft = build_draft(index, entry, draft_ctx, problems)
        problems.extend(check_node_fields(ctx, None, draft))
    return problems
