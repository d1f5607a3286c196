"""Where our webhook's time goes under gunicorn: the parts of each event timed inside the workers.

Run as a script, it starts our web process like ``line_webhook.py`` does (same fake LINE API,
same demo base, same signed events), but with this file as gunicorn's config: the project's
settings (``bot.gunicorn_conf``) plus timers around the parts of an event (the whole request,
``open_db``, ``LineChannel.receive`` and ``inbox.claim`` in the request; ``handle``, ``respond``,
the reply and ``inbox.settle`` in the event threads; closing a connection, in both), written by each worker when it exits.
``--variant`` tries a change without touching the project's code (joined with ``+``):

- ``normal``: ``PRAGMA synchronous=NORMAL`` on every connection (WAL: no fsync per commit);
- ``reuse``: one connection per thread, kept open, instead of ``open_db`` per request and event;
- ``nohandle``: the event threads do nothing (the request path alone; no replies, so all "missing").

    .venv/bin/python bench/line_webhook_timers.py [--variant normal+reuse] [--seconds 8] [--connections 1,8,32]

Same caveats as ``line_webhook.py`` (2 cores shared by everything); the timers add a little.
"""

from __future__ import annotations

import collections
import json
import os
import threading
import time

if __name__ != "__main__":  # imported by gunicorn as its config file, in the web process
    from bot.gunicorn_conf import *  # noqa: F401,F403  (the project's settings)
    import bot.db as bdb
    import handlers.line as hline
    import knowledge.db as kdb
    import knowledge.inbox as inbox
    import sqlite_utils

    _VARIANTS = set(filter(None, os.environ.get("BENCH_VARIANT", "").split("+")))
    _stats: dict[str, list[float]] = collections.defaultdict(list)
    _lock = threading.Lock()

    def _timer(owner, name: str, label: str) -> None:
        fn = getattr(owner, name)

        def timed(*args, **kwargs):
            started = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                with _lock:
                    _stats[label].append(time.perf_counter() - started)
        setattr(owner, name, timed)

    if "normal" in _VARIANTS:
        _connect = kdb.connect

        def _connect_normal(*args, **kwargs):
            conn = _connect(*args, **kwargs)
            conn.execute("PRAGMA synchronous=NORMAL")
            return conn
        kdb.connect = _connect_normal
    if "reuse" in _VARIANTS:
        _local, _open = threading.local(), hline.open_db

        def _open_reused(path, create=True):
            db = getattr(_local, "db", None)
            if db is None:
                db = _local.db = _open(path, create=create)
                db.close = lambda: None  # kept for the thread's next request or event
            return db
        hline.open_db = bdb.open_db = _open_reused
    for owner, name, label in ((inbox, "claim", "request: inbox.claim"), (inbox, "settle", "event: inbox.settle"),
                               (bdb, "open_db", "request: open_db"), (hline, "open_db", "event: open_db"),
                               (hline, "respond", "event: respond (ask + render)"),
                               (hline.LineChannel, "receive", "request: receive (parse + claim)"),
                               (hline.LineChannel, "_reply", "event: reply (MessagingApi)"),
                               (hline.LineChannel, "handle", "event: handle, whole"),
                               (sqlite_utils.Database, "close", "both: connection close")):
        _timer(owner, name, label)
    if "nohandle" in _VARIANTS:
        hline.LineChannel.handle = lambda self, event: None

    def pre_request(worker, req):
        req.bench_started = time.perf_counter()

    def post_request(worker, req, environ, resp):
        with _lock:
            _stats["request: whole (gunicorn)"].append(time.perf_counter() - req.bench_started)

    def worker_exit(server, worker):
        out = os.environ.get("BENCH_TIMERS_DIR")
        if out:
            with open(os.path.join(out, f"{os.getpid()}.json"), "w") as f:
                json.dump(_stats, f)


def main() -> None:
    import argparse
    import http.client
    import multiprocessing
    import pathlib
    import statistics
    import subprocess
    import sys
    import tempfile

    here = pathlib.Path(__file__).resolve().parent
    sys.path.insert(0, str(here))
    import line_webhook as lw
    from load import BIN, ROOT, SHARED, free_port

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--variant", default="")
    parser.add_argument("--connections", default="1,8,32")
    parser.add_argument("--seconds", type=float, default=8.0)
    args = parser.parse_args()
    texts = [json.loads(l)["q"] for l in (SHARED / "eval" / "dev.jsonl").read_text(encoding="utf-8").splitlines() if l.strip()]
    fake_port, port = free_port(), free_port()
    ready = multiprocessing.Event()
    fake = multiprocessing.Process(target=lw.fake_line, args=(fake_port, ready), daemon=True)
    fake.start()
    ready.wait(30)
    with tempfile.TemporaryDirectory() as tmp:
        db = pathlib.Path(tmp) / "kb.db"
        subprocess.run([str(BIN / "kosodate-bot"), "kb", "init", "--demo", "--db", str(db)], check=True, capture_output=True)
        env = {**os.environ, "PATH": f"{BIN}:{os.environ['PATH']}", "PORT": str(port), "KOSODATE_DB": str(db),
               "KOSODATE_LOG_LEVEL": "WARNING", "KOSODATE_UNANSWERED_PER_HOUR": "1000000",
               "LINE_CHANNEL_SECRET": lw.SECRET, "LINE_CHANNEL_ACCESS_TOKEN": lw.TOKEN,
               "LINE_API_BASE_URL": f"http://127.0.0.1:{fake_port}", "PYTHONPATH": str(here),
               "BENCH_VARIANT": args.variant, "BENCH_TIMERS_DIR": tmp}
        web = subprocess.Popen([str(BIN / "gunicorn"), "-c", "python:line_webhook_timers", "bot.app:create_app()"],
                               cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            for _ in range(200):
                try:
                    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
                    conn.request("GET", "/healthz")
                    if conn.getresponse().status == 200:
                        break
                except OSError:
                    time.sleep(0.3)
            lw.warm_up(port, fake_port, texts)
            for n in (int(c) for c in args.connections.split(",")):
                r = lw.measure("ours", port, fake_port, texts, n, args.seconds)
                print(f"{args.variant or 'as is'}, {n} connections: {r['rps']:.0f} req/s, p50 {r['p50']:.1f} ms, "
                      f"p95 {r['p95']:.1f} ms, {r['non200']} non-200, replies/s {r['replies_per_s']:.0f}, "
                      f"{r['missing']} missing, {r['duplicates']} dup, drained {r['drain']:.1f} s after")
        finally:
            web.terminate()
            web.wait(timeout=30)
            fake.terminate()
        stats: dict[str, list[float]] = {}
        for f in pathlib.Path(tmp).glob("*.json"):
            for label, values in json.loads(f.read_text()).items():
                stats.setdefault(label, []).extend(values)
    print("\n| part (all phases) | n | mean ms | p50 ms | p95 ms | p99 ms |")
    print("|---|---:|---:|---:|---:|---:|")
    for label, values in sorted(stats.items()):
        ms = sorted(v * 1000 for v in values)
        print(f"| {label} | {len(ms)} | {statistics.fmean(ms):.2f} | {ms[len(ms) // 2]:.2f} | "
              f"{ms[int(0.95 * len(ms))]:.2f} | {ms[int(0.99 * len(ms))]:.2f} |")


if __name__ == "__main__":
    main()
