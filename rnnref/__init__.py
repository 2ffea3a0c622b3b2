"""rnnref: an ontology-backed reference for recurrent neural networks.

Importing this package is cheap on purpose: it never imports torch. The lookup and
query paths stay fast; only model, training and benchmark code imports torch.
"""

__version__ = "0.1.0"
