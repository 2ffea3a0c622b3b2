"""Logseq / Markdown ontology pages in and out of the graph.

A page in the format of the seed page (``term-id:: AI-0033``) looks like::

    - ### OntologyBlock
        - term-id:: AI-0033
        - preferred-term:: Recurrent Neural Network
        - alt-terms:: [[RNN]], [[recurrent network]]
        - ontology:: true

    ### Relationships
    - is-subclass-of:: [[NeuralNetworkArchitecture]]

    ## Recurrent Neural Network

    ### Primary Definition
    - A [[Recurrent Neural Network]] is ...

    ## Technical Details
    - **Source Domain**: ai
    - **Status**: active

    ## References
    1. Hochreiter, S., & Schmidhuber, J. (1997). Long Short-Term Memory. *Neural Computation*. [https://doi.org/10.1162/neco.1997.9.8.1735](...)

    ## Metadata
    - **Term ID**: AI-0033

``parse`` reads such a page into plain records with line numbers, ``mapping`` turns
them into triples of the project's ontology, ``importer`` writes them (atomically,
idempotently) under ``kg/imports/``, and ``export`` writes a term back as a page.
None of this imports torch.
"""
