"""Understand a parent's question and build one channel-neutral ``Answer``.

Understanding: what kind of thing is asked for (イベント, 場所, 運営, 対象, いつ, 進捗), for whom
(audience tags), where (a ward named in the question overrides the parent's area) and when
(date words against ``today``). The index, question analysis and scoring live in
``knowledge.search.index``, ``knowledge.search.query`` and ``knowledge.search.scoring``; this module decides which
fits of area, kind, audience and date apply (their factors are in ``knowledge.search.weights``),
how the meaning stage joins the words (``weights.BLEND``), whether the best match answers
(``knowledge.search.confidence``: a chance from its signals, not its score alone), and words the
reply. When it does not, the bot says it does not know, offers 「もしかして」 candidates and the
ward's contact, and logs the question (text, area, time, best score) for staff.
"""

from __future__ import annotations

import logging
import re
import sqlite3
import time
from dataclasses import dataclass, field, replace
from datetime import date

import numpy as np
import sqlite_utils

from knowledge.answers import listings, schedule
from knowledge.answers import wording as render
from knowledge.lang import audience
from knowledge.lang.dates import When, kanji_dates, parse_when
from knowledge.lang.smalltalk import small_talk
from knowledge.lang.text import fold, nfkc
from knowledge.search import weights
from knowledge.search.confidence import LEXICAL, WORDS_SURE, Signals, decision_for, with_lead
from knowledge.search.documents import Doc
from knowledge.search.index import Index, index_for
from knowledge.search.query import Query, make_query
from knowledge.search.scoring import candidates, combine, coverage, query_grams, title_precision, title_similarity
from knowledge.settings import DEFAULTS, Settings
from knowledge.store import db as dbmod
from knowledge.store import unanswered
from knowledge.store.areas import city_of, wards_of
from knowledge.store.areas import contact as ward_contact
from knowledge.store.areas import resolve as resolve_area
from knowledge.store.unanswered import Policy

# Whether the best record answers is the decision of ``knowledge.search.confidence`` (its
# signals, weighed by a model fitted with bench/calibrate.py). A record below the best is shown
# beside it only when its words' score reaches this (the bar the words alone once set for an
# answer: 0.45 on the labelled sets).
THRESHOLD = 0.45
SUGGEST_MIN = 0.25
LEAD_LOOKS = 8  # records read for the best one's lead over a rival
# What of a question the meaning stage reads: a long paste costs the model time in proportion
# (about 20 ms for a short question, several times that for 500 characters) and says what it is
# about in its first sentences.
MEANING_CHARS = 200
logger = logging.getLogger(__name__)
MAX_QUESTION = 500  # characters considered; a 5,000-character paste is cut, not refused

