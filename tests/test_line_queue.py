"""Nothing a parent sends is lost, and a block is final (issue 27): LINE's bodies go on the queue
(``bot.queue``: Huey on SQLite, or on a real ``redis-server``) before the webhook answers 200,
and the queue's real workers stage and work them. Signed bodies through Flask's test client;
replies through the SDK to the fake LINE API (``tests/line_fake.py``)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import os
import shutil
import socket
import sqlite3
import subprocess
import time

import pytest

from bot.app import create_app
from bot.config import Config
from handlers.line import transport
from knowledge import open_db
from knowledge.parents import profiles as parents
from knowledge.store import pending

SECRET, TOKEN = "queue-secret", "queue-token"
REPLY, LOADING = "/v2/bot/message/reply", "/v2/bot/chat/loading/start"
USER = "U0123456789abcdef0123456789abcdef"
QUEUE = "kosodate_queue"


class Sender:
    """Signed LINE bodies for one or more apps sharing a base and a queue."""

    def __init__(self):
        self.n = 0

    def event(self, kind: str, user: str = USER, age_s: float = 0.0, **fields) -> dict:
        self.n += 1
        event = {
            "type": kind,
            "mode": "active",
            "timestamp": int((time.time() - age_s) * 1000) + self.n,
            "source": {"type": "user", "userId": user},
            "webhookEventId": f"01JQUEUE{self.n:018d}",
            "deliveryContext": {"isRedelivery": False},
        }
        if kind != "unfollow":
            event["replyToken"] = f"queue-reply-{self.n}"
        if kind == "follow":
            event["follow"] = {"isUnblocked": False}
        event.update(fields)
        return event

    def text(self, text: str, user: str = USER, age_s: float = 0.0) -> dict:
        return self.event(
            "message", user, age_s, message={"id": str(self.n), "type": "text", "text": text, "quoteToken": "q"}
        )

    def post(self, app, *events: dict):
        body = json.dumps({"destination": "Ubot", "events": list(events)}, ensure_ascii=False).encode()
        signature = base64.b64encode(hmac.new(SECRET.encode(), body, hashlib.sha256).digest()).decode()
        return app.test_client().post(
            "/callback", data=body, headers={"X-Line-Signature": signature, "Content-Type": "application/json"}
        )


@pytest.fixture
def base(demo_db_path, tmp_path):
    path = tmp_path / "kb.db"
    shutil.copy(demo_db_path, path)
    return path


@pytest.fixture
def apps(base, fake_line):
    """make(workers=…, queue_url=…): apps on one base; every app's workers stopped at the end."""
    made = []

    def make(workers: int = 2, queue_url: str | None = None):
        app = create_app(
            Config(
                db_path=str(base),
                line_channel_secret=SECRET,
                line_channel_access_token=TOKEN,
                line_api_base_url=fake_line.url,
                queue_workers=workers,
                queue_url=queue_url,
            )
        )
        made.append(app)
        return app

    yield make
    for app in made:
        app.extensions[QUEUE].stop()


def capture(caplog) -> None:
    """Our packages' records into ``caplog`` (``bot.logs.configure``, run by every app made, routes
    them to stderr and not to the root logger)."""
    caplog.set_level(logging.INFO)
    for name in ("bot", "handlers", "knowledge"):
        logging.getLogger(name).addHandler(caplog.handler)


def drained(app, timeout: float = 20.0) -> bool:
    return app.extensions["kosodate_line"].drain(timeout)


def parent(base, user: str = USER):
    db = open_db(str(base), create=False)
    try:
        return parents.get(db, user)
    finally:
        db.close()


def test_a_body_is_on_the_queue_before_the_200_and_the_next_process_works_it(apps, base, fake_line):
    """A web process that dies after its 200 (here: one with no workers at all) loses nothing:
    the next process's workers work what it accepted."""
    sender = Sender()
    first = apps(workers=0)
    texts = [sender.text("赤ちゃんサロンはいつ？", user=f"U{i:032x}") for i in range(5)]
    assert sender.post(first, *texts).status_code == 200
    assert sender.post(first, sender.event("follow")).status_code == 200
    assert fake_line.sent(REPLY) == [] and first.extensions[QUEUE].huey.pending_count() == 2
    second = apps(workers=2)
    assert drained(second)
    assert len(fake_line.sent(REPLY)) == 6
    assert parent(base) is not None


