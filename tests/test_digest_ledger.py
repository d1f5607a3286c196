"""What the weekly digest's ledger keeps between runs: who was sent a week (through an unfollow
and a follow back, and as a keyed hash once the parent is forgotten), and batches whose retry key
LINE no longer keeps (not resent: marked uncertain and told to staff)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from digest_helpers import (
    MULTICAST,
    WEEK,
    accepted_then_killed,
    deliveries,
    many,
    send,
    slack_env,
    slack_texts,
)

from handlers.line import digest_run
from handlers.line import push as line_push
from knowledge.parents import digest
from knowledge.parents import profiles as parents


def _age_keys(db, fake, hours: int = 25) -> None:
    """Emulate the time passing beyond LINE's 24 h: the fake forgets its keys, the ledger's
    batches were opened that long ago."""
    fake._retry_keys.clear()
    old = (datetime.now(UTC) - timedelta(hours=hours)).isoformat(timespec="seconds")
    with digest.writing(db):
        db.execute("UPDATE digest_batches SET created_at = ?", [old])


# --- unfollow and follow back in the same week ------------------------------------------------


def test_refollow_in_the_same_week_does_not_get_the_digest_twice(west, fake_line):
    users = many(west, 2)
    assert send(west, fake_line).exit_code == 0
    parents.forget(west, users[0])
    assert west.execute("SELECT count(*) FROM digest_deliveries WHERE user_id = ?", [users[0]]).fetchone()[0] == 0
    parents.follow(west, users[0])
    parents.update(west, users[0], area="堺市西区", child_asked=True)
    assert send(west, fake_line).exit_code == 0
    assert deliveries(fake_line) == {u: 1 for u in users}


def test_a_forgotten_parent_leaves_only_a_keyed_hash_purged_after_the_week(west, fake_line):
    users = many(west, 2)
    send(west, fake_line)
    parents.forget(west, users[0])
    kept = [r[0] for r in west.execute("SELECT user_id FROM digest_deliveries ORDER BY user_id")]
    assert users[0] not in kept and any(u.startswith(digest.FORGOTTEN_PREFIX) for u in kept)
    assert all(users[0] not in str(v) for r in west.execute("SELECT * FROM digest_deliveries") for v in r)
    assert digest.purge_forgotten(west, WEEK + timedelta(days=digest.FORGOTTEN_KEEP_DAYS)) == 0
    assert digest.purge_forgotten(west, WEEK + timedelta(days=digest.FORGOTTEN_KEEP_DAYS + 1)) == 1
    assert [r[0] for r in west.execute("SELECT user_id FROM digest_deliveries")] == [users[1]]


# --- a retry key older than LINE keeps it -----------------------------------------------------


def test_a_batch_whose_key_expired_is_not_resent_and_staff_are_told(west, fake_line, monkeypatch, staff_report):
    users = many(west, 3)
    real = accepted_then_killed(monkeypatch)
    send(west, fake_line)
    monkeypatch.setattr(line_push, "send", real)
    _age_keys(west, fake_line)
    dry = send(west, fake_line, "--dry-run")
    assert "key expired: to be marked uncertain, not resent" in dry.output and "recipients 0" in dry.output
    result = send(west, fake_line, **slack_env(staff_report))
    assert result.exit_code == 0, result.output
    assert deliveries(fake_line) == {u: 1 for u in users}
    assert digest.counts(west, WEEK) == {digest.UNCERTAIN: 3}
    assert "送信不明 3人" in result.output
    (text,) = slack_texts(staff_report)
    assert "送信不明 3人" in text and "3人には届いたかどうか分かりません" in text
    again = send(west, fake_line)  # still not resent by a later run
    assert again.exit_code == 0 and deliveries(fake_line) == {u: 1 for u in users}
    assert west.execute("SELECT state FROM digest_batches").fetchall() == [(digest.UNCERTAIN,)]


def test_a_failed_batch_within_the_key_s_life_is_still_retried(west, fake_line, waits):
    users = many(west, 2)
    fake_line.fail(MULTICAST, 503, times=line_push.MAX_ATTEMPTS)
    assert send(west, fake_line).exit_code == digest_run.FAILED
    assert send(west, fake_line).exit_code == 0
    assert deliveries(fake_line) == {u: 1 for u in users}
