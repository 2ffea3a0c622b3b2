"""No SPARQL is built from strings anywhere in the package: values go into queries
through bindings (pyoxigraph substitutions), never through formatting (STYLE.md:
"the example not to follow" is schema.org's ``sdotermsource.py`` and its ``%s``).

The check reads the syntax tree of every module of ``rnnref/``:

1. text built with interpolation (an f-string with a value, ``%``, ``+``, ``.format``,
   ``str.join``) whose constant parts hold a SPARQL query form (SELECT / ASK /
   CONSTRUCT / DESCRIBE / INSERT / DELETE ... followed by ``{``), with an interpolated
   value inside the query (between the keyword and the last closing brace); and
2. a call of a query function (``query``, ``update``, ``select``, ``query_endpoint``,
   ``runner.run``) whose query argument is itself built with interpolation.

A line may opt out with a ``# sparql-ok: <why>`` comment (none does today).
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "rnnref"
QUERY_FORM = re.compile(r"\b(SELECT|ASK|CONSTRUCT|DESCRIBE|INSERT|DELETE)\b[^{]*\{", re.IGNORECASE)
QUERY_FUNCTIONS = {"query", "update", "select", "query_endpoint", "prepare"}
HOLE = "\x00"


def _template(node: ast.AST) -> str | None:
    """The constant text of a string-building expression with HOLE for each value, or
    None when the node builds no string by interpolation."""
    if isinstance(node, ast.JoinedStr):
        parts = []
        for value in node.values:
            if isinstance(value, ast.Constant) and isinstance(value.value, str):
                parts.append(value.value)
            else:
                parts.append(HOLE)
        return "".join(parts) if HOLE in parts else None
    if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Add, ast.Mod)):
        left, right = _text(node.left), _text(node.right)
        if isinstance(node.op, ast.Mod) and isinstance(node.left, ast.Constant) and isinstance(node.left.value, str):
            return re.sub(r"%[-+ #0]*\d*(?:\.\d+)?[sdrifx]|%\([^)]*\)[sdrifx]", HOLE, node.left.value)
        if isinstance(node.op, ast.Add) and (left is not None or right is not None):
            return (left if left is not None else HOLE) + (right if right is not None else HOLE)
        return None
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
        if node.func.attr == "format" and isinstance(node.func.value, ast.Constant) and isinstance(node.func.value.value, str):
            return re.sub(r"\{[^{}]*\}", HOLE, node.func.value.value)
        if node.func.attr == "join" and node.args:
            return HOLE
    return None


def _text(node: ast.AST) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    return _template(node)


def _built(node: ast.AST) -> bool:
    """Whether an argument is text made at run time from pieces (not a constant or a name)."""
    if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Add, ast.Mod)):
        return True
    return _template(node) is not None


def _interpolates_into_query(template: str) -> bool:
    for match in QUERY_FORM.finditer(template):
        end = template.rfind("}")
        if HOLE in template[match.start():end + 1]:
            return True
    return False


def _called_name(call: ast.Call) -> str | None:
    func = call.func
    if isinstance(func, ast.Attribute):
        if func.attr == "run" and isinstance(func.value, ast.Name) and func.value.id == "runner":
            return "runner.run"
        return func.attr
    if isinstance(func, ast.Name):
        return func.id
    return None


def violations(source: str, filename: str = "<string>") -> list[str]:
    tree = ast.parse(source, filename)
    lines = source.splitlines()
    found = []

    def report(node: ast.AST, why: str) -> None:
        line = lines[node.lineno - 1] if 0 < node.lineno <= len(lines) else ""
        if "sparql-ok:" not in line:
            found.append(f"{filename}:{node.lineno}: {why}: {line.strip()[:120]}")

    for node in ast.walk(tree):
        template = _template(node) if isinstance(node, (ast.JoinedStr, ast.BinOp, ast.Call)) else None
        if template is not None and _interpolates_into_query(template):
            report(node, "SPARQL text built by interpolation")
        if isinstance(node, ast.Call):
            name = _called_name(node)
            if name in QUERY_FUNCTIONS or name == "runner.run":
                candidates = list(node.args[:2]) + [k.value for k in node.keywords if k.arg in ("query", "text", "sparql")]
                for arg in candidates:
                    if _built(arg):
                        report(node, f"{name}() given a query built by interpolation")
    return found


def test_the_checker_finds_string_built_queries():
    bad = [
        'q = f"SELECT ?x WHERE {{ <{iri}> ?p ?x }}"',
        'q = "SELECT ?x WHERE { <%s> ?p ?x }" % iri',
        'q = "SELECT ?x WHERE { <" + iri + "> ?p ?x }"',
        'q = "ASK {{ <{}> a ?t }}".format(iri)',
        'store.query(f"PREFIX x: <{ns}> SELECT * {{ ?s ?p ?o }}")',
        'store.update("INSERT DATA { " + triples + " }")',
        'store.query(" ".join(parts))',
        'select(store, prefix + body)',
        'runner.run(store, header % name)',
    ]
    for source in bad:
        assert len(violations(source)) >= 1, source
    good = [
        'store.query(text, substitutions={ox.Variable("term"): iri})',
        'q = "SELECT ?x WHERE { ?x a ?t }"',
        'msg = f"run: curl --data-urlencode \'query=SELECT * WHERE {{ ?s ?p ?o }}\' {url}/query"',
        'msg = f"bad SPARQL in {name}: {detail}"',
        'raise InputError(f"SPARQL Update ({keyword}) is refused")',
    ]
    for source in good:
        assert violations(source) == [], source


def _modules() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def test_no_module_builds_sparql_from_strings():
    found = []
    for path in _modules():
        try:
            found += violations(path.read_text(encoding="utf-8"), str(path.relative_to(PACKAGE.parent)))
        except SyntaxError as exc:  # another helper's half-written file: not this test's concern
            pytest.skip(f"{path} does not parse right now: {exc}")
    assert not found, "string-built SPARQL:\n" + "\n".join(found)
