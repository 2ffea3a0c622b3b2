"""Errors the CLI turns into one line on stderr and an exit code.

Library code raises these; only the CLI decides how to print them. Exit codes follow
the CLI contract in DESIGN.md: 1 for "not found" and validation failures, 2 for
usage and input errors.
"""

from __future__ import annotations


class RnnrefError(Exception):
    """Base class: a failure with a message fit for one line on stderr."""

    exit_code = 2


class InputError(RnnrefError):
    """The user's input (a file, a query, an argument) cannot be used."""

    exit_code = 2


class GraphSyntaxError(InputError):
    """A Turtle file does not parse; the message names the file and line."""

    def __init__(self, path: str, line: int | None, column: int | None, detail: str, text: str | None = None):
        self.path, self.line, self.column, self.detail, self.text = path, line, column, detail, text
        where = f"{path}:{line}" + (f":{column}" if column else "") if line else path
        # The parser's detail can quote a whole multi-line literal: keep one short line.
        detail = " ".join(str(detail).split())
        if len(detail) > 200:
            detail = detail[:197] + "..."
        message = f"{where}: Turtle syntax error: {detail}"
        if text:
            message += f" near {text.strip()[:80]!r}"
        super().__init__(message)


class NotFoundError(RnnrefError):
    """A term, query or file the user named does not exist."""

    exit_code = 1

    def __init__(self, message: str, suggestions: list[str] | None = None):
        self.suggestions = suggestions or []
        super().__init__(message)


class ValidationFailed(RnnrefError):
    exit_code = 1
