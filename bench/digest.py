#!/usr/bin/env python3
"""The weekly digest at scale: one week to 100,000 subscribers against a fake LINE API on localhost.

Not part of the test suite: run it by hand (see bench/README.md). It builds a base of
``--wards`` wards (20) with a week of events each (ages from 生後2か月 to 小学生, pregnancy,
everyone; some cancelled) and ``--subscribers`` parents (100,000) of all ages (no child set,
expecting, 0 to 18 years; a few with the digest off). A fake LINE API of its own (a
``ThreadingHTTPServer``: push, multicast, quota, ``X-Line-Retry-Key`` with 409 for an accepted
key) counts what each user would receive. Each scenario runs ``kosodate-bot digest send`` as a
separate process on a fresh copy of the base:

1. **clean**: wall time, and message calls made against the minimum possible (the sum over
   groups of ceil(n / 500));
2. **faults**: the fake answers 5% of message calls with 500 (half of them *after* accepting
   the call, as a lost answer would look) and 429 with ``Retry-After: 1`` to bursts (more than
   ``--burst`` calls in a second); then the duplicates and the missing;
3. **killed**: the same faults, the run killed with SIGKILL halfway (after half the minimum
   calls were answered), then run again; the duplicates and the missing.

Usage: .venv/bin/python bench/digest.py [--subscribers 100000] [--wards 20] [--seed 1] [--keep DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import pathlib
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from datetime import date, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from knowledge import open_db  # noqa: E402
from knowledge.lang.audience import age_columns  # noqa: E402
from knowledge.parents import digest as digest_mod  # noqa: E402
from knowledge.store.db import bump_version, writing  # noqa: E402

WEEK = date(2026, 12, 7)
WHO = [
    "生後2か月から6か月の赤ちゃんと保護者",
    "0歳児とその保護者",
    "1歳から3歳の親子",
    "3歳以上",
    "年中～小3",
    "就学前の子どもと保護者",
    "妊娠中の方とパートナー",
    "どなたでも",
    "小学生",
    "1歳6か月から2歳",
    "",
]
EVENTS_PER_WARD = 24
CANCELLED_SHARE = 0.1
OFF_SHARE = 0.03
MESSAGE_PATHS = ("/v2/bot/message/multicast", "/v2/bot/message/push")


# --- the base ------------------------------------------------------------------------------


def build(path: pathlib.Path, subscribers: int, wards: int, rng: random.Random) -> None:
    db = open_db(path)
    areas = [f"ベンチ市第{i + 1}区" for i in range(wards)]
    with writing(db):
        db["areas"].insert_all([{"name": a, "city": "ベンチ市", "ward": a[4:]} for a in areas], pk="name", replace=True)
        acts, occs = [], []
        for w, area in enumerate(areas):
            for n in range(EVENTS_PER_WARD):
                who, eid = rng.choice(WHO), f"bench-{w}-{n}"
                acts.append(
                    {
                        "id": eid,
                        "title": f"第{w + 1}区の催し{n}",
                        "kind": "event",
                        "area": area,
                        "place": f"会場{n % 7}",
                        "ages": who or None,
                        "audience": "[]",
                        "sample": 0,
                        "status": "cancelled" if rng.random() < CANCELLED_SHARE else None,
                        "source": "bench",
                    }
                    | age_columns(who)
                )
                day = WEEK + timedelta(days=rng.randrange(7))
                occs.append(
                    {
                        "id": f"{eid}-0",
                        "activity_id": eid,
                        "date": day.isoformat(),
                        "precision": "day",
                        "start_time": f"{rng.randrange(9, 16):02d}:00",
                        "end_time": None,
                        "source": "bench",
                    }
                )
        db["activities"].insert_all(acts)
        db["occurrences"].insert_all(occs)
        db["parents"].insert_all(_parents(subscribers, areas, rng), batch_size=5000)
        bump_version(db)
    db.close()


def _parents(count: int, areas: list[str], rng: random.Random):
    for n in range(count):
        kind = rng.random()
        month, due = None, 0
        if kind < 0.1:
            pass  # no child set: every event
        elif kind < 0.2:
            ahead = WEEK.month + rng.randrange(1, 10)
            month, due = f"{WEEK.year + (ahead - 1) // 12}-{(ahead - 1) % 12 + 1:02d}", 1
        else:
            back = rng.randrange(0, 18 * 12)
            m = WEEK.year * 12 + WEEK.month - 1 - back
            month = f"{m // 12}-{m % 12 + 1:02d}"
        yield {
            "user_id": f"U{n:032x}",
            "area": rng.choice(areas),
            "child_month": month,
            "child_due": due,
            "child_asked": 1,
            "digest_off": int(rng.random() < OFF_SHARE),
            "step": None,
            "followed_at": "2026-11-01T00:00:00+00:00",
            "updated_at": "2026-11-01T00:00:00+00:00",
        }


def minimum_calls(path: pathlib.Path) -> tuple[int, int, int]:
    """(groups, recipients, the fewest calls: sum of ceil(n / 500)) of the week's plan."""
    db = open_db(path)
    plan = digest_mod.plan(db, WEEK)
    db.close()
    return len(plan.groups), plan.recipients, sum(-(-len(g.recipients) // 500) for g in plan.groups)


# --- the fake LINE API -----------------------------------------------------------------------


class FakeLine:
    """Deliveries per user, retry keys, scripted faults. One lock: the counts are exact."""

    def __init__(self, fail_share: float = 0.0, burst: int | None = None, seed: int = 1, latency: float = 0.0):
        self.lock = threading.Lock()
        self.latency = latency  # seconds between deciding and answering: a kill can fall in between
        self.by_key: dict[str, list[int]] = {}  # key -> statuses answered
        self.delivered: Counter = Counter()
        self.keys: dict[str, str] = {}  # accepted key -> request id
        self.calls = Counter()  # status -> count, message calls only
        self.answered = 0
        self.fail_share, self.burst = fail_share, burst
        self.rng = random.Random(seed)
        self.recent: list[float] = []

    def message(self, path: str, key: str | None, body: dict) -> tuple[int, dict, dict]:
        with self.lock:
            status, headers, payload = self._decide(key, body)
            self.calls[status] += 1
            self.answered += 1
            self.by_key.setdefault(key, []).append(status)
        time.sleep(self.latency)
        return status, headers, payload

    def _decide(self, key, body):
        if key in self.keys:
            return 409, {"x-line-accepted-request-id": self.keys[key]}, {"message": "The retry key is already accepted"}
        now = time.monotonic()
        self.recent = [t for t in self.recent if now - t < 1.0] + [now]
        if self.burst and len(self.recent) > self.burst:
            return 429, {"Retry-After": "1"}, {"message": "The API rate limit has been exceeded. Try again later."}
        roll = self.rng.random()
        if roll < self.fail_share / 2:
            return 500, {}, {"message": "Internal server error"}  # refused: nothing delivered
        self._accept(key, body)
        if roll < self.fail_share:
            return 500, {}, {"message": "Internal server error"}  # accepted, but the answer was lost
        sent = [{"id": str(uuid.uuid4().int)[:18]} for _ in body.get("messages", [])]
        return 200, {}, {"sentMessages": sent} if isinstance(body.get("to"), str) else {}

    def _accept(self, key, body):
        to = body["to"]
        self.delivered.update([to] if isinstance(to, str) else to)
        if key:
            self.keys[key] = str(uuid.uuid4())


def serve(fake: FakeLine) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):  # quiet
            pass

        def _send(self, status: int, body: dict, headers: dict | None = None) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.send_header("X-Line-Request-Id", str(uuid.uuid4()))
            for k, v in (headers or {}).items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self):
            if self.path == "/v2/bot/message/quota":
                self._send(200, {"type": "none"})
            elif self.path == "/v2/bot/message/quota/consumption":
                self._send(200, {"totalUsage": sum(fake.delivered.values())})
            else:
                self._send(404, {"message": "Not found"})

        def do_POST(self):
            body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"{}")
            if self.path not in MESSAGE_PATHS:
                self._send(404, {"message": "Not found"})
                return
            status, headers, payload = fake.message(self.path, self.headers.get("X-Line-Retry-Key"), body)
            self._send(status, payload, headers)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


