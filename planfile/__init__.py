"""Turns plan.yaml into a checked `workflow.plan.Plan`, and writes next year's copy.

This is the adapter between the file (YAML text, positions, comments) and the domain:
it reads files; the domain never does.
"""
