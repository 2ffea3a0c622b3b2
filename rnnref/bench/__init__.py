"""Benchmarks: speed and memory measured by scripts that report ratios against a
baseline timed in the same run, never by timed unit tests."""
