"""The CLI (click's runner) and the Flask app (its test client) on the demo base."""

from __future__ import annotations

import json
import pathlib
import shutil

import pytest
from click.testing import CliRunner

from bot.app import create_app
from bot.cli import cli
from bot.config import Config, ConfigError


@pytest.fixture
def runner():
    return CliRunner()


def test_ask_json_shape(runner, demo_db_path):
    result = runner.invoke(cli, ["ask", "ばあばの会", "--area", "旭区", "--json", "--db", str(demo_db_path)])
    assert result.exit_code == 0, result.output
    answer = json.loads(result.output)
    assert answer["answered"] is True
    assert set(answer["items"][0]) == {"kind", "id", "title", "score"}
    assert answer["items"][0]["title"] == "ばあばの会"


def test_ask_batch_keeps_order_and_survives_bad_lines(runner, demo_db_path, tmp_path):
    batch = tmp_path / "q.jsonl"
    batch.write_text(
        '{"q": "ばあばの会", "area": "横浜市旭区"}\n'
        "not json\n"
        '{"q": "はんどめいどくらぶ", "area": "存在しない区"}\n'
        '{"q": "宝くじの当選番号", "area": "堺市西区", "today": "2026-11-24"}\n',
        encoding="utf-8",
    )
    db = tmp_path / "kb.db"  # a declined question writes its log row: not into the shared demo base
    shutil.copy(demo_db_path, db)
    result = runner.invoke(cli, ["ask", "--batch", str(batch), "--json", "--db", str(db)])
    assert result.exit_code == 0, result.output
    lines = [json.loads(ln) for ln in result.output.splitlines()]
    assert len(lines) == 4
    assert lines[0]["answered"] and lines[0]["items"][0]["title"] == "ばあばの会"
    assert lines[1]["answered"] is False and "error" in lines[1]
    assert lines[2]["answered"] is False and "存在しない区" in lines[2]["text"]
    assert lines[3]["answered"] is False


def test_ask_unknown_area_is_a_clear_error(runner, demo_db_path):
    result = runner.invoke(cli, ["ask", "赤ちゃんサロン", "--area", "火星区", "--db", str(demo_db_path)])
    assert result.exit_code == 2 and "火星区" in result.output


def test_import_bad_file_reports_and_writes_nothing(runner, tmp_path):
    db = tmp_path / "kb.db"
    bad = tmp_path / "faq.csv"
    bad.write_text("question,answer\n母子手帳は？,窓口で交付します\n,答えだけ\n予防接種は？,\n", encoding="utf-8")
    result = runner.invoke(cli, ["kb", "import", str(bad), "--db", str(db)])
    assert result.exit_code == 1
    assert "line 3" in result.output and "line 4" in result.output
    stats = json.loads(runner.invoke(cli, ["kb", "stats", "--json", "--db", str(db)]).output)
    assert stats["counts"]["faqs"] == {}
    result = runner.invoke(cli, ["kb", "import", str(bad), "--skip-invalid", "--db", str(db)])
    assert result.exit_code == 0 and "line 3" in result.output
    stats = json.loads(runner.invoke(cli, ["kb", "stats", "--json", "--db", str(db)]).output)
    assert stats["counts"]["faqs"] == {"(all areas)": 1}


def test_unknown_file_kind(runner, tmp_path):
    odd = tmp_path / "odd.txt"
    odd.write_text("こんにちは", encoding="utf-8")
    result = runner.invoke(cli, ["kb", "import", str(odd), "--db", str(tmp_path / "kb.db")])
    assert result.exit_code == 1 and "could not be recognised" in result.output


def test_stats_lists_counts_by_area(runner, demo_db_path):
    result = runner.invoke(cli, ["kb", "stats", "--db", str(demo_db_path)])
    assert result.exit_code == 0
    assert "横浜市旭区" in result.output and "asahi_base_evaluation_fy2025.txt" in result.output


@pytest.fixture
def client(demo_db_path):
    app = create_app(Config(db_path=str(demo_db_path)))
    return app.test_client()


def test_healthz(client):
    response = client.get("/healthz")
    assert response.status_code == 200 and response.get_json()["status"] == "ok"


def test_api_ask_matches_cli_shape(client):
    response = client.get("/api/ask", query_string={"q": "沐浴の体験", "area": "鶴見区", "today": "2026-11-25"})
    assert response.status_code == 200
    body = response.get_json()
    assert body["answered"] and "沐浴" in body["items"][0]["title"]
    assert set(body) == {"answered", "items", "text"}


