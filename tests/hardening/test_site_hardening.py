"""The site: hostile graph text stays text, and a killed build leaves the old site.

Two builds of a copy of the graph run at the same time, by the command line
(``rnnref site build --out DIR --root TREE``), as a user runs them:

- one with a term whose label, alternative label, definition, paper, source and
  event carry script and attribute injections (``"><img src=x onerror=alert(1)>``,
  ``<script>``, ``javascript:``/``data:``/``vbscript:`` URLs, a DOI that tries to break
  out of its href). No page may hold one of them as markup: every element and
  attribute of every page is read back with an HTML parser. tests/site covers
  Markdown injection and ``<script>`` in more fields; this adds the attribute
  injections and the other URL schemes.
- one over an existing site, held just before it would swap the new site in, and
  killed there with SIGKILL: the previous site must be exactly as it was.
"""

from __future__ import annotations

import html
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from html.parser import HTMLParser
from pathlib import Path

import pytest

from rnnref.atomic import PAUSE_ENV
from rnnref.site.build import MARKER
from tests.conftest import ROOT

ATTR = '"><img src=x onerror=alert(1)>'
ATTR_SINGLE = "' onmouseover='alert(2)' x='"
SCRIPT = "<script>alert(3)</script>"
SVG = "<svg/onload=alert(4)>"



def lit(text: str) -> str:
    """A Turtle string literal."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


ATTACK_TTL = f"""
@prefix rnn:     <https://w3id.org/rnnref/ontology#> .
@prefix term:    <https://w3id.org/rnnref/term/> .
@prefix paper:   <https://w3id.org/rnnref/paper/> .
@prefix event:   <https://w3id.org/rnnref/event/> .
@prefix source:  <https://w3id.org/rnnref/source/> .
@prefix owl:     <http://www.w3.org/2002/07/owl#> .
@prefix rdfs:    <http://www.w3.org/2000/01/rdf-schema#> .
@prefix xsd:     <http://www.w3.org/2001/XMLSchema#> .
@prefix skos:    <http://www.w3.org/2004/02/skos/core#> .
@prefix dcterms: <http://purl.org/dc/terms/> .
@prefix schema:  <https://schema.org/> .
@prefix bibo:    <http://purl.org/ontology/bibo/> .

term:attack a owl:Class ;
    rdfs:subClassOf rnn:Architecture ;
    skos:prefLabel {lit("attack " + ATTR)}@en ;
    skos:altLabel {lit(ATTR_SINGLE)}@en, {lit(SVG)}@en ;
    skos:definition {lit(f'Defined as {SCRIPT} then {ATTR} and {SVG} and <a href="javascript:alert(5)">a link</a>.')}@en ;
    rnn:yearIntroduced "1999"^^xsd:gYear ;
    rnn:introducedIn paper:attack-paper, paper:attack-paper-two ;
    dcterms:source source:attack-source, source:attack-data ;
    rdfs:comment {lit("Note " + ATTR)}@en .

paper:attack-paper a rnn:Paper ;
    dcterms:title {lit("Paper " + ATTR)} ;
    dcterms:creator {lit("Mallory " + ATTR_SINGLE)} ;
    bibo:doi {lit("10.1000/" + ATTR)} ;
    rnn:arxiv {lit(ATTR)} ;
    schema:url <javascript:alert(6)> .

paper:attack-paper-two a rnn:Paper ;
    dcterms:title "Second paper" ;
    schema:url <JaVaScRiPt:alert(7)> .

source:attack-source a rnn:Source ;
    skos:prefLabel {lit("source " + SCRIPT)} ;
    schema:url <data:text/html;base64,PHNjcmlwdD5hbGVydCg4KTwvc2NyaXB0Pg==> .

source:attack-data a rnn:Source ;
    skos:prefLabel "source two" ;
    schema:url <vbscript:msgbox(9)> .

event:attack-1999 a rnn:HistoricalEvent ;
    skos:prefLabel {lit("event " + ATTR)} ;
    rnn:year "1999"^^xsd:gYear ;
    rnn:about term:attack ;
    dcterms:source source:attack-source .
"""
BAD_SCHEMES = ("javascript:", "data:", "vbscript:")


class Elements(HTMLParser):
    """Every start tag and its attributes, as the browser's parser would see them."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, list[tuple[str, str | None]]]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, attrs))

    handle_startendtag = handle_starttag


