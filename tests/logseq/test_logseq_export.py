"""`rnnref export logseq TERM`: a page in the import's format that imports back to the
same triples (round trip lossless for the supported properties)."""

from __future__ import annotations

from pathlib import Path

import pyoxigraph as ox
import pytest

from rnnref.graph import KnowledgeGraph
from rnnref.logseq import vocab as v
from rnnref.logseq.export import export_page
from rnnref.logseq.importer import import_pages

PAGES = Path(__file__).parent / "pages"
SEED = PAGES / "logseq-ontology-page-AI-0033-recurrent-neural-network.md"

# What a page carries, both ways (see rnnref.logseq.export); the rest (comments,
# equations, implementations, standards) stays in kg/ only.
SUPPORTED = (
    {v.ALT_LABEL, v.DEFINITION, v.NOTATION, v.SUBCLASS_OF, v.INTRODUCED_IN, v.INTRODUCED_BY, v.APPLIED_TO,
     v.YEAR_INTRODUCED, v.NOT_RUNNABLE, v.MENTIONS, v.LOGSEQ_DEFINITION, v.LOGSEQ_PREFERRED_TERM}
    | {p for p, _ in v.LITERALS.values()}
    | set(v.TERM_RELATIONS.values())
)


def _supported(store_or_triples, term: ox.NamedNode) -> set[tuple]:
    if isinstance(store_or_triples, ox.Store):
        pairs = {(q.predicate, q.object) for q in store_or_triples.quads_for_pattern(term, None, None, None)}
        papers = {q.subject for q in store_or_triples.quads_for_pattern(None, v.TYPE, v.PAPER_CLASS, None)}
    else:
        pairs = {(t.predicate, t.object) for t in store_or_triples if t.subject == term}
        papers = {t.subject for t in store_or_triples if t.predicate == v.TYPE and t.object == v.PAPER_CLASS} | {
            o for p, o in pairs if p == v.SEE_ALSO}
    return {(p, o) for p, o in pairs
            if p in SUPPORTED or p.value.startswith(v.LOGSEQ) or (p == v.SEE_ALSO and o in papers)}


@pytest.fixture
def seeded(graph_copy):
    """A graph copy with the seed page imported (so RNN carries the Logseq annotations)."""
    import_pages([str(SEED)], root=graph_copy)
    return graph_copy


@pytest.mark.parametrize("name", ["recurrent-neural-network", "gru", "lstm"])
def test_export_then_import_is_lossless(seeded, tmp_path, name):
    kg = KnowledgeGraph(seeded)
    text, iri, _ = export_page(kg, name)
    page = tmp_path / f"{name}.md"
    page.write_text(text, encoding="utf-8")
    out = tmp_path / f"{name}.ttl"  # outside the tree: the graph keeps every file
    result = import_pages([str(page)], root=seeded, out=out)
    assert [t["new"] for t in result.terms] == [False]
    imported = {q.triple for q in ox.parse(out.read_bytes(), format=ox.RdfFormat.TURTLE)}
    term = ox.NamedNode(iri)
    in_graph = _supported(kg.store, term)
    from_page = _supported(imported, term)
    from_page.discard((v.LOGSEQ_PREFERRED_TERM, ox.Literal(kg.term(name).label)))  # the page's own label
    assert from_page - in_graph == set(), "the page added something the graph does not say"
    assert in_graph - from_page == set(), "the page lost something the graph says"
    assert len(in_graph) > 5


def test_new_term_round_trips_to_the_same_file(seeded, tmp_path):
    new_page = PAGES / "qrnn.md"
    import_pages([str(new_page)], root=seeded)
    written = seeded / "kg" / "imports" / "quasi-recurrent-neural-network.ttl"
    before = written.read_bytes()
    text, iri, _ = export_page(KnowledgeGraph(seeded), "QRNN")
    assert iri.endswith("/quasi-recurrent-neural-network")
    exported = tmp_path / new_page.name  # same file name: the source node records it
    exported.write_text(text, encoding="utf-8")
    result = import_pages([str(exported)], root=seeded)
    assert [f.unchanged for f in result.files] == [True]
    assert [t["new"] for t in result.terms] == [True]
    assert written.read_bytes() == before
    # and once more through the page exported from that import
    assert export_page(KnowledgeGraph(seeded), "QRNN")[0] == text


def test_exported_page_has_the_import_format(cli, seeded):
    result = cli("export", "logseq", "RNN", root=seeded)
    assert result.code == 0, result.err
    page = result.out
    assert page.startswith("- ### OntologyBlock\n    - term-id:: AI-0033\n    - preferred-term:: Recurrent Neural Network\n")
    assert "- is-subclass-of:: [[architecture]]" in page
    assert "- has-component:: [[hidden state]]" in page
    assert "- **Source Domain**: ai" in page and "- **Status**: active" in page and "- **Maturity**: mature" in page
    assert "- **Belongstodomain**: [[Machine Learning Domain]]" in page
    assert "## References" in page and "[https://doi.org/10.1162/neco.1997.9.8.1735]" in page
    gru = cli("export", "logseq", "gru", root=seeded).out
    assert "- term-id:: rnnref:gru" in gru  # no notation: the slug names the term
    assert "#introduced-in" in gru and "[arXiv:1406.1078](https://arxiv.org/abs/1406.1078)" in gru


def test_export_out_is_atomic_and_unknown_term_exits_1(cli, seeded, tmp_path):
    out = tmp_path / "pages" / "gru.md"
    result = cli("export", "logseq", "gru", "--out", str(out), root=seeded)
    assert result.code == 0, result.err
    assert out.read_text(encoding="utf-8").startswith("- ### OntologyBlock")
    assert [p.name for p in out.parent.iterdir()] == ["gru.md"]
    missing = cli("export", "logseq", "grux", root=seeded)
    assert missing.code == 1
    assert "no term matches 'grux'" in missing.err and "did you mean" in missing.err and "gru" in missing.err
