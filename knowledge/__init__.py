"""The domain: a child-rearing knowledge base (storage, import, matching, answers).

Nothing here knows about Flask, LINE or Slack; every channel calls ``ask`` and renders the
``Answer`` it returns.
"""

from knowledge.answers.ask import Answer, ask
from knowledge.store.db import open_db

__all__ = ["Answer", "ask", "open_db"]
