"""/kosodate sheet: the key-initiative sheet as blocks, and as a file (Markdown or CSV) for the channel."""

from __future__ import annotations

import csv
import io

import pytest
from slack_fake import BLOCKS_MAX, STAFF_CHANNEL, fill_progress

from handlers.slack import render
from knowledge.staff import sheet as sheet_mod
from knowledge.staff.progress import add as add_progress

NISHI = "program-c94dfbac4026"


def test_sheet_shows_schedule_by_period_with_months_status_and_progress(slack, fake, base):
    add_progress(
        base, NISHI, "後期", "第3回研究会を2月に開催、12団体が参加", actor="slack:U1", actor_name="西区 子育て支援課"
    )
    slack.command("sheet 居場所")
    reply = fake.wait_for("/respond")[0]
    text = "\n".join(b["text"]["text"] for b in reply["blocks"])
    assert "重要取組シート：西区こどもの居場所等支援事業（2025年度）" in text
    assert "*前期*" in text and "*後期*" in text
    assert "・[予定] こどもの居場所研究会の開催（5月、7月）（5月・7月）" in text
    assert "第3回研究会を2月に開催、12団体が参加（西区 子育て支援課" in text


@pytest.mark.parametrize(
    "text,fmt",
    [
        ("sheet 居場所 export", "md"),
        ("sheet 居場所 export csv", "csv"),
        ("sheet 西区こどもの居場所等支援事業 EXPORT md", "md"),
    ],
)
def test_export_posts_the_sheet_as_a_file_to_the_channel(slack, fake, base, text, fmt):
    add_progress(base, NISHI, "後期", '=HYPERLINK("http://x")で報告', actor="slack:U1")
    slack.command(text)
    complete = fake.wait_for("/files.completeUploadExternal")[0]
    assert complete["channel_id"] == STAFF_CHANNEL
    files = complete["files"] if isinstance(complete["files"], list) else __import__("json").loads(complete["files"])
    assert files[0]["id"] == "F0001"
    uploaded = fake.wait_for("/upload/F0001")[0]["raw"]
    assert "こどもの居場所研究会の開催" in uploaded
    [asked] = fake.received("/files.getUploadURLExternal")
    assert asked["filename"] == f"{NISHI}.{fmt}"
    if fmt == "csv":
        rows = list(csv.reader(io.StringIO(uploaded.lstrip("\ufeff"))))
        assert rows[0] == sheet_mod.CSV_COLUMNS
        assert [r for r in rows if r[0] == "進捗"][-1][:6] == [
            "進捗",
            "後期",
            "",
            "",
            '\'=HYPERLINK("http://x")で報告',
            "slack:U1",
        ]
    else:
        assert uploaded.startswith("# 重要取組シート：西区こどもの居場所等支援事業")
        assert "### 進捗の状況" in uploaded
    assert "共有しました" in fake.wait_for("/respond")[0]["text"]


@pytest.mark.parametrize(
    "text,expected",
    [
        ("sheet", "事業名を入れてください"),
        ("sheet 存在しない事業", "見つかりませんでした"),
        ("sheet 子育て", "複数あります"),
    ],
)
def test_sheet_names_that_find_nothing_or_many_are_said(slack, fake, text, expected):
    slack.command(text)
    assert expected in fake.wait_for("/respond")[0]["text"]
    assert not fake.received("/files.completeUploadExternal")


def test_markdown_and_csv_of_a_sheet_hold_every_item_and_entry(base):
    add_progress(base, NISHI, "前期", "研究会を開いた", actor="slack:U1")
    sheet = sheet_mod.load(base, NISHI)
    md, rows = sheet_mod.to_markdown(sheet), list(csv.reader(io.StringIO(sheet_mod.to_csv(sheet))))
    items = base.execute(
        "SELECT count(*) FROM schedule_items WHERE program_id = ? AND period != '次年度以降'", [NISHI]
    ).fetchone()[0]
    assert sum(1 for r in rows[1:] if r[0] == "スケジュール" and r[1] != "次年度以降") == items
    assert md.count("- [ ]") + md.count("- [x]") == items + 1  # and the next year's item
    assert [r[4] for r in rows if r[0] == "進捗"] == ["研究会を開いた"]
    assert sheet_mod.load(base, "program-none") is None


def test_the_sheet_counts_what_it_cannot_show(base):
    fill_progress(base, NISHI, 400, padding="。" + "詳しい報告" * 80)  # far more than 50 blocks hold
    message = render.sheet_message(sheet_mod.load(base, NISHI))
    texts = [b["text"]["text"] if b["type"] == "section" else b["elements"][0]["text"] for b in message["blocks"]]
    assert len(message["blocks"]) <= BLOCKS_MAX and all(len(t) <= 3000 for t in texts)
    shown = "\n".join(texts).count("運営会議")
    assert shown > 62 and f"ほかに{400 - shown}件" in texts[-1]
