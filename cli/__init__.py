"""The `cuiban` command line: each command parses, calls one service, prints."""