def _copy_tree(dest: Path) -> Path:
    for part in ("ontology", "kg", "site"):
        shutil.copytree(ROOT / part, dest / part, ignore=shutil.ignore_patterns(".*", "__pycache__"))
    return dest


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def builds(tmp_path_factory):
    """Start both builds at once (the machine has two cores); yield what each left."""
    base = tmp_path_factory.mktemp("site-hardening")
    tree = _copy_tree(base / "tree")
    (tree / "kg" / "terms" / "attack.ttl").write_text(ATTACK_TTL, encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k != "RNNREF_ROOT"} | {"OMP_NUM_THREADS": "1"}

    evil_out = base / "evil-site"
    evil = subprocess.Popen([sys.executable, "-m", "rnnref", "site", "build", "--out", str(evil_out), "--root", str(tree)],
                            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    previous = base / "previous" / "site"
    previous.mkdir(parents=True)
    (previous / MARKER).write_text("built by rnnref site build; replaced on every build\n")
    (previous / "index.html").write_text("<p>the previous site</p>\n")
    (previous / "terms").mkdir()
    (previous / "terms" / "index.html").write_text("<p>its terms</p>\n")
    before = _snapshot(previous)
    killed = subprocess.Popen(
        [sys.executable, "-m", "rnnref", "site", "build", "--out", str(previous), "--root", str(tree)],
        cwd=ROOT, env=env | {PAUSE_ENV: "300"}, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 400
        ready = lambda: any((p / MARKER).exists() for p in previous.parent.glob(f".{previous.name}.new-*"))  # noqa: E731
        while not ready():
            assert killed.poll() is None, killed.communicate()[1]
            assert time.monotonic() < deadline, "the build never reached the swap"
            time.sleep(0.1)
        killed.send_signal(signal.SIGKILL)
        killed.wait(timeout=30)
        evil_out_text, evil_err = evil.communicate(timeout=400)
    finally:
        for proc in (killed, evil):
            if proc.poll() is None:
                proc.kill()
    yield {"evil": (evil.returncode, evil_err, evil_out), "killed": (killed.returncode, previous, before)}


def test_killed_build_leaves_the_previous_site(builds):
    code, previous, before = builds["killed"]
    assert code == -signal.SIGKILL
    assert _snapshot(previous) == before
    # What it left is a dot folder beside the site, never inside it.
    assert all(p.name.startswith(".") for p in previous.parent.iterdir() if p != previous)


def test_hostile_graph_text_is_never_markup(builds):
    code, err, out = builds["evil"]
    assert code == 0, err
    page_dir = out / "terms" / "attack"
    assert (page_dir / "index.html").is_file(), sorted(p.name for p in (out / "terms").iterdir())[:20]
    pages = {p.relative_to(out).as_posix(): p.read_text(encoding="utf-8") for p in out.rglob("*.html")}
    assert len(pages) > 50
    for name, text in pages.items():
        # (the single-quote payload may appear as is in JSON-LD, where a quote cannot end
        # the script element; the parser below shows it never becomes an attribute)
        for raw in (ATTR, "<img src=x", SCRIPT, "<svg/onload", "<script>alert"):
            assert raw not in text, (name, raw)
        parser = Elements()
        parser.feed(text)
        for tag, attrs in parser.tags:
            assert not (tag == "img" and ("src", "x") in attrs), (name, tag, attrs)
            assert tag != "svg" or not any(k.startswith("on") for k, _ in attrs), (name, tag, attrs)
            for key, value in attrs:
                assert "alert(" not in key and not (key.startswith("on") and value and "alert(" in value), (name, tag, key, value)
                if key in ("href", "src", "action", "formaction", "xlink:href") and value:
                    scheme = re.sub(r"[\s\x00-\x1f]", "", html.unescape(value)).lower()
                    assert not scheme.startswith(BAD_SCHEMES), (name, tag, key, value)


def test_hostile_graph_text_is_shown_as_text(builds):
    _, _, out = builds["evil"]
    page = (out / "terms" / "attack" / "index.html").read_text(encoding="utf-8")
    visible = html.unescape(re.sub(r"<[^>]+>", " ", page))
    assert "attack " + ATTR in visible
    assert SCRIPT in visible and SVG in visible
    # URLs with another scheme are shown, not linked.
    assert "javascript:alert(6)" in visible and "vbscript:msgbox(9)" in visible
    assert "data:text/html;base64," in visible