# What detail a question asks for, first match in this order: how to apply before when (申込は
# いつから), whom to ask before where (問い合わせ先はどこ). ``wording`` leads the reply with it.
INTENTS = {
    "fee": r"料金|いくら|無料|有料|お金|参加費|費用|利用料|値段|金額|お支払|支払い|タダ",
    "apply": r"申し?込|予約|(?<!アクセス)(?<!連絡)方法|応募|事前登録|どうやって参加|どうすれば参加|参加するには|"
    r"参加したい|登録が(?:必要|いる)|締め?切",
    "bring": r"持ち物|持物|何を持って|なにを持って|持って(?:いく|行く|くる|来る)|持参|用意するもの|準備するもの|必要なもの",
    "contact": r"電話|問い?合わ?せ|問合せ|連絡先|連絡したら|相談先|誰に聞け|だれに聞け",
    "when": r"いつ|何月|何日|開催月|開催日|日程|日時|スケジュール|予定|何時",
    "where": r"どこで|どこに|どこへ|どこ(?:[?？]|$|です|でしょう|にあ)|(?<!居)場所|会場|住所|アクセス|行き方|窓口",  # 居場所 is a subject, not a where
    "operator": r"運営|法人|実施者|どこが|団体",
    "audience": r"対象|何歳|年齢|誰が|だれが|参加できる人|どんな時|どんな人|どのような人|どんな場合|どのような場合|条件",
    "progress": r"進捗|進み具合|進んで|状況|どうなった|どうなりました|どうなって|その後",
    "count": r"何か所|何カ所|何ヶ所|何箇所|いくつ|何回|数は",
}
# Phrases that shape the question but name nothing to match.
DROP = [  # in this order: the longer phrase first
    "でしょうか",
    "でしょう",
    "教えてもらえますか",
    "教えてもらえる",
    "教えてほしい",
    "について教えてください",
    "について教えて",
    "を教えてください",
    "を教えて",
    "教えてください",
    "教えて",
    "はありますか",
    "がありますか",
    "ありますか",
    "ある？",
    "ある?",
    "はある",
    "できますか",
    "できる？",
    "とは何ですか",
    "とは",
    "ってなに",
    "って何",
    "知りたいです",
    "知りたい",
    "したいのですが",
    "したい",
    "ですか",
    "ますか",
    "ください",
    "？",
    "?",
    "いつ",
    "どこで",
    "どこに",
    "どこへ",
    "どこ",
    "何月",
    "開催月",
    "開催日",
    "日程",
    "運営しているのは",
    # asking for progress (the ``progress`` intent), not naming what the progress is of
    "進捗状況",
    "進捗",
    "進み具合",
    "どうなりましたか",
    "どうなりました",
    "どうなった",
    "どうなって",
]
STOPWORDS = frozenset(
    fold(w)
    for w in (
        "教える",
        "ある",
        "いる",
        "する",
        "なる",
        "できる",
        "出来る",
        "欲しい",
        "ほしい",
        "知る",
        "いい",
        "良い",
        "方",
        "こと",
        "もの",
        "ため",
        "向け",
        "何",
        "誰",
        "どう",
        "よう",
        "の",
        "参加",
        "行く",
        "イベント",
        "会",
        "催し",
        "企画",
        "情報",
        "について",
        "ところ",
        "場所",
        "対象",
        "年齢",
        "運営",
        "開催",
        "さん",
        "ちゃん",
        "少し",
        "だけ",
        "くれる",
        "みたい",
        "ここ",
        "今",
        "今日",
        "明日",
        "今週",
        "来週",
        "週末",
        "来月",
        "今月",
        "土曜",
        "日曜",
        "曜日",
        "どんな",
        "なに",
        "いつ",
        "どこ",
        "様",
        "です",
        "ます",
        "為る",
        "居る",
        "有る",
        "出来る",
        "貰える",
        "成る",
        "思う",
        "良い",
        "分かる",
        "下さる",
    )
)
_FAQ_ASKS = re.compile("|".join(INTENTS[k] for k in ("when", "where", "audience", "count")))
# Words that frame a question without naming its subject (「自分の場合に必要な対応」「確認したい」「初めて」):
# they count, as little as a verb does, instead of outweighing the subject by being rare in the base.
LIGHT_WORDS = frozenset(
    fold(w)
    for w in (
        "自分",
        "場合",
        "対応",
        "確認",
        "詳しい",
        "具体",
        "内容",
        "実際",
        "今度",
        "最近",
        "全然",
        "普通",
        "調べる",
        "探す",
        "気軽",
        "おすすめ",
        "お勧め",
        "人向け",
        # the detail asked of a record (its fee, phone, how to apply): the reply leads with it
        # (``wording``); the subject is the rest of the question
        "電話",
        "電話番号",
        "番号",
        "連絡先",
        "問い合わせ",
        "問い合わせる",
        "問合せ",
        "料金",
        "費用",
        "参加費",
        "値段",
        "持ち物",
        "予約",
        "申し込み",
        "申込",
        "申し込む",
        "方法",
        "やり方",
    )
)
# What a question about a time window says besides its dates: event words, verbs of going and
# doing, the child it is about. A window question that says nothing more is a listing.
LISTING_WORDS = re.compile(
    r"イベント|催し物?|もよおし|行事|予定|スケジュール|日程|開催|一覧|何か|なにか|何が|なにが|何を|なにを|何|なに|"
    r"どこか|どんな|行ける|いける|行け|行く|いく|遊べる|あそべる|遊ぶ|あそぶ|遊び|あそび|遊べ|やってる|やってい|やって|"
    r"おでかけ|お出かけ|出かけ|出掛け|参加|ところ|場所|子ども|子供|こども|お子さん|子|親子|家族|一緒|みんな|"
    r"楽しめる|楽しい|おすすめ|オススメ|教えて|知りたい|ありますか|あります|ある|ない|予約不要|"
    r"区内|近く|近所|市内|午前中?|午後|朝|夕方"
)
DATE_WORDS = re.compile(
    r"再来週末|来週末|今週末|再来週|来週|今週|次の週|この週|週末|土日|今日|本日|明日|あした|あす|明後日|あさって|年末年始|冬休み|春休み|"
    r"夏休み|ゴールデンウィーク|GW|再来月|来月|今月|今年度|年内|次の|今度の|次回の|\d{4}\s*年|\d{1,2}\s*月\s*\d{1,2}\s*日|"
    r"\d{1,2}/\d{1,2}|\d{1,2}\s*月|[月火水木金土日]曜日?|[(（][月火水木金土日][)）]"
)
# Who is coming along (1歳の子と, 妊婦でも, パパと): words of whom, not of what.
WHO_WORDS = re.compile(
    r"\d{1,2}\s*(?:歳|才|か月|ヶ月|カ月|ヵ月)(?:\s*\d{1,2}\s*(?:か月|ヶ月|カ月|ヵ月))?半?|生後|児|赤ちゃん|あかちゃん|"
    r"乳児|幼児|乳幼児|妊婦|妊娠中|妊娠して|プレママ|プレパパ|パパ|ママ|父親|母親|夫婦|双子|三つ子|多胎|祖父母|"
    r"じいじ|ばあば|孫|ひとり親|外国|小学生|未就学|就学前|兄弟|姉妹|きょうだい"
)
# Words that ask what is on (besides the dates): with them, words no event answers to
# (今月のイベントカレンダー) still ask for the window's events.
WINDOW_ASKS = re.compile(
    r"イベント|催し|もよおし|行事|予定|スケジュール|日程|カレンダー|一覧|何か|なにか|何が|なにが|やって|"
    r"遊べ|遊び|あそび|おでかけ|お出かけ|出かけ|行ける|いける"
)
SUBJECT_MIN = 0.34  # a window with a subject lists the events in it that match at least this well
SUBJECT_SHARE = 0.7  # … and at least this share of the best match's score
EVENT_HINT = re.compile(r"イベント|会$|会は|会に|会を|集まり|集まる|あつまり|講座|教室|サロン|遊び|あそび|参加")