def test_events_a_crash_left_staged_are_worked_when_a_process_starts(apps, base, fake_line):
    sender = Sender()
    raw = [sender.event("follow"), sender.text("ヘルプ")]
    db = open_db(str(base), create=False)
    pending.stage(db, transport.CHANNEL, [transport._staged(e) for e in raw])  # staged, then the worker died
    db.close()
    app = apps(workers=1)
    assert drained(app)
    assert len(fake_line.sent(REPLY)) == 2 and parent(base) is not None


def test_a_parents_staged_events_are_worked_in_lines_order_whatever_process_staged_them(apps, base, fake_line):
    """follow, then the ward, then the child's month, staged by three processes in the reverse
    order (each its own transaction): worked in LINE's timestamp order all the same."""
    sender = Sender()
    follow = sender.event("follow")
    ward = sender.event("postback", postback={"data": "a=area&v=堺市西区"})
    month = sender.event("postback", postback={"data": "a=birth", "params": {"date": "2026-05-10"}})
    db = open_db(str(base), create=False)
    for event in (month, ward, follow):
        pending.stage(db, transport.CHANNEL, [transport._staged(event)])
    db.close()
    worker = apps(workers=3)
    assert drained(worker)
    kept = parent(base)
    assert (kept.area, kept.child_month) == ("堺市西区", "2026-05")
    assert len(fake_line.sent(REPLY)) == 3


def test_an_event_older_than_the_unfollow_never_brings_the_profile_back(apps, base, fake_line, caplog):
    sender = Sender()
    app = apps(workers=2)
    capture(caplog)
    follow, text = sender.event("follow"), sender.text("ヘルプ")
    unfollow = sender.event("unfollow")
    sender.post(app, follow)
    assert drained(app) and parent(base) is not None
    sender.post(app, unfollow)
    assert drained(app) and parent(base) is None
    late = dict(text, webhookEventId="01JQUEUELATE00000000000000", deliveryContext={"isRedelivery": True})
    sender.post(app, late)  # sent before the unfollow, delivered after it
    sender.post(app, dict(follow, webhookEventId="01JQUEUELATEFOLLOW00000000"))  # an old follow, late
    assert drained(app)
    assert parent(base) is None
    assert sum("older than the parent's unfollow" in r.getMessage() for r in caplog.records) == 2
    db = open_db(str(base), create=False)
    keys = [r[0] for r in db.execute("SELECT key FROM unfollows")]
    db.close()
    assert len(keys) == 1 and USER not in keys[0]  # a keyed hash, not the user id
    sender.post(app, sender.event("follow"))  # following back afterwards starts afresh
    assert drained(app) and parent(base) is not None


def test_a_body_the_base_cannot_take_now_is_kept_and_worked_once_it_can(apps, base, fake_line, monkeypatch):
    """配信停止 while the base cannot be written (read-only, full, locked past the wait): the body
    stays on the queue and is applied when the base takes writes again."""
    monkeypatch.setattr(transport, "RETRY_DELAY_S", 0.2)
    sender = Sender()
    app = apps(workers=2)
    sender.post(app, sender.event("follow"))
    assert drained(app)
    real_stage, refusals = pending.stage, []

    def unwritable(*args, **kwargs):
        if len(refusals) < 3:
            refusals.append(1)
            raise sqlite3.OperationalError("attempt to write a readonly database")
        return real_stage(*args, **kwargs)

    monkeypatch.setattr(pending, "stage", unwritable)
    assert sender.post(app, sender.text("配信停止")).status_code == 200
    assert drained(app, timeout=30)
    assert len(refusals) == 3 and parent(base).digest_off


def test_an_event_older_than_its_reply_token_is_applied_without_a_reply(apps, base, fake_line, caplog):
    sender = Sender()
    app = apps(workers=1)
    capture(caplog)
    sender.post(app, sender.event("follow", age_s=120), sender.text("ヘルプ", user=f"U{1:032x}", age_s=120))
    assert drained(app)
    assert parent(base) is not None  # applied
    assert fake_line.sent(REPLY) == []  # not answered: the token is gone
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    said = [r for r in caplog.records if "older than their reply token" in r.getMessage()]
    assert len(said) == 1 and said[0].levelno == logging.WARNING  # a count, not a line each
    assert sum("too old to reply" in r.getMessage() for r in caplog.records) == 2


def test_a_message_that_waited_in_the_queue_shows_the_loading_animation(apps, fake_line):
    sender = Sender()
    app = apps(workers=1)
    sender.post(app, sender.text("赤ちゃんサロンはいつ？", age_s=3))
    assert drained(app)
    [loading] = fake_line.sent(LOADING)
    assert loading["chatId"] == USER and loading["loadingSeconds"] % 5 == 0
    assert len(fake_line.sent(REPLY)) == 1


