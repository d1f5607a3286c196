"""The domain: a child-rearing knowledge base (storage, import, matching, answers).

Nothing here knows about Flask, LINE or Slack; every channel calls ``ask`` and renders the
``Answer`` it returns.
"""

from knowledge.answer import Answer, ask
from knowledge.db import open_db

__all__ = ["Answer", "ask", "open_db"]
