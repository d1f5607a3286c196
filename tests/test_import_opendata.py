"""Standard open-data events / facilities CSVs: both layouts, real files, and their quirks."""

import csv
import io
import json
import pathlib
from collections import Counter

import pytest

from knowledge.importers import ImportRejected, import_file, opendata_events, opendata_facilities
from knowledge.importers import opendata_common as common
from knowledge.lang import audience
from knowledge.store.db import open_db

REALDATA = pathlib.Path(__file__).resolve().parents[2] / "shared" / "realdata"
OKAZAKI = REALDATA / "okazaki_232025_event_excerpt.csv"
KAWAGUCHI = REALDATA / "kawaguchi_112038_preschool.csv"
DEMO = pathlib.Path(__file__).resolve().parents[1] / "knowledge" / "data" / "demo_events.csv"

# The older layouts' columns as listed in docs/field-notes (推奨データセット).
OLD_EVENT_COLUMNS = (
    "都道府県コード又は市区町村コード,NO,都道府県名,市区町村名,イベント名,イベント名_カナ,イベント名_英語,開始日,"
    "終了日,開始時間,終了時間,開始日時特記事項,説明,料金（基本）,料金（詳細）,連絡先名称,連絡先電話番号,"
    "連絡先内線番号,主催者,場所名称,住所,方書,緯度,経度,アクセス方法,駐車場情報,定員,参加申込終了日,"
    "参加申込終了時間,参加申込方法,URL,備考"
).split(",")
OLD_FACILITY_COLUMNS = (
    "都道府県コード又は市区町村コード,NO,都道府県名,市区町村名,名称,名称_カナ,種別,住所,方書,緯度,経度,"
    "アクセス方法,駐車場情報,電話番号,内線番号,FAX番号,法人番号,団体名,許可等年月日,収容定員,受入年齢,"
    "利用可能曜日,開始時間,終了時間,利用可能日時特記事項,一時預かりの有無,URL,備考"
).split(",")


def need(path: pathlib.Path) -> pathlib.Path:
    if not path.exists():
        pytest.skip(f"{path.name} is not available (../shared/realdata)")
    return path


