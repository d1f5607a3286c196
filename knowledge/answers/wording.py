"""The reply's words: plain Japanese text, the same for every channel.

Channels may dress an ``Answer`` up (LINE Flex, Slack blocks), but its ``text`` is complete on
its own. All wording a parent reads lives here, so a ward can change it in one place. A reply
answers the question asked (いつ → dates or months first, どこ → the place, 対象 → who) and
names its source (program and fiscal year) so staff can trust it.

A reply is worded in parts (``RecordWords``: a record's lines and its link; ``ListingWords``: a
listing's head, notes and events) and its text is their join: a channel that shows a record as
a card or a listing's events one by one takes the parts it needs, never the text apart.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

import sqlite_utils

from knowledge.answers import schedule
from knowledge.answers.listings import Listed
from knowledge.lang import audience
from knowledge.lang.dates import WEEKDAYS, format_date
from knowledge.lang.smalltalk import GREETING, THANKS
from knowledge.store.areas import contact as ward_contact

SNIPPET = 160
PROGRESS_SHOWN = 3  # the latest progress entries a parent is shown, newest first
STATUS_NOTES = {
    "cancelled": "※この催しは中止になりました。",
    "postponed": "※この催しは延期になりました。新しい日程は問い合わせ先にご確認ください。",
}


def empty_question() -> str:
    return "ご質問を入力してください。例：「赤ちゃんサロンはいつ？」「旭区の子育て支援拠点はどこ？」"


SMALL_TALK = {
    GREETING: "こんにちは！子育てのイベントや教室、支援の場所について、お住まいの区に合わせてお答えします。"
    "例：「今週のイベントは？」「赤ちゃんサロンはいつ？」",
    THANKS: "どういたしまして。ほかにも知りたいことがあれば、いつでも聞いてください。",
}


def small_talk(kind: str) -> str:
    """The reply to a greeting or thanks (``knowledge.lang.smalltalk``): friendly, and what to ask."""
    return SMALL_TALK[kind]


def refusal_text(suggestions, contact: str | None, area: str | None) -> str:
    lines = ["ごめんなさい、そのご質問にお答えできる情報が見つかりませんでした。"]
    if suggestions:
        lines.append("もしかして：")
        lines += [f"・{s.title}" for s in suggestions]
    if contact:
        lines.append(f"くわしくは{contact}にお問い合わせください。")
    else:
        lines.append("くわしくはお住まいの区役所の子育て支援の窓口にお問い合わせください。")
    return "\n".join(lines)


LINK = re.compile(r"https?://\S+")


class Link(str):
    """A record's link among the lines of its answer: a line of the text, a button on a card."""


def _link(cell: str) -> str:
    """A URL cell as a line of the answer: its link when it holds one (not なし, not two addresses)."""
    return Link(cell) if LINK.fullmatch(cell.strip()) else cell


@dataclass(frozen=True)
class RecordWords:
    """One record's answer: ``text`` for every channel, and what a card of the record shows
    below its title (``lines``: the text's lines after its first, a value with line breaks as
    several lines, blank ones left out; ``link``: the record's link, not among ``lines``)."""

    text: str
    lines: tuple[str, ...]
    link: str | None


def record_words(db: sqlite_utils.Database, record: dict, kind: str, u, today: date, related=()) -> RecordWords:
    """The answer about ``record`` (a row as ``record_of`` reads it, of a doc's ``kind``), with
    the ``related`` questions after it in the text."""
    said = [line for line in _WORDING[kind](db, record, u, today) if line]
    text = said + (["関連する質問："] + [f"・{r.title}" for r in related] if related else [])
    shown = [(part, isinstance(line, Link)) for line in said for part in line.split("\n")][1:]
    link = next((line for line in said if isinstance(line, Link)), None)
    return RecordWords(
        text="\n".join(text),
        lines=tuple(part for part, is_link in shown if not is_link and part.strip()),
        link=str(link) if link is not None else None,
    )


def record_of(db: sqlite_utils.Database, item) -> dict:
    """The stored row of an answer's item, with its JSON lists read."""
    doc = item.record["doc"]
    table = {"program": "programs", "activity": "activities", "base": "bases", "faq": "faqs"}[doc.kind]
    row = db[table].get(doc.id)
    for key in ("departments", "audience"):
        if isinstance(row.get(key), str):
            row[key] = json.loads(row[key] or "[]")
    return row


