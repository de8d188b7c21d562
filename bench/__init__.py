"""Burn Chat's load benchmarks: `python -m bench run` (see docs/BENCHMARKS.md).

Kept import-free: the harness starts server processes that monkey-patch their
async library before importing anything, and load-generator processes that
must not pay for what they do not use.
"""
