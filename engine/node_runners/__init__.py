"""One runner per node type, looked up by `NodeType`.

Each module here executes one node type and returns a `StepResult`; the
executor owns events, gates, retries and state writes. Knows nothing of
subscribers, debuggers or the CLI.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from engine.model import NodeType
from engine.node_runners.agent import run_agent
from engine.node_runners.base import ChildOutcome, NodeEnv, NodeError, Place, StepResult
from engine.node_runners.compute import run_compute
from engine.node_runners.condition import run_condition
from engine.node_runners.hitl import run_hitl
from engine.node_runners.parallel import run_parallel
from engine.node_runners.team import run_team
from engine.node_runners.transform import run_transform

Runner = Callable[[NodeEnv, Any, dict[str, Any], Place], Awaitable[StepResult]]

RUNNERS: dict[NodeType, Runner] = {
    NodeType.AGENT: run_agent,
    NodeType.COMPUTE: run_compute,
    NodeType.CONDITION: run_condition,
    NodeType.PARALLEL: run_parallel,
    NodeType.TRANSFORM: run_transform,
    NodeType.HITL: run_hitl,
    NodeType.TEAM: run_team,
}

__all__ = ["RUNNERS", "ChildOutcome", "NodeEnv", "NodeError", "Place", "Runner", "StepResult"]