def _snippet(text: str | None, limit: int = SNIPPET) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _months(occurrences) -> str:
    """2025年5月・7月・10月、2026年2月: months grouped by year."""
    by_year: dict[int, list[int]] = {}
    for o in occurrences:
        by_year.setdefault(o.day.year, [])
        if o.day.month not in by_year[o.day.year]:
            by_year[o.day.year].append(o.day.month)
    return "、".join(f"{y}年" + "・".join(f"{m}月" for m in ms) for y, ms in by_year.items())


def _when_lines(db, record, u, today: date) -> list[str]:
    if u.when:
        hits = schedule.dates_in(db, record["id"], u.when.start, u.when.end)
        if hits:
            return [f"{u.when.label}の開催：" + "、".join(_fmt(o) for o in hits[:5])]
    nxt = [o for o in schedule.upcoming(db, record["id"], today) if o.precision == "day"]
    if nxt:
        label = "予定されていた日：" if record.get("status") in STATUS_NOTES else "次の開催："
        return [label + "、".join(_fmt(o) for o in nxt)]
    stated = schedule.all_dates(db, record["id"])
    if stated:
        return ["開催月：" + _months(stated)]
    return []


def _fmt(o) -> str:
    if o.precision == "month":
        return f"{o.day.year}年{o.day.month}月"
    times = (
        f" {o.start_time}〜{o.end_time}"
        if o.start_time and o.end_time
        else (f" {o.start_time}〜" if o.start_time else "")
    )
    return format_date(o.day) + times


def _source(db, record) -> str | None:
    if not record.get("program_id"):
        return None
    program = db.execute("SELECT title, fiscal_year FROM programs WHERE id = ?", [record["program_id"]]).fetchone()
    if not program:
        return None
    year = f"（{program[1]}年度）" if program[1] else ""
    return f"出典：{program[0]}{year}"


# --- the detail that was asked ------------------------------------------------------------
# A question may ask for one detail (``ask.INTENTS``: 料金, 申し込み, 持ち物, 問い合わせ, いつ, どこ,
# 対象). The reply leads with it when the record holds it: its field, else a sentence of the
# record's text that speaks of it (these words). When neither, the reply says so and whom to ask,
# and leaves the record's text out: a sentence about something else is never offered instead.
ASKED_NAMES = {
    "fee": "料金",
    "apply": "申し込みの方法",
    "bring": "持ち物",
    "contact": "問い合わせ先",
    "when": "日程",
    "where": "場所",
    "audience": "対象",
}
ASKED_WORDS = {
    "fee": re.compile(r"無料|有料|利用料|参加費|料金|費用|\d[\d,]*\s*円|実費"),
    "apply": re.compile(r"申し?込|予約|応募|事前登録|先着|抽選|直接お越し"),
    "bring": re.compile(r"持ち物|持参|お持ちください|お持ちになって|ご用意ください|ご準備ください"),
    "when": re.compile(
        r"\d{1,2}\s*月\s*\d{1,2}\s*日|毎週|毎月|第\d\s*[月火水木金土日]曜|[月火水木金土日]曜日|\d{1,2}\s*(?::\d{2}|時(?!間))"
    ),
    "where": re.compile(r"会場|(?<!居)場所|で開催|にて開催|で開きます|で行います"),
    "audience": re.compile(r"\d{1,2}\s*(?:歳|才|か月|ヶ月|カ月)|妊娠|妊婦|未就学|乳幼児|小学生|対象"),
}
# Which texts of a record may hold such a sentence: what it offers, not how it was evaluated
# (a program's 現状 / 評価 sentences say how things went, not what a parent pays or brings).
BODY_FIELDS = {"activity": ("description",), "base": ("description",), "program": ("purpose", "content")}
_SENTENCE = re.compile(r"[^。\n]+。?")


def asked_of(u) -> str | None:
    """The detail a question asks for that a reply can lead with, or None."""
    intent = getattr(u, "intent", None) if u is not None else None
    return intent if intent in ASKED_NAMES else None