@dataclass
class Item:
    """One record found, and what a channel shows of it on a card of its own (filled for the
    records of an answer: ``lines`` and ``url`` as ``wording.RecordWords`` says them, where a
    place is for a map), so that a channel never reads the base or takes the text apart."""

    kind: str
    id: str
    title: str
    score: float
    record: dict = field(default_factory=dict, repr=False)
    lines: tuple[str, ...] = field(default=(), repr=False)  # its answer's lines below its title, link apart
    url: str | None = field(default=None, repr=False)  # its link
    address: str | None = field(default=None, repr=False)  # a place's address and coordinates
    lat: float | None = field(default=None, repr=False)
    lon: float | None = field(default=None, repr=False)

    def public(self) -> dict:
        return {"kind": self.kind, "id": self.id, "title": self.title, "score": round(min(self.score, 1.0), 3)}


@dataclass
class Understanding:
    question: str
    area: str | None
    intent: str | None
    audience: list[str]
    when: When | None
    wants_event: bool
    today: date = date.min


@dataclass
class Answer:
    answered: bool
    items: list[Item]
    text: str
    understanding: Understanding | None = None
    suggestions: list[Item] = field(default_factory=list)
    related: list[Item] = field(default_factory=list)
    contact: str | None = None
    listing: listings.Listing | None = None  # what's on, as data: each channel renders it its way
    listing_words: render.ListingWords | None = None  # the listing's text in parts (its head, notes, events)
    best: Item | None = field(default=None, repr=False)  # the best match, answered or not (for the log)
    chance: float = 0.0  # the chance that the best match is right (``knowledge.search.confidence``)

    def to_dict(self) -> dict:
        if self.listing is not None:  # the events listed, in the order shown, with date and time
            items = [e.public() for e in self.listing.visible]
        else:
            items = [i.public() for i in self.items]
        return {"answered": self.answered, "items": items, "text": self.text}


def understand(
    db: sqlite_utils.Database, question: str, area: str | None, today: date, index: Index | None = None
) -> Understanding:
    q = kanji_dates(nfkc(question))
    named = _area_named(index or index_for(db), q)
    intent = next((name for name, pattern in INTENTS.items() if re.search(pattern, q)), None)
    return Understanding(
        question=q,
        area=named or area,
        intent=intent,
        audience=audience.tags_in(q),
        when=parse_when(q, today),
        wants_event=bool(EVENT_HINT.search(q)),
        today=today,
    )


def _area_named(index: Index, q: str) -> str | None:
    """A ward or city named in the question (横浜市旭区, 旭区, 鶴見, つるみ), longest name first."""
    return next((full for form, full in index.areas if form in q), None)


