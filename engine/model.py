"""The compiled workflow model: source spans, problems, nodes and workflows.

Every value here is a frozen dataclass produced by `engine.compile`. The model
knows nothing of YAML parsing, editor protocols, terminals or execution; it is
what every adapter and the executor read.

Coordinates: `SourceSpan` is 0-based line and column counted in code points,
with an exclusive end. Conversion to LSP, DAP or `file:line:col` happens only
at the edges.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, NamedTuple

END_NODE = "__end__"
"""Victor's StateGraph sentinel: a `next`/branch target that ends the run."""


class SourceSpan(NamedTuple):
    """A range in one source text: 0-based, code points, end exclusive.

    A named tuple rather than a dataclass: large files create hundreds of
    thousands of spans, and tuples are four times cheaper to build.
    """

    line: int
    column: int
    end_line: int
    end_column: int

    @staticmethod
    def point(line: int, column: int) -> SourceSpan:
        return SourceSpan(line, column, line, column)

    def contains(self, line: int, column: int) -> bool:
        if (line, column) < (self.line, self.column):
            return False
        return (line, column) <= (self.end_line, self.end_column)

    def contains_line(self, line: int) -> bool:
        return self.line <= line <= self.end_line

    def overlaps(self, other: SourceSpan) -> bool:
        """Whether the two spans share at least one character."""
        return (self.line, self.column) < (other.end_line, other.end_column) and (
            other.line,
            other.column,
        ) < (self.end_line, self.end_column)


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"
    INFORMATION = "information"
    HINT = "hint"


@dataclass(frozen=True, slots=True)
class TextEdit:
    """Replace `span` in `source` with `new_text` (used by quick fixes)."""

    source: str
    span: SourceSpan
    new_text: str


@dataclass(frozen=True, slots=True)
class Fix:
    """A quick fix a problem carries: a title and the edits that apply it."""

    title: str
    edits: tuple[TextEdit, ...]
    preferred: bool = False


@dataclass(frozen=True, slots=True)
class RelatedInfo:
    """Another place that explains a problem (the other duplicate, a cycle step)."""

    message: str
    source: str
    span: SourceSpan


@dataclass(frozen=True, slots=True)
class Problem:
    """One user-facing problem with a stable code (`VWnnn`).

    The same object feeds LSP diagnostics, DAP launch errors and CLI output.
    `source` is the file the span belongs to (a path or URI as given to
    `compile`).
    """

    code: str
    severity: Severity
    message: str
    source: str
    span: SourceSpan
    workflow: str | None = None
    node: str | None = None
    related: tuple[RelatedInfo, ...] = ()
    fixes: tuple[Fix, ...] = ()
    unnecessary: bool = False

    @property
    def is_error(self) -> bool:
        return self.severity is Severity.ERROR

    def format(self) -> str:
        """`file:line:col: severity code message` with 1-based coordinates."""
        return (
            f"{self.source}:{self.span.line + 1}:{self.span.column + 1}: "
            f"{self.severity.value} {self.code} {self.message}"
        )


class NodeType(StrEnum):
    AGENT = "agent"
    COMPUTE = "compute"
    CONDITION = "condition"
    PARALLEL = "parallel"
    TRANSFORM = "transform"
    HITL = "hitl"
    TEAM = "team"


class EdgeKind(StrEnum):
    NEXT = "next"
    BRANCH = "branch"
    PARALLEL = "parallel"
    AUTO = "auto"
    """Implicit edge to the following listed node (Victor's auto-chaining)."""


@dataclass(frozen=True, slots=True)
class NodeRef:
    """A reference from one node to another (an edge), with where it is written."""

    target: str
    kind: EdgeKind
    span: SourceSpan | None
    """None for auto-chained edges, which are not written anywhere."""
    label: str | None = None
    """The branch key for `branches` edges."""


class StateRefKind(StrEnum):
    CTX = "ctx"  # $ctx.key
    MUSTACHE = "mustache"  # {{key}}
    DOLLAR = "dollar"  # ${key}
    BRACE = "brace"  # {key} in HITL prompts (with context_keys)
    EXPRESSION = "expression"  # a name read by a condition/transform expression
    MAPPING = "mapping"  # input_mapping value, context_keys item


