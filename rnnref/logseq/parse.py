"""Read a Logseq / Markdown ontology page into plain records, keeping line numbers.

The page is read section by section (a section starts at a Markdown heading, also one
written as a Logseq block, ``- ### OntologyBlock``):

- OntologyBlock and Relationships: every line is a ``key:: value`` property;
- Technical Details and Metadata: every top-level bullet is ``**Key**: value`` (or
  ``key:: value``); nested bullets and text after a ``---`` rule are ignored;
- a heading that names a definition (``### Primary Definition``, also when the seed's
  writer put it at the end of a text line): its first line is the definition;
- everything else is body text, whose ``[[wiki links]]`` are kept as mentions;
- references: every DOI or arXiv id anywhere, with the list item around it (authors,
  year, title, venue), and the items of a References section without either.

Anything malformed (a property line without ``::``, an unbalanced ``[[``, a duplicated
term-id, an OntologyBlock without term-id or preferred-term, invalid UTF-8, a binary
file) raises InputError naming the file and line.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

from rnnref.errors import InputError

MAX_PAGE_BYTES = 20_000_000

# The sections of a page, by what its heading says.
ONTOLOGY, RELATIONSHIPS, TECHNICAL, METADATA, DEFINITION, REFERENCES, BODY, PREAMBLE = (
    "ontology", "relationships", "technical", "metadata", "definition", "references", "body", "preamble",
)
PROPERTY_SECTIONS = (ONTOLOGY, RELATIONSHIPS, TECHNICAL, METADATA)

_HEADING = re.compile(r"^\s*(?:[-*+]\s+)?(#{1,6})\s+(.*?)\s*#*\s*$")
_TRAILING_DEFINITION_HEADING = re.compile(r"\S\s+#{1,6}\s+([^#]*\bdefinition\b[^#]*?)\s*$", re.IGNORECASE)
_RULE = re.compile(r"^\s*(?:-{3,}|\*{3,}|_{3,})\s*$")
_FENCE = re.compile(r"^\s*(```|~~~)")
_BULLET = re.compile(r"^(?P<indent>[ \t]*)(?P<marker>[-*+]|\d+[.)])(?:\s+(?P<text>.*)|\s*)$")
_PROPERTY = re.compile(r"^(?P<key>[A-Za-z][\w.:/-]*?)::(?P<value>.*)$")
_BOLD_PROPERTY = (
    re.compile(r"^\*\*(?P<key>[^*]+?)\*\*\s*:\s*(?P<value>.*)$"),
    re.compile(r"^\*\*(?P<key>[^*]+?):\*\*\s*(?P<value>.*)$"),
    _PROPERTY,
    re.compile(r"^(?P<key>[A-Za-z][\w ./-]{0,40}?):\s+(?P<value>.*)$"),
)
_CODE_SPAN = re.compile(r"`[^`\n]*`")
_LINK_TOKEN = re.compile(r"\[\[|\]\]")
_LINK = re.compile(r"\[\[(?P<body>(?:(?!\]\]).)+?)\]\]")
_DOI = re.compile(r"\b(10\.\d{4,9}/[^\s\]\[()<>\"'|]+)")
_ARXIV = re.compile(r"arxiv(?:\.org/(?:abs|pdf)/|\s*:\s*)([a-z-]+(?:\.[A-Z]{2})?/\d{7}|\d{4}\.\d{4,5})(?:v\d+)?", re.IGNORECASE)
_ARXIV_DOI = re.compile(r"^10\.48550/arxiv\.(.+)$", re.IGNORECASE)
_YEAR_IN_PARENS = re.compile(r"\((\d{4})[a-z]?\)")
INTRODUCED_TAG = "#introduced-in"


def normalise_key(name: str) -> str:
    """A property name as a key: ASCII, lowercase, words joined by hyphens
    (``Source Domain``, ``source-domain`` and ``Owl:Class`` -> ``owl-class``)."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii").lower()
    return re.sub(r"[^a-z0-9]+", "-", ascii_name).strip("-")


def plain_text(text: str) -> str:
    """Markdown text as plain text: wiki links by their label, bold markers and extra
    whitespace removed."""
    text = _LINK.sub(lambda m: _split_link(m.group("body"))[1] or _split_link(m.group("body"))[0], text)
    text = text.replace("**", "").replace("__", "")
    return " ".join(text.split())