def ask(
    db: sqlite_utils.Database,
    question: str,
    *,
    area: str | None = None,
    today: date | None = None,
    log: bool = True,
    asker: str | None = None,
    settings: Settings = DEFAULTS,
) -> Answer:
    """Answer one question for a parent of ``area`` on ``today`` (default: today on the deploy's
    clock, ``settings.clock``).

    ``asker`` (a LINE user id, a client address) only rate-limits what the unanswered log keeps,
    by ``settings.unanswered``.
    """
    started = time.perf_counter()
    today = today or settings.clock.today()
    question = (question or "").strip()[:MAX_QUESTION]
    if area:
        area = resolve_area(db, area)
    if not fold(question):
        return Answer(False, [], render.empty_question())
    chat = small_talk(question)
    if chat is not None:  # a greeting or thanks asks nothing: not a gap for staff's log
        logger.info("question small talk (%s) chars=%d", chat, len(question))
        return Answer(False, [], render.small_talk(chat))
    index = index_for(db, meaning=settings.meaning)
    key = (question, area, today, dbmod.version(db))
    answer = index.answers.get(key)
    cached = answer is not None
    if not cached:
        answer = _answer(db, index, question, area, today)
        index.answers.put(key, answer)
    best = answer.best
    if not answer.answered and answer.listing is None and log:
        _log_unanswered(
            db, question, answer.understanding.area, best.score if best else 0.0, asker, settings.unanswered
        )
    logger.info(
        "question answered=%s score=%.3f chance=%.2f item=%s area=%s chars=%d ms=%.1f%s",
        answer.answered,
        best.score if best else 0.0,
        answer.chance,
        f"{best.kind}:{best.id}" if best else "-",
        answer.understanding.area or "-",
        len(question),
        (time.perf_counter() - started) * 1000,
        " (cached)" if cached else "",
    )
    return answer


def _answer(db: sqlite_utils.Database, index: Index, question: str, area: str | None, today: date) -> Answer:
    """The answer itself: the same for the same question, area, day and base version."""
    u = understand(db, question, area, today, index)
    ranked = rank(db, index, u)
    contact = ward_contact(db, u.area)
    best = ranked[0] if ranked else None
    listing = _listing(db, index, u, ranked, area)
    if listing is not None:
        shown = [Item("event", e.activity_id, e.title, 1.0, {"listed": e}) for e in listing.visible]
        said = render.listing_words(listing, contact)
        answer = Answer(bool(shown), shown, said.text, u, contact=contact, listing=listing, listing_words=said)
    elif best and confident(ranked):
        items = _dedupe_groups(ranked)[:5]
        related = [i for i in items[1:] if i.kind == best.kind == "faq"][:2]
        text = _worded(db, best, u, today, related)
        for item in items[1:]:
            if shown_beside(item):  # only a record fit to answer is ever shown beside the best
                _worded(db, item, u, today)
        answer = Answer(True, items, text, u, related=related, contact=contact)
    else:
        suggestions = [i for i in _dedupe_groups(ranked) if i.score >= SUGGEST_MIN][:3]
        answer = Answer(
            False,
            suggestions,
            render.refusal_text(suggestions, contact, u.area),
            u,
            suggestions=suggestions,
            contact=contact,
        )
    answer.best = best
    answer.chance = chance(ranked)
    return answer


def best_signals(ranked: list[Item]) -> Signals | None:
    """The best record's signals with how far it leads the next record about something else.

    A record whose title holds the best one's, or is held in it (鶴見区地域子育て支援拠点 beside
    鶴見区地域子育て支援拠点事業, an event beside its activity), is the same subject told twice:
    a close second of that kind is no doubt about what was asked."""
    distinct = _dedupe_groups(ranked[:LEAD_LOOKS])
    if not distinct:
        return None
    best = distinct[0]
    subject = [fold(best.title)]  # the titles told of one subject, growing down the list
    rival = None
    for item in distinct[1:]:
        title = fold(item.title)
        if title and any(t and (t in title or title in t) for t in subject):
            subject.append(title)
            continue
        rival = item
        break
    return with_lead(best.record["signals"], best.score, rival.score if rival else None)


def chance(ranked: list[Item]) -> float:
    """The chance that answering with the best of ``ranked`` is right
    (``knowledge.search.confidence``)."""
    signals = best_signals(ranked)
    return decision_for(signals).chance(signals) if signals is not None else 0.0


def shown_beside(item: Item) -> bool:
    """Whether a record below the best is fit to be shown beside it (a card of its own): its
    words answer the question as well as an answer's must by words alone (``THRESHOLD``); a
    record that is only near in meaning is not shown."""
    signals = item.record.get("signals")
    return signals is not None and signals.words >= THRESHOLD


