#!/usr/bin/env python3
"""Latency of ``knowledge.answers.listings.events_between`` on a large synthetic base of events.

Not part of the test suite: run it by hand (see bench/README.md). It builds a fresh base with
``--occurrences`` dated occurrences (default 100,000) spread over ``--wards`` wards (default 20)
and two years, plus a share of recurring events (毎週 / 毎月第N) in every ward, then times
listings for windows a parent asks about (a day, a weekend, a week, a month), each for a random
ward and a random day, with and without an age filter. It prints p50/p95 per window.

Usage: .venv/bin/python bench/listing_latency.py [--occurrences 100000] [--wards 20]
       [--recurring 10] [--repeats 400] [--seed 1] [--db PATH]
"""

from __future__ import annotations

import argparse
import pathlib
import random
import statistics
import sys
import tempfile
import time
from datetime import date, timedelta

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))

from knowledge import open_db  # noqa: E402
from knowledge.answers.listings import events_between  # noqa: E402
from knowledge.lang.audience import age_columns  # noqa: E402
from knowledge.store.db import bump_version, writing  # noqa: E402

FIRST_DAY = date(2026, 4, 1)
DAYS = 730
WHO = [
    "0歳児とその保護者",
    "1歳から3歳の親子",
    "生後2か月から6か月",
    "3歳以上",
    "就学前の子どもと保護者",
    "妊娠中の方とパートナー",
    "どなたでも",
    "子育て中の保護者",
    "",
]
RULES = ["FREQ=WEEKLY;BYDAY=TU", "FREQ=WEEKLY;BYDAY=MO,TH", "FREQ=MONTHLY;BYDAY=+2WE", "FREQ=MONTHLY;BYDAY=-1SA"]
WINDOWS = {"day": 0, "weekend": 1, "week": 6, "month": 30}


def build(path: pathlib.Path, occurrences: int, wards: int, recurring: int, rng: random.Random) -> None:
    db = open_db(path)
    areas = [f"ベンチ市第{i + 1}区" for i in range(wards)]
    per_event = 4  # dated days per one-off event series
    events = occurrences // per_event
    with writing(db):
        db["areas"].insert_all([{"name": a, "city": "ベンチ市", "ward": a[4:]} for a in areas], pk="name", replace=True)
        acts, occs = [], []
        for n in range(events):
            who = rng.choice(WHO)
            acts.append(
                {
                    "id": f"bench-{n}",
                    "title": f"催し{n}",
                    "kind": "event",
                    "area": areas[n % wards],
                    "place": f"会場{n % 97}",
                    "ages": who or None,
                    "audience": "[]",
                    "sample": 0,
                    "source": "bench",
                }
                | age_columns(who)
            )
            for k in range(per_event):
                day = FIRST_DAY + timedelta(days=rng.randrange(DAYS))
                occs.append(
                    {
                        "id": f"bench-{n}-{k}",
                        "activity_id": f"bench-{n}",
                        "date": day.isoformat(),
                        "precision": "day",
                        "start_time": f"{rng.randrange(9, 16):02d}:00",
                        "end_time": None,
                        "source": "bench",
                    }
                )
        for w, area in enumerate(areas):
            for r in range(recurring):
                who = rng.choice(WHO)
                acts.append(
                    {
                        "id": f"bench-rule-{w}-{r}",
                        "title": f"定期の催し{w}-{r}",
                        "kind": "event",
                        "area": area,
                        "recurrence": rng.choice(RULES),
                        "recurrence_start": FIRST_DAY.isoformat(),
                        "recurrence_until": None,
                        "start_time": "10:00",
                        "ages": who or None,
                        "audience": "[]",
                        "sample": 0,
                        "source": "bench",
                    }
                    | age_columns(who)
                )
        db["activities"].insert_all(acts, batch_size=5000)
        db["occurrences"].insert_all(occs, batch_size=5000)
        bump_version(db)
    db.execute("ANALYZE")
    db.close()


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--occurrences", type=int, default=100_000)
    ap.add_argument("--wards", type=int, default=20)
    ap.add_argument("--recurring", type=int, default=10, help="recurring events per ward")
    ap.add_argument("--repeats", type=int, default=400)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--db", help="build the base here (kept) instead of in a temporary directory")
    args = ap.parse_args()
    rng = random.Random(args.seed)
    with tempfile.TemporaryDirectory() as tmp:
        path = pathlib.Path(args.db or pathlib.Path(tmp) / "listing.db")
        if path.exists():
            path.unlink()
        started = time.perf_counter()
        build(path, args.occurrences, args.wards, args.recurring, rng)
        print(
            f"built {args.occurrences:,} dated occurrences over {args.wards} wards "
            f"(+{args.recurring} recurring events per ward) in {time.perf_counter() - started:.1f} s",
            file=sys.stderr,
        )
        db = open_db(path)
        total = db.execute("SELECT count(*) FROM occurrences").fetchone()[0]
        areas = [r[0] for r in db.execute("SELECT name FROM areas WHERE name LIKE 'ベンチ市%'")]
        print("| window | filter | p50 ms | p95 ms | events listed (mean) |")
        print("|---|---|---:|---:|---:|")
        for name, extra in WINDOWS.items():
            for label, kwargs in (("none", {}), ("age 14 months", {"age_months": 14})):
                times, counts = [], []
                for _ in range(args.repeats):
                    start = FIRST_DAY + timedelta(days=rng.randrange(DAYS - 31))
                    area = rng.choice(areas)
                    t0 = time.perf_counter()
                    got = events_between(db, area, start, start + timedelta(days=extra), **kwargs)
                    times.append((time.perf_counter() - t0) * 1000)
                    counts.append(len(got))
                times.sort()
                p95 = times[int(len(times) * 0.95) - 1]
                print(
                    f"| {name} | {label} | {statistics.median(times):.2f} | {p95:.2f} | {statistics.mean(counts):.1f} |"
                )
        print(f"\n{total:,} occurrences in the base", file=sys.stderr)
        db.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
