"""Benchmarks of mixseg (`make bench`); see benchmarks/run.py."""
