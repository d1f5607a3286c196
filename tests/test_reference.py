"""The shipped dictionary reaches bases built before it changed; staff rows survive."""

from knowledge import open_db
from knowledge.lang.text import fold
from knowledge.search.index import index_for


def test_shipped_synonyms_refresh_on_open_and_staff_rows_stay(tmp_path):
    path = str(tmp_path / "kb.db")
    db = open_db(path)
    shipped = db.execute("SELECT count(*) FROM synonyms WHERE source = 'shipped'").fetchone()[0]
    assert shipped > 1000  # synonyms.csv and synonyms_services.csv both loaded
    db["synonyms"].insert({"term": "ほけんしつ", "canonical": "保健室", "source": "staff.csv"})
    # An older release: one shipped row more, one less, a stale fingerprint.
    db.execute("DELETE FROM synonyms WHERE source = 'shipped' AND term = 'ファミサポ'")
    db["synonyms"].insert({"term": "古い語", "canonical": "古い", "source": "shipped"})
    db["areas"].update("横浜市旭区", {"contact": "旭区役所 こども家庭支援課 045-954-6160"})
    db["meta"].upsert({"key": "reference", "value": "old"}, pk="key")
    version = db.execute("SELECT value FROM meta WHERE key = 'version'").fetchone()[0]
    db.close()

    db = open_db(path)
    terms = {r["term"]: r["source"] for r in db.query("SELECT term, source FROM synonyms")}
    assert terms["ファミサポ"] == "shipped" and "古い語" not in terms
    assert terms["ほけんしつ"] == "staff.csv"
    assert db["areas"].get("横浜市旭区")["contact"].endswith("045-954-6160")  # staff edit kept
    assert db.execute("SELECT value FROM meta WHERE key = 'version'").fetchone()[0] != version
    assert fold("ファミサポ") in index_for(db).synonyms


def test_open_does_not_rewrite_an_up_to_date_base(tmp_path):
    path = str(tmp_path / "kb.db")
    open_db(path).close()
    db = open_db(path)
    before = db.execute("SELECT value FROM meta WHERE key = 'version'").fetchone()[0]
    db.close()
    db = open_db(path)
    assert db.execute("SELECT value FROM meta WHERE key = 'version'").fetchone()[0] == before
