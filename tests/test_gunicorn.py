"""The Procfile's web process itself: gunicorn's limits leave long questions to the app, and
what gunicorn answers on its own is JSON too."""

from __future__ import annotations

import http.client
import json
import os
import pathlib
import shlex
import shutil
import socket
import subprocess
import sys
import time
import urllib.parse

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def procfile_web() -> list[str]:
    line = next(ln for ln in (ROOT / "Procfile").read_text().splitlines() if ln.startswith("web:"))
    return shlex.split(line.split(":", 1)[1])


@pytest.fixture
def web_env():
    """Extra environment for the web process (a test sets LINE's before asking for ``web``)."""
    return {}


@pytest.fixture
def web(demo_db_path, tmp_path, web_env):
    path = tmp_path / "kb.db"
    shutil.copy(demo_db_path, path)
    port = _free_port()
    env = {**os.environ, "PORT": str(port), "KOSODATE_DB": str(path), "WEB_CONCURRENCY": "1", **web_env}
    proc = _start(env, port)
    yield port
    proc.terminate()
    proc.wait(timeout=10)


def _get(port: int, path: str, headers: dict | None = None) -> tuple[int, str, dict | None]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.request("GET", path, headers=headers or {})
    response = conn.getresponse()
    body = response.read().decode("utf-8")
    kind = response.getheader("Content-Type", "")
    conn.close()
    return response.status, kind, json.loads(body) if "json" in kind else None


def test_a_5000_character_question_by_get_reaches_the_app(web):
    q = "もくよく体験はいつ？" + "あ" * 5000
    status, kind, body = _get(web, "/api/ask?" + urllib.parse.urlencode({"q": q, "area": "鶴見区"}))
    assert status == 200 and "json" in kind and set(body) == {"answered", "items", "text"}


def test_a_header_too_large_is_a_json_431(web):
    status, kind, body = _get(web, "/healthz", headers={"X-Big": "a" * 20000})
    assert status == 431 and "json" in kind and body["error"]


def test_a_too_long_query_string_is_the_apps_json_414(web):
    status, kind, body = _get(web, "/api/ask?q=" + "a" * 70000)
    assert status == 414 and "json" in kind and "POST" in body["error"]


def test_a_signed_line_event_is_answered_through_the_procfiles_gunicorn(fake_line, web_env, request):
    """The whole way: gunicorn's worker verifies the signature, answers 200, and its event
    thread replies through the SDK to the (spec-checking) fake LINE API."""
    import base64
    import hashlib
    import hmac

    web_env.update(
        LINE_CHANNEL_SECRET="gunicorn-secret",
        LINE_CHANNEL_ACCESS_TOKEN="gunicorn-token",
        LINE_API_BASE_URL=fake_line.url,
    )
    port = request.getfixturevalue("web")
    event = {
        "type": "message",
        "mode": "active",
        "timestamp": int(time.time() * 1000),  # now: a fresh reply token
        "replyToken": "gunicorn-reply",
        "source": {"type": "user", "userId": "U0123456789abcdef0123456789abcdef"},
        "webhookEventId": "01JGUNICORN000000000000000",
        "deliveryContext": {"isRedelivery": False},
        "message": {"id": "1", "type": "text", "text": "赤ちゃんサロンはいつ？", "quoteToken": "q"},
    }
    body = json.dumps({"destination": "Ubot", "events": [event]}, ensure_ascii=False).encode()
    signature = base64.b64encode(hmac.new(b"gunicorn-secret", body, hashlib.sha256).digest()).decode()
    for sig, expected in ((signature[:-2] + "AA", 400), (signature, 200), (signature, 200)):
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        conn.request(
            "POST", "/callback", body=body, headers={"X-Line-Signature": sig, "Content-Type": "application/json"}
        )
        response = conn.getresponse()
        assert response.status == expected and "json" in response.getheader("Content-Type", "")
        response.read()
        conn.close()
    fake_line.wait_for("/v2/bot/message/reply", 1, timeout=20)
    time.sleep(0.5)  # a second reply, were the redelivered body answered again, would arrive by now
    [reply] = fake_line.sent("/v2/bot/message/reply")
    assert reply["replyToken"] == "gunicorn-reply" and "赤ちゃんサロン" in json.dumps(reply, ensure_ascii=False)


def _start(env: dict, port: int) -> subprocess.Popen:
    """The Procfile's web process with ``env``, once its health check answers 200."""
    argv = procfile_web()
    argv[0] = str(pathlib.Path(sys.executable).with_name(argv[0]))
    proc = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if _get(port, "/healthz")[0] == 200:
                return proc
        except OSError:
            time.sleep(0.2)
    proc.kill()
    pytest.fail("gunicorn did not start: " + proc.stdout.read().decode(errors="replace"))


LINE_SECRET = "procfile-secret"


def _line_env(path: pathlib.Path, port: int, fake_line, web_workers: int) -> dict:
    """The Procfile's web process with LINE configured against the fake API."""
    return {
        **os.environ,
        "PORT": str(port),
        "KOSODATE_DB": str(path),
        "WEB_CONCURRENCY": str(web_workers),
        "LINE_CHANNEL_SECRET": LINE_SECRET,
        "LINE_CHANNEL_ACCESS_TOKEN": "procfile-token",
        "LINE_API_BASE_URL": fake_line.url,
    }


