"""Whether the best record answers the question: a confidence from what the matcher saw of it.

The score that orders the records is not the one that decides to answer. A record can be the
best of a poor lot: 保育園に入るには？ finds 保育園 inside a long title about flyers, and a
mixed score lifts the record nearest in meaning to any question, out of scope or not. So the
decision weighs the signals apart (``Signals``): the words' score with its fits, how much of the
question's content the record holds, how much of the record's title the question holds, and,
with the meaning stage, the question's cosine to the record and how far it is below the
nearest record's. A logistic model over them gives the chance that the record is right; the
bot answers at or above ``Decision.threshold``.

The coefficients are fitted by ``bench/calibrate.py --fit`` on the labelled sets (the shared
development sets and the project's own in ``tests/data/heldout``), the threshold set so that at
most ``TARGET_WRONG`` of the answers given are wrong on folds the fit did not see. One model for
the words alone (a deploy without the meaning stage), one with it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

TARGET_WRONG = 0.05  # at most this share of the answers given may be wrong (held-out folds)


@dataclass(frozen=True)
class Signals:
    """What the matcher saw of one record for one question."""

    words: float  # the words' score (``knowledge.search.scoring.combine``) times the fits
    covered: float  # share of the question's content the record (title and body) holds
    precision: float  # share of the title's content the question holds
    titled: float = 0.0  # share of the question's content the title alone holds
    cosine: float | None = None  # the question's cosine to the record (None: lexical only)
    cosine_gap: float | None = None  # the nearest record's cosine minus this one's
    lead: float = 0.0  # for the best record: its score minus the next record's (a clear winner?)
    # An FAQ answers one question of hundreds that share their words (保育園 in 40 of them); a
    # ward's programs, events and bases are fewer and apart: the same score means less for an FAQ.
    faq: bool = False

    def overlap(self) -> float:
        """How much question and title are one another (harmonic mean of the title's share of the
        question and the question's share of the title): low for one word of the question found
        in a long title about something else (保育園 in 「保育園、幼稚園、地域サロンなどでのチラシ掲示」)."""
        both = self.titled + self.precision
        return 2 * self.titled * self.precision / both if both else 0.0

    def features(self) -> tuple[float, ...]:
        lexical = (self.words, self.covered, self.precision, self.lead, float(self.faq), self.titled, self.overlap())
        if self.cosine is None:
            return lexical
        return lexical + (self.cosine, self.cosine_gap or 0.0)


@dataclass(frozen=True)
class Decision:
    """A logistic model over ``Signals.features()`` and the chance at which the bot answers."""

    bias: float
    coefficients: tuple[float, ...]
    threshold: float

    def chance(self, signals: Signals) -> float:
        z = self.bias + sum(c * x for c, x in zip(self.coefficients, signals.features()))
        return 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, z))))

    def answers(self, signals: Signals) -> bool:
        return self.chance(signals) >= self.threshold


# Fitted by bench/calibrate.py --fit over 736 labelled questions (README, "Answer quality"); the
# features in ``Signals.features()`` order. The thresholds hold the wrong answers given to 5% of
# the answers over the chances of folds each fit did not see.
LEXICAL = Decision(bias=-4.336, coefficients=(6.247, 1.738, 1.014, 5.807, -0.151, -4.385, 3.191), threshold=0.737)
MEANING = Decision(
    bias=-32.217,
    coefficients=(4.276, 2.075, 0.095, 6.074, -0.990, -2.902, 1.655, 33.746, -19.400),
    threshold=0.741,
)


# The words alone decide without the meaning stage when their chance is at least this: on the
# labelled sets the blend then finds the same record and answers it too (bench/calibrate.py,
# "words sure"), and a first answer skips the question's embedding, most of its time.
WORDS_SURE = 0.95


def with_lead(best: Signals, best_score: float, next_score: float | None) -> Signals:
    """The best record's signals with how far it leads the next record (none: a lead of its
    whole score)."""
    return replace(best, lead=best_score - (next_score or 0.0))


def decision_for(signals: Signals) -> Decision:
    """The model for the stages these signals come from."""
    return LEXICAL if signals.cosine is None else MEANING
