"""What one LINE text event costs, part by part, in one process (the companion of ``line_webhook.py``).

No gunicorn and no concurrency: the app is driven through Flask's test client on a fresh demo
base, the fake LINE API (``line_webhook.fake_line``) runs on a thread, and each part is timed on
its own over the same signed text events (dev-set questions, 50 users), after a warm-up that
builds the index. Then ``cProfile`` over the event threads' work (``LineChannel.handle``) lists
the functions that cost most.

    .venv/bin/python bench/line_webhook_parts.py [--events 300] [--top 25]

Times are per event, one thread; under gunicorn the request threads and the event threads of a
worker share its GIL and the two workers share the machine's cores with the client.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import pathlib
import pstats
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from line_webhook import SECRET, TOKEN, fake_line, sign, text_event  # noqa: E402
from load import BIN, ROOT, SHARED, free_port  # noqa: E402


def timed(fn, items) -> list[float]:
    out = []
    for item in items:
        started = time.perf_counter()
        fn(item)
        out.append((time.perf_counter() - started) * 1000)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=300)
    parser.add_argument("--top", type=int, default=25)
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))

    fake_port = free_port()
    ready = threading.Event()
    threading.Thread(target=fake_line, args=(fake_port, ready), daemon=True).start()
    ready.wait(10)
    tmp = tempfile.mkdtemp()
    db_path = pathlib.Path(tmp) / "kb.db"
    subprocess.run(
        [str(BIN / "kosodate-bot"), "kb", "init", "--demo", "--db", str(db_path)], check=True, capture_output=True
    )
    os.environ.update(
        {
            "LINE_CHANNEL_SECRET": SECRET,
            "LINE_CHANNEL_ACCESS_TOKEN": TOKEN,
            "KOSODATE_DB": str(db_path),
            "LINE_API_BASE_URL": f"http://127.0.0.1:{fake_port}",
            "KOSODATE_LOG_LEVEL": "WARNING",
            "KOSODATE_UNANSWERED_PER_HOUR": "1000000",
        }
    )

    import line_echo_app  # noqa: E402  (the SDK's echo bot, as vendored)

    from bot.app import create_app
    from bot.line_routes import line_channel
    from handlers.line import conversation, transport
    from knowledge import open_db
    from knowledge.store import inbox

    app = create_app()
    settings = app.config["KOSODATE_SETTINGS"]  # the app's, read from the environment: what its event threads use
    with app.app_context():
        channel = line_channel()
    texts = [
        json.loads(ln)["q"]
        for ln in (SHARED / "eval" / "dev.jsonl").read_text(encoding="utf-8").splitlines()
        if ln.strip()
    ]
    rng = random.Random(1)

    def batch(n):
        return [text_event(rng, rng.choice(texts))[0] for _ in range(n)]

    # warm-up: the first ask builds the index; the pool and its ApiClient are made on the first event
    client = app.test_client()
    for body in batch(10):
        client.post("/callback", data=body, headers={"X-Line-Signature": sign(body)})
    channel.drain(60)

    rows = []
    n = args.events
    # --- the request path (what the 200 waits for) ---
    bodies = batch(n)
    events = [channel.parser.parse(b.decode(), sign(b))[0] for b in bodies]
    rows.append(
        (
            "request",
            "open_db + close (get_db, teardown)",
            timed(lambda _: open_db(str(db_path), create=False).close(), range(n)),
        )
    )
    rows.append(
        (
            "request",
            "WebhookParser.parse (HMAC + models)",
            timed(lambda b: channel.parser.parse(b.decode(), sign(b)), bodies),
        )
    )
    db = open_db(str(db_path), create=False)
    rows.append(
        (
            "request",
            "inbox.claim (BEGIN IMMEDIATE, INSERT, COMMIT)",
            timed(lambda e: inbox.claim(db, "bench", e.webhook_event_id, "message"), events),
        )
    )
    submit = transport.LineChannel._submit
    transport.LineChannel._submit = lambda self, event: None
    try:
        fresh = batch(n)
        rows.append(
            (
                "request",
                "POST /callback, whole (test client, no event handling)",
                timed(lambda b: client.post("/callback", data=b, headers={"X-Line-Signature": sign(b)}), fresh),
            )
        )
    finally:
        transport.LineChannel._submit = submit
    # --- the event thread's work (after the 200) ---
    events = [channel.parser.parse(b.decode(), sign(b))[0] for b in batch(n)]
    from handlers.line.render import answer_messages
    from knowledge import ask

    answers = []
    rows.append(
        (
            "event",
            "knowledge.ask",
            timed(
                lambda e: answers.append(ask(db, e.message.text, asker=f"line:{e.source.user_id}", settings=settings)),
                events,
            ),
        )
    )
    rows.append(("event", "answer_messages (render)", timed(lambda a: answer_messages(a), answers)))
    rows.append(
        (
            "event",
            "respond (ask + render + profile read)",
            timed(lambda e: conversation.respond(db, e, settings=settings), events),
        )
    )
    messages = conversation.respond(db, events[0], settings=settings)
    rows.append(
        (
            "event",
            "reply (MessagingApi to the fake)",
            timed(lambda e: channel._reply(e, messages, e.webhook_event_id), events),
        )
    )
    for e in events:
        inbox.claim(db, "bench", e.webhook_event_id, "message")  # a row for each settle to update
    rows.append(
        (
            "event",
            "inbox.settle (BEGIN IMMEDIATE, UPDATE, COMMIT)",
            timed(lambda e: inbox.settle(db, "bench", e.webhook_event_id, "done"), events),
        )
    )
    fresh = [channel.parser.parse(b.decode(), sign(b))[0] for b in batch(n)]
    rows.append(("event", "LineChannel.handle, whole", timed(channel.handle, fresh)))
    # --- the echo bot, for scale: its whole request includes its reply ---
    echo = line_echo_app.app.test_client()
    rows.append(
        (
            "echo",
            "SDK echo POST /callback, whole (parse + reply)",
            timed(lambda b: echo.post("/callback", data=b, headers={"X-Line-Signature": sign(b)}), batch(n)),
        )
    )

    print(f"| where | part | mean ms | p50 ms | p95 ms |   ({n} events each, one thread)")
    print("|---|---|---:|---:|---:|")
    for where, part, ms in rows:
        ms = sorted(ms)
        print(
            f"| {where} | {part} | {statistics.fmean(ms):.2f} | {statistics.median(ms):.2f} | {ms[int(0.95 * len(ms))]:.2f} |"
        )

    profile = cProfile.Profile()
    fresh = [channel.parser.parse(b.decode(), sign(b))[0] for b in batch(n)]
    profile.enable()
    for e in fresh:
        channel.handle(e)
    profile.disable()
    out = io.StringIO()
    pstats.Stats(profile, stream=out).sort_stats("cumulative").print_stats(args.top)
    print("\ncProfile of LineChannel.handle over", n, "events (cumulative):")
    print("\n".join(ln for ln in out.getvalue().splitlines() if ln.strip())[:8000])


if __name__ == "__main__":
    main()