def confident(ranked: list[Item]) -> bool:
    """Whether the best of ``ranked`` answers the question, or the bot says it does not know."""
    signals = best_signals(ranked)
    return signals is not None and decision_for(signals).answers(signals)


def _worded(db: sqlite_utils.Database, item: Item, u: Understanding, today: date, related=()) -> str:
    """The answer about ``item``'s record, in words; fills the item with what a card of it shows
    (its lines, its link, where it is), read here once so that no channel reads the base."""
    row = render.record_of(db, item)
    said = render.record_words(db, row, item.record["doc"].kind, u, today, related)
    item.lines, item.url = said.lines, said.link
    item.address, item.lat, item.lon = row.get("address"), row.get("lat"), row.get("lon")
    return said.text


def _listing(
    db: sqlite_utils.Database, index: Index, u: Understanding, ranked: list[Item], parent_area: str | None
) -> listings.Listing | None:
    """The listing that answers a question about a time window, or None for any other question.

    Date words alone (or with event words: 明日何かある？, 週末に子どもと行けるところ) list the
    area's events in the window; a window with a subject (来週水曜の沐浴の練習) lists the events
    in it that match the subject, best first; when the subject's events fall outside the window
    it says so and gives their next days (the area's, else another area's, said as such); words
    no event answers to list the whole window. A window question is never answered with an
    undated record. An age or a group in the question (1歳の子と, 妊婦でも, パパと) keeps the
    events for them, with or without a subject.
    """
    if u.when is None:
        return None
    areas = None
    wards: list[str] = []
    if u.area:  # a ward and its city's own events; a city, itself and all its wards
        city = city_of(db, u.area)
        wards = wards_of(db, u.area)
        areas = [u.area] + ([city] if city and city != u.area else []) + wards
    subject = _subject_events(db, index, u, ranked)
    # Who is asked for, read apart from the subject's own name (赤ちゃんサロン is not an age).
    who = u.question
    if subject:
        titles = {
            r["title"]
            for r in db.query(
                f"SELECT title FROM activities WHERE id IN ({','.join('?' * len(subject))})", list(subject)
            )
        }
        for title in sorted(titles, key=len, reverse=True):
            who = who.replace(nfkc(title or ""), " ")
    asked = audience.ages_in(who)
    # With a subject, only the words of whom count (沐浴 is a topic, not a pregnancy asked for).
    tags = audience.tags_in(" ".join(WHO_WORDS.findall(who))) if subject else u.audience
    if not asked.says_anything:
        asked = listings.asked_ages(tags)
    groups = [t for t in tags if t in listings.GROUP_TAGS]
    other = bool(
        parent_area and u.area and u.area != parent_area and city_of(db, parent_area) != u.area
    )  # 堺市 asked from 堺市西区 is theirs
    common = dict(
        label=u.when.label, start=u.when.start, end=u.when.end, area=u.area, other_area=other, by_ward=bool(wards)
    )
    filters = dict(audience=groups, ages=asked, weekdays=u.when.weekdays)
    common["fitted"] = asked.says_anything or bool(groups)
    if subject:  # the events the question names, in the window, best first
        found = listings.events_between(db, areas, u.when.start, u.when.end, ids=subject, **filters)
        if found:
            found.sort(key=lambda e: (-round(subject[e.activity_id], 6), e.day, e.start_time or ""))
            return listings.Listing(entries=found, subject=True, **common)
        # None in the window: say so for that subject.
        top = max(subject, key=lambda i: subject[i])
        title = db["activities"].get(top)["title"]
        # Its next days from today (a day before the window is news too), the area's first.
        since = date.fromordinal(max(u.today.toordinal(), 2) - 1)
        offered = listings.next_events(db, areas, since, ids=subject, audience=groups, ages=asked)
        elsewhere = False
        if not offered and areas is not None:
            offered = [
                e
                for e in listings.next_events(db, None, since, ids=subject, audience=groups, ages=asked)
                if e.area not in areas
            ]
            elsewhere = bool(offered)
        if offered or common["fitted"]:  # none for whom it was asked: said without naming one event
            return listings.Listing(
                entries=[],
                offered=offered,
                subject=True,
                offered_elsewhere=elsewhere,
                subject_title=title if offered else None,
                **common,
            )
        # The subject's events have no coming days at all: the window's events answer better.
    elif _has_subject(index, u.question) and not WINDOW_ASKS.search(u.question) and not confident(ranked):
        return None  # words no record answers to, not asked as what is on (明日の天気は？)
    # No subject (or one no event answers to: 情報, カレンダー, 無料): the whole window.
    found = listings.events_between(db, areas, u.when.start, u.when.end, **filters)
    after = max(u.when.end, date.fromordinal(max(u.today.toordinal(), 2) - 1))  # never a past day offered
    offered = [] if found else listings.next_events(db, areas, after, audience=groups, ages=asked)
    return listings.Listing(entries=found, offered=offered, **common)