def _split_link(body: str) -> tuple[str, str | None]:
    target, bar, label = body.partition("|")
    return " ".join(target.split()), (" ".join(label.split()) or None) if bar else None


@dataclass(frozen=True)
class Link:
    """A ``[[target]]`` or ``[[target|label]]`` link."""

    target: str
    label: str | None
    line: int
    section: str


def links_in(text: str, line: int, section: str) -> list[Link]:
    out = []
    for m in _LINK.finditer(_CODE_SPAN.sub("", text)):
        target, label = _split_link(m.group("body"))
        if target:
            out.append(Link(target, label, line, section))
    return out


@dataclass
class Property:
    """One ``key:: value`` or ``**Key**: value`` line."""

    key: str  # normalised (see normalise_key)
    name: str  # as written
    value: str  # the raw text after the separator
    line: int
    section: str

    @property
    def links(self) -> list[Link]:
        return links_in(self.value, self.line, self.section)

    @property
    def is_link_list(self) -> bool:
        """True when the value is nothing but links separated by commas."""
        rest = _LINK.sub("", _CODE_SPAN.sub("", self.value))
        return bool(self.links) and not rest.replace(",", " ").strip()

    @property
    def plain(self) -> str:
        return plain_text(self.value)

    def names(self) -> list[str]:
        """The names the value lists: link targets, or else comma-separated words."""
        if self.links:
            return [link.target for link in self.links]
        return [part.strip() for part in plain_text(self.value).split(",") if part.strip()]


@dataclass
class Reference:
    """A cited work: its identifiers and what the page says about it."""

    line: int
    doi: str | None = None
    arxiv: str | None = None
    title: str | None = None
    authors: str | None = None
    year: int | None = None
    venue: str | None = None
    introduced: bool = False
    text: str = ""

    @property
    def key(self) -> str:
        return f"doi:{self.doi.lower()}" if self.doi else f"arxiv:{self.arxiv}" if self.arxiv else f"line:{self.line}"


@dataclass
class Page:
    path: Path
    name: str  # the path as the user gave it, for messages
    term_id: str
    term_id_line: int
    preferred_term: str
    preferred_term_line: int
    block_line: int
    ontology_flag: str | None = None
    properties: list[Property] = field(default_factory=list)
    metadata: list[Property] = field(default_factory=list)
    definition: str | None = None
    definition_line: int | None = None
    links: list[Link] = field(default_factory=list)  # links in body text (mentions)
    references: list[Reference] = field(default_factory=list)

    def where(self, line: int | None) -> str:
        return f"{self.name}:{line}" if line else self.name


# -- reading -------------------------------------------------------------------------------------


def read_page_text(path: Path, name: str | None = None) -> str:
    """The page's text, or InputError for a missing, binary or non-UTF-8 file."""
    name = name or str(path)
    if not path.exists():
        raise InputError(f"{name}: no such file")
    if path.is_dir():
        raise InputError(f"{name}: is a folder, not a Logseq page")
    try:
        if path.stat().st_size > MAX_PAGE_BYTES:
            raise InputError(f"{name}: larger than {MAX_PAGE_BYTES // 1_000_000} MB; not a Logseq page")
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(f"{name}: cannot read: {exc.strerror or exc}") from None
    if b"\x00" in data:
        line = data[: data.index(b"\x00")].count(b"\n") + 1
        raise InputError(f"{name}:{line}: binary data (a NUL byte); not a Logseq page")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise InputError(f"{name}:{line}: invalid UTF-8 (byte 0x{data[exc.start]:02x}); save the page as UTF-8") from None
    return text.removeprefix("\ufeff")


def parse_page(path: str | Path, name: str | None = None) -> Page:
    path = Path(path)
    name = name or str(path)
    return parse_text(read_page_text(path, name), path, name)


def _section_kind(title: str) -> str:
    key = normalise_key(re.sub(r"\[[^\[\]]*\]", "", title))
    if key in ("ontologyblock", "ontology-block"):
        return ONTOLOGY
    if key == "relationships":
        return RELATIONSHIPS
    if key == "technical-details":
        return TECHNICAL
    if key == "metadata":
        return METADATA
    if "definition" in key.split("-"):
        return DEFINITION
    if key in ("references", "bibliography"):
        return REFERENCES
    return BODY


def _indent(text: str) -> int:
    return len(text.expandtabs(4))


