"""The standard FAQ open data: import, placeholders filled or hidden, grouped answers, matching."""

from __future__ import annotations

import json
from datetime import date

import pytest
from click.testing import CliRunner

from bot.cli import cli
from knowledge import ask, open_db
from knowledge.answers.placeholders import fill_answer, find
from knowledge.importers import ImportRejected, import_file
from tests.conftest import FAQ


def by_faq_id(db, faq_id):
    """An FAQ row by its public (publisher's) ID; the table's key also names the source."""
    return next(db["faqs"].rows_where("faq_id = ?", [faq_id]))


def test_import_keeps_ids_and_credit(faq_db):
    assert faq_db["faqs"].count == 661
    row = by_faq_id(faq_db, "64")
    assert row["faq_id"] == "64" and row["category2"] == "医療費助成"
    assert by_faq_id(faq_db, "1")["service_name"] == "妊娠の届出・母子健康手帳の交付"
    source = next(faq_db["sources"].rows_where("name = ?", [FAQ.name]))
    assert "子育てオープンデータ協議会" in source["credit"] and "CC BY 4.0" in source["credit"]


def test_reimport_and_bad_rows(tmp_path):
    if not FAQ.exists():
        pytest.skip("../shared/faq is not present")
    db = open_db(tmp_path / "kb.db")
    import_file(db, FAQ)
    import_file(db, FAQ)
    assert db["faqs"].count == 661
    items = json.loads(FAQ.read_text(encoding="utf-8"))[:3]
    items[1]["answer"] = ""
    items[2]["question"] = None
    bad = tmp_path / "faq.json"
    bad.write_text(json.dumps(items, ensure_ascii=False), encoding="utf-8")
    with pytest.raises(ImportRejected) as e:
        import_file(db, bad, area="横浜市旭区")
    reasons = [str(x) for x in e.value.errors]
    assert reasons == ["item 2: answer is empty", "item 3: question is empty"]
    report = import_file(db, bad, area="横浜市旭区", skip_invalid=True)
    assert report.counts["faqs"] == 1
    assert db["faqs"].get("faq_opendata:横浜市旭区:faq.json#1")["area"] == "横浜市旭区"


def test_placeholders_found_and_hidden(faq_db):
    answer = by_faq_id(faq_db, "1")["answer"]
    assert "（自治体HP内関連ページのURL）" in find(answer)
    text = fill_answer(faq_db, answer, "横浜市旭区")
    assert "（自治体HP内関連ページのURL）" not in text and "▼詳しくはこちら" not in text
    assert "母子手帳" in text


def test_city_placeholder_becomes_the_parents_city(faq_db):
    text = fill_answer(faq_db, "○○市では妊婦健診の費用を助成しています。", "横浜市旭区")
    assert text.startswith("横浜市では")


def test_set_value_through_cli_fills_answers(faq_db_path, tmp_path):
    import shutil

    path = tmp_path / "faq.db"
    shutil.copy(faq_db_path, path)
    runner = CliRunner()
    result = runner.invoke(
        cli,
        [
            "faq",
            "placeholders",
            "--area",
            "旭区",
            "--set",
            "（自治体HP内関連ページのURL）=https://example.jp/asahi",
            "--db",
            str(path),
        ],
    )
    assert result.exit_code == 0, result.output
    listing = json.loads(
        runner.invoke(cli, ["faq", "placeholders", "--area", "旭区", "--json", "--db", str(path)]).output
    )
    url = next(r for r in listing if r["placeholder"] == "（自治体HP内関連ページのURL）")
    assert url["value"] == "https://example.jp/asahi" and url["faqs"] > 300
    db = open_db(path)
    answer = ask(db, "母子手帳を受け取りたい", area="横浜市旭区")
    assert answer.answered and "https://example.jp/asahi" in answer.text
    other = ask(db, "母子手帳を受け取りたい", area="横浜市鶴見区")
    assert "https://example.jp/asahi" not in other.text and "（自治体HP" not in other.text


@pytest.mark.parametrize(
    "question, faq_id",
    [
        ("母子手帳はどこで受け取れますか", {"2"}),
        ("児童手当 振込日", None),
    ],
)
def test_faq_questions_are_answered_from_the_faq(faq_db, question, faq_id):
    answer = ask(faq_db, question, area="横浜市旭区")
    assert answer.answered and answer.items[0].kind == "faq"
    if faq_id:
        assert answer.items[0].id in faq_id