def _post_event(port: int, event: dict) -> None:
    """One event in a body signed as LINE signs it; the webhook must answer 200."""
    import base64
    import hashlib
    import hmac

    body = json.dumps({"destination": "Ubot", "events": [event]}, ensure_ascii=False).encode()
    signature = base64.b64encode(hmac.new(LINE_SECRET.encode(), body, hashlib.sha256).digest()).decode()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.request("POST", "/callback", body=body, headers={"X-Line-Signature": signature})
    assert conn.getresponse().status == 200
    conn.close()


def test_events_accepted_before_a_sigterm_are_all_answered_after_the_restart(demo_db_path, tmp_path, fake_line):
    """Issue 27's probe: a deploy's SIGTERM while the replies are slow. Every event that got its
    200 is answered exactly once, by the process that stopped or by the next one."""
    path = tmp_path / "kb.db"
    shutil.copy(demo_db_path, path)
    port = _free_port()
    env = _line_env(path, port, fake_line, web_workers=1)
    fake_line.delay("/v2/bot/message/reply", 0.3)  # LINE answering slowly: a backlog builds
    proc = _start(env, port)
    sent = 40
    for i in range(sent):
        event = {
            "type": "message",
            "mode": "active",
            "timestamp": int(time.time() * 1000),
            "replyToken": f"sigterm-reply-{i}",
            "source": {"type": "user", "userId": f"U{i:032x}"},
            "webhookEventId": f"01JSIGTERM{i:016d}",
            "deliveryContext": {"isRedelivery": False},
            "message": {"id": str(i), "type": "text", "text": "ヘルプ", "quoteToken": "q"},
        }
        _post_event(port, event)
    proc.terminate()  # SIGTERM, as a deploy sends it
    proc.wait(timeout=40)
    before = len(fake_line.sent("/v2/bot/message/reply"))
    assert before < sent  # the backlog was still queued when the process stopped
    proc = _start(env, port)
    try:
        fake_line.wait_for("/v2/bot/message/reply", sent, timeout=60)
        time.sleep(1)  # a duplicate, were any event worked twice, would arrive by now
    finally:
        proc.terminate()
        proc.wait(timeout=40)
    tokens = [r["replyToken"] for r in fake_line.sent("/v2/bot/message/reply")]
    assert sorted(tokens) == sorted(f"sigterm-reply-{i}" for i in range(sent))


def test_parents_who_follow_set_up_ask_and_block_back_to_back_keep_no_profile(demo_db_path, tmp_path, fake_line):
    """Issue 27's probe: 30 parents each send follow, a ward, a question and unfollow in four
    requests back to back, to the Procfile's gunicorn with 2 workers (consecutive requests land
    on different processes); then one of them a redelivered text sent before the unfollow. No
    profile is left, and the late text makes none."""
    from bot.queue import QueueConfig, default_url, make_huey
    from knowledge import open_db
    from knowledge.parents import profiles

    path = tmp_path / "kb.db"
    shutil.copy(demo_db_path, path)
    port = _free_port()
    env = _line_env(path, port, fake_line, web_workers=2)

    def event(n: int, user: str, kind: str, **fields) -> dict:
        e = {
            "type": kind,
            "mode": "active",
            "timestamp": int(time.time() * 1000) + n,
            "source": {"type": "user", "userId": user},
            "webhookEventId": f"01JBLOCK{n:018d}",
            "deliveryContext": {"isRedelivery": False},
        }
        if kind != "unfollow":
            e["replyToken"] = f"block-reply-{n}"
        return {**e, **fields}

    proc = _start(env, port)
    users = [f"U{i:032x}" for i in range(30)]
    try:
        n, late = 0, None
        for user in users:
            steps = [
                ("follow", {"follow": {"isUnblocked": False}}),
                ("postback", {"postback": {"data": "a=area&v=横浜市旭区"}}),
                ("message", {"message": {"id": "1", "type": "text", "text": "ヘルプ", "quoteToken": "q"}}),
                ("unfollow", {}),
            ]
            for kind, fields in steps:
                n += 1
                made = event(n, user, kind, **fields)
                late = late or (made if kind == "message" else None)
                _post_event(port, made)
        _post_event(
            port, {**late, "deliveryContext": {"isRedelivery": True}, "webhookEventId": "01JBLOCKLATE000000000000000"}
        )
        queue = make_huey(QueueConfig(default_url(str(path)), 0))
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            db = open_db(str(path), create=False)
            waiting = db.execute("SELECT count(*) FROM pending_events").fetchone()[0]
            db.close()
            if not waiting and not queue.pending_count():
                break
            time.sleep(0.5)
        time.sleep(1)  # the redelivered text, were it applied, would make a profile by now
        db = open_db(str(path), create=False)
        assert [u for u in users if profiles.get(db, u) is not None] == []
        assert db.execute("SELECT count(*) FROM pending_events").fetchone()[0] == 0
        db.close()
        assert len(fake_line.sent("/v2/bot/message/reply")) == 3 * len(users)  # each step answered, in order
    finally:
        proc.terminate()
        proc.wait(timeout=40)
