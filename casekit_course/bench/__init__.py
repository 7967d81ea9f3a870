"""Benchmarks: `python -m casekit_course.bench` (training), `.bench.cache`, `.grading`, `.real`."""
