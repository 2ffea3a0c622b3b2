"""Reference implementations of the architecture terms, one module per term.

Each module names its term's IRI in ``TERM_IRI`` and on its main class as
``term_iri``; the graph names the module's class in ``rnn:pythonPath``. Validation
checks that the two agree. This package file imports nothing heavy: modules are
imported by path when a term is run.
"""