def _subject_events(db: sqlite_utils.Database, index: Index, u: Understanding, ranked: list[Item]) -> dict[str, float]:
    """The events a window question names besides its dates, ages and groups, with their scores:
    none when nothing is left to name one (明日何かある？) or when what is left matches no event
    well (今日のイベント情報, 今月のイベントカレンダー: framing words, not a subject). The scorer
    decides, not a list of words: an event is the subject's when what is left of the question
    matches it (``SUBJECT_MIN``) and the whole question ranks it near the best of those."""
    if not _has_subject(index, u.question):
        return {}
    rest = replace(u, question=_subject_text(index, u.question), intent=None)
    named = {
        item.record["doc"].id
        for item in rank(db, index, rest)
        if item.record["doc"].kind == "activity"
        and item.record["doc"].subkind == "event"
        and item.record["signals"].words >= SUBJECT_MIN
    }
    scores: dict[str, float] = {}
    for item in ranked:
        if item.record["doc"].id in named:
            scores.setdefault(item.record["doc"].id, item.score)
    bar = SUBJECT_SHARE * max(scores.values(), default=0.0)
    return {i: s for i, s in scores.items() if s >= bar}


def _subject_text(index: Index, question: str) -> str:
    """What a window question says besides its area, dates, event words, ages and groups."""
    rest = _strip_area_names(index, question)
    rest = DATE_WORDS.sub(" ", rest)
    rest = WHO_WORDS.sub(" ", rest)
    return LISTING_WORDS.sub(" ", rest)


def _has_subject(index: Index, question: str) -> bool:
    """Whether a question names something besides its dates, event words, ages and groups: what
    is left holds a kanji or katakana word (沐浴, 教室), not only particles and endings."""
    rest = _subject_text(index, question)
    return bool(re.search(r"[\u4e00-\u9fff\u30a1-\u30faー々a-zA-Z]{1,}", rest.replace("ー", "")))


@dataclass
class Matches:
    """What the words and the meaning found for one question, before a blend orders it: the
    lexical candidates (with their first-stage cosine), the question's cosine to every record,
    and, per candidate record, the words' score, the fits, coverage and title precision."""

    lexical: list[tuple[int, float]]
    cosines: np.ndarray | None
    parts: dict[int, tuple[float, float, float, float, float]]  # record -> (words, fit, covered, titled, precision)
    by_meaning: list[int] = field(default_factory=list)  # records nearest in meaning, nearest first
    query: Query | None = None  # the question as matched, kept for the meaning stage's own records
    city: str | None = None


def rank(db: sqlite_utils.Database, index: Index, u: Understanding, blend: weights.Blend = weights.BLEND) -> list[Item]:
    """The records that may answer, best first: the words' score and the meaning blended.

    When the words alone are sure of a record (``words_sure``), the question is not embedded:
    the meaning stage is most of a first answer's time and, on those questions, changes neither
    the record nor the decision (README, "Never confidently wrong")."""
    m = match_words(db, index, u)
    if blend.weight <= 0 or index.vectors is None:
        return order(db, index, u, m, blend)
    by_words = order(db, index, u, m, weights.LEXICAL_BLEND)
    if words_sure(by_words):
        return by_words
    return order(db, index, u, add_meaning(db, index, u, m, blend.candidates), blend)


def words_sure(ranked: list[Item]) -> bool:
    """Whether the words alone are sure enough of the best record to answer without the meaning
    stage: their decision's chance at least ``WORDS_SURE``."""
    signals = best_signals(ranked)
    return signals is not None and signals.cosine is None and LEXICAL.chance(signals) >= WORDS_SURE


def match(db: sqlite_utils.Database, index: Index, u: Understanding, nearest: int) -> Matches:
    """Score the lexical candidates and the ``nearest`` records nearest in meaning (none: the
    meaning stage is not read)."""
    m = match_words(db, index, u)
    return add_meaning(db, index, u, m, nearest) if nearest > 0 else m