@dataclass(frozen=True, slots=True)
class StateRef:
    """A read of a state key somewhere in a node, with its span."""

    key: str
    """The root state key."""
    path: str
    """The whole dotted path as written, e.g. `user.name`."""
    kind: StateRefKind
    field: str
    """The node field it appears in (`goal`, `inputs`, `condition`, ...)."""
    span: SourceSpan
    bare_word: bool = False
    """A bare name right of `==`/`!=` or in `in [...]` of an expression (`status == done`):
    Victor compares it as its own text ('done') when no state key of that name exists."""
    literal_quote: str = "'"
    """The quote a string literal written at this read's place takes: `"` inside a
    single-quoted YAML scalar, where `'` would end the scalar."""


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Retries for one node; overrides the executor's global ErrorRecovery."""

    max_attempts: int = 1
    initial_delay: float = 1.0
    backoff_multiplier: float = 2.0
    max_delay: float = 32.0
    jitter: float = 0.1


@dataclass(frozen=True, slots=True)
class Origin:
    """Where a node's fields came from when it was built by `$ref` or `stage:`."""

    kind: str  # "ref" or "stage"
    name: str  # the referenced node id or stage template name
    source: str  # the library file
    span: SourceSpan  # the node/template in the library file
    site: SourceSpan  # the `$ref` / `stage` value in the referencing file


@dataclass(frozen=True, kw_only=True)
class NodeBase:
    """Fields every node type has. Subclasses add their own."""

    id: str
    type: NodeType
    name: str
    description: str = ""
    index: int
    """Position in the workflow's node list."""
    next: tuple[str, ...] = ()
    """Effective successors after auto-chaining (only the first is followed)."""
    auto_chained: bool = False
    output: str
    """State key the node's result is written to."""
    retry_policy: RetryPolicy | None = None
    continue_on_error: bool | None = None
    timeout: float | None = None
    profile: str | None = None
    span: SourceSpan
    """The whole node mapping."""
    id_span: SourceSpan
    """The value of `id`."""
    key_spans: Mapping[str, SourceSpan] = field(default_factory=dict, hash=False)
    """Top-level key -> span of the key token."""
    value_spans: Mapping[str, SourceSpan] = field(default_factory=dict, hash=False)
    """Top-level key -> span of its value."""
    refs: tuple[NodeRef, ...] = ()
    state_reads: tuple[StateRef, ...] = ()
    fields: Mapping[str, Any] = field(default_factory=dict, hash=False)
    """The node's merged mapping as plain Python data (after `$ref`/`stage:`)."""
    origin: Origin | None = None

    @property
    def edges(self) -> tuple[NodeRef, ...]:
        return self.refs


@dataclass(frozen=True, kw_only=True)
class AgentNode(NodeBase):
    role: str = "executor"
    goal: str = ""
    tool_budget: int = 15
    tools: tuple[str, ...] | None = None
    input_mapping: Mapping[str, str] = field(default_factory=dict, hash=False)
    llm_config: Mapping[str, Any] = field(default_factory=dict, hash=False)


@dataclass(frozen=True, kw_only=True)
class ComputeNode(NodeBase):
    handler: str | None = None
    tools: tuple[str, ...] = ()
    inputs: Mapping[str, Any] = field(default_factory=dict, hash=False)
    constraints: Any = None
    """`"none"`, a list of blocked capabilities, or a legacy dict (see schema)."""
    execution_target: str = "in-process"
    fail_fast: bool = True
    parallel: bool = False


@dataclass(frozen=True, kw_only=True)
class ConditionNode(NodeBase):
    condition: str = "default"
    branches: tuple[tuple[str, str], ...] = ()
    """(branch key, target node id) in written order."""

    def branch_target(self, key: str) -> str | None:
        for branch_key, target in self.branches:
            if branch_key == key:
                return target
        return None


@dataclass(frozen=True, kw_only=True)
class ParallelNode(NodeBase):
    parallel_nodes: tuple[str, ...] = ()
    join_strategy: str = "all"


