"""The named competency queries of ontology/queries/: each runs on the real graph and
answers its question with the facts the graph holds; `rnnref query --name/--param/--list`."""

from __future__ import annotations

import pytest

from tests.conftest import ROOT

from rnnref.graph import catalogue, runner

TERM = "https://w3id.org/rnnref/term/"
PERSON = "https://w3id.org/rnnref/person/"
# Queries over recorded benchmark runs: the graph may hold none yet.
MAY_BE_EMPTY = {"fastest-implementation-per-device", "benchmark-runs-by-device"}
QUERIES = [q for q in catalogue.catalogue(ROOT) if q.declared]


def run_named(kg, name: str, **params: str) -> list[dict]:
    named = catalogue.load(kg.root, name)
    binder = catalogue.Binder(kg.store, kg.resolve)
    subs = binder.bind(named, named.text, {**named.example_params(), **params})
    outcome = runner.run(kg.store, named.text, substitutions=subs, timeout=0, limit=None)
    from rnnref.graph.queries import to_python

    results = outcome.parsed()
    names = [v.value for v in results.variables]
    return [{n: to_python(sol[n]) for n in names} for sol in results]


def test_there_are_at_least_15_competency_queries_each_stating_its_question():
    assert len(QUERIES) >= 15
    for q in QUERIES:
        assert q.question.endswith("?"), q.name
        assert q.returns, q.name
        first = q.text.lstrip().splitlines()[0]
        assert first.startswith("# Question:"), q.name
        for p in q.parameters:
            assert p.description, (q.name, p.name)
            assert not p.required or p.example, f"{q.name}: required ?{p.name} needs an example"


@pytest.mark.parametrize("named", QUERIES, ids=[q.name for q in QUERIES])
def test_every_named_query_runs_with_its_example_values(kg, named):
    rows = run_named(kg, named.name)
    if named.name not in MAY_BE_EMPTY:
        assert rows, f"{named.name} returned no rows on the real graph"
    for p in named.parameters:  # a bound parameter comes back as a column
        if p.name in named.example_params():
            assert all(row[p.name] is not None for row in rows)


def test_lstm_is_an_architecture_before_2000_addressing_the_vanishing_gradient_problem(kg):
    rows = run_named(kg, "architectures-addressing-before")
    by_term = {r["architecture"]: r for r in rows}
    assert TERM + "lstm" in by_term
    assert by_term[TERM + "lstm"]["year"] == 1997
    assert all(r["year"] < 2000 for r in rows)
    # The year is a real parameter: before 1997 LSTM is not there.
    earlier = run_named(kg, "architectures-addressing-before", before="1997")
    assert TERM + "lstm" not in {r["architecture"] for r in earlier}
    assert all(r["year"] < 1997 for r in earlier)


def test_papers_by_sepp_hochreiter_include_the_1997_lstm_paper(cli):
    r = cli("query", "--name", "papers-by-person", "--param", "person=sepp-hochreiter", "--json")
    assert r.code == 0, r.err
    rows = {b["paper"]["value"]: b for b in r.json()["results"]["bindings"]}
    lstm = rows["https://w3id.org/rnnref/paper/hochreiter-1997-lstm"]
    assert lstm["title"]["value"] == "Long Short-Term Memory"
    assert lstm["year"]["value"] == "1997"
    assert lstm["doi"]["value"] == "10.1162/neco.1997.9.8.1735"


@pytest.mark.parametrize("spelling", ["sepp-hochreiter", "person:sepp-hochreiter", "<https://w3id.org/rnnref/person/sepp-hochreiter>", "Sepp Hochreiter", "sepp  HOCHREITER"])
def test_a_person_can_be_named_by_slug_prefixed_name_iri_or_name(kg, spelling):
    papers = {r["paper"] for r in run_named(kg, "papers-by-person", person=spelling)}
    assert "https://w3id.org/rnnref/paper/hochreiter-1997-lstm" in papers


def test_coauthors_and_terms_introduced_by_a_person(kg):
    coauthors = {r["coauthor"]: r["papers"] for r in run_named(kg, "coauthors-of-person", person="juergen-schmidhuber")}
    assert coauthors[PERSON + "sepp-hochreiter"] >= 2
    assert PERSON + "juergen-schmidhuber" not in coauthors
    introduced = {r["term"] for r in run_named(kg, "terms-introduced-by-person", person="sepp-hochreiter")}
    assert TERM + "lstm" in introduced