def match_words(db: sqlite_utils.Database, index: Index, u: Understanding) -> Matches:
    """The lexical candidates, each with its parts."""
    text = _strip_area_names(index, u.question)
    query = make_query(text, STOPWORDS, index.synonyms, DROP, LIGHT_WORDS)
    found = candidates(index, query_grams(query))
    m = Matches(found, None, {}, query=query, city=city_of(db, u.area))
    _add_parts(index, u, m, [d for d, _ in found], dict(found))
    return m


def add_meaning(db: sqlite_utils.Database, index: Index, u: Understanding, m: Matches, nearest: int) -> Matches:
    """``m`` with the question's cosine to every record and the ``nearest`` records nearest in
    meaning among the candidates (a broken vector: ``m`` as it was, the words alone)."""
    cosines = index.meaning(m.query.meaning_text(MEANING_CHARS))
    if cosines is None or not np.isfinite(cosines).all():
        return m
    k = min(nearest, len(cosines))
    by_meaning = [int(d) for d in sorted(np.argpartition(-cosines, k - 1)[:k], key=lambda d: -cosines[d])]
    out = Matches(m.lexical, cosines, dict(m.parts), by_meaning, m.query, m.city)
    _add_parts(index, u, out, by_meaning, {})  # one found by meaning only has no first-stage cosine
    return out


def _add_parts(index: Index, u: Understanding, m: Matches, records: list[int], first_stage: dict[int, float]) -> None:
    """Each record's words' score, fits, coverage and title precision, once per record."""
    query = m.query
    for d in records:
        if d in m.parts:
            continue
        doc = index.docs[d]
        cov_title, cov_doc = coverage(query, doc, index)
        sim = title_similarity(query, doc)
        prec = title_precision(query, doc, index, STOPWORDS, DROP, LIGHT_WORDS)
        words = combine(cov_doc, cov_title, sim, first_stage.get(d, 0.0), prec)
        fit = _area_fit(doc, u.area, m.city) * _kind_fit(doc, u) * _audience_fit(doc, u)
        m.parts[d] = (words, fit, cov_doc, cov_title, prec)


def order(db: sqlite_utils.Database, index: Index, u: Understanding, m: Matches, blend: weights.Blend) -> list[Item]:
    """The matches ordered by ``blend``, each item with the signals the decision weighs."""
    near = _rescaled(m.cosines, blend.rescale_k) if blend.weight > 0 else None
    chosen = [d for d, _ in m.lexical]
    if near is not None:
        have = set(chosen)
        chosen += [d for d in m.by_meaning[: blend.candidates] if d not in have]
    if u.intent == "progress":  # progress is posted on programs: an activity of the same name holds none
        programs = [d for d in chosen if index.docs[d].kind == "program"]
        chosen = programs or chosen
    top_cos = float(m.cosines.max()) if near is not None else 0.0
    scored: list[Item] = []
    for d in chosen:
        doc = index.docs[d]
        words, fit, covered, titled, prec = m.parts[d]
        meant = float(near[d]) if near is not None else None
        signals = Signals(
            words=words * fit,
            covered=covered,
            precision=prec,
            titled=titled,
            cosine=float(m.cosines[d]) if near is not None else None,
            cosine_gap=top_cos - float(m.cosines[d]) if near is not None else None,
            faq=doc.kind == "faq",
        )
        score = blend.score(words, meant) * fit  # uncapped: fits above 1 still rank
        scored.append(Item(_kind_label(doc), doc.public_id, doc.title, score, {"doc": doc, "signals": signals}))
    scored.sort(key=lambda i: -i.score)
    if u.when:
        scored = _date_fit(db, scored, u.when)
    elif u.intent == "when":
        scored = _has_dates_fit(db, scored, u.today)
    return _same_event_once(db, scored, u.today)


def _rescaled(cos: np.ndarray | None, k: int):
    """Per record, how near the question is in meaning, rescaled for this question: 1 at the
    nearest record, 0 at the ``k``-th nearest and below; ``None`` without vectors."""
    if cos is None:
        return None
    k = max(1, k)
    floor = float(np.partition(cos, -k)[-k]) if len(cos) > k else float(cos.min())
    top = float(cos.max())
    if not np.isfinite(cos).all() or top - floor < 1e-6:  # a broken vector, or nothing told apart
        return None
    return np.clip((cos - floor) / (top - floor), 0.0, 1.0)


