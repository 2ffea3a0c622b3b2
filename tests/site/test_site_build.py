"""The documentation site: every term gets a page, graph text is shown as text
(never as HTML or links), and a failed build leaves the previous site alone."""

from __future__ import annotations

import html
import json
import re
import shutil
import time
from pathlib import Path

import markdown
import pytest

from rnnref.graph import KnowledgeGraph
from tests.conftest import run_cli
from tests.site.conftest import snapshot
from rnnref.site import SiteBuildError, build_site
from rnnref.site.escape import link, math_block, md_code, md_text
from rnnref.site.pages import GENERATED

REPO = Path(__file__).resolve().parents[2]
XSS = "<script>alert(1)</script>"

EVIL_TTL = r"""
@prefix rnn:      <https://w3id.org/rnnref/ontology#> .
@prefix term:     <https://w3id.org/rnnref/term/> .
@prefix paper:    <https://w3id.org/rnnref/paper/> .
@prefix impl:     <https://w3id.org/rnnref/impl/> .
@prefix event:    <https://w3id.org/rnnref/event/> .
@prefix source:   <https://w3id.org/rnnref/source/> .
@prefix standard: <https://w3id.org/rnnref/standard/> .
@prefix owl:      <http://www.w3.org/2002/07/owl#> .
@prefix rdfs:     <http://www.w3.org/2000/01/rdf-schema#> .
@prefix xsd:      <http://www.w3.org/2001/XMLSchema#> .
@prefix skos:     <http://www.w3.org/2004/02/skos/core#> .
@prefix dcterms:  <http://purl.org/dc/terms/> .
@prefix schema:   <https://schema.org/> .
@prefix bibo:     <http://purl.org/ontology/bibo/> .

term:evil a owl:Class ;
    rdfs:subClassOf rnn:Architecture ;
    skos:prefLabel "Evil [click me](javascript:alert(1)) <b>bold</b> *em*"@en ;
    skos:altLabel "<script>alert(1)</script>"@en, "`tick` $x$ \\(y\\) | pipe {: .cls }"@en ;
    skos:definition "Defines <img src=x onerror=alert(1)> &amp; [a link](https://example.org)\n# not a heading\n- not a list\n\n    not code"@en ;
    rnn:equations "a < b </div><script>alert(1)</script> $$ x\n[x](javascript:alert(1)) = [y](z)" ;
    rnn:yearIntroduced "2001"^^xsd:gYear ;
    rnn:introducedIn paper:evil-paper ;
    rnn:hasImplementation impl:evil ;
    rnn:hasStandard [ a rnn:StandardReference ;
        rnn:standard standard:evil-standard ;
        rnn:clause "<i>1</i>" ;
        rnn:verificationStatus "unverified" ] ;
    dcterms:source source:evil-source ;
    rdfs:comment "Note <script>alert(1)</script> and [x](javascript:alert(1))"@en .

term:evil-two a owl:Class ;
    rdfs:subClassOf term:evil ;
    skos:prefLabel "evil two <script>alert(1)</script>"@en ;
    rnn:hasImplementation impl:evil-two ;
    dcterms:source source:evil-source .

source:evil-source a rnn:Source ;
    skos:prefLabel "evil <b>source</b>" ;
    schema:url <javascript:alert(1)> .

paper:evil-paper a rnn:Paper ;
    dcterms:title "<script>alert(1)</script> paper" ;
    bibo:doi "10.1000/<script>" ;
    rnn:arxiv "javascript:alert(1)" ;
    schema:url <javascript:alert(1)> .

standard:evil-standard a rnn:Standard ;
    skos:prefLabel "<script>alert(1)</script> standard" .

impl:evil a rnn:Implementation ;
    rnn:implements term:evil ;
    rnn:pythonPath "../../etc/passwd:X" ;
    rnn:testPath "<script>alert(1)</script>" ;
    rnn:status "<b>x</b>" .

impl:evil-two a rnn:Implementation ;
    rnn:implements term:evil-two ;
    rnn:pythonPath "rnnref.models.no_such_module_here:Nothing" .

event:evil a rnn:HistoricalEvent ;
    skos:prefLabel "<script>alert(1)</script> event [e](javascript:alert(1))" ;
    rnn:year "2001"^^xsd:gYear ;
    rnn:about term:evil .
"""


