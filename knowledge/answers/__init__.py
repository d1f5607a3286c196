"""Answering: understanding a question and building the ``Answer``; listings of what is on;
places near a point; FAQ topics and placeholders; the plain-text wording a parent reads.
"""
