"""Keep the query path read-only.

The local store would refuse an update anyway (``Store.query`` only parses queries),
but a user deserves to be told why, and a query sent to a remote endpoint later must
be refused before it leaves the machine. So the text is scanned for the keywords of
SPARQL Update and for SERVICE (federation), ignoring comments, strings and IRIs.
"""

from __future__ import annotations

import re

from rnnref.errors import InputError

_TOKENS = re.compile(
    r'''"""(?:[^"\\]|\\.|"(?!""))*"""|\'\'\'(?:[^'\\]|\\.|'(?!''))*\'\'\''''
    r'''|"(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*'|<[^<>"{}|^`\\\s]*>|#[^\n]*'''
    # variables and prefixed names, so ?add or ex:insert are not read as keywords
    r'''|[?$]\w+|[A-Za-z_][\w.-]*:[\w.-]*|:[\w.-]*''',
)
_UPDATE = re.compile(r"\b(INSERT|DELETE|LOAD|CLEAR|CREATE|DROP|COPY|MOVE|ADD|WITH)\b", re.IGNORECASE)
_SERVICE = re.compile(r"\bSERVICE\b", re.IGNORECASE)


def _code_only(text: str) -> str:
    """The query with comments, strings, IRIs, variables and prefixed names blanked out."""
    return _TOKENS.sub(" ", text)


def check_read_only(text: str, *, allow_service: bool = False) -> None:
    code = _code_only(text)
    update = _UPDATE.search(code)
    if update:
        raise InputError(
            f"SPARQL Update ({update.group(1).upper()}) is refused: the query path is read-only; edit the Turtle under kg/ instead"
        )
    if not allow_service and _SERVICE.search(code):
        raise InputError("SERVICE (federated query) is refused by default: it would send data to another endpoint")