@pytest.mark.parametrize(
    "question, faq_id",
    [
        ("風しん", "863"),  # the general FAQ, not 風しん抗体検査 (title precision)
        ("療育医療はどんな時に申請できる？", "40"),  # not 養育医療, though both fit above 1
        ("養育医療ってどんな時に使える", "54"),
        ("病気の子どもを預かってくれる施設はある？", "254"),  # the phrase 病気の子を預 by its words
        ("実家の近くで産むけど妊婦健診の受診票は使える？", "13"),  # 実家で産 -> 里帰り
        ("母子手帳はどこでもらえる？", "2"),  # どこで is dropped whole, もらえる meets 受け取り
        ("風しんについて教えてもらえますか", "863"),  # 教えてもらえますか asks nothing of its own
    ],
)
def test_near_neighbours_and_everyday_phrases_find_their_faq(faq_db, question, faq_id):
    answer = ask(faq_db, question, area="横浜市旭区", log=False)
    assert answer.answered and answer.items[0].id == faq_id


def test_identical_answers_are_one(faq_db):
    answer = ask(faq_db, "市内の保育園の数を教えてください", area="横浜市旭区")
    ids = [i.id for i in answer.items]
    answers = [by_faq_id(faq_db, i)["answer"] for i in ids]
    assert len(set(answers)) == len(answers)  # 320/370/371 share one answer: only one is listed


@pytest.mark.parametrize("question", ["宝くじの当選番号", "中古車の買取相場"])
def test_out_of_scope_declined_with_faq_loaded(faq_db, question):
    assert not ask(faq_db, question, area="横浜市旭区", log=False).answered


def test_every_faq_is_found_by_its_own_words(faq_db):
    """All 661 FAQs, each asked by its bare subject and as 「…について知りたい」: the matcher
    finds the FAQ (or one with the same answer) first for nearly all, not for a sample."""
    import re

    from knowledge.answers.ask import index_for, rank, understand

    rows = list(faq_db.query("SELECT faq_id, question, answer FROM faqs"))
    same = {}
    for r in rows:
        same.setdefault(r["answer"].strip(), set()).add(r["faq_id"])
    index, hits, asked = index_for(faq_db), 0, 0
    for r in rows:
        subject = re.sub(r"(について)?(を)?教えてください。?$|[？?。]$", "", r["question"].strip())
        subject = re.sub(r"[（）()]", "", subject)
        for text in (subject, subject + "について知りたい"):
            ranked = rank(faq_db, index, understand(faq_db, text, None, date(2026, 11, 24), index))
            asked += 1
            hits += bool(ranked) and ranked[0].id in same[r["answer"].strip()]
    assert asked == 2 * 661 and hits / asked >= 0.98, hits / asked


def test_a_bare_question_leans_to_the_general_faq_not_one_asking_where_or_when():
    from knowledge.answers.ask import _kind_fit, understand
    from knowledge.search.documents import make_doc

    bare = understand(None, "認定こども園について知りたい", None, date(2026, 11, 24), index=_EMPTY)
    where = understand(None, "認定こども園はどこにある？", None, date(2026, 11, 24), index=_EMPTY)
    general = make_doc("faq", "1", "1", "認定こども園について教えてください。", None, [], "", "faq")
    located = make_doc("faq", "2", "2", "市内の認定こども園はどこにありますか？", None, [], "", "faq")
    assert _kind_fit(general, bare) > _kind_fit(located, bare)
    assert _kind_fit(located, where) > _kind_fit(general, where)


class _EMPTY:  # an index that names no areas
    areas: list = []


@pytest.mark.parametrize("layout", ["csv", "json"])
def test_an_answer_longer_than_a_reply_is_refused_the_others_imported(tmp_path, layout):
    from knowledge.importers.base import MAX_FIELD_CHARS

    faqs = [
        ("1", "母子手帳はどこでもらえますか？", "区役所の窓口で交付します。"),
        ("2", "予防接種の予約は？", "あ" * (MAX_FIELD_CHARS + 1)),
        ("3", "い" * 5000, "短い答え"),
    ]
    if layout == "csv":
        path = tmp_path / "faq.csv"
        path.write_text("id,question,answer\n" + "".join(f"{i},{q},{a}\n" for i, q, a in faqs), encoding="utf-8")
        where = ["line 3", "line 4"]
    else:
        path = tmp_path / "faq.json"
        items = [{"faq_id": i, "question": q, "answer": a} for i, q, a in faqs]
        path.write_text(json.dumps(items, ensure_ascii=False), encoding="utf-8")
        where = ["item 2", "item 3"]
    db = open_db(tmp_path / "kb.db")
    with pytest.raises(ImportRejected) as e:
        import_file(db, path)
    assert [str(x) for x in e.value.errors] == [
        f"{where[0]}: answer is 4,001 characters long; a reply shows at most 4,000",
        f"{where[1]}: question is 5,000 characters long; a reply shows at most 4,000",
    ]
    report = import_file(db, path, skip_invalid=True)
    assert report.counts["faqs"] == 1
    assert [r["faq_id"] for r in db["faqs"].rows] == ["1"]