def test_who_introduced_what_by_decade(kg):
    rows = run_named(kg, "introductions-by-decade")
    lstm = next(r for r in rows if r["term"] == TERM + "lstm")
    assert lstm["decade"] == 1990 and lstm["year"] == 1997
    assert "Sepp Hochreiter" in lstm["people"] and "Jürgen Schmidhuber" in lstm["people"]
    assert all(r["decade"] <= r["year"] < r["decade"] + 10 for r in rows)
    decades = [r["decade"] for r in rows]
    assert decades == sorted(decades)
    top = run_named(kg, "people-by-introductions")
    assert top[0]["terms"] >= top[-1]["terms"]


def test_events_in_a_year_range(kg):
    rows = run_named(kg, "events-in-years", **{"from": "1995", "to": "1997"})
    assert rows and all(1995 <= r["year"] <= 1997 for r in rows)
    assert "https://w3id.org/rnnref/event/lstm-journal-1997" in {r["event"] for r in rows}


def test_descendants_of_a_term(kg):
    rows = run_named(kg, "term-descendants", term="recurrent neural network")
    descendants = {r["descendant"] for r in rows}
    assert {TERM + "lstm", TERM + "gru", TERM + "elman-network"} <= descendants
    assert TERM + "recurrent-neural-network" not in descendants
    assert TERM + "gru" not in {r["descendant"] for r in run_named(kg, "term-descendants", term="lstm")}


def test_terms_addressing_a_problem(kg):
    terms = {r["term"] for r in run_named(kg, "terms-addressing-problem", problem="vanishing gradient problem")}
    assert TERM + "lstm" in terms


def test_paper_identifier_counts_add_up(kg):
    (row,) = run_named(kg, "paper-identifier-counts")
    assert row["papers"] == row["withDoi"] + row["withArxiv"] - row["withBoth"] + row["withNeither"]
    assert row["withBoth"] <= min(row["withDoi"], row["withArxiv"])
    hochreiter = run_named(kg, "papers-by-person", person="sepp-hochreiter")
    assert any(r["doi"] for r in hochreiter)


def test_term_counts_by_class_match_the_terms_command(kg):
    counts = {r["class"].rsplit("#", 1)[1]: r["terms"] for r in run_named(kg, "term-counts-by-class")}
    assert counts["Architecture"] == len(kg.terms("architecture"))
    assert counts["TrainingMethod"] == len(kg.terms("training-method"))


def test_unverified_standard_links(kg):
    rows = run_named(kg, "unverified-standard-links")
    assert all(r["status"] != "verified" for r in rows)
    assert ("https://w3id.org/rnnref/standard/iso-iec-22989-2022", "3.1.36") in {(r["standard"], r["clause"]) for r in rows}


def test_terms_without_year(kg):
    rows = run_named(kg, "terms-without-year")
    terms = {r["term"] for r in rows}
    assert TERM + "recurrent-neural-network" in terms
    assert TERM + "lstm" not in terms
    only_problems = run_named(kg, "terms-without-year", **{"class": "problem"})
    assert only_problems and all(r["class"].endswith("#Problem") for r in only_problems)


def test_implementations_with_their_tests(kg):
    rows = {r["term"]: r for r in run_named(kg, "implementations-and-tests")}
    assert rows[TERM + "lstm"]["python"] == "rnnref.models.lstm:LSTM"
    assert rows[TERM + "lstm"]["test"] == "tests/models/test_lstm.py"
    verified = run_named(kg, "implementations-and-tests", status="verified")
    assert verified and all(r["status"] == "verified" for r in verified)


def test_applications_apis_and_components_of_lstm(kg):
    applications = {r["application"] for r in run_named(kg, "term-applications", term="lstm")}
    assert "https://w3id.org/rnnref/application/speech-recognition" in applications
    apis = {r["api"] for r in run_named(kg, "term-framework-apis", term="LSTM")}
    assert "torch.nn.LSTM" in apis
    components = {r["component"]: r["from"] for r in run_named(kg, "term-components", term="lstm")}
    assert components[TERM + "forget-gate"] == TERM + "lstm"


def test_sources_that_disagree_on_when_lstm_began(kg):
    rows = [r for r in run_named(kg, "introduction-disagreements") if r["term"] == TERM + "lstm"]
    assert {r["paperYear"] for r in rows} >= {1995, 1997}
    assert {r["yearIntroduced"] for r in rows} == {1997}