@dataclass(frozen=True, kw_only=True)
class TransformNode(NodeBase):
    transform: str = ""


@dataclass(frozen=True, kw_only=True)
class HitlNode(NodeBase):
    hitl_type: str = "approval"
    prompt: str = ""
    context_keys: tuple[str, ...] = ()
    choices: tuple[Any, ...] = ()
    default_value: Any = None
    fallback: str = "abort"


@dataclass(frozen=True, kw_only=True)
class TeamMember:
    id: str
    role: str = "executor"
    name: str = ""
    goal: str = ""
    tool_budget: int = 25
    tools: tuple[str, ...] = ()
    backstory: str = ""
    expertise: tuple[str, ...] = ()
    personality: str = ""
    span: SourceSpan | None = None


@dataclass(frozen=True, kw_only=True)
class TeamNode(NodeBase):
    goal: str = ""
    team_formation: str = "sequential"
    members: tuple[TeamMember, ...] = ()
    total_tool_budget: int = 100
    max_iterations: int = 50
    merge_strategy: str = "dict"
    merge_mode: str = "team_wins"


Node = AgentNode | ComputeNode | ConditionNode | ParallelNode | TransformNode | HitlNode | TeamNode


@dataclass(frozen=True, slots=True)
class ExecutionSettings:
    """Workflow-level `execution:` limits (also accepted at the workflow's top level)."""

    max_iterations: int = 25
    timeout: float | None = None
    default_node_timeout: float | None = None
    max_retries: int = 0
    max_recursion_depth: int = 3
    node_visit_limit: int = 100


@dataclass(frozen=True, kw_only=True)
class Workflow:
    """One compiled workflow. `nodes` keep their written order."""

    name: str
    description: str = ""
    nodes: tuple[Node, ...]
    start_node: str
    settings: ExecutionSettings = ExecutionSettings()
    metadata: Mapping[str, Any] = field(default_factory=dict, hash=False)
    source: str
    """The file (path or URI) the workflow was compiled from."""
    span: SourceSpan
    name_span: SourceSpan
    start_span: SourceSpan | None = None
    """The value of `start_node` when it is written."""
    node_index: Mapping[str, Node] = field(default_factory=dict, hash=False, compare=False)

    def node(self, node_id: str) -> Node:
        """The node with this id; raises KeyError naming the id when absent."""
        try:
            return self.node_index[node_id]
        except KeyError:
            raise KeyError(f"workflow {self.name!r} has no node {node_id!r}") from None

    def has_node(self, node_id: str) -> bool:
        return node_id in self.node_index

    def node_at_line(self, line: int) -> Node | None:
        """The node whose block contains this 0-based line, if any."""
        for node in self.nodes:
            if node.span.contains_line(line):
                return node
        return None


class FileKind(StrEnum):
    WORKFLOWS = "workflows"
    NODE_LIBRARY = "node_library"
    STAGE_LIBRARY = "stage_library"
    NOT_WORKFLOW = "not_workflow"
    """YAML that holds no workflows: adapters stay silent on it."""


@dataclass(frozen=True, kw_only=True)
class CompileResult:
    """What `engine.compile` returns. It never raises on user input."""

    source: str
    kind: FileKind
    workflows: tuple[Workflow, ...] = ()
    problems: tuple[Problem, ...] = ()
    dependencies: tuple[str, ...] = ()
    """Files this result was built from besides `source` (libraries, stages)."""
    syntax: Any = field(default=None, compare=False, repr=False)
    """The `engine.loader.ParsedYaml` (tree with spans, lines) it was built from."""

    @property
    def errors(self) -> tuple[Problem, ...]:
        return tuple(p for p in self.problems if p.severity is Severity.ERROR)

    @property
    def ok(self) -> bool:
        return not self.errors

    def workflow(self, name: str) -> Workflow | None:
        for wf in self.workflows:
            if wf.name == name:
                return wf
        return None

    @property
    def workflow_names(self) -> tuple[str, ...]:
        return tuple(wf.name for wf in self.workflows)
