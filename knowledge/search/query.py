"""Question analysis: a parent's question as a ``Query`` ready for scoring.

``make_query`` drops the phrases that shape a question but name nothing (いつ, 教えて …), cuts
the rest into chunks (runs of content words, by surface, reading and dictionary form, each with
its weight) and finds the synonym dictionary's terms in it: by their first characters, by a
word's dictionary form (受け取った meets 受け取る), and as phrases whose words come in order
within one sentence (病気の子を預 in 病気の子どもを施設で預かって). Chunks, not the whole
question, are matched, so a particle never glues two words into a false match.

The vocabularies that decide what counts (stop words, dropped phrases, light words) belong to
the caller (``knowledge.answers.ask``); the same analysis cuts record titles for
``knowledge.search.scoring.title_precision``.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field

from knowledge.lang.text import FUNCTION_POS, fold, ngrams, reading, tokens
from knowledge.search.index import Synonym, Synonyms
from knowledge.search.weights import VERB_WEIGHT

# A run of only verbs and adjectives (悩んで, 通わせ) tells how the parent is placed more than
# what is asked about; it counts ``VERB_WEIGHT`` of the question.
PREDICATE_POS = {"動詞", "形容詞", "副詞", "助動詞"}
# An adverb (初めて, 早く) modifies the predicate and never joins a noun into one compound:
# it is a run of its own, so 初めて市 or 初めて利用 is not matched as one rare word.
ALONE_POS = {"副詞"}
# A prefix (お, ご) leans on the word after it and names nothing itself: おすすめ is a verb.
NEUTRAL_POS = {"接頭辞"}
MEANING_NAMES = 2  # dictionary names added to the text the meaning stage reads (each costs model time)
PHRASE_SKIP = 2  # content words a phrase's words may have between them in the question
SENTENCE_END = frozenset("。！？!?")


@dataclass
class Query:
    """A question prepared for matching: its content chunks and the synonyms it names."""

    text: str
    core_f: str
    core_r: str
    chunks: list[tuple[str, str, str, float]]  # (surface, reading, lemmas, weight) of runs of content words
    expansions: list[tuple[str, str]]  # (fold, reading) of every synonym of the terms found
    synonym_hits: list[tuple[str, str, tuple[str, ...], tuple[str, ...]]] = field(default_factory=list)
    # (term fold, term reading, member folds, member readings)
    weights: dict[str, tuple[list[str], list[float]]] = field(
        default_factory=dict
    )  # chunk -> its bigrams and their IDFs
    # The canonical names (as written) of the dictionary groups the question's words belong to:
    # 実家で産む is 里帰り. The meaning stage reads them with the question (``meaning_text``).
    named: list[str] = field(default_factory=list)

    def meaning_text(self, limit: int | None = None) -> str:
        """The question as the meaning stage embeds it (its first ``limit`` characters): with
        the dictionary's names for what it says in other words, so what the bot's dictionary
        knows (実家で産む = 里帰り) is not lost on a model that does not."""
        said = fold(self.text)
        extra = [n for n in self.named if fold(n) not in said][:MEANING_NAMES]
        text = self.text[:limit]
        return f"{text}（{'、'.join(extra)}）" if extra else text

    @functools.cached_property
    def expanded_f(self) -> set[str]:
        """Bigrams of the synonyms the question names: a title saying 病児 is not saying more
        than a question saying 病気の子."""
        return {g for f, _r in self.expansions for g in ngrams(f, 2)}

    @functools.cached_property
    def expanded_r(self) -> set[str]:
        return {g for _f, r in self.expansions for g in ngrams(r, 2)}


def _other_names(term: str, syn: Synonym) -> list[str]:
    """The canonical names of ``term``'s groups that say it in other words: 里帰り for 実家で産,
    not 地域子育て支援拠点 for 拠点 (a longer name of the word the question already says) nor
    集まり for 集まる (another form of it)."""
    return [c for c in syn.canonicals if term not in fold(c) and fold(c) not in term and fold(c)[:2] != term[:2]]


def _synonyms_in(synonyms: dict[str, Synonym], core_f: str, core_r: str):
    """The dictionary terms in the question, found through their first two characters (a few
    dozen lookups instead of a test of every one of thousands of terms)."""
    starts = synonyms.starts if isinstance(synonyms, Synonyms) else Synonyms(synonyms).starts
    seen = set()
    for text, by_reading in ((core_f, False), (core_r, True)):
        for i in range(len(text) - 1):
            for term in starts.get((by_reading, text[i : i + 2]), ()):
                syn = synonyms[term]
                key = syn.term_r if by_reading else term
                if term not in seen and text.startswith(key, i):
                    seen.add(term)
                    yield term, syn


def _phrases_in(synonyms: Synonyms, words: list[tuple[str, str, str, int]]):
    """Dictionary phrases whose content words the question holds in order, within one sentence
    and at most ``PHRASE_SKIP`` words apart: 病気の子を預 is found in 病気の子どもを施設で預かって,
    実家で産 in 実家の近くで産む. Yields each phrase with the question words it matched."""
    for start, (surface, _l, _r, _s) in enumerate(words):
        for term in synonyms.phrases.get(surface[:1], ()):
            matched = _match_parts(synonyms[term].parts, words, start)
            if matched:
                yield term, synonyms[term], matched


def _match_parts(parts, words, start: int) -> list[int] | None:
    matched, i = [], start
    for k, (p_surface, p_lemma) in enumerate(parts):
        limit = i + 1 if k == 0 else min(len(words), i + 1 + PHRASE_SKIP)
        while i < limit and not _same_word(words[i], p_surface, p_lemma):
            i += 1
        if i >= limit or words[i][3] != words[start][3]:
            return None
        matched.append(i)
        i += 1
    return matched


def _same_word(word: tuple[str, str, str, int], p_surface: str, p_lemma: str) -> bool:
    """A question word meets a phrase word written shorter (預 meets 預かって, 子 meets 子ども)
    or in another form of the same word (産む meets 産んで by its lemma)."""
    surface, lemma = word[0], word[1]
    return surface.startswith(p_surface) or lemma.startswith(p_lemma)


def _content_words(text: str) -> list[tuple[str, str, str, int]]:
    """(surface, lemma, reading folds, sentence number) of the question's content words."""
    out, sentence = [], 0
    for tok in _words(text):
        if tok is None:
            continue
        if tok.surface in SENTENCE_END:
            sentence += 1
        elif tok.pos not in FUNCTION_POS and tok.pos != "補助記号" and fold(tok.surface):
            out.append((fold(tok.surface), fold(tok.lemma), tok.reading, sentence))
    return out


