"""IRIs the Logseq import and export use, and how page properties map onto them.

Page property keys are normalised first (``Source Domain`` and ``source-domain`` are
the key ``source-domain``; see ``parse.normalise_key``). A key the tables below do not
name is kept as an annotation ``logseq:<key>`` (``https://w3id.org/rnnref/logseq#``),
declared in the import file, and listed in a warning.
"""

from __future__ import annotations

import pyoxigraph as ox

BASE = "https://w3id.org/rnnref/"
RNN = BASE + "ontology#"
TERM = BASE + "term/"
PAPER = BASE + "paper/"
SOURCE = BASE + "source/"
LOGSEQ = BASE + "logseq#"
RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
RDFS = "http://www.w3.org/2000/01/rdf-schema#"
OWL = "http://www.w3.org/2002/07/owl#"
XSD = "http://www.w3.org/2001/XMLSchema#"
SKOS = "http://www.w3.org/2004/02/skos/core#"
DCTERMS = "http://purl.org/dc/terms/"
SCHEMA = "https://schema.org/"
BIBO = "http://purl.org/ontology/bibo/"


def iri(text: str) -> ox.NamedNode:
    return ox.NamedNode(text)


TYPE = iri(RDF + "type")
OWL_CLASS = iri(OWL + "Class")
ANNOTATION_PROPERTY = iri(OWL + "AnnotationProperty")
SUBCLASS_OF = iri(RDFS + "subClassOf")
SEE_ALSO = iri(RDFS + "seeAlso")
PREF_LABEL = iri(SKOS + "prefLabel")
ALT_LABEL = iri(SKOS + "altLabel")
DEFINITION = iri(SKOS + "definition")
NOTATION = iri(SKOS + "notation")
SOURCE_PROP = iri(DCTERMS + "source")
TITLE = iri(DCTERMS + "title")
IDENTIFIER = iri(DCTERMS + "identifier")
SCHEMA_NAME = iri(SCHEMA + "name")
SCHEMA_URL = iri(SCHEMA + "url")
DOI = iri(BIBO + "doi")
GYEAR = iri(XSD + "gYear")

CONCEPT = iri(RNN + "Concept")
ARCHITECTURE = iri(RNN + "Architecture")
TRAINING_METHOD = iri(RNN + "TrainingMethod")
PAPER_CLASS = iri(RNN + "Paper")
PERSON_CLASS = iri(RNN + "Person")
APPLICATION_CLASS = iri(RNN + "Application")
SOURCE_CLASS = iri(RNN + "Source")
AUTHORS = iri(RNN + "authors")
YEAR = iri(RNN + "year")
VENUE = iri(RNN + "venue")
ARXIV = iri(RNN + "arxiv")
INTRODUCED_IN = iri(RNN + "introducedIn")
INTRODUCED_BY = iri(RNN + "introducedBy")
APPLIED_TO = iri(RNN + "appliedTo")
YEAR_INTRODUCED = iri(RNN + "yearIntroduced")
NOT_RUNNABLE = iri(RNN + "notRunnableReason")
HAS_IMPLEMENTATION = iri(RNN + "hasImplementation")
MENTIONS = iri(RNN + "mentions")
TERM_ID = iri(RNN + "termId")
LOGSEQ_PREFERRED_TERM = iri(RNN + "logseqPreferredTerm")
LOGSEQ_DEFINITION = iri(RNN + "logseqDefinition")

# Keys whose values are alternative labels.
ALT_KEYS = frozenset({"alt-terms", "alt-term", "alternative-terms", "alternative-term", "alt-labels", "alias", "aliases"})

# Keys whose values name terms (or top classes): key -> property. Export writes the first key of each property.
TERM_RELATIONS: dict[str, ox.NamedNode] = {
    "is-subclass-of": SUBCLASS_OF,
    "subclass-of": SUBCLASS_OF,
    "has-component": iri(RNN + "hasComponent"),
    "trained-with": iri(RNN + "trainedWith"),
    "addresses": iri(RNN + "addresses"),
    "related-to": iri(RNN + "relatedTo"),
    "relates-to": iri(RNN + "relatedTo"),
}
# Keys whose values name people (by name) and applications (by label).
PERSON_RELATIONS: dict[str, ox.NamedNode] = {"introduced-by": INTRODUCED_BY}
APPLICATION_RELATIONS: dict[str, ox.NamedNode] = {"applied-to": APPLIED_TO}

# Keys with literal values: key -> (property, how Technical Details writes the key).
LITERALS: dict[str, tuple[ox.NamedNode, str]] = {
    "source-domain": (iri(RNN + "sourceDomain"), "Source Domain"),
    "status": (iri(RNN + "termStatus"), "Status"),
    "maturity": (iri(RNN + "maturity"), "Maturity"),
    "owl-class": (iri(RNN + "externalClassName"), "Owl:Class"),
    "owl-physicality": (iri(RNN + "physicality"), "Owl:Physicality"),
    "owl-role": (iri(RNN + "role"), "Owl:Role"),
    "belongstodomain": (iri(RNN + "belongsToDomain"), "Belongstodomain"),
    "belongs-to-domain": (iri(RNN + "belongsToDomain"), "Belongstodomain"),
    "year-introduced": (YEAR_INTRODUCED, "Year Introduced"),
    "not-runnable-reason": (NOT_RUNNABLE, "Not Runnable Reason"),
    "logseq-definition": (LOGSEQ_DEFINITION, "Logseq Definition"),
}
# Literal properties whose values Logseq writes as links ([[Machine Learning Domain]]).
LINKED_LITERALS = frozenset({iri(RNN + "belongsToDomain")})
# Literal properties with an English language tag.
ENGLISH = frozenset({PREF_LABEL, ALT_LABEL, DEFINITION, LOGSEQ_DEFINITION, NOT_RUNNABLE})

# Names of top classes in other Logseq ontologies -> this ontology's top classes.
TOP_CLASS_ALIASES: dict[str, ox.NamedNode] = {
    "neural network architecture": ARCHITECTURE,
    "network architecture": ARCHITECTURE,
    "training algorithm": TRAINING_METHOD,
    "learning algorithm": TRAINING_METHOD,
}

METADATA_PREFIX = "metadata-"
DEFAULT_NOT_RUNNABLE = (
    "Imported from a Logseq page; this project has no reference implementation of it yet."
)


def logseq_property(key: str) -> ox.NamedNode:
    return iri(LOGSEQ + key)


# The order predicates are written in (the rest follow by IRI).
PREDICATE_ORDER = [
    TYPE, PREF_LABEL, ALT_LABEL, NOTATION, LOGSEQ_PREFERRED_TERM, DEFINITION, LOGSEQ_DEFINITION, SUBCLASS_OF,
    TITLE, AUTHORS, YEAR, VENUE, DOI, ARXIV, IDENTIFIER, TERM_ID,
]
