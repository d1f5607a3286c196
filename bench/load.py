"""Load through the Procfile's web process: requests/s, latency and errors under concurrency.

Starts the Procfile's ``web:`` command (gunicorn, the project's settings) on a copy of the demo
base on localhost, then for each number of connections (default 1, 8 and 32) sends the dev
set's questions (answered) mixed with out-of-scope ones (declined, so each one writes its log
row) for a fixed time, once alone and once while ``kosodate-bot kb import`` re-imports a file
in a loop (a second writer). Every response must be a 200 with a JSON answer; anything else is
counted as an error and the first few are printed.

    .venv/bin/python bench/load.py                       # 1 / 8 / 32 connections, 10 s each
    .venv/bin/python bench/load.py --connections 8 --seconds 5 --no-import

The client threads share the machine with the server (2 cores here): figures are for
comparing changes on one machine, not a capacity plan. A worker keeps its recent answers (by
question, area, day and base version), so repeated questions mostly measure that memory;
``--uncached`` gives every request a random ``today`` within five years, so each question is
matched afresh; the meaning stage also keeps the vector of a question it has embedded, and
``--fresh`` ends each question with a random run of 。！？ (nothing the matcher reads) so that
every question is embedded too: the stage's whole cost.
"""

from __future__ import annotations

import argparse
import http.client
import json
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
import urllib.parse
from datetime import date

ROOT = pathlib.Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
BIN = pathlib.Path(sys.executable).parent
DECLINED = ["宝くじの当選番号", "中古車の買取相場", "歯医者の口コミ", "運転免許の更新", "今日の天気", "株価の見通し"]
IMPORT_FILE = SHARED / "faq" / "kosodate_opendata_faq.json"


def questions() -> list[dict]:
    cases = [
        json.loads(ln) for ln in (SHARED / "eval" / "dev.jsonl").read_text(encoding="utf-8").splitlines() if ln.strip()
    ]
    asked = [{"q": c["q"], "area": c.get("area") or ""} for c in cases]
    asked += [{"q": q, "area": "堺市西区"} for q in DECLINED]
    return asked


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_web(db: pathlib.Path, port: int) -> subprocess.Popen:
    line = next(ln for ln in (ROOT / "Procfile").read_text().splitlines() if ln.startswith("web:"))
    argv = ["bash", "-c", "exec " + line.split(":", 1)[1].strip()]  # as a Procfile runner does
    env = {
        **os.environ,
        "PATH": f"{BIN}:{os.environ['PATH']}",
        "PORT": str(port),
        "KOSODATE_DB": str(db),
        "KOSODATE_LOG_LEVEL": "WARNING",
        "KOSODATE_UNANSWERED_PER_HOUR": "1000000",
    }  # every declined question writes its row
    proc = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request("GET", "/healthz")
            if conn.getresponse().status == 200:
                return proc
        except OSError:
            time.sleep(0.3)
    proc.kill()
    raise SystemExit("the web process did not start")


class Run:
    def __init__(self):
        self.latencies: list[float] = []
        self.errors: list[str] = []
        self.lock = threading.Lock()

    def note(self, problem: str | None, elapsed: float) -> None:
        with self.lock:
            if problem:
                self.errors.append(problem)
            else:
                self.latencies.append(elapsed)


UNCACHED_FROM = date(2026, 1, 1).toordinal()
UNCACHED_DAYS = 5 * 365


FRESH_MARKS = "。！？"
FRESH_LENGTH = 10


def client(port: int, asked: list[dict], until: float, run: Run, seed: int, uncached: str = "") -> None:
    rng = random.Random(seed)
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    while time.monotonic() < until:
        case = rng.choice(asked)
        if uncached:  # another day: not an answer the worker keeps
            case = {**case, "today": date.fromordinal(UNCACHED_FROM + rng.randrange(UNCACHED_DAYS)).isoformat()}
        if uncached == "fresh":  # another text: not a question vector the worker keeps
            case["q"] += "".join(rng.choice(FRESH_MARKS) for _ in range(rng.randint(1, FRESH_LENGTH)))
        path = "/api/ask?" + urllib.parse.urlencode(case)
        started = time.perf_counter()
        conn, problem = exchange(conn, port, "GET", path, ok=lambda body: "answered" in json.loads(body))
        run.note(problem, time.perf_counter() - started)
    conn.close()


