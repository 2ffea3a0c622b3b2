"""``rnnref stats``: counts by kind, checked against an independent count with rdflib."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

RNN = "https://w3id.org/rnnref/ontology#"
TERM_NS = "https://w3id.org/rnnref/term/"
MAIN = {"Architecture": "architectures", "TrainingMethod": "training_methods", "Problem": "problems", "Component": "components"}
TYPES = {
    "papers": "Paper", "people": "Person", "events": "HistoricalEvent", "standards": "Standard",
    "applications": "Application", "frameworks": "SoftwareFramework", "benchmark_runs": "BenchmarkRun",
}


def rdflib_counts(root: Path) -> dict:
    """The same counts, computed from the Turtle files with rdflib and plain Python."""
    import rdflib
    from rdflib.namespace import RDF, RDFS

    g = rdflib.Graph()
    files = sorted((root / "ontology").rglob("*.ttl")) + sorted((root / "kg").rglob("*.ttl"))
    for f in files:
        if f.name != "shapes.ttl":
            g.parse(f, format="turtle")
    concept = rdflib.URIRef(RNN + "Concept")
    tops = [t for t in g.subjects(RDFS.subClassOf, concept) if str(t).startswith(RNN)]
    terms = {
        s for s in g.subjects(RDFS.subClassOf, None)
        if str(s).startswith(TERM_NS) and concept in set(g.transitive_objects(s, RDFS.subClassOf)) - {s}
    }
    by_class = {
        str(top)[len(RNN):]: sum(1 for t in terms if top in set(g.transitive_objects(t, RDFS.subClassOf)) - {t})
        for top in tops
    }
    counts = {"terms": len(terms)}
    for name, key in MAIN.items():
        counts[key] = by_class.get(name, 0)
    for key, cls in TYPES.items():
        counts[key] = len(set(g.subjects(RDF.type, rdflib.URIRef(RNN + cls))))
    impls = set(g.subjects(RDF.type, rdflib.URIRef(RNN + "Implementation")))
    counts["implementations_verified"] = sum(
        1 for i in impls if rdflib.Literal("verified") in set(g.objects(i, rdflib.URIRef(RNN + "status")))
    )
    counts["terms_by_class"] = {k: v for k, v in by_class.items() if v or k in MAIN}
    return counts


def test_json_counts_equal_an_independent_rdflib_count(cli, graph_copy):
    r = cli("stats", "--json", root=graph_copy)
    assert r.code == 0, r.err
    data = r.json()
    expected = rdflib_counts(graph_copy)
    assert {k: v for k, v in data.items() if k != "terms_by_class"} == {
        k: v for k, v in expected.items() if k != "terms_by_class"
    }
    assert {k: v for k, v in data["terms_by_class"].items() if v or k in MAIN} == expected["terms_by_class"]
    assert data["terms"] >= sum(data[k] for k in MAIN.values())


def test_json_is_one_object_with_every_kind(cli):
    r = cli("stats", "--json")
    assert r.code == 0, r.err
    data = r.json()
    assert list(data)[:13] == [
        "terms", "architectures", "training_methods", "problems", "components", "papers", "people", "events",
        "standards", "applications", "frameworks", "implementations_verified", "benchmark_runs",
    ]
    assert all(isinstance(v, int) for k, v in data.items() if k != "terms_by_class")
    assert data["terms"] > 0 and data["papers"] > 0 and data["events"] > 0


def test_kinds_the_graph_lacks_count_zero(cli, tmp_path):
    from tests.conftest import ROOT

    shutil.copytree(ROOT / "ontology", tmp_path / "ontology")
    (tmp_path / "kg").mkdir()
    r = cli("stats", "--json", root=tmp_path)
    assert r.code == 0, r.err
    data = r.json()
    assert data["terms"] == data["papers"] == data["benchmark_runs"] == 0
    assert data["terms_by_class"]["Architecture"] == 0


def test_human_output_is_a_table(cli):
    r = cli("stats")
    assert r.code == 0, r.err
    for label in ("terms", "training methods", "papers", "people", "historical events", "software frameworks"):
        assert label in r.out


def test_root_that_is_not_a_tree_is_an_input_error(cli, tmp_path):
    r = cli("stats", root=tmp_path)
    assert r.code == 2
    assert r.err.startswith("rnnref: error:") and "Traceback" not in r.err


@pytest.mark.parametrize("args", [["stats"], ["stats", "--json"]])
def test_stats_never_imports_torch(args):
    code = (
        "import sys\n"
        "from rnnref.cli import main\n"
        "try:\n"
        f"    main({args!r})\n"
        "except SystemExit as e:\n"
        "    assert not e.code, e.code\n"
        "heavy = sorted(m for m in sys.modules if m.split('.')[0] in ('torch', 'numpy', 'pyshacl', 'owlready2', 'mkdocs'))\n"
        "sys.stderr.write('HEAVY=' + ','.join(heavy))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr.strip().endswith("HEAVY="), proc.stderr[-500:]
