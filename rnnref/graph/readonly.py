"""Keep the query path read-only.

The local store would refuse an update anyway (``Store.query`` only parses queries),
but a user deserves to be told why, and a query sent to a remote endpoint later must
be refused before it leaves the machine. So the text is scanned for the keywords of
SPARQL Update and for SERVICE (federation), ignoring comments, strings and IRIs.
"""

from __future__ import annotations

import re

from rnnref.errors import InputError

_LITERALS = (
    r'''"""(?:[^"\\]|\\.|"(?!""))*"""|\'\'\'(?:[^'\\]|\\.|'(?!''))*\'\'\''''
    r'''|"(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*'|<[^<>"{}|^`\\\s]*>|#[^\n]*'''
)
# variables and prefixed names, so ?add or ex:insert are not read as keywords
_NAMES = r'''|[?$]\w+|[A-Za-z_][\w.-]*:[\w.-]*|:[\w.-]*'''
_TOKENS = re.compile(_LITERALS + _NAMES)
_LITERALS_ONLY = re.compile(_LITERALS + r'''|[A-Za-z_][\w.-]*:[\w.-]*|:[\w.-]*''')
_UPDATE = re.compile(r"\b(INSERT|DELETE|LOAD|CLEAR|CREATE|DROP|COPY|MOVE|ADD|WITH)\b", re.IGNORECASE)
_SERVICE = re.compile(r"\bSERVICE\b", re.IGNORECASE)


def code_only(text: str, *, keep_variables: bool = False) -> str:
    """The query with comments, strings, IRIs and prefixed names (and variables) blanked out."""
    return (_LITERALS_ONLY if keep_variables else _TOKENS).sub(" ", text)


_code_only = code_only  # the name earlier callers used


def update_keyword(text: str) -> str | None:
    """The first SPARQL Update keyword of the text (INSERT, DROP, ...), or None for a query."""
    m = _UPDATE.search(code_only(text))
    return m.group(1).upper() if m else None


def uses_service(text: str) -> bool:
    return bool(_SERVICE.search(code_only(text)))


def check_read_only(text: str, *, allow_service: bool = False, allow_update: bool = False) -> None:
    """Refuse SPARQL Update and SERVICE unless the caller allowed them explicitly."""
    keyword = update_keyword(text)
    if keyword and not allow_update:
        raise InputError(
            f"SPARQL Update ({keyword}) is refused: the query path is read-only; edit the Turtle under kg/ instead"
            " (or pass --allow-update to change an in-memory copy that is never written to disk)"
        )
    if not allow_service and uses_service(text):
        raise InputError(
            "SERVICE (federated query) is refused by default: it would send data to another endpoint; pass --allow-service to allow it"
        )
