"""Validation: every file parses, SHACL conforms, QC queries return no rows, and the
code behind each term exists and names the term.

Library first (pySHACL's habit): ``validate(root)`` returns a Report; the CLI only
prints it and picks the exit code.
"""

from __future__ import annotations

import importlib
import re
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from rnnref.errors import GraphSyntaxError
from rnnref.graph.paths import SHAPES_FILE, graph_files, project_root

QC_DIR = Path("ontology") / "queries" / "qc"
CODE_DIRS = (Path("rnnref") / "models", Path("rnnref") / "training")
# Only modules of these packages are imported to check a graph's implementation links.
_CODE_PACKAGES = tuple(".".join(d.parts) for d in CODE_DIRS)
_CODE_MODULE = re.compile(r"(?:%s)(?:\.[A-Za-z_][A-Za-z0-9_]*)+" % "|".join(re.escape(p) for p in _CODE_PACKAGES))
_TERM_IRI_LINE = re.compile(r'^TERM_IRI\s*(?::\s*str\s*)?=\s*["\']([^"\']+)["\']', re.MULTILINE)


@dataclass
class Problem:
    check: str
    message: str
    focus: str | None = None
    path: str | None = None
    file: str | None = None
    line: int | None = None

    def line_text(self) -> str:
        where = self.file + (f":{self.line}" if self.line else "") if self.file else ""
        focus = f"<{self.focus}>" if self.focus else ""
        path = f" ({self.path})" if self.path else ""
        return " ".join(p for p in (where, focus) if p) + f"{path}: {self.message}"


@dataclass
class Check:
    name: str
    ran: bool = True
    seconds: float = 0.0
    note: str | None = None
    problems: list[Problem] = field(default_factory=list)


@dataclass
class Report:
    root: str
    checks: list[Check] = field(default_factory=list)

    @property
    def problems(self) -> list[Problem]:
        return [p for c in self.checks for p in c.problems]

    @property
    def unusable(self) -> bool:
        """True when the input could not be read at all (a syntax error)."""
        return any(p.check == "syntax" for p in self.problems)

    @property
    def conforms(self) -> bool:
        return not self.problems

    def to_json(self) -> dict:
        return {
            "conforms": self.conforms,
            "root": self.root,
            "checks": [
                {"name": c.name, "ran": c.ran, "seconds": round(c.seconds, 3), "note": c.note, "problems": len(c.problems)}
                for c in self.checks
            ],
            "problems": [asdict(p) for p in self.problems],
        }


REASONERS = ("auto", "hermit", "owlrl", "none")


def validate(root: str | Path | None = None, *, code: bool = True, reasoner: str = "auto") -> Report:
    """Run every check on the graph under ``root``.

    ``reasoner``: ``"hermit"`` (HermiT through owlready2, needs Java), ``"owlrl"``
    (OWL 2 RL rules in Python), ``"auto"`` (HermiT when Java is on PATH, else OWL RL)
    or ``"none"``. Raises InputError for an unknown reasoner or HermiT without Java.
    """
    from rnnref.errors import InputError
    from rnnref.graph import reasoning

    if reasoner not in REASONERS:
        raise InputError(f"unknown reasoner {reasoner!r}; choose one of: {', '.join(REASONERS)}")
    if reasoner == "hermit" and not reasoning.java_available():
        raise InputError("--reasoner hermit needs Java (java on PATH); install a JRE or use --reasoner owlrl")
    if reasoner == "auto":
        reasoner = "hermit" if reasoning.java_available() else "owlrl"
    root = project_root(root)
    report = Report(str(root))

    syntax = _timed(report, "syntax")
    quads_by_file = {}
    from rnnref.graph.load import parse_turtle_file

    for path in graph_files(root) + [root / SHAPES_FILE]:
        if not path.exists():
            continue
        try:
            quads_by_file[path] = parse_turtle_file(path, root)
        except GraphSyntaxError as exc:
            syntax.problems.append(Problem("syntax", str(exc).split(": ", 1)[1], file=exc.path, line=exc.line))
    _done(syntax)
    if syntax.problems:
        for name in ("shacl", "owl-profile", "reasoner", "qc", "code"):
            report.checks.append(Check(name, ran=False, note="skipped: the graph does not parse"))
        return report

    import pyoxigraph as ox

    store = ox.Store()
    shapes_path = root / SHAPES_FILE
    for path, quads in quads_by_file.items():
        if path != shapes_path:
            store.extend(quads)

    data = _rdflib_graph(store)
    _shacl(report, root, store, data, quads_by_file.get(shapes_path))
    _owl(report, store, data, reasoner)
    _qc(report, root, store)
    if code:
        _code_links(report, root, store)
    else:
        report.checks.append(Check("code", ran=False, note="skipped (--no-code)"))
    return report