def body_answer(record: dict, kind: str, asked: str) -> str | None:
    """The first sentence of the record's own text that speaks of the asked detail, or None."""
    words = ASKED_WORDS.get(asked)
    if words is None:
        return None
    for key in BODY_FIELDS.get(kind, ()):
        for sentence in _SENTENCE.findall(record.get(key) or ""):
            if words.search(sentence):
                return _snippet(sentence.strip(), 120)
    return None


def contact_of(db, record: dict, u) -> str | None:
    """Whom a parent asks about a record: its own contact, else its ward's, else theirs."""
    own = record.get("contact") or record.get("phone") and f"{record.get('name') or ''} {record['phone']}".strip()
    return own or ward_contact(db, record.get("area")) or ward_contact(db, getattr(u, "area", None))


def not_held(asked: str, contact: str | None) -> str:
    """The lead when the record does not hold the asked detail: said plainly, with whom to ask."""
    ask_them = (
        f"くわしくは{contact}にお問い合わせください。"
        if contact
        else "くわしくはお住まいの区役所の子育て支援の窓口にお問い合わせください。"
    )
    return f"{ASKED_NAMES[asked]}は、こちらの情報には載っていません。{ask_them}"


def _on_day(value: str | None, time: str | None) -> str:
    """An application day as written: 2026年12月1日 9:00, or the city's own words. A time of 00:00
    is a spreadsheet's empty time (岡崎市 writes it under every deadline), not midnight."""
    time = None if time in ("00:00", "0:00") else time
    if not value:
        return time or ""
    m = re.fullmatch(r"(\d{4})-(\d{2})-(\d{2})", value)
    day = f"{int(m.group(1))}年{int(m.group(2))}月{int(m.group(3))}日" if m else value
    return f"{day} {time}" if time else day


def apply_lines(r: dict) -> list[str]:
    """How to apply, as the record states it: 申し込み：電話で予約（2026年12月1日から12月20日まで）,
    then 定員 and the page to apply on; nothing when the record says none of it."""
    start, end = (
        _on_day(r.get("apply_start"), r.get("apply_start_time")),
        _on_day(r.get("apply_end"), r.get("apply_end_time")),
    )
    period = f"{start}から" if start else ""
    period += f"{end}まで" if end else ""
    how = r.get("how_to_apply")
    lines = []
    if how:
        lines.append(f"申し込み：{how}" + (f"（{period}）" if period else ""))
    elif period:
        lines.append(f"申し込み期間：{period}")
    if r.get("apply_url"):
        lines.append(f"申し込みページ：{r['apply_url']}" if lines else f"申し込み：{r['apply_url']}")
    if r.get("capacity"):
        lines.append(f"定員：{r['capacity']}")
    return lines


def _activity(db, r, u, today) -> list[str]:
    when = _when_lines(db, r, u, today)
    frequency = [f"回数・時期：{r['frequency']}"] if r.get("frequency") else []
    who = []
    if r.get("ages"):
        who.append(f"対象：{r['ages']}")
    elif r.get("audience"):
        labels = [audience.LABELS.get(t, t) for t in r["audience"]]
        who.append("対象：" + "、".join(labels))
    place = []
    if r.get("place"):
        place.append(f"場所：{r['place']}")
    elif r.get("base_id"):
        base = db.execute("SELECT name, operator FROM bases WHERE id = ?", [r["base_id"]]).fetchone()
        if base:
            place.append(f"場所：{base[0]}" + (f"（運営：{base[1]}）" if base[1] else ""))
    fee = [f"{'参加費' if r.get('kind') == 'event' else '料金'}：{r['fee']}"] if r.get("fee") else []
    applying = apply_lines(r)
    contact = [f"問い合わせ：{r['contact']}"] if r.get("contact") else []
    blocks = {
        "when": when or frequency,
        "audience": who,
        "where": place,
        "fee": fee,
        "apply": applying,
        "contact": contact,
    }
    asked = asked_of(u)
    first = blocks.get(asked or "", [])
    lines = [f"「{r['title']}」（{r['area']}）"]
    if r.get("status") in STATUS_NOTES:
        lines.append(STATUS_NOTES[r["status"]])
    description = _snippet(r.get("description"))
    if asked and not first:  # a sentence of its text that speaks of it, else that it is not held
        found = body_answer(r, "activity", asked)
        lines.append(found or not_held(asked, contact_of(db, r, u)))
        description = None
    lines += first
    if description and description != r["title"]:
        lines.append(description)
    for block in (when, who, place, frequency, fee, applying, contact):
        if block is not first:
            lines += block
    if r.get("url"):
        lines.append(_link(r["url"]))
    lines.append(_source(db, r) or "")
    if r.get("sample"):
        lines.append("※デモ用のサンプルデータです。実際の日程は区役所にご確認ください。")
    return lines


