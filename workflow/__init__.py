"""The domain of cuiban: the plan, its calendar and deadlines, the state machines and their rules.

Nothing here does I/O or reads the clock: `now` is always a parameter. Only the
standard library, pendulum, pydantic and transitions may be imported (a test walks
the imports).
"""
