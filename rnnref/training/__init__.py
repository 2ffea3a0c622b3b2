"""Reference implementations of training-method terms (BPTT, ...), one module per term."""