def _timed(report: Report, name: str) -> Check:
    check = Check(name)
    check.seconds = time.perf_counter()
    report.checks.append(check)
    return check


def _done(check: Check) -> None:
    check.seconds = time.perf_counter() - check.seconds


def _files_of(store, iri: str) -> str | None:
    """The first graph file that states something about a node."""
    import pyoxigraph as ox

    from rnnref.graph.load import graph_file_path

    if not iri.startswith(("http://", "https://", "urn:")):
        return None
    node = ox.NamedNode(iri)
    # The file that declares the node (its rdf:type) is its home; else any file about it.
    rdf_type = ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
    for quad in store.quads_for_pattern(node, rdf_type, None, None):
        return graph_file_path(quad.graph_name)
    for quad in store.quads_for_pattern(node, None, None, None):
        return graph_file_path(quad.graph_name)
    return None


def _shacl(report: Report, root: Path, store, data, shape_quads) -> None:
    check = _timed(report, "shacl")
    if shape_quads is None:
        check.ran, check.note = False, f"skipped: {SHAPES_FILE} not found"
        _done(check)
        return
    import pyoxigraph as ox
    import rdflib
    from pyshacl import validate as shacl_validate

    shapes = _rdflib_graph(shape_quads)
    conforms, results_graph, _ = shacl_validate(data, shacl_graph=shapes, advanced=True, inference="none", allow_warnings=True)
    if not conforms:
        SH = rdflib.Namespace("http://www.w3.org/ns/shacl#")
        for result in results_graph.subjects(rdflib.RDF.type, SH.ValidationResult):
            focus = results_graph.value(result, SH.focusNode)
            path = results_graph.value(result, SH.resultPath)
            message = results_graph.value(result, SH.resultMessage)
            focus_s = str(focus) if focus is not None else None
            check.problems.append(
                Problem(
                    "shacl",
                    str(message) if message else "violates a shape",
                    focus=focus_s,
                    path=data.namespace_manager.normalizeUri(path) if isinstance(path, rdflib.URIRef) else None,
                    file=_files_of(store, focus_s) if focus_s else None,
                )
            )
        check.problems.sort(key=lambda p: (p.file or "", p.focus or "", p.message))
    _done(check)


def _owl(report: Report, store, data, reasoner: str) -> None:
    """OWL 2 DL profile check, then the chosen reasoner on the logical axioms."""
    from rnnref.graph import reasoning

    profile = _timed(report, "owl-profile")
    for finding in reasoning.profile_problems(data):
        profile.problems.append(
            Problem("owl-profile", finding.message, focus=finding.focus, file=_files_of(store, finding.focus) if finding.focus else None)
        )
    profile.note = "OWL 2 DL typing and datatype restrictions"
    _done(profile)

    check = _timed(report, "reasoner")
    if reasoner == "none":
        check.ran, check.note = False, "skipped (--reasoner none)"
        _done(check)
        return
    label = "HermiT (owlready2)" if reasoner == "hermit" else "OWL 2 RL (owlrl)"
    try:
        result = reasoning.hermit(data) if reasoner == "hermit" else reasoning.owl_rl(data)
    except Exception as exc:  # a reasoner crash is a finding about the input, not a crash of validate
        check.note = f"{label} failed"
        detail = " ".join(str(exc).split())[:300]
        check.problems.append(Problem("reasoner", f"{label} could not reason over the ontology: {type(exc).__name__}: {detail}"))
        _done(check)
        return
    check.note = f"{label}: " + ("consistent" if result.consistent else "inconsistent") + (
        f", {len(result.unsatisfiable)} unsatisfiable class(es)" if result.unsatisfiable else ", all classes satisfiable"
    )
    for finding in result.findings:
        check.problems.append(
            Problem("reasoner", finding.message, focus=finding.focus, file=_files_of(store, finding.focus) if finding.focus else None)
        )
    _done(check)


