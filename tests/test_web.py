"""The web process's edges: a base it must not create, bad input, long questions, JSON errors."""

from __future__ import annotations

import shutil
from datetime import date

import pytest

from bot.app import MAX_QUERY_BYTES, create_app
from bot.cli import cli
from bot.config import Config
from knowledge import ask, open_db
from knowledge.answers.ask import MAX_QUESTION


@pytest.fixture
def client(demo_db_path, tmp_path):
    path = tmp_path / "kb.db"
    shutil.copy(demo_db_path, path)
    return create_app(Config(db_path=str(path))).test_client()


def test_healthz_for_a_missing_base_is_503_and_creates_nothing(tmp_path):
    missing = tmp_path / "typo" / "kosodate.db"
    client = create_app(Config(db_path=str(missing))).test_client()
    for path in ("/healthz", "/api/ask?q=赤ちゃん"):
        response = client.get(path)
        assert response.status_code == 503
        assert str(missing) not in response.get_data(as_text=True)  # the path is the log's, not a client's
    assert not missing.exists() and not missing.parent.exists()


def test_healthz_for_an_empty_base_is_503(tmp_path):
    from click.testing import CliRunner

    path = tmp_path / "kb.db"
    assert CliRunner().invoke(cli, ["kb", "init", "--db", str(path)]).exit_code == 0
    response = create_app(Config(db_path=str(path))).test_client().get("/healthz")
    assert response.status_code == 503 and "no records" in response.get_json()["reason"]


def test_healthz_ok_counts_records(client):
    body = client.get("/healthz").get_json()
    assert body["status"] == "ok" and body["records"] > 0


@pytest.mark.parametrize("send", ["get", "post_json", "post_form"])
def test_a_5000_character_question_is_cut_not_refused(client, send):
    q = "もくよく体験はいつ？" + "あ" * 5000
    params = {"q": q, "area": "鶴見区", "today": "2026-11-25"}
    if send == "get":
        response = client.get("/api/ask", query_string=params)
    elif send == "post_json":
        response = client.post("/api/ask", json=params)
    else:
        response = client.post("/api/ask", data=params)
    assert response.status_code == 200
    db = open_db(client.application.config["KOSODATE"].db_path)
    cut = ask(db, q[:MAX_QUESTION], area="鶴見区", today=date(2026, 11, 25), log=False)
    assert response.get_json() == cut.to_dict()


def test_post_and_get_give_the_same_answer(client):
    params = {"q": "ばあばの会", "area": "横浜市旭区", "today": "2026-11-25"}
    assert client.post("/api/ask", json=params).get_json() == client.get("/api/ask", query_string=params).get_json()


@pytest.mark.parametrize("today", ["9999-12-31", "0001-01-01", "1999-12-31", "2100-01-01", "2026-13-01", "tomorrow"])
def test_today_outside_the_sane_range_is_400(client, today):
    response = client.get("/api/ask", query_string={"q": "来月のイベント", "today": today})
    assert response.status_code == 400 and "error" in response.get_json()


@pytest.mark.parametrize(
    "request_args, status",
    [
        ({"method": "POST", "data": "{not json", "content_type": "application/json"}, 400),
        ({"method": "POST", "json": ["q", "赤ちゃん"]}, 400),
        ({"method": "POST", "json": {"q": 3}}, 400),
        ({"method": "POST", "json": {"q": "赤ちゃん", "area": ["旭区"]}}, 400),
        ({"method": "POST", "json": {"q": "赤ちゃん", "today": 20261125}}, 400),
        ({"method": "POST", "data": "x" * (64 * 1024 + 1), "content_type": "text/plain"}, 413),
        ({"method": "GET", "query_string": "q=" + "a" * (MAX_QUERY_BYTES + 1)}, 414),
        ({"method": "PUT"}, 405),
        ({"method": "DELETE"}, 405),
    ],
)
def test_bad_requests_get_json_errors(client, request_args, status):
    response = client.open("/api/ask", **request_args)
    assert response.status_code == status
    assert response.is_json and "error" in response.get_json()


def test_an_unexpected_error_is_json_500_and_logged(client, monkeypatch, caplog):
    import bot.app

    def broken(*_a, **_k):
        raise RuntimeError("boom")

    monkeypatch.setattr(bot.app, "ask", broken)
    response = client.get("/api/ask", query_string={"q": "赤ちゃん"})
    assert response.status_code == 500 and response.get_json() == {"error": "internal error"}
    logged = [r for r in caplog.records if r.name == "bot.app" and r.exc_info]
    assert logged and "boom" in str(logged[0].exc_info[1])


def test_each_question_outcome_is_logged(client, caplog):
    caplog.set_level("INFO", logger="knowledge")
    client.get("/api/ask", query_string={"q": "ばあばの会", "area": "横浜市旭区"})
    client.get("/api/ask", query_string={"q": "宝くじの当選番号", "area": "横浜市旭区"})
    outcomes = [r.getMessage() for r in caplog.records if r.name == "knowledge.answers.ask"]
    assert len(outcomes) == 2
    assert "answered=True" in outcomes[0] and "answered=False" in outcomes[1] and "ms=" in outcomes[0]
    assert "宝くじ" not in outcomes[1]  # questions may hold personal details: the log keeps the outcome


def test_api_declined_question_is_logged_per_client(client, demo_db_path):
    client.get("/api/ask", query_string={"q": "宝くじの当選番号", "area": "横浜市旭区"})
    db = open_db(client.application.config["KOSODATE"].db_path)
    row = list(db.query("SELECT text, asker FROM unanswered ORDER BY id DESC LIMIT 1"))[0]
    assert row["text"] == "宝くじの当選番号" and row["asker"] and "127.0.0.1" not in row["asker"]


@pytest.mark.parametrize("hops, askers", [(0, 1), (1, 3)])
def test_askers_behind_a_proxy_are_told_apart_only_when_configured(demo_db_path, tmp_path, hops, askers):
    path = tmp_path / "kb.db"
    shutil.copy(demo_db_path, path)
    client = create_app(Config(db_path=str(path), proxy_hops=hops)).test_client()
    before = open_db(path).execute("SELECT coalesce(max(id), 0) FROM unanswered").fetchone()[0]
    for forwarded in ("203.0.113.1", "203.0.113.2", "203.0.113.3"):
        client.get("/api/ask", query_string={"q": "宝くじの当選番号"}, headers={"X-Forwarded-For": forwarded})
    rows = list(open_db(path).query("SELECT DISTINCT asker FROM unanswered WHERE id > ?", [before]))
    assert len(rows) == askers
