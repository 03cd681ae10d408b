"""Errors, validation issues and evaluation notes of the expression language.

Positions are 0-based, in code points, relative to the expression text (not to
the YAML file): the caller adds the offset of the scalar. This module knows
nothing of parsing, evaluation or the workflow model beyond `Severity`.
"""

from __future__ import annotations

from dataclasses import dataclass

from engine.model import Severity

Span = tuple[int, int, int, int]
"""(line, column, end_line, end_column): 0-based code points, end exclusive."""

NO_SPAN: Span = (0, 0, 0, 0)


class ExpressionError(Exception):
    """Base of every error the expression language raises on user input."""

    def __init__(self, message: str, span: Span = NO_SPAN, *, construct: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.line, self.column, self.end_line, self.end_column = span
        self.construct = construct

    @property
    def span(self) -> Span:
        return (self.line, self.column, self.end_line, self.end_column)

    def __str__(self) -> str:
        return f"{self.message} (line {self.line + 1}, column {self.column + 1})"


class ExpressionSyntaxError(ExpressionError):
    """The text cannot be parsed, or uses a construct outside the safe subset.

    `unsupported` is True for constructs that are valid Python but outside the
    subset (`def`, `while`, `import`, ...): validation reports those as warnings,
    because Victor silently skipped them, while a run refuses them.
    """

    def __init__(
        self,
        message: str,
        span: Span = NO_SPAN,
        *,
        construct: str | None = None,
        unsupported: bool = False,
    ) -> None:
        super().__init__(message, span, construct=construct)
        self.unsupported = unsupported


class ExpressionRuntimeError(ExpressionError):
    """Evaluation failed; the message names the operation and the values involved."""


@dataclass(frozen=True, slots=True)
class ExpressionIssue:
    """One validation finding for an expression or transform text."""

    severity: Severity
    message: str
    line: int
    column: int
    end_line: int
    end_column: int
    construct: str | None = None

    @staticmethod
    def from_error(error: ExpressionSyntaxError) -> ExpressionIssue:
        severity = Severity.WARNING if error.unsupported else Severity.ERROR
        return ExpressionIssue(severity, error.message, *error.span, construct=error.construct)


@dataclass(frozen=True, slots=True)
class ExpressionNote:
    """Something evaluation did that a trace should show (a null read, a null comparison)."""

    message: str
    line: int
    column: int
    end_line: int
    end_column: int

    def __str__(self) -> str:
        return self.message
