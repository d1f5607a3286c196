"""Date words against a fixed today, fiscal-year months, and text normalisation."""

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from knowledge.lang.dates import fiscal_years_in, month_in_fiscal_year, parse_month_spec, parse_when
from knowledge.lang.text import fold, reading

WED = date(2026, 11, 25)  # a Wednesday


@pytest.mark.parametrize(
    "question, start, end",
    [
        ("来週の土曜の予定", date(2026, 12, 5), date(2026, 12, 5)),
        ("今週の土曜", date(2026, 11, 28), date(2026, 11, 28)),
        ("明日ある？", date(2026, 11, 26), date(2026, 11, 26)),
        ("今日", WED, WED),
        ("週末のイベント", date(2026, 11, 28), date(2026, 11, 29)),
        ("来週", date(2026, 11, 30), date(2026, 12, 6)),
        ("来月", date(2026, 12, 1), date(2026, 12, 31)),
        ("9月のイベント", date(2027, 9, 1), date(2027, 9, 30)),
        ("12月3日", date(2026, 12, 3), date(2026, 12, 3)),
        ("土曜日", date(2026, 11, 28), date(2026, 11, 28)),
    ],
)
def test_date_words(question, start, end):
    when = parse_when(question, WED)
    assert (when.start, when.end) == (start, end)


def test_no_date_words():
    assert parse_when("赤ちゃんサロン", WED) is None


LAST = date.max  # 9999-12-31, a Friday
FIRST = date.min  # 0001-01-01, a Monday


@pytest.mark.parametrize(
    "question, today, span",
    [
        # Nothing of the span exists: None, as if no date were named.
        ("来月のイベント", LAST, None),
        ("明日", LAST, None),
        ("あさって", date(9999, 12, 30), None),
        ("来週の土曜日", LAST, None),
        ("週末", LAST, None),  # that Saturday would be 10000-01-01
        ("今週の土曜", LAST, None),
        ("土曜日", LAST, None),
        ("次の日曜", LAST, None),
        ("冬休み", date(9999, 12, 24), (date(9999, 12, 25), LAST)),
        ("年末年始", FIRST, (date(1, 1, 1), date(1, 1, 3))),
        ("再来月", date(9999, 11, 5), None),
        ("12月の土曜日", LAST, None),  # this month runs from today: no Saturday left
        ("9月のイベント", LAST, None),  # the coming September is in year 10000
        ("12月20日", LAST, None),
        # Part of the span exists: clipped to the calendar.
        ("今週", LAST, (LAST, LAST)),
        ("再来週", date(9999, 12, 15), (date(9999, 12, 27), LAST)),
        ("今年度", date(9999, 5, 1), (date(9999, 5, 1), LAST)),
        # Wholly inside the calendar, at its edges.
        ("今日", LAST, (LAST, LAST)),
        ("今週の月曜", LAST, None),  # passed: the coming Monday is in year 10000
        ("金曜日", LAST, (LAST, LAST)),
        ("12月のイベント", LAST, (LAST, LAST)),  # this month: from today
        ("12月31日", LAST, (LAST, LAST)),
        ("今月", LAST, (LAST, LAST)),
        ("今年度", FIRST, (FIRST, date(1, 3, 31))),
        ("来月", FIRST, (date(1, 2, 1), date(1, 2, 28))),
        ("今週", FIRST, (FIRST, date(1, 1, 7))),
        ("週末", FIRST, (date(1, 1, 6), date(1, 1, 7))),
        ("来週の土曜日", FIRST, (date(1, 1, 13), date(1, 1, 13))),
        ("12月20日", FIRST, (date(1, 12, 20), date(1, 12, 20))),
    ],
)
def test_date_words_at_the_ends_of_the_calendar(question, today, span):
    when = parse_when(question, today)
    assert (None if when is None else (when.start, when.end)) == span


