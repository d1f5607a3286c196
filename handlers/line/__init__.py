"""The LINE channel: the webhook's transport and conversation, rendering an ``Answer`` as LINE
messages, the words a parent reads, the rich menu, pushes and the weekly digest's run.
"""