BENCH_TTL = """
@prefix rnn: <https://w3id.org/rnnref/ontology#> .
@prefix mls: <http://www.w3.org/ns/mls#> .
@prefix term: <https://w3id.org/rnnref/term/> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
@prefix run: <https://w3id.org/rnnref/run/> .
run:a a rnn:BenchmarkRun ; rnn:benchmarks term:lstm ; rnn:device "cpu" ; rnn:workload "b32-t128-h256" ;
  mls:hasOutput [ rnn:metric "forward_backward" ; mls:hasValue "5.0"^^xsd:double ; rnn:unit "ms" ] .
run:b a rnn:BenchmarkRun ; rnn:benchmarks term:gru ; rnn:device "cpu" ; rnn:workload "b32-t128-h256" ;
  mls:hasOutput [ rnn:metric "forward_backward" ; mls:hasValue "3.0"^^xsd:double ; rnn:unit "ms" ] .
run:c a rnn:BenchmarkRun ; rnn:benchmarks term:lstm ; rnn:device "cuda" ; rnn:workload "b32-t128-h256" ;
  mls:hasOutput [ rnn:metric "forward_backward" ; mls:hasValue "1.0"^^xsd:double ; rnn:unit "ms" ] .
run:d a rnn:BenchmarkRun ; rnn:benchmarks term:gru ; rnn:device "cpu" ; rnn:workload "b32-t128-h256" ;
  mls:hasOutput [ rnn:metric "parameters" ; mls:hasValue "1.0"^^xsd:double ; rnn:unit "count" ] .
"""


def test_fastest_recorded_implementation_per_device(graph_copy):
    from rnnref.graph import KnowledgeGraph

    for recorded in (graph_copy / "kg" / "benchmarks").glob("*.ttl"):
        recorded.unlink()  # count only the runs of this test
    (graph_copy / "kg" / "zz-test-bench.ttl").write_text(BENCH_TTL, encoding="utf-8")
    kg = KnowledgeGraph(graph_copy)
    rows = run_named(kg, "fastest-implementation-per-device")
    best = {r["device"]: (r["term"], r["value"]) for r in rows if r["workload"] == "b32-t128-h256"}
    assert best == {"cpu": (TERM + "gru", 3.0), "cuda": (TERM + "lstm", 1.0)}  # "count" is not a time
    cpu_only = run_named(kg, "fastest-implementation-per-device", device="cpu")
    assert {r["device"] for r in cpu_only} == {"cpu"}
    per_device = {r["device"]: r["runs"] for r in run_named(kg, "benchmark-runs-by-device")}
    assert per_device == {"cpu": 3, "cuda": 1}


def test_list_names_every_query_with_its_question(cli):
    r = cli("query", "--list")
    assert r.code == 0, r.err
    for q in QUERIES:
        assert q.name in r.out and q.question in r.out
    r = cli("query", "--list", "--json")
    assert r.code == 0, r.err
    listed = {row["name"]: row for row in r.json()}
    assert listed["papers-by-person"]["parameters"][0]["name"] == "person"
    assert listed["papers-by-person"]["parameters"][0]["required"] is True
    assert "term-index" in listed  # the library's own queries are listed too


def test_unknown_query_name_suggests_close_names(cli):
    r = cli("query", "--name", "paper-by-person")
    assert r.code == 1
    assert "papers-by-person" in r.err and len(r.err.splitlines()) == 1


@pytest.mark.parametrize(
    "args, code, fragment",
    [
        (["--name", "papers-by-person"], 2, "needs --param person="),
        (["--name", "papers-by-person", "--param", "who=x"], 2, "has no parameter 'who'"),
        (["--name", "events-in-years", "--param", "from=nineteen"], 2, "expected a year"),
        (["--name", "term-descendants", "--param", "term=lstmm"], 1, "no term matches"),
        (["--name", "terms-without-year", "--param", "class=widget"], 2, "choose a top class"),
        (["--name", "papers-by-person", "--param", "person"], 2, "key=value"),
    ],
)
def test_parameter_errors(cli, args, code, fragment):
    r = cli("query", *args)
    assert r.code == code, r.err
    assert fragment in r.err
    assert "Traceback" not in r.err and len(r.err.splitlines()) == 1