def _program(db, r, u, today) -> list[str]:
    year = f"・{r['fiscal_year']}年度" if r.get("fiscal_year") else ""
    lines = [f"「{r['title']}」（{r['area']}{year}）"]
    if r.get("operator"):
        lines.append(f"運営：{r['operator']}")
    if u.intent == "progress":
        rows = list(
            db.query(
                "SELECT period, text, posted_by, posted_at FROM progress WHERE program_id = ?"
                " ORDER BY posted_at DESC, rowid DESC LIMIT ?",
                [r["id"], PROGRESS_SHOWN],
            )
        )
        lines += [_progress_line(p) for p in rows] or ["進捗はまだ報告されていません。"]
    if u.intent == "when":
        for s in db.query(
            "SELECT period, text FROM schedule_items WHERE program_id = ? ORDER BY period_end_month IS NULL, rowid",
            [r["id"]],
        ):
            lines.append(f"{s['period']}：{_snippet(s['text'], 80)}")
    asked = asked_of(u) if u.intent not in ("when", "where", "audience") else None
    departments = "、".join(r.get("departments") or [])
    if asked == "contact" and departments:  # its departments are whom to ask
        lines.insert(1, f"問い合わせ：{departments}")
        departments = ""
    elif asked:  # a sentence of what it offers that speaks of it, else that it is not held
        lines.insert(1, body_answer(r, "program", asked) or not_held(asked, contact_of(db, r, u)))
    else:
        lines.append(
            _snippet(
                r.get("situation")
                if u.intent == "count"
                else (r.get("purpose") or r.get("content") or r.get("situation"))
            )
        )
        if u.intent != "count" and r.get("situation") and r.get("purpose"):
            lines.append(_snippet(r["situation"], 120))
    if departments:
        lines.append("担当：" + departments)
    if r.get("plan_policy"):
        lines.append(f"計画：{r['plan_policy']}")
    return lines


def _progress_line(p: dict) -> str:
    """One progress entry as staff posted it, newest first: its period and the day it was posted."""
    day = (p.get("posted_at") or "")[:10]
    when = f"{int(day[5:7])}月{int(day[8:10])}日" if len(day) == 10 and day[4] == "-" else ""
    head = "・".join(x for x in (p.get("period"), f"{when}更新" if when else "") if x) or "期間指定なし"
    return f"進捗（{head}）：{_snippet(p['text'])}"


def _base(db, r, u, today) -> list[str]:
    lines = [f"「{r['name']}」（{r['area']}）"]
    # what a base's fields answer, by the detail asked (when it holds them, they lead)
    held = {"where": "address", "contact": "phone", "when": "hours", "audience": "ages"}
    asked = asked_of(u)
    description = _snippet(r.get("description"))
    if asked and not r.get(held.get(asked, "")):
        lines.append(body_answer(r, "base", asked) or not_held(asked, contact_of(db, r, u)))
        description = ""
    if r.get("kind"):
        lines.append(f"種別：{r['kind']}")
    if r.get("operator"):
        lines.append(f"運営：{r['operator']}")
    fields = [("住所", "address"), ("電話", "phone"), ("利用時間", "hours"), ("対象年齢", "ages")]
    if asked in held:  # the asked field first
        fields.sort(key=lambda f: f[1] != held[asked])
        lead = next((f for f in fields if f[1] == held[asked] and r.get(f[1])), None)
        if lead:
            lines.insert(1, f"{lead[0]}：{r[lead[1]]}")
            fields.remove(lead)
    for label, key in fields:
        if r.get(key):
            lines.append(f"{label}：{r[key]}")
    lines.append(description)
    if r.get("url"):
        lines.append(_link(r["url"]))
    return lines


def _faq(db, r, u, today) -> list[str]:
    from knowledge.answers.placeholders import fill_answer

    return [f"Q. {r['question']}", fill_answer(db, r["answer"], r.get("area") or u.area)]


_WORDING = {"activity": _activity, "program": _program, "base": _base, "faq": _faq}


