"""OWL checks for `rnnref validate`: an OWL 2 DL profile check and a reasoner.

Three parts, all working on an rdflib graph of the whole ontology and knowledge graph:

- `profile_problems(graph)` checks the typing and global restrictions of OWL 2 DL
  that the graph could break (OWL 2 Structural Specification sections 5, 11 and the
  RDF mapping's declaration rules): every IRI used as a property is declared as
  exactly one kind of property, every IRI used as a class is declared a class,
  object properties take IRIs and data properties literals, datatypes of data
  values and ranges are in the OWL 2 datatype map, and the reserved vocabulary is
  not redeclared. Annotation values may carry any datatype (annotations are outside
  the logical profile; OWL API issue 109 settled the same), which is why years are
  xsd:gYear annotations.
- `hermit(graph)` runs HermiT through owlready2 (needs Java): consistency and
  unsatisfiable classes.
- `owl_rl(graph)` runs the OWL 2 RL rules with owlrl (pure Python). RL rules do not
  classify, so every named class gets one fresh test individual before the closure;
  a class whose test individual ends up in two disjoint classes (or in owl:Nothing)
  is unsatisfiable, and any clash among the real individuals means inconsistency.

Both reasoners see only the logical axioms: annotation assertions (labels,
definitions, sources, years, links between terms) have no semantics and are left
out, which also keeps non-OWL datatypes away from HermiT's datatype checker.
"""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import rdflib
from rdflib import BNode, Literal, URIRef
from rdflib.namespace import OWL, RDF, RDFS, XSD

_RESERVED = (str(RDF), str(RDFS), str(OWL), str(XSD))

#: OWL 2 datatype map (Structural Specification section 4) plus rdfs:Literal.
OWL2_DATATYPES = frozenset(
    URIRef(iri)
    for iri in [
        str(RDFS.Literal), str(OWL.real), str(OWL.rational),
        str(RDF.PlainLiteral), str(RDF.XMLLiteral), str(RDF.langString),
    ]
    + [
        str(XSD) + name
        for name in (
            "decimal integer nonNegativeInteger nonPositiveInteger positiveInteger negativeInteger long int "
            "short byte unsignedLong unsignedInt unsignedShort unsignedByte double float string normalizedString "
            "token language Name NCName NMTOKEN boolean hexBinary base64Binary anyURI dateTime dateTimeStamp"
        ).split()
    ]
)

#: Annotation properties built into OWL 2.
BUILTIN_ANNOTATION = frozenset(
    [RDFS.label, RDFS.comment, RDFS.seeAlso, RDFS.isDefinedBy, OWL.versionInfo, OWL.deprecated,
     OWL.priorVersion, OWL.backwardCompatibleWith, OWL.incompatibleWith]
)

#: Vocabulary the RDF mapping of OWL 2 uses for its own structure.
_STRUCTURAL = frozenset(
    [RDF.type, RDF.first, RDF.rest, RDFS.subClassOf, RDFS.subPropertyOf, RDFS.domain, RDFS.range,
     OWL.equivalentClass, OWL.disjointWith, OWL.members, OWL.inverseOf, OWL.onProperty, OWL.someValuesFrom,
     OWL.allValuesFrom, OWL.hasValue, OWL.unionOf, OWL.intersectionOf, OWL.complementOf, OWL.oneOf,
     OWL.versionIRI, OWL.imports, OWL.equivalentProperty, OWL.propertyDisjointWith, OWL.sameAs,
     OWL.differentFrom, OWL.minCardinality, OWL.maxCardinality, OWL.cardinality, OWL.qualifiedCardinality,
     OWL.minQualifiedCardinality, OWL.maxQualifiedCardinality, OWL.onClass, OWL.onDataRange,
     OWL.propertyChainAxiom, OWL.distinctMembers, OWL.withRestrictions, OWL.onDatatype, OWL.hasKey,
     OWL.annotatedSource, OWL.annotatedProperty, OWL.annotatedTarget, OWL.hasSelf]
)

_DECLARATION_TYPES = {
    OWL.Class: "class", RDFS.Datatype: "datatype", OWL.ObjectProperty: "object property",
    OWL.DatatypeProperty: "data property", OWL.AnnotationProperty: "annotation property",
}
_PROPERTY_KINDS = (OWL.ObjectProperty, OWL.DatatypeProperty, OWL.AnnotationProperty)
_BUILTIN_CLASSES = frozenset([OWL.Thing, OWL.Nothing])


