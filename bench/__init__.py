"""Benchmarks run by ``make bench`` (``python -m bench``): each part prints its own table."""
