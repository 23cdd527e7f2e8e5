"""Tables and database access (SQLModel): teachers, unit tasks, the transition log, the outbox.

Imports `workflow`; never `cli`. Filled in by the records-and-tasks work.
"""