def csv_text(columns: list[str], rows: list[dict], newline: str = "\n") -> str:
    """A CSV text under ``columns`` with the given cells (others empty)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator=newline)
    writer.writerow(columns)
    for row in rows:
        writer.writerow([row.get(c, "") for c in columns])
    return out.getvalue()


def write(path: pathlib.Path, text: str, encoding: str = "utf-8") -> pathlib.Path:
    path.write_bytes(text.encode(encoding))
    return path


def old_event(**cells) -> dict:
    base = {"都道府県コード又は市区町村コード": "141089", "都道府県名": "神奈川県", "市区町村名": "横浜市"}
    return base | cells


@pytest.fixture
def db(tmp_path):
    return open_db(tmp_path / "kb.db")


def activities(db) -> dict[str, dict]:
    return {a["title"]: a for a in db.query("SELECT * FROM activities ORDER BY title")}


def dates_of(db, activity_id: str) -> list[str]:
    return [
        r["date"] for r in db.query("SELECT date FROM occurrences WHERE activity_id = ? ORDER BY date", [activity_id])
    ]


# --- reading ----------------------------------------------------------------------------------


def test_headers_match_after_nfkc():
    assert common.norm_header("料金（基本）") == common.norm_header("料金(基本)") == "料金(基本)"
    assert common.norm_header("\ufeff 緯度 ") == "緯度"


@pytest.mark.parametrize(
    "value, iso",
    [
        ("2026/08/04", "2026-08-04"),
        ("2026-08-04", "2026-08-04"),
        ("2026/8/4", "2026-08-04"),
        ("1952/1/25", "1952-01-25"),
        ("２０２６／８／４", "2026-08-04"),
        ("2026年8月4日", "2026-08-04"),
        ("令和8年8月4日", "2026-08-04"),
        ("2026/08/04 0:00:00", "2026-08-04"),
        ("", None),
    ],
)
def test_parse_date(value, iso):
    assert common.parse_date(value) == iso


@pytest.mark.parametrize("value", ["2026/13/01", "2026/02/30", "来月", "08/04"])
def test_parse_date_rejects_with_english_reason(value):
    with pytest.raises(ValueError) as info:
        common.parse_date(value)
    assert str(info.value) == f"'{value}' is not a date"


def test_parse_time_and_numbers():
    assert common.parse_time("9:30") == common.parse_time("09:30") == common.parse_time("９：３０") == "09:30"
    assert common.parse_time("10時") == "10:00"
    assert common.parse_time("10時半") == "10:30"
    assert common.parse_time("") is None
    with pytest.raises(ValueError):
        common.parse_time("午前中")
    assert common.parse_number("35.80447743") == 35.80447743
    with pytest.raises(ValueError, match="'abc' is not a number"):
        common.parse_number("abc")
    with pytest.raises(ValueError, match="out of range"):
        common.parse_coordinate("139.72", "lat")
    assert common.split_values("パーク＆ネイチャー、パパママ＆ベビー") == ["パーク＆ネイチャー", "パパママ＆ベビー"]


def test_area_names_drop_the_prefecture():
    assert common.area_name("神奈川県横浜市旭区") == "横浜市旭区"
    assert common.area_name("愛知県岡崎市") == "岡崎市"
    assert common.area_name("神奈川県", "横浜市", "旭区") == "横浜市旭区"
    assert common.area_name("大阪府", "堺市美原区", "美原区") == "堺市美原区"
    assert common.area_name("", "") is None


def test_unknown_columns_are_reported_not_rejected():
    columns = OLD_EVENT_COLUMNS + ["カテゴリー", "区", "子育て情報"]
    text = csv_text(columns, [old_event(イベント名="親子ひろば", 開始日="2026/5/1", 区="旭区", 子育て情報="有")])
    parsed = opendata_events.parse(text, name="141089_event.csv")
    assert not parsed.errors
    assert parsed.notes == ["columns not read (not in the standard layout): 子育て情報"]
    assert parsed.records["activities"][0]["area"] == "横浜市旭区"


# --- detection --------------------------------------------------------------------------------


def test_both_event_layouts_are_recognised(tmp_path):
    old = csv_text(OLD_EVENT_COLUMNS, [old_event(イベント名="x")])
    assert opendata_events.detect(old, "e.csv")
    assert not opendata_facilities.detect(old, "e.csv")
    new = need(OKAZAKI).read_text(encoding="utf-8")
    assert opendata_events.detect(new, OKAZAKI.name)
    assert not opendata_facilities.detect(new, OKAZAKI.name)


def test_both_facility_layouts_are_recognised():
    old = csv_text(OLD_FACILITY_COLUMNS, [{"名称": "x"}])
    assert opendata_facilities.detect(old, "f.csv")
    assert not opendata_events.detect(old, "f.csv")
    new = need(KAWAGUCHI).read_text(encoding="utf-8-sig")
    assert opendata_facilities.detect(new, KAWAGUCHI.name)
    assert not opendata_events.detect(new, KAWAGUCHI.name)
    assert not opendata_events.detect("question,answer\nq,a\n", "faq.csv")


# --- events -----------------------------------------------------------------------------------


def test_old_layout_events_import(db, tmp_path):
    rows = [
        old_event(
            イベント名="  ぷれパパぷれママ講座 ",
            開始日="2026/5/16",
            終了日="2026/5/16",
            開始時間="9:30",
            終了時間="11:30",
            説明="妊娠中の方とパートナーのための講座です。",
            **{"料金（基本）": "無料", "料金（詳細）": "教材費300円"},
            連絡先名称="旭区こども家庭支援課",
            連絡先電話番号="045-954-6160",
            場所名称="旭区役所",
            緯度="35.4747",
            経度="139.5447",
            URL="https://example.jp/event/1",
        ),
        old_event(イベント名="パパとあそぼう", 開始日="", 開始日時特記事項="毎月第1土曜日 10時～11時半"),
    ]
    path = write(tmp_path / "141089_event.csv", csv_text(OLD_EVENT_COLUMNS, rows))
    report = import_file(db, path)
    assert report.kind == "events"
    assert report.counts == {"activities": 2, "occurrences": 1}
    got = activities(db)
    course = got["ぷれパパぷれママ講座"]
    assert course["area"] == "横浜市"
    assert course["fee"] == "無料 / 教材費300円"
    assert course["contact"] == "旭区こども家庭支援課 045-954-6160"
    assert course["place"] == "旭区役所"
    assert course["start_time"] == "09:30"
    assert json.loads(course["audience"]) == ["pregnancy", "fathers", "parents"]
    assert dates_of(db, course["id"]) == ["2026-05-16"]
    papa = got["パパとあそぼう"]
    assert papa["recurrence"] == "FREQ=MONTHLY;BYDAY=+1SA"
    assert papa["recurrence_start"] == "2025-04-01"
    assert papa["recurrence_until"] is None
    assert (papa["start_time"], papa["end_time"]) == ("10:00", "11:30")
    assert papa["frequency"] == "毎月第1土曜日 10時～11時半"
    assert dates_of(db, papa["id"]) == []


def test_rule_with_start_and_end_dates(db, tmp_path):
    rows = [
        old_event(イベント名="赤ちゃんひろば", 開始日="2026/04/01", 終了日="2027/03/31", 開始日時特記事項="毎週水曜日")
    ]
    import_file(db, write(tmp_path / "e.csv", csv_text(OLD_EVENT_COLUMNS, rows)))
    event = activities(db)["赤ちゃんひろば"]
    assert (event["recurrence"], event["recurrence_start"], event["recurrence_until"]) == (
        "FREQ=WEEKLY;BYDAY=WE",
        "2026-04-01",
        "2027-03-31",
    )
    assert dates_of(db, event["id"]) == []


def test_area_argument_wins_over_the_file(db, tmp_path):
    rows = [old_event(イベント名="親子ひろば", 開始日="2026/05/01")]
    import_file(db, write(tmp_path / "e.csv", csv_text(OLD_EVENT_COLUMNS, rows)), area="美原区")
    assert activities(db)["親子ひろば"]["area"] == "堺市美原区"


@pytest.mark.parametrize("encoding, bom", [("utf-8", False), ("utf-8", True), ("cp932", False)])
def test_bom_no_bom_and_cp932_import_alike(tmp_path, encoding, bom):
    rows = [
        old_event(
            イベント名="親子で楽しむ趣味Club",
            開始日="2026/6/3",
            対象者="",
            説明="手芸や写真のクラブです（１０：００～）",
        )
    ]
    text = csv_text(OLD_EVENT_COLUMNS, rows, newline="\r\n")
    path = tmp_path / "e.csv"
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + text.encode(encoding))
    db = open_db(tmp_path / "kb.db")
    import_file(db, path)
    event = activities(db)["親子で楽しむ趣味Club"]
    assert event["description"] == "手芸や写真のクラブです（１０：００～）"
    assert dates_of(db, event["id"]) == ["2026-06-03"]


def test_unpadded_and_mixed_date_formats_in_one_file(db, tmp_path):
    rows = [
        old_event(イベント名="おはなし会", 開始日=d, 終了日=d, URL="https://example.jp/ohanashi")
        for d in ("2026/8/4", "2026-08-11", "2026/08/18", "2026年8月25日")
    ]
    import_file(db, write(tmp_path / "e.csv", csv_text(OLD_EVENT_COLUMNS, rows)))
    event = activities(db)["おはなし会"]
    assert dates_of(db, event["id"]) == ["2026-08-04", "2026-08-11", "2026-08-18", "2026-08-25"]


def test_okazaki_one_row_per_date_is_one_event_with_occurrences(db):
    report = import_file(db, need(OKAZAKI))
    assert report.errors == []
    assert report.counts["activities"] == 25  # from 28 rows
    got = activities(db)
    fire = got["岡崎市消防本部プレゼンツ「令和8年度一日消防士体験」"]
    assert dates_of(db, fire["id"]) == ["2026-08-04", "2026-08-05"]
    assert fire["url"] == "https://www.city.okazaki.lg.jp/kurashi/kyukyu/1002492/1015696.html"  # from コンテンツURL
    assert (fire["start_time"], fire["end_time"], fire["fee"]) == ("09:30", "16:30", "無料")
    papato = got["PAPATOパークおかざき"]
    assert dates_of(db, papato["id"]) == ["2026-08-29", "2026-10-17", "2026-11-07"]
    assert {"fathers", "0歳"} <= set(json.loads(papato["audience"]))
    assert papato["place"] == "岡崎げんき館"
    assert all(a["area"] == "岡崎市" for a in got.values())
    assert "foreign" in json.loads(got["こども向け日本語教室「ぴかぴか」夏クラス"]["audience"])
    assert json.loads(got["「心も体もリフレッシュ！はじめてのZUMBA」を開催します。"]["audience"]) == []
    # The leading space of the real title is gone, the spelling is kept.
    assert "まめ吉健幸塾 ベビママハッピーYOGA（4回コース）9月" in got
    yoga = got["まめ吉健幸塾 ベビママハッピーYOGA（4回コース）8月度"]
    assert dates_of(db, yoga["id"]) == ["2026-08-08", "2026-08-15", "2026-08-22", "2026-08-29"]
    # 毎月第2金曜日（10月は開催なし） on a dated row: the date and the rule.
    salon = got["こころほっとサロン"]
    assert salon["recurrence"] == "FREQ=MONTHLY;BYMONTH=1,2,3,4,5,6,7,8,9,11,12;BYDAY=+2FR"
    assert (salon["recurrence_start"], salon["recurrence_until"]) == ("2026-08-14", None)
    assert dates_of(db, salon["id"]) == ["2026-08-14"]
    # A 34-day festival is a daily rule, not 34 rows.
    festival = got["岡崎市制110周年記念事業 第24回岡崎図書館まつりを開催します"]
    assert (festival["recurrence"], festival["recurrence_start"], festival["recurrence_until"]) == (
        "FREQ=DAILY",
        "2026-07-09",
        "2026-08-11",
    )
    assert (
        "&nbsp;"
        not in got["岡崎市制110周年記念事業\u3000ピラミッド・サイエンス！\u30002026年度夏季企画展"]["description"]
    )
    assert db["areas"].get("岡崎市")["city"] == "岡崎市"


def test_reimport_creates_no_duplicates_and_drops_removed_rows(db, tmp_path):
    text = need(OKAZAKI).read_text(encoding="utf-8")
    path = write(tmp_path / "okazaki_events.csv", text)
    import_file(db, path)
    before = (db["activities"].count, db["occurrences"].count)
    import_file(db, path)
    assert (db["activities"].count, db["occurrences"].count) == before == (25, 61)
    # The next version of the file no longer lists the 10/17 PAPATO date.
    write(path, "\n".join(line for line in text.split("\n") if "OK0021009612" not in line))
    import_file(db, path)
    papato = activities(db)["PAPATOパークおかざき"]
    assert dates_of(db, papato["id"]) == ["2026-08-29", "2026-11-07"]
    assert db["activities"].count == 25


def test_file_with_two_bad_rows_imports_nothing(db, tmp_path):
    rows = [
        old_event(イベント名="親子ひろば", 開始日="2026/05/01"),  # line 2
        old_event(イベント名="", 開始日="2026/05/02"),  # line 3
        old_event(イベント名="おはなし会", 開始日="2026/13/01", 緯度="abc"),  # line 4
        old_event(イベント名="夏まつり", 開始日="2026/08/04", 終了日="2026/08/04"),  # line 5
    ]
    path = write(tmp_path / "e.csv", csv_text(OLD_EVENT_COLUMNS, rows))
    with pytest.raises(ImportRejected) as info:
        import_file(db, path)
    errors = info.value.errors
    assert [(e.line, e.reason) for e in errors] == [
        (3, "イベント名 is empty"),
        (4, "開始日 '2026/13/01' is not a date; 緯度 'abc' is not a number"),
    ]
    assert "2 bad row(s)" in str(info.value)
    assert db["activities"].count == 0
    assert db["sources"].count == 0

    report = import_file(db, path, skip_invalid=True)
    assert [e.line for e in report.errors] == [3, 4]
    assert set(activities(db)) == {"親子ひろば", "夏まつり"}


def test_end_before_start_is_a_bad_row():
    rows = [old_event(イベント名="夏まつり", 開始日="2026/08/04", 終了日="2026/08/01")]
    parsed = opendata_events.parse(csv_text(OLD_EVENT_COLUMNS, rows), name="e.csv")
    assert [(e.line, e.reason) for e in parsed.errors] == [(2, "終了日 '2026/08/01' is before 開始日 '2026/08/04'")]
    assert parsed.rows == 1
    assert parsed.records == {}


def test_two_bad_rows_in_a_crlf_file_with_multiline_cells(db, tmp_path):
    rows = [
        old_event(イベント名="親子ひろば", 開始日="2026/05/01", 説明="一行目\n二行目\n三行目"),  # lines 2-4
        old_event(イベント名="", 開始日="2026/05/02"),  # line 5
        old_event(イベント名="おはなし会", 開始日="2026/05/03", 説明="説明\n続き"),  # lines 6-7
        old_event(イベント名="体操", 開始日="2026/5/32"),  # line 8
    ]
    path = write(tmp_path / "e.csv", csv_text(OLD_EVENT_COLUMNS, rows, newline="\r\n"))
    with pytest.raises(ImportRejected) as info:
        import_file(db, path)
    assert [(e.line, e.reason) for e in info.value.errors] == [
        (5, "イベント名 is empty"),
        (8, "開始日 '2026/5/32' is not a date"),
    ]
    assert db["activities"].count == 0
    report = import_file(db, path, skip_invalid=True)
    assert len(report.errors) == 2
    assert activities(db)["親子ひろば"]["description"] == "一行目\n二行目\n三行目"


def test_demo_events_file(db):
    header = DEMO.read_text(encoding="utf-8").split("\n", 1)[0]
    assert not DEMO.read_bytes().startswith(b"\xef\xbb\xbf")
    if OKAZAKI.exists():
        assert header == OKAZAKI.read_text(encoding="utf-8").split("\n", 1)[0]
    report = import_file(db, DEMO)
    assert report.errors == []
    got = activities(db)
    assert len(got) == 14
    assert {a["area"] for a in got.values()} == {"横浜市旭区", "横浜市鶴見区", "堺市美原区", "堺市西区"}
    assert all(a["sample"] == 1 for a in got.values())
    assert "こどもの居場所研究会" not in got
    salon = got["赤ちゃんサロン"]
    assert (salon["recurrence"], salon["start_time"], salon["end_time"]) == (
        "FREQ=MONTHLY;BYDAY=+2TU",
        "10:00",
        "11:30",
    )
    assert salon["place"] == "旭区地域子育て支援拠点"
    assert json.loads(salon["audience"]) == ["0歳", "parents"]
    assert got["ぷちキャラバン隊"]["recurrence"] == "FREQ=WEEKLY;BYDAY=TH"
    assert "twins" in json.loads(got["双子ちゃん三つ子ちゃん集まれ"]["audience"])
    assert "grandparents" in json.loads(got["ばあばの会"]["audience"])
    assert dates_of(db, got["リサイクルマーケット"]["id"]) == ["2026-05-16", "2026-11-14", "2027-05-15"]
    assert dates_of(db, got["（仮称）ともに考える会"]["id"]) == ["2025-11-20", "2026-01-22"]
    assert "school" in json.loads(got["（仮称）ともに考える会"]["audience"])


def test_audience_tag_labels_read_back_as_their_tag():
    for tag, label in opendata_events.TAG_LABELS.items():
        assert audience.audience_tags(label) == [tag]
    assert audience.audience_tags("0歳から5歳") == ["0歳", "1-2歳", "3-5歳"]
    assert audience.audience_tags("生後2ヶ月～1歳未満の赤ちゃん") == ["0歳"]
    assert audience.audience_tags("プレママ") == ["pregnancy", "parents"]


# --- facilities -------------------------------------------------------------------------------


def test_kawaguchi_facilities(db):
    report = import_file(db, need(KAWAGUCHI))
    assert report.kind == "facilities"
    assert report.errors == []
    assert report.counts == {"bases": 302}
    kinds = Counter(r["kind"] for r in db.query("SELECT kind FROM bases"))
    assert kinds == {
        "認可私立保育所": 157,
        "放課後児童クラブ": 56,
        "認可公立保育所": 41,
        "私立幼稚園": 37,
        "認定こども園（幼保連携型）": 6,
        "児童館": 3,
        "公立幼稚園": 2,
    }
    sakae = next(db.query("SELECT * FROM bases WHERE name = '川口市立栄町保育所'"))
    assert sakae["area"] == "川口市"
    assert sakae["phone"] == "(048)252-4384"
    assert sakae["address"] == "埼玉県川口市栄町1-2-19"
    assert (sakae["lat"], sakae["lon"]) == (35.80447743, 139.7269241)
    assert sakae["operator"] == "川口市"
    assert sakae["ages"] == "1歳から5歳"
    assert sakae["hours"].startswith("月火水木金土 7:00～19:00\n土曜日の開所時間は")
    assert "一時預かり: 無" in sakae["description"]
    # Two facilities share name and address; only the city's ID tells them apart.
    assert db.execute("SELECT count(*) FROM bases WHERE name = '認定こども園新郷南幼稚園'").fetchone()[0] == 2
    # A row without coordinates is fine.
    assert next(db.query("SELECT lat FROM bases WHERE name = '汽車ぽっぽ保育園きぞろ'"))["lat"] is None
    # A quoted cell with a bare LF inside stays one cell.
    assert db.execute("SELECT count(*) FROM bases WHERE hours LIKE '%' || char(10) || '幼稚園の%'").fetchone()[0] >= 3
    assert db["sources"].get("facilities:川口市:" + KAWAGUCHI.name)["rows"] == 302
    import_file(db, KAWAGUCHI)
    assert db["bases"].count == 302


def test_old_layout_facilities_and_bad_rows(db, tmp_path):
    rows = [
        {
            "名称": "旭区地域子育て支援拠点",
            "種別": "地域子育て支援拠点",
            "都道府県名": "神奈川県",
            "市区町村名": "横浜市旭区",
            "住所": "横浜市旭区鶴ケ峰1-4-12",
            "方書": "2階",
            "緯度": "35.4747",
            "経度": "139.5447",
            "電話番号": "045-382-0122",
            "許可等年月日": "2016/4/1",
            "受入年齢": "0歳から就学前",
            "利用可能曜日": "月火水木金土",
            "開始時間": "9:30",
            "終了時間": "16:00",
            "団体名": "NPO法人",
        },
        {"名称": "", "種別": "保育所", "都道府県名": "神奈川県", "市区町村名": "横浜市旭区"},  # line 3
        {
            "名称": "ひろば",
            "緯度": "139.5",
            "経度": "35.4",
            "都道府県名": "神奈川県",
            "市区町村名": "横浜市旭区",
        },  # line 4
        {
            "名称": "古い保育所",
            "許可等年月日": "1952/2/30",
            "都道府県名": "神奈川県",
            "市区町村名": "横浜市旭区",
        },  # line 5
    ]
    path = write(tmp_path / "141089_childcare.csv", csv_text(OLD_FACILITY_COLUMNS, rows))
    with pytest.raises(ImportRejected) as info:
        import_file(db, path)
    assert [(e.line, e.reason) for e in info.value.errors] == [
        (3, "名称 is empty"),
        (4, "緯度 '139.5' is out of range for a latitude"),
        (5, "許可等年月日 '1952/2/30' is not a date"),
    ]
    assert db["bases"].count == 0
    report = import_file(db, path, skip_invalid=True)
    assert report.counts == {"bases": 1}
    base = next(db.query("SELECT * FROM bases"))
    assert base["area"] == "横浜市旭区"
    assert base["address"] == "横浜市旭区鶴ケ峰1-4-12 2階"
    assert base["hours"] == "月火水木金土 9:30～16:00"
    assert base["operator"] == "NPO法人"


def test_address_parts_with_the_kawaguchi_quirk():
    assert common.address_from_parts("埼玉県", "川口市栄町1-2-19", "栄町", "1-2-19") == "埼玉県川口市栄町1-2-19"
    assert common.address_from_parts("埼玉県", "川口市", "本町1丁目", "1") == "埼玉県川口市本町1丁目1"


# --- bounds: rules a ward means, text a reply can show ----------------------------------------


def test_rules_more_often_than_daily_are_refused_row_by_row(db, tmp_path):
    rows = [
        old_event(イベント名="赤ちゃんひろば", 開始日時特記事項="毎週水曜日"),  # line 2
        old_event(イベント名="毎秒ひろば", 開始日時特記事項="FREQ=SECONDLY"),  # line 3
        old_event(イベント名="毎分ひろば", 開始日時特記事項="RRULE:FREQ=MINUTELY;INTERVAL=30"),  # line 4
        old_event(イベント名="毎時ひろば", 開始日時特記事項="freq=hourly"),  # line 5
        old_event(イベント名="一日二回ひろば", 開始日時特記事項="FREQ=DAILY;BYHOUR=9,13"),  # line 6
        old_event(イベント名="夏の絵画展", 開始日="2026/04/01", 終了日="2027/03/31", 開始日時特記事項="FREQ=DAILY"),
    ]
    path = write(tmp_path / "e.csv", csv_text(OLD_EVENT_COLUMNS, rows))
    with pytest.raises(ImportRejected) as info:
        import_file(db, path)
    assert [(e.line, e.reason) for e in info.value.errors] == [
        (3, "開始日時特記事項 repeats more often than daily (FREQ=SECONDLY); an event may repeat daily at most"),
        (4, "開始日時特記事項 repeats more often than daily (FREQ=MINUTELY); an event may repeat daily at most"),
        (5, "開始日時特記事項 repeats more often than daily (FREQ=HOURLY); an event may repeat daily at most"),
        (6, "開始日時特記事項 gives more than 400 dates a year; an event may repeat daily at most"),
    ]
    assert db["activities"].count == 0

    report = import_file(db, path, skip_invalid=True)
    assert [e.line for e in report.errors] == [3, 4, 5, 6]
    got = activities(db)
    assert set(got) == {"赤ちゃんひろば", "夏の絵画展"}
    assert got["赤ちゃんひろば"]["recurrence"] == "FREQ=WEEKLY;BYDAY=WE"
    assert (got["夏の絵画展"]["recurrence"], got["夏の絵画展"]["recurrence_until"]) == ("FREQ=DAILY", "2027-03-31")


def test_cells_longer_than_a_reply_are_refused_with_their_length(db, tmp_path):
    from knowledge.importers.base import MAX_FIELD_CHARS

    rows = [
        old_event(イベント名="親子ひろば", 開始日="2026/05/01", 説明="あ" * MAX_FIELD_CHARS),  # line 2: just fits
        old_event(イベント名="長い説明", 開始日="2026/05/02", 説明="い" * (MAX_FIELD_CHARS + 1)),  # line 3
        old_event(イベント名="長い料金", 開始日="2026/13/03", **{"料金（詳細）": "う" * 50_000}),  # line 4
    ]
    path = write(tmp_path / "e.csv", csv_text(OLD_EVENT_COLUMNS, rows))
    report = import_file(db, path, skip_invalid=True)
    assert [(e.line, e.reason) for e in report.errors] == [
        (3, "説明 is 4,001 characters long; a reply shows at most 4,000"),
        (4, "料金（詳細） is 50,000 characters long; a reply shows at most 4,000"),  # the length alone: no quote
    ]
    assert set(activities(db)) == {"親子ひろば"}


def test_summary_and_description_together_longer_than_a_reply_are_refused():
    columns = common.EVENTS_NEW_COLUMNS
    row = {
        "全国地方公共団体コード": "232025",
        "地方公共団体名": "愛知県岡崎市",
        "イベント名": "親子講座",
        "開始日": "2026/05/01",
    }
    text = csv_text(columns, [row | {"概要": "え" * 2500, "説明": "お" * 2500}])
    parsed = opendata_events.parse(text, name="e.csv")
    assert [(e.line, e.reason) for e in parsed.errors] == [
        (2, "概要 with 説明 is 5,001 characters long; a reply shows at most 4,000")
    ]
