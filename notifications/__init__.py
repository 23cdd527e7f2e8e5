"""Rendering messages (jinja2, pure) and delivering them (SMTP via yagmail, or an .eml folder).

Imports `workflow`; never `cli`.
"""