def _check_brackets(text: str, name: str, number: int) -> None:
    depth = 0
    for m in _LINK_TOKEN.finditer(_CODE_SPAN.sub("", text)):
        if m.group(0) == "[[":
            depth += 1
        elif depth == 0:
            raise InputError(f"{name}:{number}: ']]' without a matching '[[' in {text.strip()[:80]!r}")
        else:
            depth -= 1
    if depth:
        raise InputError(f"{name}:{number}: unbalanced '[[': a wiki link is never closed in {text.strip()[:80]!r}")
    for m in _LINK.finditer(_CODE_SPAN.sub("", text)):
        if not _split_link(m.group("body"))[0]:
            raise InputError(f"{name}:{number}: empty wiki link target in {text.strip()[:80]!r}")


def parse_text(text: str, path: Path, name: str) -> Page:
    lines = text.splitlines()
    section = PREAMBLE
    in_fence = False
    props: list[Property] = []
    metadata: list[Property] = []
    body_links: list[Link] = []
    block_line: int | None = None
    definition: tuple[str, int] | None = None
    top_indent: dict[int, int] = {}  # first line of a technical/metadata section -> its bullet indent
    section_start = 0
    kinds: list[str | None] = [None] * len(lines)  # the section of each line (None inside code)

    for number, line in enumerate(lines, start=1):
        if _FENCE.match(line):
            in_fence = not in_fence
            continue
        if in_fence:
            continue
        _check_brackets(line, name, number)
        heading = _HEADING.match(line)
        if heading:
            section = _section_kind(heading.group(2))
            section_start = number
            if section == ONTOLOGY and block_line is None:
                block_line = number
            body_links += [
                link for link in links_in(heading.group(2), number, BODY) if section not in PROPERTY_SECTIONS
            ]
            continue
        if not line.strip():
            continue
        kinds[number - 1] = section
        if _RULE.match(line):
            if section in PROPERTY_SECTIONS:
                section = BODY
            continue
        bullet = _BULLET.match(line)
        content = (bullet.group("text") or "") if bullet else line.strip()

        if section in (ONTOLOGY, RELATIONSHIPS) or (section == PREAMBLE and _PROPERTY.match(content.strip())):
            if not content.strip():
                continue
            m = _PROPERTY.match(content.strip())
            if not m:
                where = "OntologyBlock" if section in (ONTOLOGY, PREAMBLE) else "Relationships section"
                raise InputError(f"{name}:{number}: expected a 'key:: value' property in the {where}, got {content.strip()[:80]!r}")
            if not m.group("value").strip():
                raise InputError(f"{name}:{number}: property {m.group('key')!r} has no value")
            kind = RELATIONSHIPS if section == RELATIONSHIPS else ONTOLOGY
            if section == PREAMBLE and block_line is None:
                block_line = number
            props.append(Property(normalise_key(m.group("key")), m.group("key"), m.group("value").strip(), number, kind))
            continue

        if section in (TECHNICAL, METADATA):
            if not bullet:
                continue  # running text between the list items
            indent = _indent(bullet.group("indent"))
            top = top_indent.setdefault(section_start, indent)
            if indent > top or not content.strip():
                continue  # nested detail of an item
            for pattern in _BOLD_PROPERTY:
                m = pattern.match(content.strip())
                if m:
                    break
            else:
                where = "Technical Details" if section == TECHNICAL else "Metadata"
                raise InputError(f"{name}:{number}: expected '**Key**: value' in {where}, got {content.strip()[:80]!r}")
            key = normalise_key(m.group("key"))
            if not key:
                raise InputError(f"{name}:{number}: property name {m.group('key')!r} has no letters or digits")
            if not m.group("value").strip():
                raise InputError(f"{name}:{number}: property {m.group('key').strip()!r} has no value")
            prop = Property(key, m.group("key").strip(), m.group("value").strip(), number, section)
            (metadata if section == METADATA else props).append(prop)
            continue

        # body, definition and references text
        body_links += links_in(line, number, section if section != PREAMBLE else BODY)
        if section == DEFINITION and definition is None and content.strip():
            definition = (plain_text(content), number)
        if section != DEFINITION and _TRAILING_DEFINITION_HEADING.search(line):
            section = DEFINITION
            section_start = number
    if in_fence:
        raise InputError(f"{name}:{len(lines)}: a code block (```) is never closed")

    term_id = _single(props, "term-id", name, block_line)
    preferred = _single(props, "preferred-term", name, block_line)
    if block_line is None:
        raise InputError(f"{name}:1: no OntologyBlock: a Logseq ontology page needs term-id:: and preferred-term:: properties")
    if term_id is None:
        raise InputError(f"{name}:{block_line}: the OntologyBlock has no term-id:: property")
    if preferred is None:
        raise InputError(f"{name}:{block_line}: the OntologyBlock has no preferred-term:: property")
    term_id_text = plain_text(term_id.value)
    if not re.fullmatch(r"[A-Za-z0-9][\w.:/-]*", term_id_text):
        raise InputError(f"{name}:{term_id.line}: term-id {term_id_text!r} is not an identifier (letters, digits, '-', '_', '.', ':')")
    preferred_text = plain_text(preferred.value)
    if len(preferred_text) < 2:
        raise InputError(f"{name}:{preferred.line}: preferred-term {preferred_text!r} is too short")
    for prop in metadata + [p for p in props if p.section != ONTOLOGY]:
        if prop.key == "term-id" and plain_text(prop.value) != term_id_text:
            raise InputError(
                f"{name}:{prop.line}: term-id {plain_text(prop.value)!r} differs from the OntologyBlock's {term_id_text!r} (line {term_id.line})"
            )

    page = Page(
        path=path,
        name=name,
        term_id=term_id_text,
        term_id_line=term_id.line,
        preferred_term=preferred_text,
        preferred_term_line=preferred.line,
        block_line=block_line,
        properties=[p for p in props if p.key not in ("term-id", "preferred-term")],
        metadata=[p for p in metadata if p.key != "term-id"],
        links=body_links,
    )
    flag = next((p for p in props if p.key == "ontology"), None)
    page.ontology_flag = plain_text(flag.value).lower() if flag else None
    page.properties = [p for p in page.properties if p.key != "ontology"]
    own_definition = next((p for p in props if p.key == "definition" and p.section == ONTOLOGY), None)
    if own_definition is not None:
        page.definition, page.definition_line = own_definition.plain, own_definition.line
        page.properties = [p for p in page.properties if p is not own_definition]
    elif definition is not None:
        page.definition, page.definition_line = definition
    page.references = _references(lines, kinds)
    return page


