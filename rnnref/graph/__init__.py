"""The graph layer: Turtle -> store -> named queries -> records.

Importing it never imports torch.
"""

from rnnref.graph.kg import KnowledgeGraph

__all__ = ["KnowledgeGraph"]
