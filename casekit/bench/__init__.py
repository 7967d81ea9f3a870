"""Benchmarks: ``python -m casekit.bench.cache`` (image cache); see each module's docstring."""
