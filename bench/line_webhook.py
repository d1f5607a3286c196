"""The LINE webhook under the Procfile's gunicorn, beside line-bot-sdk's own bare echo bot (issue 15).

Starts, in one run:

- a fake LINE Messaging API on localhost (its own process, a ``ThreadingHTTPServer``) that answers
  ``POST /v2/bot/message/reply`` at once with 200 ``{"sentMessages": [...]}`` and counts the
  replies it gets per reply token;
- our web process: the Procfile's ``web:`` line (``bench.load.start_web``) on a fresh demo base
  (``kosodate-bot kb init --demo``), with ``LINE_CHANNEL_SECRET``, ``LINE_CHANNEL_ACCESS_TOKEN``
  and ``LINE_API_BASE_URL`` pointing at the fake;
- the SDK's echo bot (``bench/line_echo_app.py``, vendored from the SDK's examples) served by
  gunicorn with the same settings file (``-c python:bot.gunicorn_conf``: gthread, the same
  workers and threads), replying to the same fake.

Then, for each number of connections (default 1, 8 and 32), each server in turn gets signed text
events (``X-Line-Signature`` over the exact body; a unique 26-character ``webhookEventId`` and
reply token per event; texts from the dev set's questions; 50 user ids) from that many keep-alive
client threads for a fixed time. After each phase the bench waits for the replies to settle (ours
replies from a thread pool after the 200; the echo bot replies before its 200) and checks that every
accepted event got exactly one reply.

    .venv/bin/python bench/line_webhook.py                   # 1 / 8 / 32 connections, 10 s each
    .venv/bin/python bench/line_webhook.py --connections 8 --seconds 5

Columns: req/s and p50/p95/p99 are the webhook's (200s only); non-200 counts every other answer
or transport error; replies is what the fake received for that phase's accepted events; replies/s
is replies over the time from the phase's start to its last reply (ours keeps answering after the
clients stop when its pool is behind: "drain s" is how long after); missing / dup are accepted
events with no reply / more than one; "% of echo" is our req/s over the echo bot's at the same
concurrency.

The client threads, the fake and both servers share the machine (2 cores on the development
container): figures compare the two servers in one run on one machine, not a capacity plan.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import hmac
import http.client
import json
import multiprocessing
import os
import pathlib
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from load import BIN, ROOT, SHARED, exchange, free_port, start_web  # noqa: E402  (bench/load.py, issue 13)

SECRET = "bench-channel-secret"
TOKEN = "bench-channel-access-token"
USERS = [f"U{uuid.UUID(int=random.Random(i).getrandbits(128)).hex}" for i in range(50)]
CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
SETTLE_IDLE_S = 3.0  # a phase's replies have settled when none came for this long...
SETTLE_MAX_S = 60.0  # ...or every accepted event has one, or after this long at most


# --- the fake LINE API (its own process, so the client threads do not slow its answers) ------


def fake_line(port: int, ready) -> None:
    replies: dict[str, list] = {}  # reply token -> [count, time of the last one]
    lock = threading.Lock()
    sent = json.dumps({"sentMessages": [{"id": "1", "quoteToken": "q"}]}).encode()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as urllib3's pools expect
        # TCP_NODELAY, and the head and body in one write: otherwise, on a kept-alive connection,
        # Nagle's algorithm and the client's delayed ACK hold each answer back about 40 ms
        disable_nagle_algorithm = True

        def _answer(self, status: int, body: bytes) -> None:
            head = (
                f"HTTP/1.1 {status} {self.responses[status][0]}\r\nContent-Type: application/json\r\n"
                f"Content-Length: {len(body)}\r\n\r\n"
            )
            self.wfile.write(head.encode("latin1") + body)

        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            if self.path == "/_reset":
                with lock:
                    replies.clear()
                return self._answer(200, b"{}")
            if self.path == "/v2/bot/chat/loading/start":  # a reply that waited in the queue (issue 27)
                return self._answer(202, b"{}")
            if self.path != "/v2/bot/message/reply":
                return self._answer(404, b'{"message":"Not found"}')
            if self.headers.get("Authorization") != f"Bearer {TOKEN}":
                return self._answer(401, b'{"message":"Authentication failed"}')
            try:
                token = json.loads(body)["replyToken"]
            except (ValueError, KeyError, TypeError):
                return self._answer(400, b'{"message":"The request body has 1 error(s)"}')
            now = time.time()
            with lock:
                seen = replies.setdefault(token, [0, now])
                seen[0] += 1
                seen[1] = now
            self._answer(200, sent)

        def do_GET(self):
            if self.path != "/_replies":
                return self._answer(404, b"{}")
            with lock:
                body = json.dumps(replies).encode()
            self._answer(200, body)

        def log_message(self, *args):
            pass

    ThreadingHTTPServer.request_queue_size = 256
    ThreadingHTTPServer.daemon_threads = True
    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    ready.set()
    server.serve_forever()


def fake_call(port: int, method: str, path: str) -> dict:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.request(method, path, body=b"" if method == "POST" else None)
    data = json.loads(conn.getresponse().read())
    conn.close()
    return data


# --- the servers -----------------------------------------------------------------------------


def start_echo(port: int) -> subprocess.Popen:
    """The SDK's echo bot under gunicorn with our settings file (workers, gthread, threads)."""
    argv = [
        str(BIN / "gunicorn"),
        "-c",
        "python:bot.gunicorn_conf",
        "--pythonpath",
        str(ROOT / "bench"),
        "line_echo_app:app",
    ]
    env = {**os.environ, "PATH": f"{BIN}:{os.environ['PATH']}", "PORT": str(port)}
    proc = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    verify = json.dumps({"destination": "Ubench", "events": []}).encode()
    while time.monotonic() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request("POST", "/callback", body=verify, headers={"X-Line-Signature": sign(verify)})
            if conn.getresponse().status == 200:
                return proc
        except OSError:
            time.sleep(0.3)
    proc.kill()
    raise SystemExit("the echo bot did not start")


