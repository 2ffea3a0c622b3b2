"""Turning graph text into Markdown that renders as exactly that text.

Everything the graph says reaches a page through this module. The page templates
render with ``finalize=escape_value``: every ``{{ value }}`` is escaped as plain text
unless a helper here has already built it into Markdown (an ``MdSafe`` string). A
forgotten filter therefore shows a little too much backslash, never a tag or a link.

How text is escaped (``md_text``):

- ``&``, ``<`` and ``>`` become HTML entities, so no raw HTML can start;
- ``[`` ``]`` ``$`` ``|`` ``~`` ``^`` become numeric entities, so no link, image,
  math (pymdownx.arithmatex reads ``\\[``, ``\\(`` and ``$``), table cell or
  optional pymdownx inline syntax can start, whatever extensions are on;
- the other characters Python-Markdown's core treats as syntax get a backslash
  (``\\ ` * _ { } # + - . !``: emphasis, code, attribute lists, headings, lists);
  parentheses stay as they are, as a backslash before them would start
  arithmatex's ``\\( ... \\)`` inline math;
- control characters are dropped and whitespace is folded to single spaces, so a
  value can never open a new block (a heading, a list, an indented code block).

Links to the outside are made only for http and https URLs; anything else is shown
as text. Equations go only into ``$$ ... $$`` blocks on one line, where
pymdownx.arithmatex HTML-escapes them itself.
"""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import quote, urlsplit

# A subset of Python-Markdown's core ESCAPED_CHARS (markdown.Markdown.ESCAPED_CHARS):
# a backslash before any of these yields the bare character with any extensions.
_BACKSLASH = frozenset("\\`*_{}#+-.!")
_ENTITY = {
    "&": "&amp;", "<": "&lt;", ">": "&gt;",
    "[": "&#91;", "]": "&#93;", "$": "&#36;", "|": "&#124;", "~": "&#126;", "^": "&#94;",
}
_URL_SAFE = ":/?#@!&+,;=%~-._"  # kept as they are in an href; everything else is %-encoded


class MdSafe(str):
    """Markdown built by this module from escaped parts: templates emit it as is."""


def _clean(value: object) -> str:
    text = "" if value is None else str(value)
    text = "".join(" " if unicodedata.category(c) == "Cc" else c for c in text)
    return " ".join(text.split())


def md_text(value: object) -> MdSafe:
    """``value`` as inline Markdown that renders as exactly its text, on one line."""
    out = []
    for c in _clean(value):
        if c in _ENTITY:
            out.append(_ENTITY[c])
        elif c in _BACKSLASH:
            out.append("\\" + c)
        else:
            out.append(c)
    return MdSafe("".join(out))


def md_paragraphs(value: object) -> MdSafe:
    """Like ``md_text``, but blank lines in ``value`` separate paragraphs."""
    text = "" if value is None else str(value)
    parts = [md_text(p) for p in re.split(r"\n\s*\n", text)]
    return MdSafe("\n\n".join(p for p in parts if p))


def md_code(value: object) -> MdSafe:
    """``value`` as an inline code span (Markdown escapes code spans itself)."""
    text = _clean(value)
    if not text:
        return MdSafe("")
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    ticks = "`" * (longest + 1)
    pad = " " if longest or text.startswith("`") or text.endswith("`") else ""
    return MdSafe(f"{ticks}{pad}{text}{pad}{ticks}")


def safe_url(url: object) -> str | None:
    """``url`` made fit for an href if it is an absolute http(s) URL, else None."""
    text = _clean(url)
    if not text or " " in text:
        return None
    try:
        parts = urlsplit(text)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        return None
    return quote(text, safe=_URL_SAFE)


def link(text: object, url: object) -> MdSafe:
    """A Markdown link with escaped text, or the text and the URL as plain text if the
    URL is not http(s)."""
    href = safe_url(url)
    if href is None:
        shown = md_text(text)
        raw = _clean(url)
        if not raw:
            return shown
        return MdSafe(f"{shown} ({md_code(raw)})" if shown else md_code(raw))
    return MdSafe(f"[{md_text(text) or md_text(url)}]({href})")


def doi_url(doi: object) -> str | None:
    text = _clean(doi)
    text = re.sub(r"^(?:https?://(?:dx\.)?doi\.org/|doi:\s*)", "", text, flags=re.I)
    return "https://doi.org/" + quote(text, safe="/.-_") if text else None


def arxiv_url(arxiv: object) -> str | None:
    text = _clean(arxiv)
    text = re.sub(r"^(?:arxiv:\s*|https?://arxiv\.org/abs/)", "", text, flags=re.I)
    return "https://arxiv.org/abs/" + quote(text, safe="/.-_") if text else None


def math_block(equation: object) -> MdSafe:
    """One display equation as a one-line ``$$ ... $$`` block.

    On one line, nothing in the equation can start an HTML block or end the math
    block early (arithmatex matches the whole block); arithmatex then escapes
    ``&``, ``<`` and ``>`` in its output, and MathJax reads them back as text.
    """
    text = _clean(equation)
    return MdSafe(f"$$ {text} $$") if text else MdSafe("")


def code_block(source: str, language: str = "") -> MdSafe:
    """A fenced code block longer-fenced than any backtick run inside ``source``."""
    longest = max((len(run) for run in re.findall(r"`{3,}", source)), default=0)
    fence = "`" * max(3, longest + 1)
    body = source.replace("\r\n", "\n").replace("\r", "\n").rstrip("\n")
    return MdSafe(f"{fence}{language}\n{body}\n{fence}")


def escape_value(value: object) -> str:
    """Jinja ``finalize``: escape whatever a template prints unless it is MdSafe."""
    if isinstance(value, MdSafe):
        return value
    if value is None:
        return ""
    return md_text(value)



_SCRIPT_JSON = {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "\u2028": "\\u2028", "\u2029": "\\u2029"}


def script_json(data: object) -> str:
    """JSON for the body of a ``<script type="application/ld+json">`` element.

    ``<``, ``>`` and ``&`` become ``\\u003c`` and so on (the same string to a JSON
    parser), so no value can close the script element or open a comment in it;
    the result is ASCII only, fit for a YAML double-quoted scalar as it is.
    """
    import json

    text = json.dumps(data, ensure_ascii=True, separators=(",", ":"), sort_keys=False)
    return "".join(_SCRIPT_JSON.get(c, c) for c in text)


def mermaid_text(value: object) -> str:
    """Text for a Mermaid label inside double quotes: every character but letters,
    digits and spaces as a Mermaid entity code (``#60;``), which Mermaid turns
    into an HTML character reference in its SVG, so it is shown as text."""
    return "".join(c if (c.isascii() and c.isalnum()) or c == " " else f"#{ord(c)};" for c in _clean(value))
