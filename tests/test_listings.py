"""What's on: date words, events_between (recurrence, audience, cancelled, areas) and listings through ask()."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from knowledge import ask
from knowledge.answers.listings import SHOWN, events_between
from knowledge.lang.audience import Ages, ages_in, fits
from knowledge.lang.dates import parse_when

WED = date(2026, 12, 9)  # a Wednesday
SUN = date(2026, 12, 13)  # a Sunday
MONTH_END = date(2026, 11, 30)  # a Monday, the last day of a month
NEW_YEARS_EVE = date(2026, 12, 31)  # a Thursday
D = date


# (question, today, first day, last day, weekdays) for every date word a listing answers.
DATE_WORDS = [
    ("今日", WED, D(2026, 12, 9), D(2026, 12, 9), ()),
    ("今日", SUN, SUN, SUN, ()),
    ("今日", NEW_YEARS_EVE, NEW_YEARS_EVE, NEW_YEARS_EVE, ()),
    ("本日", MONTH_END, MONTH_END, MONTH_END, ()),
    ("明日", WED, D(2026, 12, 10), D(2026, 12, 10), ()),
    ("明日", MONTH_END, D(2026, 12, 1), D(2026, 12, 1), ()),
    ("明日", NEW_YEARS_EVE, D(2027, 1, 1), D(2027, 1, 1), ()),
    ("あした", SUN, D(2026, 12, 14), D(2026, 12, 14), ()),
    ("あさって", WED, D(2026, 12, 11), D(2026, 12, 11), ()),
    ("あさって", NEW_YEARS_EVE, D(2027, 1, 2), D(2027, 1, 2), ()),
    ("明後日", MONTH_END, D(2026, 12, 2), D(2026, 12, 2), ()),
    ("今週", WED, WED, SUN, ()),
    ("今週", SUN, SUN, SUN, ()),
    ("今週", MONTH_END, MONTH_END, D(2026, 12, 6), ()),
    ("今週", NEW_YEARS_EVE, NEW_YEARS_EVE, D(2027, 1, 3), ()),
    ("今週末", WED, D(2026, 12, 12), SUN, ()),
    ("今週末", SUN, SUN, SUN, ()),
    ("週末", WED, D(2026, 12, 12), SUN, ()),
    ("週末", NEW_YEARS_EVE, D(2027, 1, 2), D(2027, 1, 3), ()),
    ("土日", MONTH_END, D(2026, 12, 5), D(2026, 12, 6), ()),
    ("今週の土日", WED, D(2026, 12, 12), SUN, ()),
    ("来週", WED, D(2026, 12, 14), D(2026, 12, 20), ()),
    ("来週", SUN, D(2026, 12, 14), D(2026, 12, 20), ()),
    ("来週", NEW_YEARS_EVE, D(2027, 1, 4), D(2027, 1, 10), ()),
    ("来週の土曜日", WED, D(2026, 12, 19), D(2026, 12, 19), ()),
    ("来週の土曜日", SUN, D(2026, 12, 19), D(2026, 12, 19), ()),
    ("来週水曜", MONTH_END, D(2026, 12, 9), D(2026, 12, 9), ()),
    ("次の日曜", WED, SUN, SUN, ()),
    ("次の日曜", SUN, D(2026, 12, 20), D(2026, 12, 20), ()),  # the next one, not today
    ("次の日曜", NEW_YEARS_EVE, D(2027, 1, 3), D(2027, 1, 3), ()),
    ("火曜日", WED, D(2026, 12, 15), D(2026, 12, 15), ()),
    ("火曜日", MONTH_END, D(2026, 12, 1), D(2026, 12, 1), ()),
    ("日曜", SUN, SUN, SUN, ()),  # a bare weekday includes today
    ("12月20日", WED, D(2026, 12, 20), D(2026, 12, 20), ()),
    ("12月20日", NEW_YEARS_EVE, D(2027, 12, 20), D(2027, 12, 20), ()),  # the coming one
    ("12/20", WED, D(2026, 12, 20), D(2026, 12, 20), ()),
    ("1/5", NEW_YEARS_EVE, D(2027, 1, 5), D(2027, 1, 5), ()),
    ("2027/1/5", WED, D(2027, 1, 5), D(2027, 1, 5), ()),
    ("今月", WED, WED, D(2026, 12, 31), ()),
    ("きょう", WED, WED, WED, ()),
    ("こんしゅうまつ", WED, D(2026, 12, 12), SUN, ()),
    ("らいしゅう", WED, D(2026, 12, 14), D(2026, 12, 20), ()),
    ("こんげつ", WED, WED, D(2026, 12, 31), ()),
    ("らいげつ", WED, D(2027, 1, 1), D(2027, 1, 31), ()),
    ("しゅうまつ", WED, D(2026, 12, 12), SUN, ()),
    ("どにち", WED, D(2026, 12, 12), SUN, ()),
    ("あす", WED, D(2026, 12, 10), D(2026, 12, 10), ()),
    ("今月", MONTH_END, MONTH_END, MONTH_END, ()),
    ("今月", NEW_YEARS_EVE, NEW_YEARS_EVE, NEW_YEARS_EVE, ()),
    ("来月", WED, D(2027, 1, 1), D(2027, 1, 31), ()),
    ("来月", MONTH_END, D(2026, 12, 1), D(2026, 12, 31), ()),
    ("来月", NEW_YEARS_EVE, D(2027, 1, 1), D(2027, 1, 31), ()),
    ("12月の土曜日", WED, D(2026, 12, 12), D(2026, 12, 26), (5,)),  # this month: from today
    ("12月の日曜日", WED, SUN, D(2026, 12, 27), (6,)),
    ("12月", WED, WED, D(2026, 12, 31), ()),
    ("12月", MONTH_END, D(2026, 12, 1), D(2026, 12, 31), ()),
    ("11月", MONTH_END, MONTH_END, MONTH_END, ()),
    ("今週の金曜日", SUN, D(2026, 12, 18), D(2026, 12, 18), ()),  # passed: the coming one
    ("今週の金曜日", WED, D(2026, 12, 11), D(2026, 12, 11), ()),
    ("今週の水曜日", WED, WED, WED, ()),
    ("1月の土日", NEW_YEARS_EVE, D(2027, 1, 2), D(2027, 1, 31), (5, 6)),
    ("来月の水曜", MONTH_END, D(2026, 12, 2), D(2026, 12, 30), (2,)),
    ("年末年始", WED, D(2026, 12, 29), D(2027, 1, 3), ()),
    ("年末年始", NEW_YEARS_EVE, NEW_YEARS_EVE, D(2027, 1, 3), ()),
    ("年末年始", D(2027, 1, 2), D(2027, 1, 2), D(2027, 1, 3), ()),  # the current one
    ("冬休み", WED, D(2026, 12, 25), D(2027, 1, 7), ()),
    ("冬休み", NEW_YEARS_EVE, NEW_YEARS_EVE, D(2027, 1, 7), ()),
    ("冬休み", D(2027, 1, 8), D(2027, 12, 25), D(2028, 1, 7), ()),  # over: the next one
]


@pytest.mark.parametrize("question, today, start, end, weekdays", DATE_WORDS)
def test_date_words_against_a_fixed_today(question, today, start, end, weekdays):
    when = parse_when(f"{question}のイベント", today)
    assert (when.start, when.end, when.weekdays) == (start, end, weekdays)


def test_a_month_filtered_to_a_weekday_holds_only_those_days():
    when = parse_when("12月の日曜日", WED)
    assert when.holds(D(2026, 12, 13)) and not when.holds(D(2026, 12, 12)) and not when.holds(D(2027, 1, 3))


# --- who an event is for ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, low, high, pregnancy",
    [
        ("生後2か月から6か月", 2, 6, False),
        ("生後3か月から1歳未満の赤ちゃんと保護者", 3, 11, False),
        ("1歳から3歳", 12, 47, False),
        ("1〜2歳児", 12, 35, False),
        ("1歳6か月から3歳", 18, 47, False),
        ("3歳以上", 36, None, False),
        ("3歳未満", 0, 35, False),
        ("就学前", 0, 83, False),
        ("0歳から就学前の子どもと保護者", 0, 83, False),
        ("0歳児とその保護者", 0, 11, False),
        ("年中～年長", 48, 71, False),
        ("妊娠中の方", None, None, True),
        ("妊娠中の方と0歳児", 0, 11, True),
        ("どなたでも", 0, None, True),
        ("子育て中の保護者", None, None, False),
        ("", None, None, False),
        ("乳幼児と保護者", 0, 83, False),
        ("幼児", 12, 83, False),
        ("0・1歳児とその保護者", 0, 23, False),
        ("0、1、2歳児", 0, 35, False),
        ("中学生以下のお子さん", 0, 191, False),
        ("小学生まで", 0, 155, False),
        ("3歳以下", 0, 47, False),
        ("2歳までの子", 0, 35, False),
        ("小学生", 72, 155, False),
        ("小学1〜3年生", 72, 107, False),
        ("小学校1年生から3年生", 72, 107, False),
        ("小1〜小3", 72, 107, False),
        ("年中~小3", 48, 107, False),
        ("年長〜小学2年生", 60, 95, False),
        ("小学4～6年生", 108, 143, False),
        ("小学3年生以上", 96, None, False),
        ("年少以上", 36, None, False),
    ],
)
def test_ages_a_record_states(text, low, high, pregnancy):
    assert ages_in(text) == Ages(low, high, pregnancy)


@pytest.mark.parametrize(
    "record, asked, ok",
    [
        ("1歳から3歳", "1歳の子と", True),
        ("生後3か月から1歳未満", "1歳の子と", False),
        ("生後3か月から1歳未満", "0歳の子と", True),
        ("4歳から6歳", "2歳", False),
        ("妊娠中の方とパートナー", "妊娠中でも", True),
        ("妊娠中の方とパートナー", "2歳", False),
        ("0歳から2歳", "妊婦でも", False),
        ("どなたでも", "妊婦でも", True),
        ("どなたでも", "5歳", True),
        ("子育て中の保護者", "2歳", True),  # states no age: kept
        ("1歳から3歳", "子どもと", True),  # asks for nobody in particular
    ],
)
def test_an_age_or_a_group_fits(record, asked, ok):
    assert fits(ages_in(record), ages_in(asked)) is ok


# --- events_between over a fresh base --------------------------------------------------------


def _event(
    eid, title, day, start="10:00", end="11:00", who="", status="", note="", until=None, place="西区子育て支援センター"
):
    return {
        "ID": eid,
        "イベント名": title,
        "開始日": day,
        "終了日": until or day,
        "開始時間": start,
        "終了時間": end,
        "対象者": who,
        "状態": status,
        "開始日時特記事項": note,
        "場所名称": place,
        "説明": f"{title}です。",
    }


@pytest.fixture
def wards(events_db):
    events_db.add(
        "堺市西区",
        [
            _event("WX001", "おやこ英語あそび", "2026/12/10", "10:30", "11:15", "1歳から3歳の親子"),
            _event("WX002", "ベビーヨガ", "2026/12/10", "13:30", "14:30", "生後3か月から1歳未満の赤ちゃんと保護者"),
            _event("WX003", "もちつき大会", "2026/12/12", "10:00", "12:00", "どなたでも"),
            _event("WX004", "プレママ教室", "2026/12/13", who="妊娠中の方とパートナー"),
            _event("WX005", "クリスマス会", "2026/12/12", "13:30", "15:00", "0歳から就学前", status="中止"),
            _event(
                "WX006",
                "赤ちゃんタイム",
                "2026/04/07",
                who="0歳の赤ちゃんと保護者",
                note="毎週火曜日",
                until="2027/03/30",
            ),
            _event("WX007", "講演会", "2026/12/17", "14:00", "15:30", "子育て中の保護者"),
        ],
    )
    events_db.add(
        "堺市美原区",
        [
            _event(
                "MX001", "親子クッキング", "2026/12/10", "10:00", "12:00", "4歳以上の子どもと保護者", place="美原区役所"
            ),
        ],
    )
    events_db["activities"].insert(
        {"id": "act-undated", "title": "子育てサロン", "kind": "event", "area": "堺市西区", "audience": "[]"}
    )
    events_db["occurrences"].insert(
        {"id": "occ-month", "activity_id": "act-undated", "date": "2026-12-01", "precision": "month"}
    )
    return events_db


def _titles(listed):
    return [e.title for e in listed]


def test_events_in_date_and_time_order(wards):
    got = events_between(wards, "堺市西区", WED, D(2026, 12, 20))
    assert [(e.day, e.title) for e in got] == [
        (D(2026, 12, 10), "おやこ英語あそび"),
        (D(2026, 12, 10), "ベビーヨガ"),
        (D(2026, 12, 12), "もちつき大会"),
        (D(2026, 12, 13), "プレママ教室"),
        (D(2026, 12, 15), "赤ちゃんタイム"),
        (D(2026, 12, 17), "講演会"),
    ]
    first = got[0]
    assert (first.start_time, first.end_time, first.place, first.audience) == (
        "10:30",
        "11:15",
        "西区子育て支援センター",
        "1歳から3歳の親子",
    )


@pytest.mark.parametrize(
    "start, end, tuesdays",
    [
        (D(2026, 12, 1), D(2026, 12, 31), [1, 8, 15, 22, 29]),
        (D(2026, 12, 16), D(2026, 12, 21), []),
        (D(2027, 3, 20), D(2027, 4, 30), [23, 30]),  # the rule ends on 2027-03-30
        (D(2026, 3, 1), D(2026, 4, 10), [7]),  # and starts on 2026-04-07
    ],
)
def test_a_recurring_event_on_each_of_its_days_in_the_window(wards, start, end, tuesdays):
    got = [e.day.day for e in events_between(wards, "堺市西区", start, end) if e.title == "赤ちゃんタイム"]
    assert got == tuesdays


def test_cancelled_and_undated_events_are_not_listed(wards):
    titles = _titles(events_between(wards, "堺市西区", D(2026, 12, 1), D(2026, 12, 31)))
    assert "クリスマス会" not in titles and "子育てサロン" not in titles
    assert "クリスマス会" in _titles(
        events_between(wards, "堺市西区", D(2026, 12, 12), D(2026, 12, 12), include_cancelled=True)
    )


@pytest.mark.parametrize(
    "kwargs, kept, left_out",
    [
        ({"age_months": 14}, ["おやこ英語あそび", "もちつき大会", "講演会"], ["ベビーヨガ", "プレママ教室"]),
        ({"age_months": (0, 11)}, ["ベビーヨガ", "赤ちゃんタイム", "もちつき大会"], ["おやこ英語あそび"]),
        ({"audience": "pregnancy"}, ["プレママ教室", "もちつき大会", "講演会"], ["ベビーヨガ", "赤ちゃんタイム"]),
        ({"audience": ["0歳"]}, ["ベビーヨガ"], ["プレママ教室"]),
        ({}, ["ベビーヨガ", "プレママ教室"], []),
    ],
)
def test_audience_fit(wards, kwargs, kept, left_out):
    titles = _titles(events_between(wards, "堺市西区", WED, D(2026, 12, 20), **kwargs))
    assert all(t in titles for t in kept) and not any(t in titles for t in left_out)


def test_areas_and_weekdays(wards):
    assert _titles(events_between(wards, "堺市美原区", WED, SUN)) == ["親子クッキング"]
    assert "親子クッキング" in _titles(events_between(wards, None, WED, SUN))
    assert _titles(events_between(wards, "堺市西区", D(2026, 12, 1), D(2026, 12, 31), weekdays=[6])) == ["プレママ教室"]


def test_the_window_is_read_by_date_not_whole_tables(wards):
    plan = " ".join(
        r[3]
        for r in wards.execute(
            "EXPLAIN QUERY PLAN SELECT * FROM occurrences o JOIN activities a ON a.id = o.activity_id "
            "WHERE o.date BETWEEN '2026-12-01' AND '2026-12-07' AND a.area IN ('堺市西区')"
        ).fetchall()
    )
    assert "USING INDEX" in plan or "USING COVERING INDEX" in plan, plan


# --- listings through ask() ------------------------------------------------------------------


def _ask(db, question, today=WED, area="堺市西区"):
    return ask(db, question, area=area, today=today, log=False)


@pytest.mark.parametrize(
    "question, today, expect, left_out",
    [
        ("明日何かイベントある？", WED, ["おやこ英語あそび", "ベビーヨガ"], ["親子クッキング"]),
        ("今週の土日のイベント", WED, ["もちつき大会", "プレママ教室"], ["クリスマス会"]),
        ("来週のイベント", WED, ["赤ちゃんタイム", "講演会"], ["もちつき大会"]),
        ("火曜日のイベント", WED, ["赤ちゃんタイム"], ["講演会"]),
        ("12/17は何がある？", WED, ["講演会"], ["赤ちゃんタイム"]),
        ("週末に子どもと行けるところ", WED, ["もちつき大会"], ["クリスマス会"]),
        ("1歳の子と行ける今週のイベント", WED, ["おやこ英語あそび"], ["ベビーヨガ", "プレママ教室"]),
        ("妊婦でも参加できる今月のイベント", WED, ["プレママ教室"], ["ベビーヨガ", "おやこ英語あそび"]),
        ("12月の日曜日のイベント", WED, ["プレママ教室"], ["もちつき大会"]),
    ],
)
def test_a_window_question_lists_the_wards_events(wards, question, today, expect, left_out):
    answer = _ask(wards, question, today)
    titles = [i["title"] for i in answer.to_dict()["items"]]
    assert answer.answered and answer.listing is not None
    assert all(t in titles for t in expect) and not any(t in titles for t in left_out), titles
    assert "子育てサロン" not in titles  # never an undated record for a window


def test_listing_items_carry_date_and_time_in_the_order_shown(wards):
    data = _ask(wards, "来週のイベント").to_dict()
    assert [(i["date"], i["time"]) for i in data["items"]] == [
        ("2026-12-15", "10:00〜11:00"),
        ("2026-12-17", "14:00〜15:30"),
    ]
    assert (
        data["text"]
        .splitlines()[1]
        .startswith("・12月15日（火）10:00〜11:00 赤ちゃんタイム／西区子育て支援センター／対象：")
    )


def test_another_ward_named_is_listed_and_said(wards):
    answer = _ask(wards, "美原区の明日のイベント")
    assert [i.title for i in answer.items] == ["親子クッキング"]
    assert "堺市美原区" in answer.text.splitlines()[0] and "お住まいの区ではなく" in answer.text


def test_an_empty_window_says_so_and_offers_the_next_events(wards):
    answer = _ask(wards, "今日やってる？", today=D(2026, 12, 11))
    assert answer.answered and answer.text.startswith("今日12月11日（金）は、堺市西区に予定はありません。")
    assert answer.to_dict()["items"][0] == answer.to_dict()["items"][0] | {
        "title": "もちつき大会",
        "date": "2026-12-12",
    }
    assert "クリスマス会" not in answer.text


def test_nothing_at_all_after_an_empty_window(wards):
    answer = _ask(wards, "来週のイベント", area="堺市美原区")
    assert not answer.answered and "予定はありません" in answer.text and answer.to_dict()["items"] == []


def test_a_cancelled_event_asked_by_name_says_cancelled(wards):
    answer = _ask(wards, "クリスマス会は？")
    assert answer.items[0].title == "クリスマス会" and "中止" in answer.text


def test_a_window_with_a_subject_lists_that_subjects_events(wards):
    answer = _ask(wards, "来週の講演会")
    assert [i.title for i in answer.items] == ["講演会"] and answer.listing.subject


def test_ten_lines_then_how_many_more(events_db):
    start = D(2026, 12, 1)
    events_db.add(
        "堺市西区",
        [_event(f"WY{i:03d}", f"ひろば{i}", (start + timedelta(days=i)).strftime("%Y/%m/%d")) for i in range(14)],
    )
    answer = _ask(events_db, "今月のイベント", today=start)
    assert len(answer.to_dict()["items"]) == SHOWN and "ほかに4件あります。" in answer.text
    assert [i.title for i in answer.items][:2] == ["ひろば0", "ひろば1"]


def test_a_question_without_a_window_is_not_a_listing(wards):
    answer = _ask(wards, "ベビーヨガ")
    assert answer.listing is None and answer.items[0].title == "ベビーヨガ"


@pytest.mark.parametrize(
    "question, subject",
    [
        ("明日何かイベントある？", False),
        ("今週末に双子と行けるイベント", False),
        ("1歳の子と行ける今週のイベント", False),
        ("妊婦でも参加できる今月のイベント", False),
        ("美原区の明日のイベント", False),
        ("12/20は何がありますか", False),
        ("来週水曜の沐浴の練習", True),
        ("土曜日の教室", True),
        ("来月の両親教室はいつ", True),
        ("明日の天気は？", True),
    ],
)
def test_what_a_window_question_asks_about(wards, question, subject):
    from knowledge.answers.ask import _has_subject
    from knowledge.search.index import index_for

    assert _has_subject(index_for(wards), question) is subject


def test_a_subject_in_the_window_is_not_filtered_by_the_words_of_its_name(wards):
    answer = _ask(wards, "来週の赤ちゃんタイム")
    assert [i.title for i in answer.items] == ["赤ちゃんタイム"] and not answer.listing.fitted


@pytest.mark.parametrize(
    "question, expect",
    [
        ("明日のイベント情報", ["おやこ英語あそび", "ベビーヨガ"]),
        ("明日の予定を教えて下さい", ["おやこ英語あそび", "ベビーヨガ"]),
        ("明日の午前中のイベント", ["おやこ英語あそび"]),
        ("今月のイベントカレンダー", ["もちつき大会", "講演会"]),
        ("今週末無料のイベント", ["もちつき大会"]),
        ("今月の予定を教えてください", ["もちつき大会"]),
    ],
)
def test_framing_words_name_no_subject_and_the_window_is_listed(wards, question, expect):
    answer = _ask(wards, question)
    titles = [i["title"] for i in answer.to_dict()["items"]]
    assert answer.listing is not None and not answer.listing.subject, answer.text
    assert all(t in titles for t in expect), titles


def test_words_nothing_answers_and_no_event_asked_are_not_a_listing(wards):
    answer = _ask(wards, "明日の天気は？")
    assert answer.listing is None and not answer.answered


@pytest.mark.parametrize(
    "question, title, offered, elsewhere",
    [
        ("今週の講演会", "講演会", "2026-12-17", False),
        ("今週末の英語あそび", "おやこ英語あそび", "2026-12-10", False),  # its next day, before the window
        ("来週のクリスマス会", None, None, False),  # cancelled, none to come: the window is listed
        ("来週の親子クッキング", "親子クッキング", "2026-12-10", True),  # only another ward holds it
    ],
)
def test_a_subject_outside_the_window_is_said_plainly(wards, question, title, offered, elsewhere):
    answer = _ask(wards, question)
    assert answer.listing is not None, answer.text
    if offered is None:
        assert not answer.listing.subject and "講演会" in answer.text
        return
    assert not answer.listing.entries and answer.listing.subject
    assert f"「{title}」の予定はありません" in answer.text.splitlines()[0]
    assert answer.to_dict()["items"][0]["date"] == offered and answer.to_dict()["items"][0]["title"] == title
    assert ("ほかの区" in answer.text) is elsewhere


@pytest.fixture
def groups_db(wards):
    wards.add(
        "堺市西区",
        [
            _event("WG001", "ばあばの会", "2026/12/11", who="孫育て中の祖父母の方"),
            _event("WG002", "外国人の親子あつまれ", "2026/12/11", who="外国につながる親子"),
            _event("WG003", "ふたごの会", "2026/12/11", who="双子・三つ子の家庭"),
            _event("WG004", "ひろば開放", "2026/12/11", who="子育て中の保護者"),
        ],
    )
    return wards


@pytest.mark.parametrize(
    "question, kept, left_out",
    [
        (
            "0歳の子と行ける今週のイベント",
            ["ひろば開放", "ベビーヨガ"],
            ["ばあばの会", "外国人の親子あつまれ", "ふたごの会"],
        ),
        ("2歳の子と行ける今週のイベント", ["ひろば開放"], ["ばあばの会", "外国人の親子あつまれ", "ふたごの会"]),
        ("祖父母と0歳の孫で行ける今週のイベント", ["ばあばの会"], ["ふたごの会"]),
        ("双子の0歳児と行ける今週のイベント", ["ふたごの会"], ["ばあばの会"]),
    ],
)
def test_a_group_only_event_is_left_out_of_an_age_listing(groups_db, question, kept, left_out):
    titles = [i["title"] for i in _ask(groups_db, question).to_dict()["items"]]
    assert all(t in titles for t in kept) and not any(t in titles for t in left_out), titles


@pytest.mark.parametrize(
    "question, left_out",
    [
        ("1歳の子と行ける今週の教室", "プレママ教室"),
        ("0歳の子と行ける今月の講演会", None),
    ],
)
def test_a_subject_listing_keeps_to_the_age_asked(wards, question, left_out):
    answer = _ask(wards, question)
    titles = [i["title"] for i in answer.to_dict()["items"]]
    assert answer.listing is not None and answer.listing.fitted, answer.text
    assert left_out not in titles and "子育てサロン" not in titles


@pytest.mark.parametrize(
    "question, area",
    [
        ("明日のイベント", "堺市"),
        ("堺市の明日のイベント", "堺市西区"),
        ("堺市で明日何かある？", "堺市美原区"),
    ],
)
def test_a_city_lists_all_its_wards_each_line_naming_its_ward(wards, question, area):
    answer = _ask(wards, question, area=area)
    titles = [i["title"] for i in answer.to_dict()["items"]]
    assert {"親子クッキング", "おやこ英語あそび", "ベビーヨガ"} <= set(titles), answer.text
    assert "堺市美原区" in answer.text and "堺市西区" in answer.text
    assert "お住まいの区ではなく" not in answer.text


@pytest.mark.parametrize(
    "question, today",
    [
        ("12月のイベント", D(2026, 12, 16)),
        ("12月の土曜日", D(2026, 12, 16)),
        ("今週の木曜日", SUN),
    ],
)
def test_a_window_never_lists_or_offers_a_past_day(wards, question, today):
    data = _ask(wards, question, today=today).to_dict()
    assert data["items"] and all(i["date"] >= today.isoformat() for i in data["items"]), data["text"]


def test_a_passed_weekday_of_this_week_says_which_day_it_gives(wards):
    answer = _ask(wards, "今週の木曜日のイベント", today=SUN)
    assert "次の木曜日12月17日（木）" in answer.text.splitlines()[0], answer.text


@pytest.mark.parametrize(
    "title, status",
    [
        ("【中止】親子リトミック", "cancelled"),
        ("親子リトミック【中止】", "cancelled"),
        ("親子リトミック（中止）", "cancelled"),
        ("親子リトミック［中止］", "cancelled"),
        ("親子リトミック[開催中止]", "cancelled"),
        ("親子リトミック【延期】", "postponed"),
        ("親子リトミック（中止となりました）", "cancelled"),
        ("親子リトミック（雨天中止）", None),
        ("中止になった回の振替リトミック", None),
    ],
)
def test_a_cancelled_mark_anywhere_in_a_title(events_db, title, status):
    from knowledge.importers.opendata_events import status_of

    assert status_of("", title) == status
    events_db.add("堺市西区", [_event("WC001", title, "2026/12/10")])
    listed = _titles(events_between(events_db, "堺市西区", WED, SUN))
    assert (title in listed) is (status is None)


@pytest.mark.parametrize("question", ["あすなろ保育園のイベント", "きょうだいで行けるイベント", "あしたばの会"])
def test_a_hiragana_date_word_inside_a_longer_word_is_no_date(question):
    assert parse_when(question, WED) is None


def test_an_older_base_gets_the_age_ranges_when_upgraded(tmp_path):
    import sqlite_utils
    from sqlite_utils.migrations import Migrations

    from knowledge import open_db
    from knowledge.store.db import migrations

    path = tmp_path / "old.db"
    old = sqlite_utils.Database(path)
    before = Migrations(migrations.name)
    before._migrations = [m for m in migrations._migrations if m.name < "m005"]  # the schema before listings
    before.apply(old)
    old["activities"].insert({"id": "a1", "title": "ひろば", "kind": "event", "ages": "1歳から3歳の親子"})
    old.close()
    db = open_db(path)
    row = db["activities"].get("a1")
    assert (row["age_min_months"], row["age_max_months"], row["status"]) == (12, 47, None)