@dataclass
class OwlFinding:
    """One finding: what is wrong and the IRI it is about."""

    message: str
    focus: str | None = None


@dataclass
class ReasonerResult:
    reasoner: str  #: "hermit" or "owlrl"
    consistent: bool = True
    unsatisfiable: list[str] = field(default_factory=list)
    findings: list[OwlFinding] = field(default_factory=list)


def _kinds(graph: rdflib.Graph) -> dict[URIRef, set[URIRef]]:
    kinds: dict[URIRef, set[URIRef]] = {}
    for kind in _DECLARATION_TYPES:
        for s in graph.subjects(RDF.type, kind):
            if isinstance(s, URIRef):
                kinds.setdefault(s, set()).add(kind)
    for p in BUILTIN_ANNOTATION:
        kinds.setdefault(p, set()).add(OWL.AnnotationProperty)
    return kinds


def _reserved(iri: URIRef) -> bool:
    return str(iri).startswith(_RESERVED)


def annotation_properties(graph: rdflib.Graph) -> set[URIRef]:
    return {p for p, ks in _kinds(graph).items() if OWL.AnnotationProperty in ks}


def profile_problems(graph: rdflib.Graph) -> list[OwlFinding]:
    """Violations of the OWL 2 DL typing and datatype restrictions, one per IRI and kind."""
    kinds = _kinds(graph)
    found: dict[tuple[str, str], OwlFinding] = {}

    def add(focus, message):
        found.setdefault((str(focus), message), OwlFinding(message, str(focus)))

    for iri, ks in kinds.items():
        prop_kinds = [k for k in ks if k in _PROPERTY_KINDS]
        if len(prop_kinds) > 1:
            names = " and ".join(sorted(_DECLARATION_TYPES[k] for k in prop_kinds))
            add(iri, f"declared as both {names} (OWL 2 DL allows one kind per property IRI)")
        if _reserved(iri) and iri not in BUILTIN_ANNOTATION and iri not in _BUILTIN_CLASSES:
            add(iri, "reserved RDF/RDFS/OWL/XSD vocabulary redeclared")

    for s, p, o in graph:
        if p in _STRUCTURAL:
            continue
        ks = kinds.get(p, set())
        if not ks & set(_PROPERTY_KINDS):
            add(p, "used as a property but not declared as an object, data or annotation property")
            continue
        if OWL.ObjectProperty in ks and isinstance(o, Literal):
            add(p, f"object property with a literal value ({o!s:.40})")
        if OWL.DatatypeProperty in ks:
            if not isinstance(o, Literal):
                add(p, "data property with a non-literal value")
            else:
                datatype = o.datatype or (RDF.langString if o.language else XSD.string)
                if datatype not in OWL2_DATATYPES and RDFS.Datatype not in kinds.get(datatype, set()):
                    add(p, f"data property value of datatype {datatype}, which is not in the OWL 2 datatype map")

    def need_class(c):
        if isinstance(c, URIRef) and c not in _BUILTIN_CLASSES and OWL.Class not in kinds.get(c, set()):
            add(c, "used as a class but not declared owl:Class")

    for s, o in graph.subject_objects(RDFS.subClassOf):
        need_class(s)
        need_class(o)
    for s, o in graph.subject_objects(OWL.disjointWith):
        need_class(s)
        need_class(o)
    for axiom in graph.subjects(RDF.type, OWL.AllDisjointClasses):
        for members in graph.objects(axiom, OWL.members):
            for c in rdflib.collection.Collection(graph, members):
                need_class(c)
    for s, c in graph.subject_objects(RDF.type):
        if c in _DECLARATION_TYPES or c in (OWL.Ontology, OWL.AllDisjointClasses, OWL.Restriction, OWL.NamedIndividual,
                                           OWL.AllDifferent, OWL.Axiom, RDF.List):
            continue
        need_class(c)
    for p, r in graph.subject_objects(RDFS.range):
        ks = kinds.get(p, set())
        if OWL.DatatypeProperty in ks and isinstance(r, URIRef):
            if r not in OWL2_DATATYPES and RDFS.Datatype not in kinds.get(r, set()):
                add(p, f"data property range {r} is not in the OWL 2 datatype map")
        elif OWL.ObjectProperty in ks:
            need_class(r)
    for p, d in graph.subject_objects(RDFS.domain):
        if kinds.get(p, set()) & {OWL.ObjectProperty, OWL.DatatypeProperty}:
            need_class(d)
    return sorted(found.values(), key=lambda f: (f.focus or "", f.message))


