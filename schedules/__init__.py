"""What is due when: reminders, escalations and digests, from the plan, the database and `now`.

Imports `workflow` and `models`; never `cli`.
"""
