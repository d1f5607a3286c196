"""The Slack channel for ward staff: Bolt listeners for ``/kosodate``, its Block Kit rendering,
modals, words, who is staff, and notices to the staff channel.
"""