def copy_tree(dest: Path) -> Path:
    """A copy of the project's graph and site source (no Python package)."""
    for name in ("ontology", "kg", "site"):
        shutil.copytree(REPO / name, dest / name, ignore=shutil.ignore_patterns(".*", "__pycache__"))
    return dest


def visible_text(page: str) -> str:
    """The page's text with tags removed (highlighted code is split into spans)."""
    return html.unescape(re.sub(r"<[^>]+>", "", page))


def html_pages(out: Path) -> dict[str, str]:
    return {p.relative_to(out).as_posix(): p.read_text(encoding="utf-8") for p in out.rglob("*.html")}


# -- the repository's graph ---------------------------------------------------------


@pytest.fixture(scope="module")
def repo_site(built_site):
    return built_site


def test_every_term_has_a_page(repo_site):
    kg, out, report, seconds, _ = repo_site
    assert kg.index, "the graph has no terms"
    for entry in kg.index:
        assert (out / "terms" / entry.id / "index.html").is_file(), entry.id
    assert report.terms == len(kg.index)
    hand_written = len(list((REPO / "site" / "docs").rglob("*.md")))
    assert report.pages == len(kg.index) + 1 + len(GENERATED) + hand_written  # + the taxonomy
    for page in ("index.html", "terms/index.html", "cli/index.html"):
        assert (out / page).is_file(), page
    for page in GENERATED:
        assert (out / page.removesuffix(".md") / "index.html").is_file(), page
    assert seconds < 60, f"site build took {seconds:.1f} s"
    assert report.seconds < 60


def test_lstm_page(repo_site):
    kg, out, *_ = repo_site
    if "lstm" not in {e.id for e in kg.index}:
        pytest.skip("the graph has no lstm term")
    lstm = kg.term("lstm")
    page = (out / "terms" / "lstm" / "index.html").read_text(encoding="utf-8")
    assert 'href="https://doi.org/10.1162/neco.1997.9.8.1735"' in page
    assert html.escape(lstm.definition, quote=False) in page
    assert '<div class="arithmatex">\\[' in page
    assert "<title>long short-term memory - rnnref</title>" in page
    assert "rnnref run lstm" in visible_text(page)
    assert "kg/terms/lstm.ttl" in page
    # The taxonomy page and the timeline link to it.
    assert 'href="lstm/"' in (out / "terms" / "index.html").read_text(encoding="utf-8")
    assert 'href="../terms/lstm/"' in (out / "timeline" / "index.html").read_text(encoding="utf-8")


def test_implementation_source_is_shown_when_it_exists(repo_site):
    kg, out, *_ = repo_site
    for summary in kg.terms():
        if summary.implementation is None:
            continue
        module = summary.implementation.python.split(":")[0]
        page = (out / "terms" / summary.id / "index.html").read_text(encoding="utf-8")
        path = (REPO / Path(*module.split("."))).with_suffix(".py")
        if path.is_file():
            first_line = next(line for line in path.read_text(encoding="utf-8").splitlines() if line.strip())
            assert 'id="source"' in page and first_line in visible_text(page), summary.id
        else:
            assert "Source not found" in page, summary.id


def test_generated_pages_stay_out_of_the_repository(repo_site):
    *_, site_before = repo_site
    assert snapshot(REPO / "site") == site_before
    for name in ["terms", "graph", "downloads", *GENERATED]:
        assert not (REPO / "site" / "docs" / name).exists(), name


