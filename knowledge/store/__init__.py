"""The base itself: its schema and migrations, connections and the write transaction; areas,
the inbox of received events, the audit log, the declined-questions log, what the base holds.
"""