def _words(text: str):
    """The morphemes of each space-separated part, with ``None`` between parts: terse search
    words (就学援助 申請) are separate words, never one run."""
    for i, part in enumerate(text.split()):
        if i:
            yield None
        yield from tokens(part)


def make_query(
    text: str,
    stopwords: frozenset[str],
    synonyms: dict[str, Synonym],
    drop: list[str],
    light: frozenset[str] = frozenset(),
) -> Query:
    """Fold the question, drop question phrases (いつ, 教えて …), cut it into content chunks.

    ``light`` words (自分, 場合, 確認) frame a question without naming its subject: like an
    adverb, each is a run of its own at ``VERB_WEIGHT``.
    """
    core = text
    for phrase in drop:
        core = core.replace(phrase, " ")
    chunks: list[tuple[str, str, str, float]] = []
    run_f, run_r, run_l, named = "", "", "", False
    for tok in _words(core):
        surface = fold(tok.surface) if tok is not None else ""
        stop = (
            tok is None
            or tok.pos in FUNCTION_POS
            or not surface
            or surface in stopwords
            or fold(tok.lemma) in stopwords
        )
        alone = tok is not None and (tok.pos in ALONE_POS or fold(tok.lemma) in light or surface in light)
        if stop or alone:
            if run_f:
                chunks.append((run_f, run_r, run_l, 1.0 if named else VERB_WEIGHT))
            run_f, run_r, run_l, named = "", "", "", False
            if stop:
                continue
        named = named or tok.pos not in PREDICATE_POS | NEUTRAL_POS
        run_f += surface
        run_r += tok.reading
        lemma = fold(tok.lemma)
        # a verb by its stem: 受け取る meets the noun 受け取り, 遊ぶ meets 遊び
        run_l += lemma[:-1] if tok.pos == "動詞" and len(lemma) >= 3 else lemma
        if alone:
            chunks.append((run_f, run_r, run_l, VERB_WEIGHT))
            run_f, run_r, run_l, named = "", "", "", False
    if run_f:
        chunks.append((run_f, run_r, run_l, 1.0 if named else VERB_WEIGHT))
    core_f = fold(core)
    core_r = reading(core)
    expansions: dict[tuple[str, str], None] = {}  # (fold, reading) of the groups' members, in order, once
    hits = []
    named: dict[str, None] = {}
    for term, syn in _synonyms_in(synonyms, core_f, core_r):
        expansions.update(dict.fromkeys(zip(syn.members_f, syn.members_r)))
        hits.append((term, syn.term_r, syn.members_f, syn.members_r))
        named.update(dict.fromkeys(_other_names(term, syn)))
    if isinstance(synonyms, Synonyms) and synonyms:
        words = _content_words(text)
        found = {h[0] for h in hits}
        # a word by its dictionary form: 受け取った meets the term 受け取る
        by_lemma = [(w[1], synonyms[w[1]], [i]) for i, w in enumerate(words) if w[1] != w[0] and w[1] in synonyms]
        for term, syn, matched in by_lemma + list(_phrases_in(synonyms, words)):
            if term in found:
                continue
            found.add(term)
            expansions.update(dict.fromkeys(zip(syn.members_f, syn.members_r)))
            named.update(dict.fromkeys(_other_names(term, syn)))
            # the question's own words that the phrase stands for are the ones it covers
            hits += [(words[i][0], words[i][2], syn.members_f, syn.members_r) for i in matched]
    chunks = [c for c in chunks if len(c[0]) >= 2 or "\u4e00" <= c[0] <= "\u9fff"]
    return Query(text, core_f, core_r, chunks, list(expansions), hits, named=list(named))