DATE_WORDS = [
    "今日",
    "本日",
    "明日",
    "あした",
    "あす",
    "明後日",
    "あさって",
    "今週",
    "この週",
    "来週",
    "次の週",
    "再来週",
    "週末",
    "土日",
    "今週末",
    "来週末",
    "再来週の土日",
    "来週の土曜日",
    "再来週の月曜",
    "今週の日曜",
    "来月",
    "今月",
    "今年度",
    "1月",
    "9月",
    "12月",
    "12月20日",
    "2月29日",
    "3月31日",
    "13月",
    "土曜日",
    "日曜",
    "月曜",
    "次の日曜",
    "今度の土曜",
    "12/20",
    "2/29",
    "9999/12/31",
    "0/0",
    "年末年始",
    "冬休み",
    "春休み",
    "夏休み",
    "ゴールデンウィーク",
    "12月の土曜日",
    "来月の土日",
    "今月の週末",
    "再来月",
    "年内",
]


# Any day, with the first and last months of the calendar drawn as often as the rest.
ANY_DAY = st.one_of(st.dates(), st.dates(min_value=date(9999, 11, 1)), st.dates(max_value=date(1, 4, 30)))


@given(ANY_DAY, st.lists(st.sampled_from(DATE_WORDS), min_size=1, max_size=2))
def test_any_day_and_date_words_give_a_span_or_none(today, words):
    when = parse_when("の".join(words) + "のイベント", today)
    assert when is None or when.start <= when.end


def test_fiscal_year_months():
    assert month_in_fiscal_year(2, 2025) == "2026-02"
    assert month_in_fiscal_year(5, 2025) == "2025-05"
    assert fiscal_years_in("令和7年度重点目標") == [2025]
    assert fiscal_years_in("目標値（2025 年度）") == [2025]
    assert parse_month_spec("(11~3月)") == [11, 12, 1, 2, 3]
    assert parse_month_spec("（5月、7月）") == [5, 7]
    assert parse_month_spec("(8月～)", 4, 9) == [8, 9]
    assert parse_month_spec("(～11月)", 10, 3) == [10, 11]
    assert len(parse_month_spec("（通年）")) == 12


def test_fold_bridges_width_kana_and_ocr_slips():
    assert fold("ﾊﾟﾊﾟ") == fold("ぱぱ") == fold("パパ")
    assert fold("ぶれママ") == fold("ぷれママ")
    assert fold("O才赤ちゃん") == fold("0歳赤ちゃん")
    assert fold("あつまれ～！") == fold("アツマレ")
    assert fold("パパ") != fold("ハハ")  # voicing is kept: パパ is not 母


def test_reading_meets_kanji():
    assert reading("もくよく") == reading("沐浴")
    assert reading("あかちゃんさろん") == reading("赤ちゃんサロン")


SUNDAY = date(2026, 12, 13)


@pytest.mark.parametrize(
    "q, today, start, end, weekdays",
    [
        ("今日か明日なにかある？", WED, date(2026, 11, 25), date(2026, 11, 26), ()),
        ("今週と来週のイベント", WED, date(2026, 11, 25), date(2026, 12, 6), ()),
        ("12月20日から25日のイベント", WED, date(2026, 12, 20), date(2026, 12, 25), ()),
        ("12/20〜12/23", WED, date(2026, 12, 20), date(2026, 12, 23), ()),
        ("土曜か日曜に行けるところ", WED, date(2026, 11, 28), date(2026, 11, 29), ()),
        ("土曜か日曜に行けるところ", SUNDAY, SUNDAY, date(2026, 12, 19), (5, 6)),  # today and the coming Saturday only
        ("12月と1月のイベント", WED, date(2026, 12, 1), date(2027, 1, 31), ()),
    ],
)
def test_two_date_words_joined_are_one_window(q, today, start, end, weekdays):
    when = parse_when(q, today)
    assert (when.start, when.end, when.weekdays) == (start, end, weekdays)


@pytest.mark.parametrize(
    "q", ["明日何かイベントある？", "パパと行ける来週の土曜", "今日から使える手当", "あすなろ保育園と明日"]
)
def test_a_joining_word_without_a_second_date_leaves_the_first(q):
    alone = {
        "明日何かイベントある？": "明日",
        "パパと行ける来週の土曜": "来週の土曜日",
        "今日から使える手当": "今日",
        "あすなろ保育園と明日": "明日",
    }[q]
    assert parse_when(q, WED).label == alone


def test_two_date_words_too_far_apart_are_not_one_window():
    assert parse_when("今日と来年の3月", WED).label != "今日と3月"