# --- listings (what's on) ------------------------------------------------------------------


def _short_date(d: date) -> str:
    return f"{d.month}月{d.day}日（{WEEKDAYS[d.weekday()]}）"


def _period(listing) -> str:
    if listing.start == listing.end:
        return _short_date(listing.start)
    return f"{_short_date(listing.start)}〜{_short_date(listing.end)}"


def listing_line(entry, with_area: bool = False) -> str:
    """・12月10日（木）10:30〜11:15 おやこ英語あそび／西区子育て支援センター／対象：1歳から3歳の親子"""
    parts = [f"・{_short_date(entry.day)}" + (entry.time or "") + f" {entry.title}"]
    if entry.place:
        parts.append(entry.place)
    if entry.audience:
        parts.append(f"対象：{entry.audience}")
    if with_area and entry.area:
        parts.append(entry.area)
    return "／".join(parts)


_STATES_DAYS = re.compile(r"\d+月\d+日")


@dataclass(frozen=True)
class ListingWords:
    """A listing's reply in its parts, for a channel that shows the events its own way (a card,
    a block each) and says the rest; ``text`` is the whole."""

    head: str  # whose days, or that there is nothing then
    before: tuple[str, ...] = ()  # between the head and the events: another ward's, 次の予定：, nothing found
    events: tuple[Listed, ...] = ()  # the events the text lists, a line each (``listing_line``)
    with_area: bool = False  # whether those lines name each event's area
    after: tuple[str, ...] = ()  # how many more there are; the demo note

    @property
    def lines(self) -> list[str]:
        events = [listing_line(e, self.with_area) for e in self.events]
        return [self.head, *self.before, *events, *self.after]

    @property
    def text(self) -> str:
        return "\n".join(self.lines)


def listing_words(listing, contact: str | None = None) -> ListingWords:
    """The reply to a listing: whose and which days, up to ten events, how many more; an empty
    window says so and offers the next events after it."""
    with_area = listing.area is None or listing.by_ward
    period = _period(listing)
    # a label that states its days (12月20日から12月25日) is the period itself: say the days once
    days = (
        period if period.startswith(listing.label) or _STATES_DAYS.search(listing.label) else f"{listing.label}{period}"
    )
    fitted = "（対象が合うものだけを表示しています）" if listing.fitted else ""
    before: list[str] = []
    after: list[str] = []
    events: Sequence[Listed] = ()
    if listing.entries:
        whose = f"{listing.area}の、" if listing.area else ""
        head = f"{whose}{days}の予定です{fitted}。"
        if listing.other_area:
            before.append(f"※お住まいの区ではなく、{listing.area}の予定です。")
        events = listing.visible
        if listing.more:
            after.append(f"ほかに{listing.more}件あります。")
    else:
        where = f"{listing.area}に" if listing.area else ""
        fits = "お探しの対象に合う" if listing.fitted else ""
        what = f"「{listing.subject_title}」の" if listing.subject_title else ""
        head = f"{days}は、{where}{fits}{what}予定はありません。"
        if listing.offered and listing.offered_elsewhere:
            before.append(f"{listing.area}ではこのあとの予定も見つかりませんでした。ほかの区の予定です：")
            events, with_area = listing.offered, True
        elif listing.offered:
            before.append(f"次の{what}予定：" if what else "次の予定：")
            events = listing.offered
        else:
            before.append("このあとの予定も見つかりませんでした。")
            before.append(
                f"くわしくは{contact}にお問い合わせください。"
                if contact
                else "くわしくはお住まいの区役所の子育て支援の窓口にお問い合わせください。"
            )
    if any(e.sample for e in listing.visible):
        after.append("※デモ用のサンプルデータを含みます。実際の日程は区役所にご確認ください。")
    return ListingWords(head, tuple(before), tuple(events), with_area, tuple(after))


def all_entries_text(listing) -> str:
    """Every event of a listing, one line each (a channel that shows ten offers the rest so)."""
    with_area = listing.area is None or listing.by_ward
    whose = f"{listing.area}の、" if listing.area else ""
    lines = [f"{whose}{_period(listing)}の予定（全{len(listing.entries)}件）です。"]
    lines += [listing_line(e, with_area) for e in listing.entries]
    return "\n".join(lines)