def _same_event_once(db: sqlite_utils.Database, items: list[Item], today: date) -> list[Item]:
    """One event, one item: a ward's document describes 赤ちゃんサロン (no dates) and its events
    file lists it with dates, as two records of one title in one area. Keep it once, at the
    better rank, as the record that holds its dates (coming ones first: a plan's past months lose
    to the events file's next date), so the answer can say when it is."""
    out: list[Item] = []
    at: dict[tuple, int] = {}  # (area, folded title) of an activity -> its place in ``out``
    for item in items:
        doc = item.record.get("doc")
        key = (doc.area, doc.title_f) if doc is not None and doc.kind == "activity" else None
        if key is None or key not in at:
            if key is not None:
                at[key] = len(out)
            out.append(item)
            continue
        kept = out[at[key]]
        if _dated(db, doc.id, today) > _dated(db, kept.record["doc"].id, today):
            item.score = kept.score
            out[at[key]] = item
    return out


def _dated(db: sqlite_utils.Database, activity_id: str, today: date) -> int:
    """2: dates to come; 1: dates, all past (a plan's months); 0: none."""
    if schedule.upcoming(db, activity_id, today, limit=1):
        return 2
    return 1 if schedule.all_dates(db, activity_id) else 0


def _has_dates(db: sqlite_utils.Database, activity_id: str, today: date) -> bool:
    return bool(schedule.upcoming(db, activity_id, today, limit=1) or schedule.all_dates(db, activity_id))


def _has_dates_fit(db: sqlite_utils.Database, items: list[Item], today: date) -> list[Item]:
    """For "いつ？", of two equal matches the one with coming dates answers better."""
    dated = set()
    for item in items[:10]:
        doc = item.record["doc"]
        if doc.kind == "activity" and schedule.upcoming(db, doc.id, today, limit=1):
            item.score *= weights.HAS_DATES_FIT
            dated.add(id(item))
    items.sort(key=lambda i: (-i.score, id(i) not in dated))  # at equal scores, dated first
    return items


def _strip_area_names(index: Index, q: str) -> str:
    for form, _full in index.areas:
        q = q.replace(form, " ")
    return q


def _area_fit(doc: Doc, area: str | None, city: str | None) -> float:
    if not area or not doc.area or doc.area == area:
        return 1.0
    if doc.area == city:
        return weights.AREA_CITY_FIT
    if city and doc.area.startswith(city):
        return weights.AREA_SIBLING_WARD_FIT
    return weights.AREA_ELSEWHERE_FIT


def _kind_fit(doc: Doc, u: Understanding) -> float:
    if u.intent == "operator" and (doc.kind == "base" or doc.subkind == "base_program"):
        return weights.OPERATOR_FIT
    if u.wants_event and doc.kind == "activity" and doc.subkind == "event":
        return weights.EVENT_FIT
    if doc.kind == "faq" and u.intent and re.search(INTENTS[u.intent], doc.title):
        return weights.FAQ_SAME_ASK_FIT
    if doc.kind == "faq" and not u.intent and _FAQ_ASKS.search(doc.title):
        return weights.FAQ_BARE_QUESTION_FIT
    return 1.0


def _audience_fit(doc: Doc, u: Understanding) -> float:
    if u.audience and doc.audience and set(u.audience) & set(doc.audience):
        return weights.AUDIENCE_FIT
    return 1.0


def _date_fit(db: sqlite_utils.Database, items: list[Item], when: When) -> list[Item]:
    """Events held in the asked span rise; the order is otherwise kept."""
    for item in items:
        doc = item.record["doc"]
        if doc.kind == "activity" and any(
            when.holds(o.day) for o in schedule.dates_in(db, doc.id, when.start, when.end)
        ):
            item.score *= weights.DATE_FIT
    items.sort(key=lambda i: -i.score)
    return items


def _kind_label(doc: Doc) -> str:
    if doc.kind == "activity":
        return "event" if doc.subkind == "event" else "activity"
    return doc.kind


def _dedupe_groups(items: list[Item]) -> list[Item]:
    """FAQs whose answers are the same word for word are one answer, not rivals."""
    seen, out = set(), []
    for item in items:
        doc = item.record.get("doc")
        key = doc.group if doc is not None and doc.group else (item.kind, item.id)
        if key not in seen:
            seen.add(key)
            out.append(item)
    return out


def _log_unanswered(
    db: sqlite_utils.Database, question: str, area: str | None, best: float, asker: str | None, policy: Policy
) -> None:
    """Keep the question for staff; a failed write (a read-only base, a lock held too long) is
    logged as an error and never fails the parent's answer."""
    try:
        unanswered.record(db, question, area=area, best_score=best, asker=asker, policy=policy)
    except sqlite3.Error:
        logger.exception("could not log an unanswered question (area %s); the answer was still given", area or "-")
