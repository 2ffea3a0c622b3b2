"""Fuzz ``rnnref import logseq``: the seed Logseq page, mutated.

200 examples (not 1,000): each import maps a 27 kB page against the whole graph
(~50 ms even with the graph's files parsed once, as here). Most run with
``--dry-run``; one in four really imports into a copy of the tree, which is put
back afterwards. A failed import writes nothing; every run keeps the contract.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st

from tests.fuzz.conftest import FUZZ, ROOT
from tests.fuzz.harness import call, check_contract, fingerprint
from tests.fuzz.strategies import ANY_CHAR

PAGE_NAME = "logseq-ontology-page-AI-0033-recurrent-neural-network.md"
SEED = next((p for p in (ROOT / "tests" / "logseq" / "pages" / PAGE_NAME, Path("/work/shared/seeds") / PAGE_NAME)
             if p.is_file()), ROOT / "tests" / "logseq" / "pages" / PAGE_NAME)
pytestmark = pytest.mark.skipif(not SEED.is_file(), reason="no Logseq seed page on this machine")

BITS = ["::", "- ", "  - ", "#", "[[", "]]", "[[lstm]]", "term-id:: ", "preferred-term:: ", "ontology:: false",
        "ontology:: true", "alt-terms:: ", "is-subclass-of:: [[", "\x00", "\t", "\r", "\ufeff", "\u202e", "x" * 5000,
        "doi:: 10.1000/\"><img src=x>", "arxiv:: javascript:alert(1)", "source-domain:: ", "definition:: ", "id:: ",
        "{{embed}}", "```", "$$", "<script>alert(1)</script>", "%s", "{0}", "\\", '"', "'", "<", ">", "@prefix x: <y> ."]
OPS = st.tuples(st.integers(0, 6), st.integers(0, 2**20), st.integers(0, 60), st.integers(0, 2**20),
                st.sampled_from(BITS) | st.text(ANY_CHAR, max_size=6))


def apply(ops) -> str:
    text = SEED.read_text(encoding="utf-8")
    for op, where, size, other, bit in ops:
        if op <= 3:
            i = where % (len(text) + 1)
            j = min(len(text), i + size)
            text = (text[:i] + text[j:], text[:i] + bit + text[i:], text[:i] + bit + text[j:], text[:i])[op]
            continue
        lines = text.split("\n")
        i, j = where % len(lines), other % len(lines)
        if op == 4:
            del lines[i]
        elif op == 5:
            lines.insert(j, lines[i])
        else:
            lines[i], lines[j] = lines[j], lines[i]
        text = "\n".join(lines)
    return text


@pytest.fixture(scope="module")
def logseq_tree(tmp_path_factory):
    """A tree copy, and the importer's parse of the graph files cached per root."""
    import rnnref.logseq.importer as importer

    dest = tmp_path_factory.mktemp("fuzz-logseq") / "tree"
    for part in ("ontology", "kg"):
        shutil.copytree(ROOT / part, dest / part, ignore=shutil.ignore_patterns(".*"))
    real, cache = importer._load, {}

    def cached(root):
        key = Path(root).resolve()
        if key not in cache:
            cache[key] = real(root)
        return cache[key]

    importer._load = cached
    yield dest
    importer._load = real


@settings(FUZZ, max_examples=200)
@given(ops=st.lists(OPS, min_size=1, max_size=4), write=st.integers(0, 3), name=st.sampled_from(["page.md", "p a g e.md", "-page.md"]))
def test_mutated_logseq_page(logseq_tree, tmp_path_factory, ops, write, name):
    page = tmp_path_factory.getbasetemp() / "fuzz-logseq-pages" / name
    page.parent.mkdir(exist_ok=True)
    page.write_text(apply(ops), encoding="utf-8", errors="surrogatepass")
    imports = logseq_tree / "kg" / "imports"
    kept = {p: p.read_bytes() for p in imports.glob("*")} if imports.exists() else {}
    before = fingerprint(logseq_tree)
    argv = ["import", "logseq", str(page), "--root", str(logseq_tree)] + ([] if write == 0 else ["--dry-run"])
    try:
        r = call(argv)
        check_contract(r, warnings=True)
        event(f"{r.argv[0]} exit {r.code}")
        if r.code != 0 or write != 0:
            assert fingerprint(logseq_tree) == before, ("written", argv, r.err_text[:300])
    finally:
        if imports.exists():  # put the tree back
            for p in imports.glob("*"):
                if p not in kept:
                    p.unlink()
            for p, data in kept.items():
                p.write_bytes(data)
