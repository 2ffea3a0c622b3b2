"""Inputs a user (or a hostile page, query or script) can hand the CLI."""

from __future__ import annotations

from pathlib import Path

from hypothesis import strategies as st

ROOT = Path(__file__).resolve().parents[2]

# Any code point, surrogates too: undecodable bytes in argv arrive as lone surrogates.
ANY_CHAR = st.characters(blacklist_categories=())
CONTROL = st.characters(min_codepoint=0, max_codepoint=0x1F) | st.sampled_from("\x7f\x85\u2028\u2029\u202e\u200b\ufeff")

SPARQL_BITS = [
    "SELECT * WHERE { ?s ?p ?o }", "' ; DROP GRAPH <urn:x> ; '", '" } UNION { ?s ?p ?o } #', "<http://example.org/>",
    'lstm" . ?x ?y ?z', "FILTER(", "?term", "$x", "INSERT DATA { <a:b> <a:c> <a:d> }", "DELETE WHERE { ?s ?p ?o }",
    "SERVICE <http://evil.example/sparql> { ?s ?p ?o }", "# comment", "\\u0000", "\\", '"""', "'''", "^^xsd:int", "@en",
    "LOAD <file:///etc/passwd>", "CLEAR ALL", "{", "}", "(", ")", "<", ">", ".", ";", ",", "*", "a", "_:b", "[]",
]
SPARQL_TOKENS = [
    "{", "}", "(", ")", "[", "]", ".", ";", ",", "*", "?s", "?p", "?o", "?x", "$y", "<http://x.example/a>", "<>", "<",
    ">", '"', "'", '"""', "#", "\n", " ", "\x00", "\ufeff", "a", "_:b", "skos:prefLabel", "rnn:", ":", "UNION", "OPTIONAL {",
    "FILTER(?x > 1)", "FILTER(regex(?o, \"(a+)+$\"))", "VALUES ?x { 1 2 }", "BIND(1/0 AS ?z)", "LIMIT -1", "LIMIT 0",
    "OFFSET 99999999999999999999", "ORDER BY ?x", "GROUP BY ?x", "COUNT(*)", "SERVICE <http://evil.example/q> {", "INSERT",
    "DELETE", "DROP", "LOAD", "CLEAR", "CREATE", "WITH <urn:g>", "ADD", "MOVE", "COPY", "GRAPH ?g {", "FROM <urn:g>",
    "SELECT", "ASK", "CONSTRUCT", "DESCRIBE", "WHERE", "PREFIX x: <http://x/>", "BASE <http://b/>", "^^", "@en", "1e999",
    "\"\\u0000\"", "\"x\"@en-US", "true", "NOT EXISTS {", "MINUS {", "SERVICE SILENT <http://127.0.0.1:1/> {",
]


def real_names() -> list[str]:
    """Ids, labels and alternative labels of the repository's terms."""
    from rnnref.graph import KnowledgeGraph

    names: list[str] = []
    for entry in KnowledgeGraph(ROOT).index:
        names += [entry.id, entry.label, *entry.alt_labels]
    return names


def named_query_texts() -> list[str]:
    return [p.read_text(encoding="utf-8") for p in sorted((ROOT / "ontology" / "queries").rglob("*.rq"))]


def _recase(name: str, how: int) -> str:
    return [name, name.upper(), name.lower(), name.title(), name.replace("-", " "), name.replace(" ", "_"),
            f"  {name}  ", name.swapcase()][how % 8]


@st.composite
def term_names(draw, names: list[str]):
    kind = draw(st.integers(0, 9))
    if kind == 0:
        return draw(st.text(ANY_CHAR, max_size=40))
    if kind == 1:  # very long: up to 200,000 characters
        unit = draw(st.text(ANY_CHAR, min_size=1, max_size=4))
        return (unit * draw(st.integers(40, 100_000)))[:200_000]
    if kind == 2:  # control characters, NUL among them
        return draw(st.text(CONTROL | st.sampled_from("abcLSTM -_"), max_size=30))
    if kind == 3:  # SPARQL-looking
        return " ".join(draw(st.lists(st.sampled_from(SPARQL_BITS), min_size=1, max_size=4)))
    if kind == 4:
        return draw(st.sampled_from(["", " ", "\t", "\n", "-", "--", "'", '"', "%s", "{}", "*", "?", ".", "..", "/"]))
    if kind in (5, 6, 7):  # a real name, recased, maybe with a typo
        name = _recase(draw(st.sampled_from(names)), draw(st.integers(0, 7)))
        if kind == 7 and name:
            i = draw(st.integers(0, len(name) - 1))
            name = name[:i] + draw(st.text(ANY_CHAR, max_size=2)) + name[i + 1:]
        return name
    return draw(st.text(st.characters(max_codepoint=0x7F), max_size=60))


