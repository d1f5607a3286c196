"""The writes ward staff make (progress, events, FAQs), each in one transaction with its audit
row, and the key-initiative sheet as it stands.
"""