@pytest.mark.parametrize(
    "params, status",
    [
        ({}, 400),
        ({"q": "赤ちゃん", "area": "火星区"}, 400),
        ({"q": "赤ちゃん", "today": "tomorrow"}, 400),
    ],
)
def test_api_ask_bad_input_is_a_clear_400(client, params, status):
    response = client.get("/api/ask", query_string=params)
    assert response.status_code == status and "error" in response.get_json()


def test_unknown_route_is_json_404(client):
    assert client.get("/nope").status_code == 404


def test_config_requires_pairs():
    with pytest.raises(ConfigError):
        Config.from_env({"LINE_CHANNEL_SECRET": "x"})
    assert Config.from_env({"KOSODATE_DB": "/tmp/x.db"}).db_path == "/tmp/x.db"


def test_export_writes_standard_csvs_that_import_back(runner, demo_db_path, tmp_path):
    out = tmp_path / "out"
    result = runner.invoke(cli, ["kb", "export", str(out), "--db", str(demo_db_path)])
    assert result.exit_code == 0, result.output
    events = (out / "events.csv").read_text(encoding="utf-8-sig")
    assert events.startswith("全国地方公共団体コード,法人番号,ID,地方公共団体名,イベント名")
    assert "赤ちゃんサロン" in events
    fresh = tmp_path / "fresh.db"
    result = runner.invoke(cli, ["kb", "import", str(out / "events.csv"), "--db", str(fresh)])
    assert result.exit_code == 0, result.output
    stats = json.loads(runner.invoke(cli, ["kb", "stats", "--json", "--db", str(fresh)]).output)
    assert stats["counts"]["activities"]["横浜市旭区"] >= 6


# --- bounds: an import file's size, an answer's length ----------------------------------------


def _one_clear_line(result) -> str:
    """The command failed with exit 1 and one line of output, no traceback."""
    assert result.exit_code == 1, result.output
    assert isinstance(result.exception, SystemExit)
    assert "Traceback" not in result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1, result.output
    return lines[0]


def test_import_of_an_endless_file_ends_in_one_clear_line(runner, tmp_path):
    """``kb import /dev/zero`` ended in a MemoryError traceback: the read stops past the limit."""
    zero = pathlib.Path("/dev/zero")
    if not zero.exists():
        pytest.skip("no /dev/zero here")
    result = runner.invoke(cli, ["kb", "import", str(zero), "--db", str(tmp_path / "kb.db")])
    line = _one_clear_line(result)
    assert line == (
        "zero: not imported: the file is larger than 20 MB, the most an import reads: check the path, or split the file"
    )


def test_a_file_over_the_limit_is_refused_by_its_size(runner, tmp_path):
    from knowledge.importers.base import MAX_FILE_BYTES

    big = tmp_path / "events.csv"
    with big.open("wb") as f:  # sparse: the size is known without writing it
        f.write("イベント名,開始日\n".encode())
        f.truncate(MAX_FILE_BYTES + 1)
    result = runner.invoke(cli, ["kb", "import", str(big), "--db", str(tmp_path / "kb.db")])
    assert _one_clear_line(result).startswith("events.csv: not imported: the file is larger than 20 MB")
    stats = json.loads(runner.invoke(cli, ["kb", "stats", "--json", "--db", str(tmp_path / "kb.db")]).output)
    assert stats["sources"] == []


def test_api_ask_cuts_a_huge_answer_to_the_size_of_a_reply(tmp_path):
    """A 2 MB FAQ answer stored in a base (before imports were bounded) came back whole."""
    from bot.app import MAX_ANSWER_CHARS
    from knowledge import open_db
    from knowledge.importers import import_file
    from knowledge.store.db import bump_version

    faq = tmp_path / "faq.csv"
    faq.write_text("question,answer\n母子手帳はどこでもらえますか？,区役所の窓口で交付します。\n", encoding="utf-8")
    db = open_db(tmp_path / "kb.db")
    import_file(db, faq)
    db.execute("UPDATE faqs SET answer = ?", ["区役所の窓口で交付します。" + "あ" * 2_000_000])
    bump_version(db)
    db.conn.commit()
    db.close()
    client = create_app(Config(db_path=str(tmp_path / "kb.db"))).test_client()
    response = client.get("/api/ask", query_string={"q": "母子手帳はどこでもらえますか？"})
    body = response.get_json()
    assert response.status_code == 200 and body["answered"]
    assert "区役所の窓口で交付します。" in body["text"]
    assert len(body["text"]) == MAX_ANSWER_CHARS and body["text"].endswith("…")
    assert len(response.data) < 4 * MAX_ANSWER_CHARS
