"""Every number that shapes a record's score, named, in one place.

They were tuned together against the labelled sets (``bench/calibrate.py``,
``bench/faq_sweep.py``, the held-out tests), so a change to one is a change to the matcher:
re-run those before and after. A record's score for a question is (``knowledge.search.scoring.combine``)

    (1 - W_PREC) * (W_DOC * covered in the record + W_TITLE * covered in the title
                    + W_SIM * title similarity + W_COS * min(1, first-stage cosine))
    + W_PREC * title precision

multiplied by the fits of area, kind and audience (``knowledge.answers.ask.rank``), then, for a
question with a date or an いつ, by the date fits. The threshold that decides whether the best
score answers is not a weight: it lives with that decision in ``knowledge.answers.ask``.
"""

from dataclasses import dataclass

# --- the index and the question ----------------------------------------------------------

TITLE_WEIGHT = 2.0  # a title's bigrams count twice a body's in a record's TF-IDF vector
# A run of only verbs and adjectives (悩んで, 通わせ), an adverb, or a framing word (自分, 場合)
# tells how the parent is placed more than what is asked about: it counts for this much of
# the question, against 1.0 for a run that names something.
VERB_WEIGHT = 0.3
SYNONYM_GRAM_WEIGHT = 0.5  # first stage: a bigram of a synonym the question names, against 1.0 for its own

# --- coverage and precision: how a chunk of one text is found in another -----------------

# A match by reading alone counts a little less than one by the written form: 養育 (ヨウイク)
# is inside 療育 (リヨウイク) once small kana are folded.
READING_CREDIT = 0.95
LEMMA_CREDIT = 0.9  # a match by dictionary form only (遊ぶ for 遊び), in the title
BODY_CREDIT = 0.8  # what only the body holds, against the title
# A lone two-character match inside a longer chunk (not two kanji) earns half: テンキ (天気)
# must not be found in シエン|キョテン (支援拠点) from two unrelated bigrams.
LONE_BIGRAM_CREDIT = 0.5
EXPANSION_CREDIT = 0.9  # a bigram of a synonym of the question's term that the record holds
SIMILARITY_FULL_CHARS = 4  # title similarity counts in full once both texts are this long

# --- the record's score --------------------------------------------------------------------

W_DOC = 0.6  # share of the question the record (title and body) covers
W_TITLE = 0.2  # share of the question its title covers
W_SIM = 0.15  # fuzzy similarity of the question and the title
W_COS = 0.05  # the first stage's cosine
# Share of the title's own content the question holds: of two FAQs that both answer 風しん,
# the one that says nothing more than 風しん.
W_PREC = 0.05

# --- fits: multipliers for what the question says beyond its words ------------------------

AREA_CITY_FIT = 0.97  # a city-wide record for a ward's parent: nearly as good as their ward's
AREA_SIBLING_WARD_FIT = 0.72  # another ward of the parent's city
AREA_ELSEWHERE_FIT = 0.7  # another city
OPERATOR_FIT = 1.1  # 運営 / どこが asked, and the record is a base or a base's program
EVENT_FIT = 1.05  # an event asked for (イベント, 講座 …), and the record is an event
FAQ_SAME_ASK_FIT = 1.05  # the FAQ asks what the parent asks (どこ / いつ / 対象 …)
# Of two FAQs on one service, a bare question wants the general one, not the one asking どこ / いつ.
FAQ_BARE_QUESTION_FIT = 0.98
AUDIENCE_FIT = 1.1  # the record is for whom the question names (妊婦, 双子 …)
DATE_FIT = 1.15  # a date asked (来週の土曜日), and the event is held in that span
HAS_DATES_FIT = 1.05  # いつ asked, and the activity has coming dates (of the best ten)

# --- meaning: the sentence-embedding stage (``knowledge.search.embed``; off with KOSODATE_EMBED=none) ------


@dataclass(frozen=True)
class Blend:
    """How the meaning stage joins the words' score (``knowledge.answers.ask.rank``).

    The question's cosine to each record (the nearest of its vectors) is rescaled per question:
    1 at the best record, 0 at the ``rescale_k``-th best and below (an engine's cosines sit in a
    narrow band that moves from question to question). The ``candidates`` records nearest in
    meaning join the lexical candidates, whatever words they share. Then, with ``mode``:

    - ``"mix"``: ``(1 - weight) * words + weight * rescaled``: meaning and words vote;
    - ``"damp"``: ``words * (1 - weight * (1 - rescaled))``: far in meaning loses, none gains.

    Chosen by cross-validation over the labelled sets (``bench/calibrate.py``). The score
    orders the records; whether the best one answers is decided apart, by
    ``knowledge.search.confidence``, since a mixed score lifts the nearest record of an
    out-of-scope question too.
    """

    mode: str = "mix"
    weight: float = 0.1
    rescale_k: int = 10
    candidates: int = 5

    def score(self, words: float, meant: float | None) -> float:
        if meant is None or self.weight <= 0:
            return words
        if self.mode == "mix":
            return (1.0 - self.weight) * words + self.weight * meant
        return words * (1.0 - self.weight * (1.0 - meant))


# Chosen by bench/calibrate.py (736 questions, 9 sets, 5 folds, records embedded with 120
# characters of body): a mix at 0.1 rescaled to the 10th nearest, 5 nearest joining; first
# record right 0.836 over all the sets, tied with a mix at 0.2 to the 50th (the folds chose
# either), against 0.831 for the damping used before issue 26 and 0.811 for the words alone
# (README, "Never confidently wrong").
BLEND = Blend()
LEXICAL_BLEND = Blend(weight=0.0)  # the words alone (the index has no vectors, or a bench's baseline)
