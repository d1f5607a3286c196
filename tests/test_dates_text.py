"""Date words against a fixed today, fiscal-year months, and text normalisation."""

from datetime import date

import pytest

from knowledge.dates import fiscal_years_in, month_in_fiscal_year, parse_month_spec, parse_when
from knowledge.text import fold, reading

WED = date(2026, 11, 25)  # a Wednesday


@pytest.mark.parametrize("question, start, end", [
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
])
def test_date_words(question, start, end):
    when = parse_when(question, WED)
    assert (when.start, when.end) == (start, end)


def test_no_date_words():
    assert parse_when("赤ちゃんサロン", WED) is None


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