def logical_axioms(graph: rdflib.Graph) -> rdflib.Graph:
    """The graph without annotation assertions (the part a reasoner can use)."""
    annotations = annotation_properties(graph)
    logical = rdflib.Graph()
    for triple in graph:
        if triple[1] in annotations:
            continue
        logical.add(triple)
    return logical


def java_available() -> bool:
    return shutil.which("java") is not None


def hermit(graph: rdflib.Graph) -> ReasonerResult:
    """Consistency and unsatisfiable classes with HermiT (owlready2; needs Java)."""
    import owlready2

    result = ReasonerResult("hermit")
    logical = logical_axioms(graph)
    world = owlready2.World()
    with tempfile.TemporaryDirectory(prefix="rnnref-hermit-") as tmp:
        path = Path(tmp) / "logical.nt"
        logical.serialize(destination=str(path), format="nt", encoding="utf-8")
        world.get_ontology(path.as_uri()).load()
        try:
            with _quiet():
                owlready2.sync_reasoner_hermit(world, infer_property_values=False, debug=0)
        except owlready2.OwlReadyInconsistentOntologyError:
            result.consistent = False
            result.findings.append(OwlFinding("the ontology is inconsistent (HermiT)"))
            return result
        nothing = {OWL.Nothing}
        for cls in world.inconsistent_classes():
            iri = URIRef(cls.iri)
            if iri not in nothing:
                result.unsatisfiable.append(str(iri))
    result.unsatisfiable.sort()
    result.findings += [OwlFinding("unsatisfiable class (HermiT): it can have no instances", iri) for iri in result.unsatisfiable]
    return result


def owl_rl(graph: rdflib.Graph) -> ReasonerResult:
    """OWL 2 RL closure (owlrl) with one test individual per named class."""
    import owlrl

    result = ReasonerResult("owlrl")
    logical = logical_axioms(graph)
    classes = sorted(c for c in logical.subjects(RDF.type, OWL.Class) if isinstance(c, URIRef))
    probes = {}
    for i, c in enumerate(classes):
        probe = URIRef(f"urn:rnnref:probe:{i}")
        probes[probe] = c
        logical.add((probe, RDF.type, c))
    owlrl.DeductiveClosure(owlrl.OWLRL_Semantics, axiomatic_triples=False, datatype_axioms=False).expand(logical)

    disjoint_pairs: set[frozenset] = set()
    for a, b in logical.subject_objects(OWL.disjointWith):
        disjoint_pairs.add(frozenset((a, b)))
    for axiom in logical.subjects(RDF.type, OWL.AllDisjointClasses):
        for members in logical.objects(axiom, OWL.members):
            items = list(rdflib.collection.Collection(logical, members))
            for i, a in enumerate(items):
                for b in items[i + 1 :]:
                    disjoint_pairs.add(frozenset((a, b)))

    def clashes(individual) -> bool:
        types = set(logical.objects(individual, RDF.type))
        if OWL.Nothing in types:
            return True
        return any(len(pair) == 2 and pair <= types for pair in disjoint_pairs)

    for probe, c in probes.items():
        if clashes(probe):
            result.unsatisfiable.append(str(c))
    # owlrl also records its own clash findings as rdfs:comment-free error triples on
    # the individuals; a clash on a real (non-probe) individual is an inconsistency.
    for individual in set(logical.subjects(RDF.type, None)):
        if isinstance(individual, (URIRef, BNode)) and individual not in probes and not str(individual).startswith("urn:rnnref:probe:"):
            if isinstance(individual, URIRef) and clashes(individual):
                result.consistent = False
                result.findings.append(OwlFinding("individual belongs to disjoint classes (OWL RL)", str(individual)))
    result.unsatisfiable.sort()
    result.findings += [OwlFinding("unsatisfiable class (OWL RL): its instances would belong to disjoint classes", iri) for iri in result.unsatisfiable]
    return result


class _quiet:
    """Silence owlready2's reasoner chatter on stdout/stderr."""

    def __enter__(self):
        import contextlib
        import io

        self._stack = contextlib.ExitStack()
        self._stack.enter_context(contextlib.redirect_stdout(io.StringIO()))
        self._stack.enter_context(contextlib.redirect_stderr(io.StringIO()))
        return self

    def __exit__(self, *exc):
        self._stack.close()
        return False
