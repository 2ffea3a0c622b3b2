"""``rnnref stats``: how many terms, papers, people, events, ... the graph holds."""

from __future__ import annotations

from rnnref.cli.common import JsonOption, RootOption
from rnnref.cli.output import console, open_graph, print_json

# The counts and their order; the named query ontology/queries/stats.rq answers them all.
KINDS: dict[str, str] = {
    "terms": "terms",
    "architectures": "  architectures",
    "training_methods": "  training methods",
    "problems": "  problems",
    "components": "  components",
    "papers": "papers",
    "people": "people",
    "events": "historical events",
    "standards": "standards",
    "applications": "applications",
    "frameworks": "software frameworks",
    "implementations_verified": "implementations (verified)",
    "benchmark_runs": "benchmark runs",
}
# The four top classes of the term contract, reported under their own keys.
MAIN_CLASSES = {
    "Architecture": "architectures",
    "TrainingMethod": "training_methods",
    "Problem": "problems",
    "Component": "components",
}


def graph_stats(kg) -> dict:
    """Counts by kind, every kind present (0 when the graph has none), plus the term count
    under every top class of the ontology (``terms_by_class``), including any top class
    beyond the four main ones."""
    found = {row["kind"]: int(row["count"]) for row in kg.named("stats")}
    by_class = {k.removeprefix("class:"): v for k, v in sorted(found.items()) if k.startswith("class:")}
    counts: dict = {kind: found.get(kind, 0) for kind in KINDS}
    for name, kind in MAIN_CLASSES.items():
        counts[kind] = by_class.get(name, 0)
    counts["terms_by_class"] = {name: by_class.get(name, 0) for name in MAIN_CLASSES} | {
        name: n for name, n in by_class.items() if name not in MAIN_CLASSES
    }
    return counts


def stats(json_out: JsonOption = False, root: RootOption = None) -> None:
    """Count the graph's records by kind: terms (by top class), papers, people, events, ..."""
    counts = graph_stats(open_graph(root))
    if json_out:
        print_json(counts)
        return
    from rich.markup import escape
    from rich.table import Table

    table = Table(title="rnnref graph")
    table.add_column("kind")
    table.add_column("count", justify="right")
    for kind, label in KINDS.items():
        table.add_row(label, str(counts[kind]))
        if kind == "components":
            for name, n in counts["terms_by_class"].items():
                if name not in MAIN_CLASSES:
                    table.add_row(f"  {escape(name)} (other top class)", str(n))
    console().print(table)
