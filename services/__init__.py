"""Use cases, one per command: read the input, drive the domain, write through `models` in one transaction."""
