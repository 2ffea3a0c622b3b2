"""The SPARQL cookbook: every named query in ``ontology/queries/*.rq`` (not the QC
queries in subfolders), its question, its text, and the rows it returns on this
graph, run at build time.

A query with a competency header (``# Question:``, ``# Parameter:``, ``# Returns:``,
read by ``rnnref.graph.catalogue``) runs with the example value of each parameter,
typed as ``rnnref query --param`` would type it. An older query is described by its
leading comment; if that asks for a variable to be bound ("Bind ?term.") it runs
with a sample: the LSTM term for ?term (else the first term), the first person,
paper, event, standard, application or framework for a variable of that name. A
query that needs a value this page has no sample for, or that fails, is shown with
the reason instead of rows: a bad query does not stop the site.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyoxigraph as ox

from rnnref.graph import queries as q

MAX_ROWS = 25
_BIND = re.compile(r"\bbind(?:ing|s)?\b([^.\n]*)", re.I)
_VAR = re.compile(r"\?([A-Za-z_]\w*)")
SAMPLE_TYPES = {  # variable name -> the class whose first member is the sample
    "person": "Person",
    "paper": "Paper",
    "event": "HistoricalEvent",
    "standard": "Standard",
    "application": "Application",
    "framework": "SoftwareFramework",
    "source": "Source",
}
_FIRST_OF_TYPE = """
PREFIX rnn: <https://w3id.org/rnnref/ontology#>
SELECT ?x WHERE { ?x a ?type . FILTER(isIRI(?x)) } ORDER BY ?x LIMIT 1
"""


@dataclass
class CookbookEntry:
    name: str  # the file's stem: `rnnref query --name NAME`
    path: str  # "ontology/queries/NAME.rq"
    question: str  # the question, or the leading comment as one text
    text: str  # the whole query
    returns: str = ""  # what the header says it returns
    bindings: dict[str, str] = field(default_factory=dict)  # variable -> value used, as typed on the command line
    columns: list[str] = field(default_factory=list)
    rows: list[dict[str, Any]] = field(default_factory=list)  # at most MAX_ROWS
    total: int = 0
    millis: float = 0.0
    error: str | None = None

    @property
    def command(self) -> str:
        """The command line that runs this query with the values used here."""
        import shlex

        params = [f"--param {shlex.quote(f'{k}={v}')}" for k, v in self.bindings.items()]
        return " ".join(["rnnref query --name", shlex.quote(self.name), *params])


def leading_comment(text: str) -> str:
    lines = []
    for line in text.splitlines():
        stripped = line.strip()
        if stripped.startswith("#"):
            lines.append(stripped.lstrip("#").strip())
        elif stripped:
            break
        elif lines:
            lines.append("")
    return "\n".join(lines).strip()


def bound_variables(comment: str) -> list[str]:
    """The variables a query's comment asks to be bound, in order."""
    found: list[str] = []
    for match in _BIND.finditer(comment):
        for var in _VAR.findall(match.group(1)):
            if var not in found:
                found.append(var)
    return found


def _sample(store: ox.Store, var: str, term_iri: str | None) -> str | None:
    if var == "term":
        return term_iri
    kind = SAMPLE_TYPES.get(var)
    if kind is None:
        return None
    rows = q.select(store, _FIRST_OF_TYPE, {"type": ox.NamedNode(f"https://w3id.org/rnnref/ontology#{kind}")})
    return rows[0]["x"] if rows else None


def sample_term(kg) -> str | None:
    ids = {e.id: e.iri for e in kg.index}
    return ids.get("lstm") or next(iter(ids.values()), None)


def _declared(path: Path, text: str):
    """The competency header of a query, if ``rnnref.graph.catalogue`` can read one."""
    try:
        from rnnref.graph import catalogue
    except ImportError:
        return None, None
    try:
        named = catalogue.parse_header(path.stem, path, text)
    except Exception as exc:  # a malformed header: shown on the page
        return None, " ".join(str(exc).split())[:300]
    return (named if named.declared else None), None


def entries(kg) -> list[CookbookEntry]:
    root = Path(kg.root)
    term_iri = sample_term(kg)
    out = []
    for path in q.named_queries(root).values():
        rel = f"ontology/queries/{path.name}"
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            out.append(CookbookEntry(path.stem, rel, "", "", error=f"cannot read: {exc}"))
            continue
        named, header_error = _declared(path, text)
        comment = leading_comment(text)
        entry = CookbookEntry(path.stem, rel, named.question if named else comment, text, named.returns if named else "")
        substitutions: dict = {}
        if header_error:
            entry.error = "bad header: " + header_error
        elif named is not None:
            from rnnref.graph import catalogue

            raw = named.example_params()
            missing = [p.name for p in named.parameters if p.required and p.name not in raw]
            if missing:
                entry.error = "not run: no example value for " + ", ".join(f"?{v}" for v in missing)
            else:
                try:
                    substitutions = catalogue.Binder(kg.store, kg.resolve).bind(named, text, raw)
                except Exception as exc:
                    entry.error = "not run: " + " ".join(str(exc).split())[:300]
                entry.bindings = dict(raw)
        else:
            missing = []
            for var in bound_variables(comment):
                value = _sample(kg.store, var, term_iri)
                if value is None:
                    missing.append(var)
                else:
                    substitutions[var] = ox.NamedNode(value)
                    entry.bindings[var] = f"<{value}>"
            if missing:
                entry.error = "not run: no sample value for " + ", ".join(f"?{v}" for v in missing)
        if entry.error is None:
            started = time.perf_counter()
            try:
                rows = q.select(kg.store, text, substitutions)
            except Exception as exc:
                entry.error = "failed: " + " ".join(str(exc).split())[:300]
            else:
                entry.millis = (time.perf_counter() - started) * 1000
                entry.total = len(rows)
                entry.columns = list(rows[0]) if rows else _columns(text)
                entry.rows = rows[:MAX_ROWS]
        out.append(entry)
    return out


def _columns(text: str) -> list[str]:
    """The projected variables of a SELECT with no rows (for an empty table's head)."""
    match = re.search(r"\bSELECT\b(.*?)\bWHERE\b", text, re.I | re.S)
    if not match:
        return []
    cols = []
    for var in re.findall(r"(?:\bAS\s+)?\?(\w+)", match.group(1)):
        if var not in cols:
            cols.append(var)
    # "(COUNT(?x) AS ?n)": keep the alias, not the counted variable.
    aliases = re.findall(r"\bAS\s+\?(\w+)", match.group(1), re.I)
    inner = set(re.findall(r"\(\s*\w+\s*\(\s*(?:DISTINCT\s+)?\?(\w+)", match.group(1), re.I))
    return [c for c in cols if c in aliases or c not in inner]
