"""What the bot keeps of a parent (ward, child's month, the digest setting) and the weekly
digest: its plan per parent and the ledger that makes each delivery happen once.
"""
