"""After a staff write: acks never wait on the index rebuild, staff are told once the index is
built (at the response URL of the command or button, else in the channel, else by direct
message), and the report channel hears of it with Slack's control characters escaped."""

from __future__ import annotations

import json
import threading
import time

from slack_fake import PUBLIC_CHANNEL, REPORT_CHANNEL, STAFF_USER, Slack, SlackFake, app_with

from handlers.slack import words
from knowledge import open_db

NISHI = "program-c94dfbac4026"  # 西区こどもの居場所等支援事業


def staff_progress(db) -> list[dict]:
    return list(db.query("SELECT program_id, text FROM progress WHERE origin = 'slack'"))


# --- acks are not starved by index rebuilds ---------------------------------------------------------


def test_commands_are_acknowledged_while_index_rebuilds_are_blocked(slack, fake, base, monkeypatch):
    import handlers.slack.listeners.after_write as after_write

    release, entered = threading.Event(), threading.Event()

    def blocked_build(db, wait=False, meaning=None):
        entered.set()
        release.wait()

    monkeypatch.setattr(after_write, "index_for", blocked_build)
    writers = 8  # more than Bolt's default pool of 5
    statuses = []
    threads = [
        threading.Thread(
            target=lambda n=n: statuses.append(
                Slack(slack.client.application.test_client(), fake).command(f"progress 居場所 後期 報告{n}").status_code
            )
        )
        for n in range(writers)
    ]
    for t in threads:
        t.start()
    try:
        assert entered.wait(30)
        for t in threads:
            t.join()
        helped = slack.command("help")  # acked while every rebuild is held
        assert helped.status_code == 200 and words.HELP_TITLE in helped.get_json()["text"]
        assert statuses == [200] * writers
        # written at once, in Bolt's listener threads after each ack: wait for the last of them
        deadline = time.monotonic() + 30
        while len(staff_progress(base)) < writers and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(staff_progress(base)) == writers
        assert fake.received("/respond") == []  # confirmed only once the index is current
    finally:
        release.set()
    fake.wait_for("/respond", count=writers)


def _build_now(cache, path) -> None:
    db = open_db(path)
    try:
        cache.get(db, wait=True)
    finally:
        db.close()


def test_a_question_during_a_rebuild_is_answered_from_the_old_index(base_path, monkeypatch):
    """Why staff are told only once the index is built: ``IndexCache`` does not make a parent's
    question wait for a build under way when it has an older index to answer from."""
    import knowledge.search.index as index_mod
    from knowledge.store.db import bump_version, writing

    cache = index_mod.IndexCache()
    reader, writer = open_db(base_path), open_db(base_path)
    building, release = threading.Event(), threading.Event()
    real_build = index_mod.build_for

    def held_build(db, version, meaning):
        building.set()
        release.wait()
        return real_build(db, version, meaning)

    try:
        old = cache.get(reader)
        with writing(writer):
            bump_version(writer)
        monkeypatch.setattr(index_mod, "build_for", held_build)
        builder = threading.Thread(target=lambda: _build_now(cache, base_path))  # as after_write does
        builder.start()
        assert building.wait(30)
        assert cache.get(reader) is old  # the build is under way: the question did not wait for it
        release.set()
        builder.join()
        assert cache.wait_idle(30) and cache.get(reader).version == old.version + 1
    finally:
        release.set()
        reader.close()
        writer.close()


# --- confirmations reach staff in channels the bot has not joined ------------------------------------


def test_a_modal_write_is_confirmed_at_the_commands_response_url(base_path, httpserver, base):
    httpserver.expect_request("/chat.postEphemeral").respond_with_json({"ok": False, "error": "channel_not_found"})
    fake = SlackFake(httpserver)
    slack = app_with(base_path, fake)
    slack.command("progress", channel=PUBLIC_CHANNEL)
    view = fake.wait_for("/views.open")[0]["view"]
    slack.submit(view, {"program": NISHI, "period": "後期", "text": "報告"})
    assert "後期の進捗を登録しました" in fake.wait_for("/respond")[0]["text"]
    assert fake.received("/chat.postEphemeral") == [] and len(staff_progress(base)) == 1


def test_without_a_response_url_or_channel_a_direct_message_tells(base_path, httpserver, base):
    httpserver.expect_request("/chat.postEphemeral").respond_with_json({"ok": False, "error": "channel_not_found"})
    fake = SlackFake(httpserver)
    slack = app_with(base_path, fake)
    slack.command("progress", channel=PUBLIC_CHANNEL)
    view = fake.wait_for("/views.open")[0]["view"]
    meta = json.loads(view["private_metadata"]) | {"response_url": ""}
    slack.submit(view | {"private_metadata": json.dumps(meta)}, {"program": NISHI, "period": "後期", "text": "報告"})
    dm = next(m for m in fake.wait_for("/chat.postMessage", count=2) if m["channel"] == STAFF_USER)
    assert "後期の進捗を登録しました" in dm["text"]


# --- the report channel ------------------------------------------------------------------------------


def test_the_report_channel_gets_slack_control_characters_escaped(slack, fake):
    slack.command("progress 居場所 後期 <!channel> 研究会 & 報告")
    fake.wait_for("/respond")
    report = fake.wait_for("/chat.postMessage")[0]
    assert report["channel"] == REPORT_CHANNEL
    assert "<!channel>" not in report["text"] and "&lt;!channel&gt; 研究会 &amp; 報告" in report["text"]
