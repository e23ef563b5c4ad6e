"""Benchmarks: `make bench` (not tests: nothing here asserts timings)."""