# -- escaping -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def evil_site(tmp_path_factory):
    root = copy_tree(tmp_path_factory.mktemp("evil-tree"))
    (root / "kg" / "terms" / "evil.ttl").write_text(EVIL_TTL, encoding="utf-8")
    kg = KnowledgeGraph(root)
    assert "evil" in {e.id for e in kg.index}, "the evil term did not load"
    assert kg.term("evil").sources[0].url == "javascript:alert(1)"
    out = root / "build" / "site"
    # As a user would: the command line, on the copy of the graph named by --root.
    result = run_cli("site", "build", "--out", str(out), root=root)
    assert result.code == 0, result.err
    return out


def test_graph_text_is_never_html(evil_site):
    pages = html_pages(evil_site)
    for name, text in pages.items():
        assert XSS not in text, name
        assert "<script>alert" not in text, name
        assert "<img src=x" not in text, name
        assert "<b>bold</b>" not in text and "<b>source</b>" not in text and "<b>x</b>" not in text, name
        assert "<i>1</i>" not in text, name
        assert not re.search(r"""href\s*=\s*["']?\s*javascript:""", text, re.I), name


def test_graph_text_is_shown_as_text(evil_site):
    page = (evil_site / "terms" / "evil" / "index.html").read_text(encoding="utf-8")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    text = visible_text(page)
    # Markdown in a label is shown literally, not turned into a link or emphasis.
    assert "Evil [click me](javascript:alert(1)) <b>bold</b> *em*" in text
    assert "`tick` $x$ \\(y\\) | pipe {: .cls }" in text
    assert "[a link](https://example.org)" in text
    assert "# not a heading - not a list" in text
    # A non-http URL is shown as text, not linked.
    assert "evil <b>source</b> (javascript:alert(1))" in text
    # The equation is in a math block, escaped.
    assert '<div class="arithmatex">\\[ a &lt; b &lt;/div&gt;&lt;script&gt;alert(1)&lt;/script&gt; $$ x \\]</div>' in page
    assert "unverified" in page
    assert "The Python path does not name a module" in page
    assert re.search(r"<title>Evil \[click me\]\(javascript:alert\(1\)\) &lt;b&gt;bold&lt;/b&gt; \*em\* - rnnref</title>", page)
    two = (evil_site / "terms" / "evil-two" / "index.html").read_text(encoding="utf-8")
    assert "Source not found" in two and "rnnref/models/no_such_module_here.py" in two
    assert 'href="../evil/"' in two  # broader link with an escaped label


def test_escape_helpers_round_trip_through_the_site_markdown():
    from mkdocs.config import load_config

    cfg = load_config(config_file=str(REPO / "site" / "mkdocs.yml"))
    md = markdown.Markdown(extensions=cfg.markdown_extensions, extension_configs=cfg.mdx_configs)
    samples = [
        XSS,
        "every punctuation: " + "".join(chr(c) for c in range(33, 127) if not chr(c).isalnum()),
        "[x](javascript:alert(1)) ![i](x.png) <http://a.b> *a* _b_ `c` $d$ \\(e\\) \\[f\\] |g| {: #h } ~~i~~ ^^j^^",
        "&amp; &#60; &lt; \\\\ \\",
        "# heading? - list? 1. list? > quote? !!! note",
    ]
    for sample in samples:
        md.reset()
        rendered = md.convert(md_text(sample))
        assert rendered.startswith("<p>") and rendered.endswith("</p>"), rendered
        assert "<" not in rendered[3:-4], rendered
        assert html.unescape(rendered[3:-4]) == sample
        md.reset()
        code = md.convert(md_code(sample))
        assert html.unescape(re.sub(r"</?(p|code)>", "", code)) == " ".join(sample.split())
    assert md_text("a\n\n# b") == "a \\# b"
    assert link("x", "javascript:alert(1)") == "x (`javascript:alert(1)`)"
    assert link("x", "https://example.org/a b") == "x (`https://example.org/a b`)"
    assert link("x", "https://example.org/(a)") == "[x](https://example.org/%28a%29)"
    assert math_block("a\n\nb") == "$$ a b $$"


# -- atomic output ------------------------------------------------------------------


