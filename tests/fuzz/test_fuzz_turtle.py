"""Fuzz the graph files: a real Turtle file of the graph, mutated, in a copy of the tree.

Fewer examples than the other targets (120): every example loads the whole graph
afresh (~0.1 s), which is what a user's ``lookup`` does. What is checked is the syntax
check and what reads the graph after it: a file that does not parse makes ``lookup``
and ``validate`` exit 2 with errors naming ``file:line``; a file that still parses (a
line deleted, duplicated or swapped, a value changed) leaves ``lookup`` within the
contract. ``validate`` runs only on files that do not parse, where it stops after the
syntax check; its other checks take ~30 s and are covered by tests/graph.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pyoxigraph as ox
import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st

from tests.fuzz.conftest import FUZZ, ROOT
from tests.fuzz.harness import call, check_contract
from tests.fuzz.strategies import ANY_CHAR

FILES = sorted(p.relative_to(ROOT).as_posix() for p in (ROOT / "kg").rglob("*.ttl") if not p.name.startswith("."))
FILES += ["ontology/rnnref.ttl"]
TURTLE_BITS = [
    b'"', b'"""', b"'", b"<", b">", b".", b";", b",", b"[", b"]", b"(", b")", b"@prefix x: <http://x.example/> .",
    b"@base <relative> .", b"\x00", b"\xff\xfe", b"\xc3", b"a owl:Class", b"\n", b"#", b"^^xsd:gYear", b'"abc"@',
    b"_:b1", b"term:", b"rnn:yearIntroduced \"nineteen\"^^xsd:gYear ;", b"skos:prefLabel \"\" ;", b"\\u0000", b"\\",
    b'rdfs:subClassOf term:lstm ;', b"<javascript:alert(1)>", b"\r\n", b"\t", b"\xe2\x80\xae", b"true", b"1e999",
]


@pytest.fixture(scope="module")
def turtle_tree(tmp_path_factory):
    dest = tmp_path_factory.mktemp("fuzz-turtle") / "tree"
    for part in ("ontology", "kg"):
        shutil.copytree(ROOT / part, dest / part, ignore=shutil.ignore_patterns(".*"))
    return dest


OPS = st.tuples(
    st.integers(0, 7),  # what to do (see apply)
    st.integers(0, 2**20), st.integers(0, 40), st.integers(0, 2**20),  # where, how much, a second place
    st.sampled_from(TURTLE_BITS) | st.text(ANY_CHAR, max_size=4).map(lambda t: t.encode("utf-8", "surrogatepass")),
)
# A case prints as (file, operations), not as the whole mutated file.
CASES = st.tuples(st.sampled_from(FILES), st.lists(OPS, min_size=1, max_size=3))


def apply(rel: str, ops: list) -> bytes:
    data = (ROOT / rel).read_bytes()
    for op, where, size, other, bit in ops:
        if op <= 3:  # bytes: delete, insert a Turtle token or any text, overwrite, truncate
            i = where % (len(data) + 1)
            j = min(len(data), i + size)
            data = (data[:i] + data[j:], data[:i] + bit + data[i:], data[:i] + bit + data[j:], data[:i])[op]
            continue
        lines = data.split(b"\n")  # lines: the file often still parses
        i, j = where % len(lines), other % len(lines)
        if op == 4:
            del lines[i]
        elif op == 5:
            lines.insert(j, lines[i])
        elif op == 6:
            lines[i], lines[j] = lines[j], lines[i]
        else:  # change a quoted value
            value = (b"", b"x", b"<script>", b"1999", b"nan")[size % 5]
            lines[i] = re.sub(rb'"[^"\\]*"', lambda m: b'"' + value + b'"', lines[i], count=1)
        data = b"\n".join(lines)
    return data


def _syntax_error(data: bytes) -> SyntaxError | None:
    try:
        list(ox.parse(data, format=ox.RdfFormat.TURTLE, base_iri=None))
    except SyntaxError as exc:
        return exc
    except ValueError as exc:
        return SyntaxError(str(exc))
    return None


@settings(FUZZ, max_examples=120)
@given(case=CASES)
def test_mutated_turtle(turtle_tree, case):
    rel, ops = case
    data = apply(rel, ops)
    path = turtle_tree / rel
    original = path.read_bytes()
    term = Path(rel).stem if rel.startswith("kg/terms/") else "lstm"
    try:
        path.write_bytes(data)
        error = _syntax_error(data)
        r = call(["lookup", term, "--json", "--root", str(turtle_tree)])
        check_contract(r)
        event(f"{r.argv[0]} exit {r.code}")
        event("parses" if error is None else "syntax error")
        if error is None:
            return
        # The graph does not load: exit 2, one line naming the file and (when the parser gives one) the line.
        assert r.code == 2, (rel, r.err_text)
        assert f"{rel}:" in r.err_text or f"{rel}: Turtle syntax error" in r.err_text, (rel, r.err_text)
        assert "Turtle syntax error" in r.err_text
        if error.lineno:
            assert re.search(re.escape(rel) + r":\d+", r.err_text), (rel, r.err_text)
        v = call(["validate", "--no-code", "--reasoner", "none", "--root", str(turtle_tree)])
        check_contract(v, report=True)
        assert v.code == 2, (rel, v.err_text)
        problems = [line for line in v.err_text.splitlines() if line.startswith("rnnref: syntax: ")]
        assert problems and all(rel in line for line in problems), v.err_text
    finally:
        path.write_bytes(original)
