"""Benchmarks: scripts that print their figures next to a raw-SQL baseline measured in the same run."""
