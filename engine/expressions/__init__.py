"""The safe expression language of workflows: conditions, transforms, breakpoint
conditions, logpoints, state queries and debugger `evaluate`.

A Python subset parsed with `ast` and compiled once into closures through a
whitelist; there is no eval/exec. The package knows nothing of YAML, editor
protocols or the executor: positions are relative to the expression text.
"""

from engine.expressions.api import (
    CompiledExpression,
    CompiledTransform,
    Evaluation,
    branch_key,
    check_expression,
    check_transform,
    compile_expression,
    compile_transform,
    reference_spans,
    references,
)
from engine.expressions.errors import (
    ExpressionError,
    ExpressionIssue,
    ExpressionNote,
    ExpressionRuntimeError,
    ExpressionSyntaxError,
)
from engine.expressions.functions import BUILTIN_FUNCTIONS
from engine.expressions.methods import ALL_METHODS
from engine.expressions.paths import (
    PathIndexError,
    PathKeyError,
    format_path,
    get_path,
    parse_path,
    set_path,
)
from engine.expressions.references import Reference

__all__ = [
    "ALL_METHODS",
    "BUILTIN_FUNCTIONS",
    "CompiledExpression",
    "CompiledTransform",
    "Evaluation",
    "ExpressionError",
    "ExpressionIssue",
    "ExpressionNote",
    "ExpressionRuntimeError",
    "ExpressionSyntaxError",
    "PathIndexError",
    "PathKeyError",
    "Reference",
    "branch_key",
    "check_expression",
    "check_transform",
    "compile_expression",
    "compile_transform",
    "format_path",
    "get_path",
    "parse_path",
    "reference_spans",
    "references",
    "set_path",
]