def _rdflib_graph(quads):
    """A plain rdflib Graph with the triples of some quads (file graphs merged)."""
    import pyoxigraph as ox
    import rdflib

    triples = [ox.Triple(q.subject, q.predicate, q.object) for q in quads]
    return rdflib.Graph().parse(data=ox.serialize(triples, format=ox.RdfFormat.N_TRIPLES).decode("utf-8"), format="nt")


def _qc(report: Report, root: Path, store) -> None:
    from rnnref.graph.queries import select

    check = _timed(report, "qc")
    for path in sorted((root / QC_DIR).glob("*-violation.rq")):
        name = path.stem
        for row in select(store, path.read_text(encoding="utf-8")):
            focus, subject = row.get("focus"), row.get("subject")
            # A dangling node is described nowhere: name the file that mentions it.
            file = (focus and _files_of(store, focus)) or (subject and _files_of(store, subject)) or None
            check.problems.append(Problem("qc", f"{name}: {row.get('message') or 'violation'}", focus=focus, file=file))
    _done(check)


def _code_links(report: Report, root: Path, store) -> None:
    """Every implementation in the graph imports and names its term; every module
    that names a term is in the graph."""
    from rnnref.graph.queries import select

    check = _timed(report, "code")
    text = (root / "ontology" / "queries" / "term-implementations.rq").read_text(encoding="utf-8")
    rows = select(store, text)
    linked_modules: set[str] = set()
    for row in rows:
        term, python, test = row["term"], row["python"], row["test"]
        file = _files_of(store, term)
        module_name, _, attr = python.partition(":")
        linked_modules.add(module_name)
        if not _CODE_MODULE.fullmatch(module_name) or not attr.isidentifier():
            # The graph is data: it may name code to check, not any code to import.
            check.problems.append(
                Problem("code", f"implementation {python!r} is not a module:Class path under "
                        f"{' or '.join(_CODE_PACKAGES)}; not imported", focus=term, file=file)
            )
            continue
        try:
            module = importlib.import_module(module_name)
            obj = getattr(module, attr)
        except Exception as exc:  # any import failure is a finding, not a crash
            check.problems.append(
                Problem("code", f"implementation {python} does not import: {type(exc).__name__}: {exc}", focus=term, file=file)
            )
            continue
        named = getattr(obj, "term_iri", None) or getattr(module, "TERM_IRI", None)
        if named != term:
            check.problems.append(
                Problem("code", f"implementation {python} names term {named!r}, the graph says {term}", focus=term, file=file)
            )
        if not test or not (root / test).is_file():
            check.problems.append(Problem("code", f"test file {test} of {python} does not exist", focus=term, file=file))
    package_root = Path(__file__).resolve().parents[2]
    for code_dir in CODE_DIRS:
        for path in sorted((package_root / code_dir).glob("*.py")):
            match = _TERM_IRI_LINE.search(path.read_text(encoding="utf-8"))
            module_name = ".".join(path.relative_to(package_root).with_suffix("").parts)
            if match and module_name not in linked_modules:
                check.problems.append(
                    Problem(
                        "code",
                        f"module {module_name} implements {match.group(1)} but no term in the graph links to it",
                        focus=match.group(1),
                        file=path.relative_to(package_root).as_posix(),
                    )
                )
    _done(check)