def _single(props: list[Property], key: str, name: str, block_line: int | None) -> Property | None:
    found = [p for p in props if p.key == key and p.section == ONTOLOGY]
    if len(found) > 1:
        raise InputError(f"{name}:{found[1].line}: duplicated {key}:: (first given at line {found[0].line})")
    return found[0] if found else None


# -- references ----------------------------------------------------------------------------------


def identifiers(text: str) -> tuple[list[str], list[str]]:
    """The DOIs and arXiv ids a line names (an arXiv DOI counts as an arXiv id too)."""
    dois, arxivs = [], []
    for m in _DOI.finditer(text):
        doi = m.group(1).rstrip(".,;:*_")
        arxiv_doi = _ARXIV_DOI.match(doi)
        if arxiv_doi:
            arxivs.append(arxiv_doi.group(1))
        if doi not in dois:
            dois.append(doi)
    for m in _ARXIV.finditer(text):
        if m.group(1) not in arxivs:
            arxivs.append(m.group(1))
    return dois, arxivs


def _item_starts(lines: list[str], kinds: list[str | None]) -> list[int | None]:
    """The bullet indent of each line that starts a list item, else None."""
    out: list[int | None] = []
    for line, kind in zip(lines, kinds):
        bullet = _BULLET.match(line) if kind is not None else None
        out.append(_indent(bullet.group("indent")) if bullet else None)
    return out


def _item_block(lines: list[str], starts: list[int | None], kinds: list[str | None], index: int) -> list[int]:
    """The line indexes of the list item starting at ``index`` and its nested items."""
    own = starts[index]
    block = [index]
    for j in range(index + 1, len(lines)):
        if not lines[j].strip():
            continue
        if kinds[j] is None or _RULE.match(lines[j]):
            break  # a heading, a code block or a rule ends the item
        if starts[j] is not None and starts[j] <= own:
            break
        if starts[j] is None and _indent(re.match(r"^[ \t]*", lines[j]).group(0)) <= own:
            break
        block.append(j)
    return block


def _enclosing_items(lines: list[str], starts: list[int | None], index: int) -> list[int]:
    """The item that line ``index`` belongs to and its parents, innermost first."""
    chain = [index] if starts[index] is not None else []
    limit = starts[index]
    for j in range(index - 1, -1, -1):
        if _HEADING.match(lines[j]):
            break
        if starts[j] is None:
            continue
        if limit is None or starts[j] < limit:
            chain.append(j)
            limit = starts[j]
            if limit == 0:
                break
    return chain