def test_a_lone_surrogate_in_a_text_is_cleaned_and_the_parent_answered(apps, fake_line):
    """\\ud83d cut from its pair is valid JSON but not text: cleaned at the edge, the rest kept."""
    sender = Sender()
    app = apps(workers=1)
    event = sender.text("赤ちゃんサロン\ud83dはいつ？")
    body = json.dumps({"destination": "Ubot", "events": [event]}, ensure_ascii=True).encode()
    assert b"\\ud83d" in body
    signature = base64.b64encode(hmac.new(SECRET.encode(), body, hashlib.sha256).digest()).decode()
    response = app.test_client().post("/callback", data=body, headers={"X-Line-Signature": signature})
    assert response.status_code == 200
    assert drained(app)
    [reply] = fake_line.sent(REPLY)
    assert "赤ちゃんサロン" in json.dumps(reply, ensure_ascii=False)


def test_without_the_base_the_webhook_answers_503_so_line_sends_again(apps, base):
    sender = Sender()
    app = apps(workers=0)
    os.remove(base)
    response = sender.post(app, sender.text("ヘルプ"))
    assert response.status_code == 503 and str(base) not in response.get_data(as_text=True)


def test_the_health_check_fails_when_the_base_cannot_be_written(apps, monkeypatch):
    from bot import app as app_module

    app = apps(workers=0)
    assert app.test_client().get("/healthz").status_code == 200

    class ReadOnly:
        def __init__(self, db):
            pass

        def __enter__(self):
            raise sqlite3.OperationalError("attempt to write a readonly database")

        def __exit__(self, *exc):
            return False

    monkeypatch.setattr(app_module, "writing", ReadOnly)
    response = app.test_client().get("/healthz")
    assert response.status_code == 503 and "cannot be written" in response.get_json()["reason"]


# --- Redis, past one machine -----------------------------------------------------------------


@pytest.fixture
def redis_url(tmp_path):
    """A real redis-server on a free port (skipped where the distribution's package is absent)."""
    server = shutil.which("redis-server")
    if server is None:
        pytest.skip("redis-server is not installed (apt-get install redis-server)")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen(
        [server, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--dir", str(tmp_path)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    import redis

    client = redis.Redis(port=port)
    deadline = time.monotonic() + 10
    while True:
        try:
            client.ping()
            break
        except redis.ConnectionError:
            if time.monotonic() > deadline:
                proc.kill()
                pytest.fail("redis-server did not start")
            time.sleep(0.05)
    yield f"redis://127.0.0.1:{port}/0"
    proc.terminate()
    proc.wait(10)


def test_on_redis_web_processes_queue_and_a_worker_where_the_base_is_works(redis_url, apps, base, fake_line):
    sender = Sender()
    web_a, web_b = apps(workers=0, queue_url=redis_url), apps(workers=0, queue_url=redis_url)
    sender.post(web_a, sender.event("follow"))
    sender.post(web_b, sender.event("postback", postback={"data": "a=area&v=横浜市旭区"}))
    sender.post(web_a, sender.text("赤ちゃんサロンはいつ？"))
    assert fake_line.sent(REPLY) == [] and web_a.extensions[QUEUE].huey.pending_count() == 3
    worker = apps(workers=2, queue_url=redis_url)
    assert drained(worker)
    assert len(fake_line.sent(REPLY)) == 3 and parent(base).area == "横浜市旭区"


def test_the_masters_queue_processes_are_started_again_when_one_dies_and_stopped_on_exit():
    """``bot.queue.QueueProcesses`` as gunicorn's master runs them (here around a stand-in
    command): a worker process that dies is started again; ``stop`` ends every one."""
    from bot.queue import QueueProcesses

    class Standin(QueueProcesses):
        RESTART_WAIT_S = 0.1

        def argv(self):
            return ["sleep", "60"]

    processes = Standin(2, 1, "unused.db")
    processes.start()
    try:
        first = processes._procs[0]
        first.kill()
        first.wait(5)
        deadline = time.monotonic() + 5
        while processes._procs[0] is first and time.monotonic() < deadline:
            time.sleep(0.05)
        assert processes._procs[0] is not first and processes._procs[0].poll() is None
    finally:
        processes.stop()
    assert all(p.poll() is not None for p in processes._procs)