# --- scenarios -------------------------------------------------------------------------------


def run_send(path: pathlib.Path, url: str) -> subprocess.Popen:
    env = os.environ | {
        "KOSODATE_DB": str(path),
        "LINE_CHANNEL_SECRET": "bench",
        "LINE_CHANNEL_ACCESS_TOKEN": "bench",
        "LINE_API_BASE_URL": url,
        "KOSODATE_LOG_LEVEL": "WARNING",
    }
    cli = pathlib.Path(sys.executable).with_name("kosodate-bot")
    return subprocess.Popen(
        [str(cli), "digest", "send", "--week", WEEK.isoformat()],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def expected_users(path: pathlib.Path) -> set[str]:
    db = open_db(path)
    plan = digest_mod.plan(db, WEEK)
    db.close()
    return {s.user_id for g in plan.groups for s in g.recipients}


def scenario(
    name: str,
    base: pathlib.Path,
    work: pathlib.Path,
    faults: bool,
    kill_after: int | None,
    burst: int,
    seed: int,
    latency: float,
) -> dict:
    path = work / f"{name}.db"
    shutil.copy(base, path)
    fake = FakeLine(0.05 if faults else 0.0, burst if faults else None, seed, latency)
    server = serve(fake)
    url = f"http://127.0.0.1:{server.server_address[1]}"
    due = expected_users(path)
    started = time.perf_counter()
    runs, codes = 0, []
    if kill_after is not None:
        proc = run_send(path, url)
        runs += 1
        while proc.poll() is None and fake.answered < kill_after:
            time.sleep(0.005)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        db = open_db(path)
        unfinished = [r[0] for r in db.execute("SELECT retry_key FROM digest_batches WHERE state != 'sent'")]
        db.close()
        before = {k: len(fake.by_key.get(k, [])) for k in unfinished}
        codes.append(
            f"killed ({len(unfinished)} batches unfinished, {sum(1 for k in unfinished if 200 in fake.by_key.get(k, []))} "
            f"of them accepted)"
        )
        print(
            f"  {name}: killed after {fake.answered} answered calls; {sum(fake.delivered.values()):,} delivered so far",
            file=sys.stderr,
        )
    while runs < 4:  # a rerun sends what is missing; a batch given up is retried by the next run
        proc = run_send(path, url)
        out, err = proc.communicate()
        runs += 1
        codes.append(proc.returncode)
        if proc.returncode != 5:
            break
    wall = time.perf_counter() - started
    server.shutdown()
    if kill_after is not None:
        resent = Counter(s for k, n in before.items() for s in fake.by_key.get(k, [])[n:])
        codes[-1] = f"{codes[-1]} (their resends: {', '.join(f'{s}×{n}' for s, n in sorted(resent.items()))})"
    if codes[-1] not in (0,):
        print(f"  {name}: last run exit {codes[-1]}\n{out}\n{err[-3000:]}", file=sys.stderr)
    dup = sum(1 for u, n in fake.delivered.items() if n > 1)
    missing = len(due - set(fake.delivered))
    extra = len(set(fake.delivered) - due)
    return {
        "name": name,
        "wall": wall,
        "calls": sum(fake.calls.values()),
        "statuses": dict(fake.calls),
        "due": len(due),
        "delivered": len(fake.delivered),
        "dup": dup,
        "missing": missing,
        "extra": extra,
        "runs": codes,
    }


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--subscribers", type=int, default=100_000)
    ap.add_argument("--wards", type=int, default=20)
    ap.add_argument("--burst", type=int, default=20, help="message calls a second above which the fake answers 429")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--latency", type=float, default=0.02, help="seconds the fake takes to answer a message call")
    ap.add_argument("--keep", help="keep the bases in this directory")
    args = ap.parse_args()
    work = pathlib.Path(args.keep or tempfile.mkdtemp(prefix="digest-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    base = work / "base.db"
    if base.exists():
        base.unlink()
    t0 = time.perf_counter()
    build(base, args.subscribers, args.wards, random.Random(args.seed))
    groups, recipients, minimum = minimum_calls(base)
    print(
        f"built {args.subscribers:,} subscribers over {args.wards} wards in {time.perf_counter() - t0:.1f} s: "
        f"{groups} groups, {recipients:,} recipients, minimum {minimum} calls",
        file=sys.stderr,
    )
    results = [
        scenario("clean", base, work, False, None, args.burst, args.seed, args.latency),
        scenario("faults", base, work, True, None, args.burst, args.seed, args.latency),
        scenario("killed", base, work, True, minimum // 2, args.burst, args.seed, args.latency),
    ]
    print(
        f"\n{args.subscribers:,} subscribers, {args.wards} wards, {groups} groups, {recipients:,} due, "
        f"minimum {minimum} calls (sum of ceil(n/500))\n"
    )
    print(
        "| scenario | wall s | message calls (min) | answers | runs (exit) | delivered / due | duplicates | missing |"
    )
    print("|---|---:|---:|---|---|---:|---:|---:|")
    for r in results:
        answers = ", ".join(f"{s}×{n}" for s, n in sorted(r["statuses"].items()))
        print(
            f"| {r['name']} | {r['wall']:.1f} | {r['calls']} ({minimum}) | {answers} | "
            f"{' → '.join(map(str, r['runs']))} | {r['delivered']:,} / {r['due']:,} | {r['dup']} | {r['missing']} |"
        )
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)
    return 0 if all(r["dup"] == 0 and r["missing"] == 0 and r["extra"] == 0 for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