def exchange(
    conn: http.client.HTTPConnection,
    port: int,
    method: str,
    path: str,
    *,
    body: bytes | None = None,
    headers: dict | None = None,
    ok=lambda body: True,
) -> tuple[http.client.HTTPConnection, str | None]:
    """One request on a kept-alive connection: (the connection to use next, what went wrong or
    None). A broken connection is replaced, as a client under load would."""
    try:
        conn.request(method, path, body=body, headers=headers or {})
        response = conn.getresponse()
        answer = response.read()
        good = response.status == 200 and ok(answer)
        return conn, None if good else f"{response.status} {answer[:200]!r}"
    except (OSError, http.client.HTTPException, ValueError) as e:
        conn.close()
        return http.client.HTTPConnection("127.0.0.1", port, timeout=60), f"{type(e).__name__}: {e}"


def importer(db: pathlib.Path, stop: threading.Event, results: list[int]) -> None:
    """Re-import a file in a loop: a second writer on the same base while questions come in."""
    while not stop.is_set():
        done = subprocess.run(
            [str(BIN / "kosodate-bot"), "kb", "import", str(IMPORT_FILE), "--db", str(db)],
            capture_output=True,
            text=True,
        )
        results.append(done.returncode)
        if done.returncode:
            print(f"  import failed: {done.stderr.strip()[:300]}", file=sys.stderr)


def measure(
    port: int, db: pathlib.Path, connections: int, seconds: float, with_import: bool, asked, uncached: str = ""
) -> dict:
    run, stop, imports = Run(), threading.Event(), []
    writer = threading.Thread(target=importer, args=(db, stop, imports)) if with_import else None
    if writer:
        writer.start()
    until = time.monotonic() + seconds
    threads = [threading.Thread(target=client, args=(port, asked, until, run, i, uncached)) for i in range(connections)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    stop.set()
    if writer:
        writer.join()
    ms = sorted(x * 1000 for x in run.latencies)

    def pct(p):
        return ms[min(len(ms) - 1, int(p * len(ms)))] if ms else float("nan")

    return {
        "connections": connections,
        "import": with_import,
        "requests": len(ms) + len(run.errors),
        "rps": len(ms) / seconds,
        "p50": statistics.median(ms) if ms else float("nan"),
        "p95": pct(0.95),
        "p99": pct(0.99),
        "errors": len(run.errors),
        "first_errors": run.errors[:3],
        "imports": f"{imports.count(0)}/{len(imports)}" if with_import else "—",
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--connections", default="1,8,32")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--no-import", action="store_true", help="skip the runs with a concurrent import")
    parser.add_argument("--uncached", action="store_true", help="a random today a request: every answer matched afresh")
    parser.add_argument("--fresh", action="store_true", help="--uncached, and every question embedded afresh")
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    from bot.config import Config
    from knowledge.importers.demo import build_demo

    # The demo base's vectors with the stage the web process will use: KOSODATE_EMBED read as the
    # CLI and the app read it (knowledge reads no environment).
    meaning = Config.from_env().settings().meaning
    asked = questions()
    with tempfile.TemporaryDirectory() as tmp:
        db = pathlib.Path(tmp) / "kb.db"
        build_demo(str(db), SHARED / "seeds", echo=lambda _m: None, meaning=meaning)
        subprocess.run(
            [str(BIN / "kosodate-bot"), "kb", "import", str(IMPORT_FILE), "--db", str(db)],
            check=True,
            capture_output=True,
        )
        port = free_port()
        web = start_web(db, port)
        try:
            rows = []
            for n in (int(c) for c in args.connections.split(",")):
                for with_import in (False,) if args.no_import else (False, True):
                    row = measure(
                        port,
                        db,
                        n,
                        args.seconds,
                        with_import,
                        asked,
                        "fresh" if args.fresh else "uncached" if args.uncached else "",
                    )
                    rows.append(row)
                    print(
                        f"  {n} connections{' + import' if with_import else ''}: {row['requests']} requests, "
                        f"{row['errors']} errors",
                        file=sys.stderr,
                    )
                    for e in row["first_errors"]:
                        print(f"    {e}", file=sys.stderr)
        finally:
            web.terminate()
            web.wait(timeout=10)
    print("| connections | concurrent import | requests | req/s | p50 ms | p95 ms | p99 ms | errors | imports ok |")
    print("|---:|---|---:|---:|---:|---:|---:|---:|---|")
    for r in rows:
        print(
            f"| {r['connections']} | {'yes' if r['import'] else 'no'} | {r['requests']} | {r['rps']:.0f} | "
            f"{r['p50']:.1f} | {r['p95']:.1f} | {r['p99']:.1f} | {r['errors']} | {r['imports']} |"
        )


if __name__ == "__main__":
    main()