def _strip_bullet(line: str) -> str:
    bullet = _BULLET.match(line)
    return (bullet.group("text") or "") if bullet else line.strip()


def _describe(ref: Reference, lines: list[str], block: list[int]) -> None:
    """Fill authors, year, title and venue of a reference from its list item."""
    first = plain_text(_strip_bullet(lines[block[0]]))
    ref.text = first
    year = _YEAR_IN_PARENS.search(first)
    if year:
        ref.year = int(year.group(1))
        authors = first[: year.start()].strip().rstrip(",").strip()
        ref.authors = authors or None
        rest = first[year.end():].lstrip(".:;, ").strip()
        venue = re.search(r"\*([^*]+)\*", rest)
        title = rest[: venue.start()] if venue else re.split(r"\s\[|\s(?:https?://)", rest)[0]
        title = title.strip().rstrip(".").strip()
        if title and not title.startswith(("[", "http")):
            ref.title = title
        if venue:
            ref.venue = " ".join(venue.group(1).split())
    for j in block[1:]:
        child = _strip_bullet(lines[j]).strip()
        m = re.match(r'^\**title\**\s*:\s*\**\s*"?(.+?)"?\s*$', child, re.IGNORECASE)
        if m and not ref.title:
            ref.title = plain_text(m.group(1)).strip('"“” ')
            continue
        m = re.match(r'^["“](.+)["”]$', child)
        if m and not ref.title:
            ref.title = plain_text(m.group(1))
            continue
        m = re.match(r"^\**(?:journal|conference|venue|published in)\**\s*:\s*(.+)$", child, re.IGNORECASE)
        if m and not ref.venue:
            italic = re.search(r"\*([^*]+)\*", m.group(1))
            ref.venue = " ".join((italic.group(1) if italic else plain_text(m.group(1))).split())
            continue
        m = re.match(r"^\*([^*]+)\*", child)
        if m and not ref.venue:
            ref.venue = " ".join(m.group(1).split())
    ref.introduced = any(INTRODUCED_TAG in lines[j].lower() for j in block)


def _references(lines: list[str], kinds: list[str | None]) -> list[Reference]:
    starts = _item_starts(lines, kinds)
    found: dict[str, Reference] = {}
    order: list[str] = []

    def add(ref: Reference) -> None:
        keys = [f"doi:{ref.doi.lower()}"] if ref.doi else []
        keys += [f"arxiv:{ref.arxiv}"] if ref.arxiv else []
        known = next((found[k] for k in keys if k in found), None)
        if known is None:
            for k in keys or [ref.key]:
                found[k] = ref
            order.append(keys[0] if keys else ref.key)
            return
        for attr in ("doi", "arxiv", "title", "authors", "year", "venue"):
            if getattr(known, attr) is None and getattr(ref, attr) is not None:
                setattr(known, attr, getattr(ref, attr))
        known.introduced = known.introduced or ref.introduced
        for k in keys:
            found.setdefault(k, known)

    for index, (line, kind) in enumerate(zip(lines, kinds)):
        if kind is None or kind in PROPERTY_SECTIONS:
            continue
        dois, arxivs = identifiers(_strip_bullet(line))
        if not dois and not arxivs:
            if kind == REFERENCES and starts[index] == 0:
                block = _item_block(lines, starts, kinds, index)
                if not any(any(identifiers(lines[j])) for j in block):
                    ref = Reference(line=index + 1)
                    _describe(ref, lines, block)
                    if ref.text:
                        add(ref)
            continue
        chain = _enclosing_items(lines, starts, index) or [index]
        head = next((j for j in chain if _YEAR_IN_PARENS.search(lines[j])), chain[0])
        block = _item_block(lines, starts, kinds, head) if starts[head] is not None else [head]
        doi = next((d for d in dois if not _ARXIV_DOI.match(d)), dois[0] if dois else None)
        ref = Reference(line=index + 1, doi=doi, arxiv=arxivs[0] if arxivs else None)
        _describe(ref, lines, block)
        add(ref)
    seen: set[int] = set()
    out = []
    for key in order:
        ref = found[key]
        if id(ref) not in seen:
            seen.add(id(ref))
            out.append(ref)
    return out