@st.composite
def sparql_texts(draw, queries: list[str]):
    kind = draw(st.integers(0, 5))
    if kind == 0:
        return draw(st.text(ANY_CHAR, max_size=200))
    if kind == 1:
        return " ".join(draw(st.lists(st.sampled_from(SPARQL_TOKENS), max_size=30)))
    text = draw(st.sampled_from(queries))
    for _ in range(draw(st.integers(1, 4))):
        op = draw(st.integers(0, 4))
        i = draw(st.integers(0, len(text)))
        j = draw(st.integers(i, min(len(text), i + 80)))
        if op == 0:  # delete a slice
            text = text[:i] + text[j:]
        elif op == 1:  # insert a token
            text = text[:i] + " " + draw(st.sampled_from(SPARQL_TOKENS)) + " " + text[i:]
        elif op == 2:  # duplicate a slice
            text = text[:j] + text[i:j] + text[j:]
        elif op == 3:  # random characters
            text = text[:i] + draw(st.text(ANY_CHAR, max_size=5)) + text[j:]
        else:  # truncate
            text = text[:i]
    return text


def _size_text(draw) -> str:
    kind = draw(st.integers(0, 6))
    if kind == 0:
        return str(draw(st.integers(-(10**30), 10**30)))
    if kind == 1:
        return str(draw(st.integers(-3, 64)))
    if kind == 2:
        return repr(draw(st.floats(allow_nan=True, allow_infinity=True)))
    if kind == 3:
        return draw(st.text(ANY_CHAR, max_size=12))
    if kind == 4:
        return ",".join(str(draw(st.integers(-2, 40))) for _ in range(draw(st.integers(0, 5))))
    if kind == 5:
        return draw(st.sampled_from(["", " ", ",", "1,", ",1", "1,,2", "0x10", "1e3", "1_000", "+4", " 8 ", "٣", "9" * 5000,
                                     "2147483647", "2147483648", "-0", "NaN", "inf", "4 8", "1;2"]))
    return str(2 ** draw(st.integers(0, 80)))


@st.composite
def bench_args(draw, terms: list[str]):
    args = ["bench", draw(st.sampled_from(terms))]
    for option in ("--batch", "--length", "--hidden", "--input"):
        if draw(st.booleans()):
            args += [option, _size_text(draw)]
    for option in ("--repeats", "--threads", "--budget"):
        if draw(st.integers(0, 3)) == 0:
            args += [option, _size_text(draw)]
    if draw(st.integers(0, 3)) == 0:
        args += ["--preset", draw(st.sampled_from(["default", "quick", "fastrnns", "haste", "scaling", "", "QUICK", "x"]))]
    else:
        args += ["--preset", "quick"]
    if draw(st.integers(0, 4)) == 0:
        args.append("--record")
    if draw(st.booleans()):
        args.append("--json")
    return args


@st.composite
def run_args(draw, terms: list[str]):
    args = ["run", draw(st.sampled_from(terms))]
    if draw(st.integers(0, 5)):
        args += ["--seed", _size_text(draw)]
    if draw(st.booleans()):
        args.append("--json")
    return args


DEVICES = ["cpu", "cuda", "cuda:0", "cuda:1", "cuda:99999999999999999999999", "CPU", "Cuda", "mps", "tpu", "xla", "meta",
           ":0", "cuda:-1", "cuda:", "cpu:0", "cuda:0:0", "cuda:０", "cpu\n", "cuda:0\n", " cpu", "cpu ", "", "cuda:1e3",
           "cuda:0x1", "vulkan", "hip", "cuda,cpu", "../cpu", "cpu\x00", "ｃｐｕ"]


@st.composite
def devices(draw):
    kind = draw(st.integers(0, 3))
    if kind == 0:
        return draw(st.sampled_from(DEVICES))
    if kind == 1:
        return draw(st.text(ANY_CHAR, max_size=20))
    if kind == 2:
        return draw(st.sampled_from(["cuda:", "cpu:", "cuda", "cpu"])) + draw(st.text(ANY_CHAR, max_size=8))
    return draw(st.text(st.characters(max_codepoint=0x7F), max_size=12))