def test_failed_build_leaves_previous_site(tmp_path):
    root = copy_tree(tmp_path / "tree")
    kg = KnowledgeGraph(root)
    out = tmp_path / "out"
    build_site(kg, out)
    before = snapshot(out)
    assert before

    index = root / "site" / "docs" / "index.md"
    index.write_text(index.read_text(encoding="utf-8") + "\nA [dead link](no-such-page.md).\n", encoding="utf-8")
    with pytest.raises(SiteBuildError) as failure:
        build_site(kg, out)
    message = str(failure.value)
    assert "\n" not in message and "no-such-page.md" in message, message
    assert snapshot(out) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out", "tree"]  # no staging dirs left


def test_refuses_to_replace_a_directory_it_did_not_build(tmp_path):
    kg = KnowledgeGraph()
    keep = tmp_path / "precious"
    keep.mkdir()
    (keep / "notes.txt").write_text("mine", encoding="utf-8")
    with pytest.raises(Exception, match="not a site built by rnnref"):
        build_site(kg, keep)
    assert (keep / "notes.txt").read_text(encoding="utf-8") == "mine"
    with pytest.raises(Exception, match="refusing"):
        build_site(kg, kg.root)


# -- the rest of the site -------------------------------------------------------------


def json_ld(page: str) -> list:
    blocks = re.findall(r'<script type="application/ld\+json">(.*?)</script>', page, re.S)
    return [json.loads(b) for b in blocks]


def test_every_term_page_has_its_parts(repo_site):
    kg, out, *_ = repo_site
    for entry in kg.index:
        page = (out / "terms" / entry.id / "index.html").read_text(encoding="utf-8")
        (data,) = json_ld(page)
        assert data["@type"] == "DefinedTerm" and data["@id"] == entry.iri and data["name"] == entry.label
        assert '<pre class="mermaid"><code>flowchart' in page, entry.id
        for heading in ('id="provenance"', 'id="query-it"', 'id="sources"'):
            assert heading in page, (entry.id, heading)
        assert entry.iri in page


def test_lstm_page_extras(repo_site):
    kg, out, *_ = repo_site
    if "lstm" not in {e.id for e in kg.index}:
        pytest.skip("the graph has no lstm term")
    page = (out / "terms" / "lstm" / "index.html").read_text(encoding="utf-8")
    text = visible_text(page)
    assert "@article{hochreiter-1997-lstm," in text  # BibTeX, in a block with a copy button
    assert 'href="../../people/#sepp-hochreiter"' in page
    assert 'href="../../graph/kg/terms/lstm.ttl"' in page  # the edit link
    assert "VALUES ?term { <https://w3id.org/rnnref/term/lstm> }" in text  # the SPARQL
    assert "skos:prefLabel" in text and "kg/terms/lstm.ttl" in text  # provenance table
    assert (out / "graph" / "kg" / "terms" / "lstm.ttl").read_bytes() == (REPO / "kg" / "terms" / "lstm.ttl").read_bytes()
    citations = json_ld(page)[0]["citation"]
    assert any(c.get("sameAs") == ["https://doi.org/10.1162/neco.1997.9.8.1735"] for c in citations)


def test_index_pages(repo_site):
    kg, out, *_ = repo_site
    people = (out / "people" / "index.html").read_text(encoding="utf-8")
    assert 'id="sepp-hochreiter"' in people
    papers = (out / "papers" / "index.html").read_text(encoding="utf-8")
    (articles,) = json_ld(papers)
    assert articles["@type"] == "ItemList" and articles["itemListElement"][0]["item"]["@type"] == "ScholarlyArticle"
    bib = (out / "downloads" / "rnnref.bib").read_text(encoding="utf-8")
    assert bib.count("\n@") == len(articles["itemListElement"])
    assert 'href="../downloads/rnnref.bib"' in papers
    for page, marker in [("standards", "unverified"), ("applications", "speech recognition"),
                         ("frameworks", "torch.nn.LSTM"), ("ontology", 'id="class-Architecture"'),
                         ("sources", "Wikipedia")]:
        assert marker in (out / page / "index.html").read_text(encoding="utf-8"), page


