"""schema.org JSON-LD for the pages: a DefinedTerm per term page, citing its papers
as ScholarlyArticles, and an ItemList of ScholarlyArticles for the papers page.

Only http(s) URLs go into ``url`` and ``sameAs``; the page embeds the result with
``rnnref.site.escape.script_json``.
"""

from __future__ import annotations

from rnnref.graph.records import Paper, Term
from rnnref.site.escape import arxiv_url, doi_url, safe_url

CONTEXT = "https://schema.org"
TERM_SET = "https://w3id.org/rnnref/ontology"


def article(paper: Paper, iri: str | None = None) -> dict:
    data: dict = {"@type": "ScholarlyArticle", "name": paper.title}
    if iri:
        data["@id"] = iri
    if paper.authors:
        data["author"] = [{"@type": "Person", "name": a} for a in paper.authors]
    if paper.year:
        data["datePublished"] = str(paper.year)
    if paper.venue:
        data["isPartOf"] = {"@type": "CreativeWork", "name": paper.venue}
    same = []
    if paper.doi:
        data["identifier"] = [{"@type": "PropertyValue", "propertyID": "DOI", "value": paper.doi}]
        same.append(doi_url(paper.doi))
    if paper.arxiv:
        data.setdefault("identifier", []).append({"@type": "PropertyValue", "propertyID": "arXiv", "value": paper.arxiv})
        same.append(arxiv_url(paper.arxiv))
    url = safe_url(paper.url)
    if url:
        data["url"] = url
    same = [u for u in same if u and safe_url(u)]
    if same:
        data["sameAs"] = same
    return data


def defined_term(term: Term) -> dict:
    data: dict = {
        "@context": CONTEXT,
        "@type": "DefinedTerm",
        "@id": term.iri,
        "name": term.label,
        "termCode": term.id,
        "inDefinedTermSet": {"@type": "DefinedTermSet", "@id": TERM_SET, "name": "rnnref"},
    }
    if term.alt_labels:
        data["alternateName"] = list(term.alt_labels)
    if term.definition:
        data["description"] = term.definition
    if term.papers:
        data["citation"] = [article(p, f"https://w3id.org/rnnref/paper/{p.id}") for p in term.papers]
    if term.broader:
        data["isPartOf"] = [{"@type": "DefinedTerm", "@id": f"https://w3id.org/rnnref/term/{r.id}", "name": r.label} for r in term.broader]
    return data


def article_list(papers: list[tuple[Paper, str]]) -> dict:
    return {
        "@context": CONTEXT,
        "@type": "ItemList",
        "name": "Papers of the rnnref knowledge graph",
        "itemListElement": [
            {"@type": "ListItem", "position": i, "item": article(paper, iri)} for i, (paper, iri) in enumerate(papers, 1)
        ],
    }