# --- the client ------------------------------------------------------------------------------


def start_redis(workdir: pathlib.Path) -> tuple[subprocess.Popen, str]:
    """The distribution's redis-server on a free port, persisting as a deploy would (AOF, fsync
    every second); (the process, its URL)."""
    port = free_port()
    proc = subprocess.Popen(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--dir", str(workdir), "--save", ""]
        + ["--appendonly", "yes", "--appendfsync", "everysec"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
                s.sendall(b"PING\r\n")
                if s.recv(16).startswith(b"+PONG"):
                    return proc, f"redis://127.0.0.1:{port}/0"
        except OSError:
            time.sleep(0.05)
    proc.kill()
    raise SystemExit("redis-server did not start")


def sign(body: bytes) -> str:
    return base64.b64encode(hmac.new(SECRET.encode(), body, hashlib.sha256).digest()).decode()


def ulid() -> str:
    """26 characters as a ULID: 48 bits of milliseconds and 80 random bits, Crockford base32."""
    n = (int(time.time() * 1000) << 80) | int.from_bytes(os.urandom(10), "big")
    return "".join(CROCKFORD[(n >> (5 * i)) & 31] for i in reversed(range(26)))


def text_event(rng: random.Random, text: str) -> tuple[bytes, str]:
    token = uuid.uuid4().hex
    event = {
        "type": "message",
        "mode": "active",
        "timestamp": int(time.time() * 1000),
        "source": {"type": "user", "userId": rng.choice(USERS)},
        "webhookEventId": ulid(),
        "deliveryContext": {"isRedelivery": False},
        "replyToken": token,
        "message": {
            "id": str(rng.randrange(10**17, 10**18)),
            "type": "text",
            "quoteToken": uuid.uuid4().hex,
            "text": text,
        },
    }
    body = json.dumps({"destination": "Ubench", "events": [event]}, ensure_ascii=False).encode("utf-8")
    return body, token


class Run:
    def __init__(self):
        self.latencies: list[float] = []
        self.accepted: list[str] = []  # reply tokens of the events answered 200
        self.errors: list[str] = []
        self.lock = threading.Lock()


def client(port: int, texts: list[str], until: float, run: Run, seed: int) -> None:
    rng = random.Random(seed)
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    while time.monotonic() < until:
        body, token = text_event(rng, rng.choice(texts))
        headers = {"Content-Type": "application/json; charset=utf-8", "X-Line-Signature": sign(body)}
        started = time.perf_counter()
        conn, problem = exchange(conn, port, "POST", "/callback", body=body, headers=headers)
        elapsed = time.perf_counter() - started
        with run.lock:
            if problem:
                run.errors.append(problem)
            else:
                run.latencies.append(elapsed)
                run.accepted.append(token)
    conn.close()


def settle(fake_port: int, accepted: set[str]) -> dict:
    """Wait for the phase's replies: all in, or none new for SETTLE_IDLE_S, or SETTLE_MAX_S."""
    stopped = time.monotonic()
    last_count, last_change = -1, stopped
    while True:
        replies = fake_call(fake_port, "GET", "/_replies")
        count = sum(c for c, _ in replies.values())
        now = time.monotonic()
        if count != last_count:
            last_count, last_change = count, now
        if accepted <= replies.keys() or now - last_change >= SETTLE_IDLE_S or now - stopped >= SETTLE_MAX_S:
            return replies
        time.sleep(0.2)


def warm_up(port: int, fake_port: int, texts: list[str], events: int = 40) -> None:
    """A few events first, replies awaited: each worker builds its index on its first question."""
    fake_call(fake_port, "POST", "/_reset")
    run = Run()
    threads = [
        threading.Thread(target=client, args=(port, texts, time.monotonic() + 2, run, 1000 + i)) for i in range(2)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    settle(fake_port, set(run.accepted))


def measure(name: str, port: int, fake_port: int, texts: list[str], connections: int, seconds: float) -> dict:
    fake_call(fake_port, "POST", "/_reset")
    run = Run()
    started_wall = time.time()
    until = time.monotonic() + seconds
    threads = [threading.Thread(target=client, args=(port, texts, until, run, i)) for i in range(connections)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    stopped_wall = time.time()
    accepted = set(run.accepted)
    replies = settle(fake_port, accepted)
    counts = {t: replies.get(t, [0])[0] for t in accepted}
    replied = sum(counts.values())
    last = max((at for _, at in replies.values()), default=stopped_wall)
    ms = sorted(x * 1000 for x in run.latencies)

    def pct(p):
        return ms[min(len(ms) - 1, int(p * len(ms)))] if ms else float("nan")

    return {
        "server": name,
        "connections": connections,
        "requests": len(ms) + len(run.errors),
        "rps": len(ms) / seconds,
        "p50": statistics.median(ms) if ms else float("nan"),
        "p95": pct(0.95),
        "p99": pct(0.99),
        "non200": len(run.errors),
        "first_errors": run.errors[:3],
        "accepted": len(accepted),
        "replies": replied,
        "replies_per_s": replied / max(last - started_wall, seconds),
        "drain": max(0.0, last - stopped_wall),
        "missing": sum(1 for c in counts.values() if c == 0),
        "duplicates": sum(c - 1 for c in counts.values() if c > 1),
        "stray": sum(c for t, (c, _) in replies.items() if t not in accepted),
        "duplicate_ids": len(run.accepted) - len(accepted),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--connections", default="1,8,32")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument(
        "--queue",
        choices=("sqlite", "redis"),
        default="sqlite",
        help="where our webhook queues its bodies (issue 27): the SQLite file beside the base (its web "
        "processes work it), or a redis-server started here (`kosodate-bot queue work` processes, as many "
        "as gunicorn's workers, work it)",
    )
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    from bot import gunicorn_conf as conf

    texts = [
        json.loads(ln)["q"]
        for ln in (SHARED / "eval" / "dev.jsonl").read_text(encoding="utf-8").splitlines()
        if ln.strip()
    ]
    fake_port, ours_port, echo_port = free_port(), free_port(), free_port()
    ready = multiprocessing.Event()
    fake = multiprocessing.Process(target=fake_line, args=(fake_port, ready), daemon=True)
    fake.start()
    if not ready.wait(30):
        raise SystemExit("the fake LINE API did not start")
    # both servers read these (start_web and start_echo pass os.environ on)
    os.environ.update(
        {
            "LINE_CHANNEL_SECRET": SECRET,
            "LINE_CHANNEL_ACCESS_TOKEN": TOKEN,
            "LINE_API_BASE_URL": f"http://127.0.0.1:{fake_port}",
            "KOSODATE_LOG_LEVEL": "WARNING",
        }
    )
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        db = pathlib.Path(tmp) / "kb.db"
        subprocess.run(
            [str(BIN / "kosodate-bot"), "kb", "init", "--demo", "--db", str(db)], check=True, capture_output=True
        )
        redis, workers = None, []
        if args.queue == "redis":
            redis, url = start_redis(pathlib.Path(tmp))
            os.environ.update({"KOSODATE_QUEUE_URL": url, "KOSODATE_QUEUE_WORKERS": "0"})
            workers = [  # one process per core, as gunicorn's web workers
                subprocess.Popen(
                    [str(BIN / "kosodate-bot"), "queue", "work", "--workers", "4", "--db", str(db)],
                    env={**os.environ, "KOSODATE_LOG_LEVEL": "WARNING"},
                    stdout=subprocess.DEVNULL,
                    stderr=open(pathlib.Path(tmp) / f"worker{i}.log", "w"),  # noqa: SIM115 (closed with the process)
                )
                for i in range(conf.workers)
            ]
        ours = start_web(db, ours_port)
        echo = None
        try:
            echo = start_echo(echo_port)
            print(
                f"  gunicorn for both: {conf.worker_class}, {conf.workers} workers x {conf.threads} threads",
                file=sys.stderr,
            )
            for port in (ours_port, echo_port):
                warm_up(port, fake_port, texts)
            for n in (int(c) for c in args.connections.split(",")):
                for name, port in (("ours", ours_port), ("sdk echo", echo_port)):
                    row = measure(name, port, fake_port, texts, n, args.seconds)
                    rows.append(row)
                    print(
                        f"  {name}, {n} connections: {row['requests']} requests, {row['non200']} non-200, "
                        f"{row['replies']} replies ({row['missing']} missing, {row['duplicates']} duplicates), "
                        f"drained {row['drain']:.1f} s after",
                        file=sys.stderr,
                    )
                    for e in row["first_errors"]:
                        print(f"    {e}", file=sys.stderr)
        finally:
            for i, worker in enumerate(workers):
                if worker.poll() is not None:
                    print(
                        "a queue worker stopped:\n" + (pathlib.Path(tmp) / f"worker{i}.log").read_text(),
                        file=sys.stderr,
                    )
            for proc in (ours, echo, *workers, redis):
                if proc is not None:
                    proc.terminate()
                    proc.wait(timeout=10)
            fake.terminate()
    echo_rps = {r["connections"]: r["rps"] for r in rows if r["server"] == "sdk echo"}
    print(
        "| server | connections | requests | req/s | p50 ms | p95 ms | p99 ms | non-200 | replies | replies/s "
        "| drain s | missing | dup | % of echo |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        share = (
            f"{100 * r['rps'] / echo_rps[r['connections']]:.0f}%"
            if r["server"] == "ours" and echo_rps.get(r["connections"])
            else "—"
        )
        print(
            f"| {r['server']} | {r['connections']} | {r['requests']} | {r['rps']:.0f} | {r['p50']:.1f} | {r['p95']:.1f} | "
            f"{r['p99']:.1f} | {r['non200']} | {r['replies']} | {r['replies_per_s']:.0f} | {r['drain']:.1f} | "
            f"{r['missing']} | {r['duplicates']} | {share} |"
        )
    exact = all(r["missing"] == r["duplicates"] == r["stray"] == r["duplicate_ids"] == 0 for r in rows)
    print(
        f"\nEvery accepted event got exactly one reply: {'yes' if exact else 'NO'}"
        + (
            ""
            if exact
            else " ("
            + "; ".join(
                f"{r['server']} c={r['connections']}: {r['missing']} missing, {r['duplicates']} dup, {r['stray']} stray"
                for r in rows
            )
            + ")"
        )
    )


if __name__ == "__main__":
    main()
