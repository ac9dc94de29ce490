"""Benchmarks (``make bench``): each compares a stage with a baseline on the same inputs, in one
run, and reports the ratio. Never part of ``make test``: speed is measured here, not asserted."""
