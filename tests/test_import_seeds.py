"""The ward documents in ../shared/seeds import into concrete, checkable records."""

from __future__ import annotations

import json

import pytest

from knowledge import open_db
from knowledge.importers import import_file
from knowledge.importers.base import UnreadableFile
from tests.conftest import seed


@pytest.fixture
def db(tmp_path):
    d = open_db(tmp_path / "kb.db")
    yield d
    d.close()


def activity(db, title_part, area):
    rows = list(db.query("SELECT * FROM activities WHERE title LIKE ? AND area = ?", [f"%{title_part}%", area]))
    assert rows, f"no activity like {title_part} in {area}"
    return rows[0]


def months_of(db, activity_id):
    return [
        r["date"][:7]
        for r in db.query("SELECT date FROM occurrences WHERE activity_id = ? ORDER BY date", [activity_id])
    ]


def test_nishi_sheet_schedule_by_period_resolved_in_fiscal_year(db):
    import_file(db, seed("002_"))
    program = db.execute("SELECT id, fiscal_year, area, sdg_goal, plan_policy FROM programs").fetchone()
    assert program[1:3] == (2025, "堺市西区")
    assert program[3].startswith("1 ") and "貧困" in program[3]
    items = {(r["period"], r["text"][:12]): json.loads(r["months"]) for r in db.query("SELECT * FROM schedule_items")}
    assert items[("前期", "こどもの居場所研究会開催")] == ["2025-05", "2025-07"]
    assert items[("後期", "こどもの居場所研究会開催")] == ["2025-10", "2026-02"]
    kenkyukai = activity(db, "こどもの居場所研究会", "堺市西区")
    assert months_of(db, kenkyukai["id"]) == ["2025-05", "2025-07", "2025-10", "2026-02"]
    # the table block repeated by the PDF export is imported once
    assert db.execute("SELECT count(*) FROM schedule_items WHERE period = '前期'").fetchone()[0] == 7
    # progress is still empty on this sheet: no progress rows are invented
    assert db["progress"].count == 0
    assert activity(db, "ともに考える会", "堺市西区")["kind"] == "event"


def test_mihara_sheet_progress_keeps_its_period(db):
    import_file(db, seed("000_"))
    fy, area = db.execute("SELECT fiscal_year, area FROM programs").fetchone()
    assert (fy, area) == (2023, "堺市美原区")
    progress = {r["period"]: r["text"] for r in db.query("SELECT * FROM progress")}
    assert set(progress) == {"前期", "中期"}  # 後期 is empty in the sheet and stays empty
    assert "写真" in progress["中期"]
    assert all(r["origin"] == "import" for r in db.query("SELECT origin FROM progress"))
    club = activity(db, "趣味 Club", "堺市美原区")
    assert club["title"] == "親子で楽しむ趣味 Club"
    assert activity(db, "子ども家庭フォーラム", "堺市美原区")


def test_asahi_evaluation_operator_base_and_named_activities(db):
    import_file(db, seed("003_"))
    program = db.execute("SELECT title, fiscal_year, operator, area FROM programs").fetchone()
    assert program == ("旭区地域子育て支援拠点事業", 2025, "特定非営利活動法人子そだちしえん・あさひ", "横浜市旭区")
    bases = {r["name"]: r for r in db.query("SELECT * FROM bases")}
    assert bases["旭区地域子育て支援拠点"]["operator"] == "特定非営利活動法人子そだちしえん・あさひ"
    assert "旭区地域子育て支援拠点サテライト" in bases
    salon = activity(db, "赤ちゃんサロン", "横浜市旭区")
    assert salon["frequency"] == "本拠点 12回" and json.loads(salon["audience"]) == ["0歳"]
    kids = activity(db, "キッズクッキング", "横浜市旭区")
    assert "年中" in kids["ages"]
    # OCR spelling is kept; each named activity once even when listed twice
    assert activity(db, "ぶれパパぶれママ講座", "横浜市旭区")["frequency"] == "本拠点12回、サテライト12回"
    assert db.execute("SELECT count(*) FROM activities WHERE title LIKE 'ぶれママさんあつまれ%'").fetchone()[0] == 1
    for name in ("パパとあそぼう", "ばあばの会", "リサイクルマーケット", "ちょこっとお預かり", "そとあそび"):
        assert activity(db, name, "横浜市旭区")


def test_tsurumi_evaluation_prose_activities(db):
    import_file(db, seed("004_"))
    assert db.execute("SELECT fiscal_year, operator FROM programs").fetchone() == (2021, "社会福祉法人青い鳥")
    for name in ("はんどめいどくらぶ", "ぶちキャラバン隊", "マタニティコーナー", "沐浴体験"):
        assert activity(db, name, "横浜市鶴見区")


def test_plan_needs_area_and_lists_related_programs(db):
    with pytest.raises(UnreadableFile):
        import_file(db, seed("001_"))
    import_file(db, seed("001_"), area="堺市")
    titles = {r["title"]: r for r in db.query("SELECT * FROM programs WHERE kind = 'related'")}
    assert "ファミリー・サポート・センター事業" in titles
    assert "多胎家庭支援事業" in titles
    center = titles["地域子育て支援拠点事業（地域子育て支援センター）"]
    assert "14か所" in center["situation"]
    assert "保育幼稚園課" in json.loads(center["departments"])


def test_reimport_updates_in_place(db):
    for _ in range(2):
        import_file(db, seed("003_"))
        import_file(db, seed("002_"))
    assert db.execute("SELECT count(*) FROM programs").fetchone()[0] == 2
    assert db.execute("SELECT count(*) FROM activities WHERE title = '赤ちゃんサロン'").fetchone()[0] == 1
    assert db.execute("SELECT count(*) FROM schedule_items").fetchone()[0] == 12


def test_sheet_without_year_needs_fiscal_year(db, tmp_path):
    text = seed("002_").read_text(encoding="utf-8")
    text = text.replace("2025年度", "").replace("(2025年度)", "").replace("目標値 ()", "")
    import re

    text = re.sub(r"目標値\s*\([^)]*\)", "", text)
    text = re.sub(r"令和\s*\d+\s*年度", "", text)
    path = tmp_path / "sheet.txt"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(UnreadableFile, match="fiscal-year"):
        import_file(db, path)
    import_file(db, path, fiscal_year=2026)
    assert db.execute("SELECT fiscal_year FROM programs").fetchone()[0] == 2026
    months = json.loads(
        db.execute("SELECT months FROM schedule_items WHERE text LIKE 'こどもの居場所研究会開催 (10%'").fetchone()[0]
    )
    assert months == ["2026-10", "2027-02"]


@pytest.mark.parametrize(
    "title, kind",
    [
        ("ばあばの会", "event"),
        ("きょうだい育児座談会", "event"),
        ("ぶれママ拠点見学会", "event"),
        ("既存の事業の中でおもちゃをテーマにした講習会", "event"),
        ("夕涼み会", "event"),
        ("通信やチラシの自治会回覧", "activity"),
        ("旭区子育て広場連絡会", "activity"),
        ("鶴見区子育て支援ネットワーク会議", "activity"),
        ("会員間の交流プログラム", "activity"),
    ],
)
def test_a_gathering_is_an_event_a_body_is_not(title, kind):
    """The weekly digest pushes events: 自治会回覧 or a staff 会議 must not be one."""
    from knowledge.importers.docs import activity_kind

    assert activity_kind(title) == kind