def test_sparql_cookbook_runs_every_named_query(repo_site):
    kg, out, *_ = repo_site
    page = (out / "sparql" / "index.html").read_text(encoding="utf-8")
    names = sorted(p.stem for p in (REPO / "ontology" / "queries").glob("*.rq"))
    assert names
    for name in names:
        assert f'id="{name}"' in page, name
    assert "failed:" not in visible_text(page)
    assert page.count("<table>") >= len(names) // 2  # most queries return rows here
    assert "rnnref query --name term-card --param" in visible_text(page)  # bound with a sample term


def test_downloads_hold_the_whole_graph(repo_site):
    import pyoxigraph as ox

    kg, out, *_ = repo_site
    expected = {ox.Triple(q.subject, q.predicate, q.object) for q in kg.store if not isinstance(q.subject, ox.BlankNode)}
    for name, fmt in [("rnnref.ttl", ox.RdfFormat.TURTLE), ("rnnref.nt", ox.RdfFormat.N_TRIPLES),
                      ("rnnref.jsonld", ox.RdfFormat.JSON_LD), ("rnnref.rdf", ox.RdfFormat.RDF_XML)]:
        triples = {ox.Triple(q.subject, q.predicate, q.object) for q in ox.parse((out / "downloads" / name).read_bytes(), format=fmt)}
        named = {t for t in triples if not isinstance(t.subject, ox.BlankNode)}
        assert named == expected, name


def test_no_page_loads_anything_from_the_network(repo_site):
    _, out, *_ = repo_site
    for name, text in html_pages(out).items():
        for src in re.findall(r'<(?:script|link|img)[^>]+(?:src|href)="([^"]+)"', text):
            assert not re.match(r"(?:https?:)?//", src), (name, src)
    assert (out / "assets" / "vendor" / "mathjax" / "tex-chtml-full.js").is_file()
    assert (out / "assets" / "vendor" / "mermaid" / "mermaid.min.js").is_file()


def test_evil_alt_label_and_javascript_urls(evil_site):
    page = (evil_site / "terms" / "evil" / "index.html").read_text(encoding="utf-8")
    # The alternative label with a script tag is text on the page ...
    assert "Also known as: <script>alert(1)</script>, " in visible_text(page)
    # ... and in the JSON-LD it cannot close the script element.
    (data,) = json_ld(page)
    assert "<script>alert(1)</script>" in data["alternateName"]
    block = re.search(r'<script type="application/ld\+json">(.*?)</script>', page, re.S).group(1)
    assert "<" not in block and ">" not in block and "&" not in block
    # The paper's javascript: URL is shown as text, never as a link, on both pages.
    papers = (evil_site / "papers" / "index.html").read_text(encoding="utf-8")
    for html_page in (page, papers):
        assert not re.search(r"""href\s*=\s*["']?\s*javascript:""", html_page, re.I)
    assert "javascript:alert(1)" in visible_text(papers)
    assert "url" not in [k for k in data["citation"][0]]
    # An equation that looks like a link stays math.
    assert "\\[ [x](javascript:alert(1)) = [y](z) \\]" in page


def test_escaping_helpers_for_scripts_diagrams_and_bibtex():
    from rnnref.graph.records import Paper
    from rnnref.site.bibtex import bibtex
    from rnnref.site.escape import mermaid_text, script_json

    assert script_json({"a": "</script><!--&"}) == '{"a":"\\u003c/script\\u003e\\u003c!--\\u0026"}'
    assert json.loads(script_json({"a": "</script>"})) == {"a": "</script>"}
    assert mermaid_text('a"]; click x "javascript:alert(1)"') == "a#34;#93;#59; click x #34;javascript#58;alert#40;1#41;#34;"
    entry = bibtex(Paper("p-1", "T} @misc{x, title={y", ["A"], 2000, None, "10.1/a}b", None, "javascript:alert(1)"))
    bare = entry.replace("\\{", "").replace("\\}", "")  # braces that delimit, not escaped ones
    assert bare.count("{") == bare.count("}") and "javascript" not in entry and "@misc{x" not in entry
