#!/usr/bin/env python3
"""Choose how meaning joins the words, and when to answer, by cross-validation (issue 26).

Every labelled set (the shared development sets and the project's own in ``tests/data/heldout``)
is cut into ``FOLDS`` folds by a hash of each question, so a fold mixes every set. For each
fold in turn, the other folds choose:

1. the blend (``knowledge.search.weights.Blend``: mode, weight, rescaling, meaning candidates)
   with the most right first records over the answerable questions;
2. the decision (``knowledge.search.confidence.Decision``): a logistic model over the best
   record's signals, fitted to "answering with it is right", and the lowest chance at which at
   most ``TARGET_WRONG`` of the answers given are wrong;

and the fold itself, unseen by both choices, is scored. Each set's figures are printed twice,
over the folds that chose (dev) and over the fold that did not (held-out), beside today's rule
(the blended score against one threshold). A change that lifts the first and not the second is
not kept. ``--fit`` prints the blend and the models fitted on every fold, to paste into
``knowledge/search/weights.py`` and ``knowledge/search/confidence.py``; the threshold printed is
the one that holds the wrong answers to ``TARGET_WRONG`` on the held-out folds' chances.
``--curve`` prints share answered against share right, words alone and blended.

Usage: .venv/bin/python bench/calibrate.py [--fit] [--curve] [--quick] [--show]
"""

from __future__ import annotations

import argparse
import hashlib
import itertools
import json
import pathlib
import pickle
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import date

import numpy as np

ROOT = pathlib.Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
sys.path.insert(0, str(ROOT))

from bot.config import Config  # noqa: E402
from knowledge import open_db  # noqa: E402
from knowledge.answers import ask as answer  # noqa: E402
from knowledge.search import weights  # noqa: E402
from knowledge.search.confidence import TARGET_WRONG, WORDS_SURE, Signals  # noqa: E402
from knowledge.search.embed import Meaning  # noqa: E402

HELDOUT = ROOT / "tests" / "data" / "heldout"
SETS = [  # (name, questions, base)
    ("dev", SHARED / "eval" / "dev.jsonl", "demo"),
    ("dev_trust", SHARED / "eval" / "dev_trust.jsonl", "demo"),
    ("dev_asked", SHARED / "eval" / "dev_asked.jsonl", "demo"),
    ("kb", HELDOUT / "kb.jsonl", "demo"),
    ("demo_more", HELDOUT / "demo_more.jsonl", "demo"),
    ("demo_asked", HELDOUT / "demo_asked.jsonl", "demo"),
    ("faq queries_dev", SHARED / "faq" / "queries_dev.jsonl", "faq"),
    ("faq", HELDOUT / "faq.jsonl", "faq"),
    ("faq_more", HELDOUT / "faq_more.jsonl", "faq"),
]
FOLDS = 5
DEFAULT_DAY = "2026-11-24"
MODES = ("damp", "mix")
OLD = weights.Blend("damp", 0.2, 20, 5)  # the blend before issue 26, for "today's rule"
WEIGHTS = (0.1, 0.2, 0.3, 0.4, 0.5, 0.7)
RESCALE = (10, 20, 50)
NEAREST = (5, 10)
OLD_THRESHOLD = 0.43  # the damped score's bar before issue 26 (0.45 for the words alone)
LEXICAL_WIDTH = len(Signals(0.0, 0.0, 0.0).features())  # the decision's features, words alone
MEANING_WIDTH = len(Signals(0.0, 0.0, 0.0, cosine=0.0).features())  # … and with the meaning stage
SURE_GRID = (0.99, 0.98, 0.95, 0.9, 0.85, 0.8)  # chances at which the words may decide alone
L2 = 1.0  # ridge on the standardised coefficients: a few hundred examples, five features


@dataclass
class Case:
    set: str
    q: str
    area: str | None
    today: date
    base: str
    expect: dict
    fold: int


@dataclass
class Seen:
    """What one blend made of one question: its best record right?, and that record's signals."""

    right: bool  # answering with the best record is right
    answerable: bool
    signals: Signals | None
    score: float


def load_cases() -> list[Case]:
    cases = []
    for name, path, base in SETS:
        if not path.exists():
            print(f"(skipped {name}: {path} not here)", file=sys.stderr)
            continue
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                c = json.loads(line)
                fold = int(hashlib.sha1(c["q"].encode()).hexdigest(), 16) % FOLDS
                today = date.fromisoformat(c.get("today", DEFAULT_DAY))
                cases.append(Case(name, c["q"], c.get("area"), today, base, c, fold))
    return cases


def build_bases(workdir: pathlib.Path, meaning: Meaning) -> dict[str, str]:
    """The demo base and a base holding only the FAQ open data, their vectors stored with
    ``meaning``'s stage."""
    from knowledge.importers import import_file
    from knowledge.importers.demo import build_demo

    demo, faq = workdir / "demo.db", workdir / "faq.db"
    build_demo(str(demo), SHARED / "seeds", echo=lambda *_: None, meaning=meaning)
    import_file(open_db(str(faq)), str(SHARED / "faq" / "kosodate_opendata_faq.json"), meaning=meaning)
    return {"demo": str(demo), "faq": str(faq)}


def right(item, expect: dict) -> bool:
    if expect.get("expect") == "none_or_faq":
        return item.kind == "faq"
    if expect.get("expect") == "none":
        return False
    if expect.get("expect_ids"):
        return item.id in expect["expect_ids"]
    title = "".join(item.title.lower().split())
    return any("".join(e.lower().split()) in title for e in expect["expect_any"])


def observe(dbs, cases: list[Case], meaning: Meaning, blends: list[weights.Blend]) -> dict:
    """Per blend, what it made of each question: each question is matched once (the words and
    the most records by meaning any blend takes) and ordered by every blend."""
    nearest = max(b.candidates for b in blends)
    seen_by: dict[weights.Blend, list[Seen]] = {b: [] for b in blends}
    for c in cases:
        db = dbs[c.base]
        index = answer.index_for(db, meaning=meaning)
        u = answer.understand(db, c.q, c.area, c.today, index)
        m = answer.match(db, index, u, nearest)
        answerable = "expect" not in c.expect
        for b in blends:
            ranked = answer._dedupe_groups(answer.order(db, index, u, m, b))
            if not ranked:
                seen_by[b].append(Seen(False, answerable, None, 0.0))
                continue
            best = ranked[0]
            signals = answer.best_signals(ranked)
            seen_by[b].append(Seen(right(best, c.expect), answerable, signals, best.score))
    return seen_by


# --- the decision: a small logistic model ----------------------------------------------------


def fit_logistic(x: np.ndarray, y: np.ndarray) -> tuple[float, np.ndarray]:
    """(bias, coefficients) in the features' own units: Newton steps on the standardised
    features with a ridge of ``L2``."""
    mu, sd = x.mean(0), x.std(0)
    sd[sd < 1e-9] = 1.0
    z = np.hstack([np.ones((len(x), 1)), (x - mu) / sd])
    w = np.zeros(z.shape[1])
    ridge = np.eye(z.shape[1]) * L2
    ridge[0, 0] = 0.0
    for _ in range(50):
        p = 1.0 / (1.0 + np.exp(-np.clip(z @ w, -30, 30)))
        grad = z.T @ (p - y) + ridge @ w
        hess = (z.T * (p * (1 - p))) @ z + ridge + np.eye(len(w)) * 1e-9
        step = np.linalg.solve(hess, grad)
        w -= step
        if np.abs(step).max() < 1e-8:
            break
    coef = w[1:] / sd
    return float(w[0] - (coef * mu).sum()), coef


def chances(model: tuple[float, np.ndarray], x: np.ndarray) -> np.ndarray:
    b, coef = model
    return 1.0 / (1.0 + np.exp(-np.clip(b + x @ coef, -30, 30)))


def lowest_safe(p: np.ndarray, ok: np.ndarray, target: float = TARGET_WRONG) -> float:
    """The lowest chance to answer at with at most ``target`` of the answers given wrong."""
    order = np.argsort(-p)
    wrong = np.cumsum(~ok[order])
    given = np.arange(1, len(p) + 1)
    safe = np.flatnonzero(wrong / given <= target)
    if not len(safe):
        return 1.0
    # the last cut point that is safe, where the next chance differs (ties answered together)
    for i in safe[::-1]:
        if i + 1 == len(p) or p[order[i + 1]] < p[order[i]]:
            return float(p[order[i]])
    return 1.0


def features(seen: list[Seen], width: int) -> np.ndarray:
    return np.array([s.signals.features() if s.signals else (0.0,) * width for s in seen], dtype=float)


def lowest_sure(cases, words: Folds, meant: Folds) -> float:
    """The lowest chance in ``SURE_GRID`` at which the words deciding alone keep the wrong answers
    given within ``TARGET_WRONG`` on the held-out folds."""
    for sure in sorted(SURE_GRID):
        t, _share = words_first(cases, words, meant, sure)
        wrong, given = (sum(v[k] for v in t.values()) for k in ("wrong", "given"))
        if given and wrong / given <= TARGET_WRONG:
            return sure
    return 1.0


# --- scoring a fold --------------------------------------------------------------------------


def tally(cases, seen, answered) -> dict[str, dict[str, int]]:
    """Per set: questions, answerable, first record right, right in the end, wrong answers given,
    answers given."""
    out: dict[str, dict[str, int]] = {}
    for c, s, a in zip(cases, seen, answered):
        t = out.setdefault(c.set, dict(n=0, answerable=0, top1=0, good=0, wrong=0, given=0))
        t["n"] += 1
        t["answerable"] += s.answerable
        t["top1"] += s.answerable and s.right
        t["given"] += bool(a)
        t["wrong"] += bool(a) and not s.right
        t["good"] += (bool(a) and s.right) or (not a and not s.answerable)
    return out


def add(into: dict, other: dict) -> None:
    for name, t in other.items():
        mine = into.setdefault(name, dict.fromkeys(t, 0))
        for k, v in t.items():
            mine[k] += v


def grid() -> list[weights.Blend]:
    blends = [weights.LEXICAL_BLEND]
    for mode, w, k, n in itertools.product(MODES, WEIGHTS, RESCALE, NEAREST):
        blends.append(weights.Blend(mode, w, k, n))
    return blends


ALONE = weights.Blend("mix", 1.0, 50, 10)  # the meaning alone: the nearest record (with the fits)


def choose(blends, seen_by, idx) -> weights.Blend:
    """The blend with the most right first records over the answerable questions in ``idx``
    (ties: the first in the grid, the words alone first)."""

    def top1(b):
        return sum(seen_by[b][i].right for i in idx if seen_by[b][i].answerable)

    return max(blends, key=top1)


def cross_validate(cases, seen_by, blends, with_meaning: bool):
    """Per fold: blend and decision chosen on the other folds; the fold scored. Returns the
    held-out tallies, the dev tallies, the out-of-fold chances and rightness (for the final
    threshold), and the blend chosen per fold."""
    held, dev = {}, {}
    oof_p = np.zeros(len(cases))
    oof_ok = np.zeros(len(cases), dtype=bool)
    oof_answered = np.zeros(len(cases), dtype=bool)
    oof_seen: list[Seen] = [None] * len(cases)
    chosen = []
    width = MEANING_WIDTH if with_meaning else LEXICAL_WIDTH
    for f in range(FOLDS):
        train = [i for i, c in enumerate(cases) if c.fold != f]
        test = [i for i, c in enumerate(cases) if c.fold == f]
        blend = choose(blends, seen_by, train) if with_meaning else weights.LEXICAL_BLEND
        chosen.append(blend)
        seen = seen_by[blend]
        x = features(seen, width)
        y = np.array([s.right for s in seen], dtype=float)
        model = fit_logistic(x[train], y[train])
        p = chances(model, x)
        tau = lowest_safe(p[train], y[train].astype(bool))
        oof_p[test], oof_ok[test], oof_answered[test] = p[test], y[test].astype(bool), p[test] >= tau
        for i in test:
            oof_seen[i] = seen[i]
        add(held, tally([cases[i] for i in test], [seen[i] for i in test], [p[i] >= tau for i in test]))
        add(dev, tally([cases[i] for i in train], [seen[i] for i in train], [p[i] >= tau for i in train]))
    return held, dev, Folds(oof_p, oof_ok, oof_answered, oof_seen), chosen


@dataclass
class Folds:
    """Per question, what the fold that held it out made of it."""

    p: np.ndarray  # the chance
    ok: np.ndarray  # the best record right
    answered: np.ndarray  # answered at the fold's threshold
    seen: list[Seen]  # what the fold's blend made of it


def words_first(cases, words: Folds, meant: Folds, sure: float) -> tuple[dict, float]:
    """The bot as it runs (``ask.rank``): the words alone decide when their held-out chance is at
    least ``sure``, the blend the rest. Returns the held-out tallies and the share decided by words."""
    by_words = words.p >= sure
    seen = [w_seen if w else m_seen for w, w_seen, m_seen in zip(by_words, words.seen, meant.seen)]
    answered = np.where(by_words, words.answered, meant.answered)
    return tally(cases, seen, answered), float(by_words.mean())


def today_rule(cases, seen_by, blend, threshold):
    seen = seen_by[blend]
    return tally(cases, seen, [s.score >= threshold for s in seen])


def table(title: str, columns: list[tuple[str, dict]]) -> None:
    print(f"\n### {title}\n")
    print("| set | " + " | ".join(name for name, _ in columns) + " |")
    print("|---|" + "---|" * len(columns))
    names = list(columns[0][1])
    for n in [*names, "all"]:
        cells = []
        for _, t in columns:
            if n == "all":
                s = dict.fromkeys(next(iter(t.values())), 0)
                for v in t.values():
                    for k in s:
                        s[k] += v[k]
            else:
                s = t[n]
            cells.append(_cell(s))
        print(f"| {n} | " + " | ".join(cells) + " |")
    print(
        "\ncells: right in the end (answered right, or declined when no record answers) · first record "
        "right over the answerable · wrong answers given / answers given"
    )


def _cell(t: dict) -> str:
    good = t["good"] / t["n"] if t["n"] else 0.0
    top1 = t["top1"] / t["answerable"] if t["answerable"] else 0.0
    return f"{good:.3f} · {top1:.3f} · {t['wrong']}/{t['given']}"


def curve(name: str, p: np.ndarray, ok: np.ndarray, answerable: np.ndarray) -> None:
    print(f"\n#### {name}: share answered against share right among the answers\n")
    print("| chance ≥ | answered | right among answered | answerable answered right |")
    print("|---|---|---|---|")
    for tau in (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9):
        a = p >= tau
        prec = (ok & a).sum() / a.sum() if a.sum() else 1.0
        rec = (ok & a & answerable).sum() / answerable.sum()
        print(f"| {tau:.1f} | {a.mean():.3f} | {prec:.3f} | {rec:.3f} |")


def blend_table(cases, seen_by, blends, shown: int = 12) -> None:
    """First record right over each set's answerable questions, for the best blends overall."""
    sets = list(dict.fromkeys(c.set for c in cases))

    def top1(b, name=None):
        pairs = [(c, s) for c, s in zip(cases, seen_by[b]) if s.answerable and (name is None or c.set == name)]
        return sum(s.right for _, s in pairs) / max(1, len(pairs))

    best = sorted(blends, key=lambda b: -top1(b))[:shown]
    for must in (weights.LEXICAL_BLEND, weights.BLEND, ALONE):
        if must not in best:
            best.append(must)
    print("\n### first record right, per blend (all questions; the folds choose among these)\n")
    print("| blend | " + " | ".join(sets) + " | all |")
    print("|---|" + "---|" * (len(sets) + 1))
    for b in best:
        print(f"| {_blend(b)} | " + " | ".join(f"{top1(b, n):.3f}" for n in sets) + f" | {top1(b):.3f} |")


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--fit", action="store_true", help="print the blend and models fitted on every fold")
    ap.add_argument("--curve", action="store_true", help="print share answered against share right")
    ap.add_argument("--quick", action="store_true", help="a small grid (today's blend and a mix)")
    ap.add_argument("--show", action="store_true", help="list the held-out fold's wrong answers")
    ap.add_argument("--blends", action="store_true", help="first record right per set, the best blends")
    ap.add_argument("--cache", help="keep the observations in this file and reuse them (same code, same sets)")
    args = ap.parse_args()
    meaning = Config.from_env().settings().meaning
    cases = load_cases()
    blends = grid()
    if args.quick:
        blends = [weights.LEXICAL_BLEND, weights.BLEND]
    for extra in (weights.BLEND, ALONE, OLD):
        if extra not in blends:
            blends.append(extra)
    started = time.perf_counter()
    cache = pathlib.Path(args.cache) if args.cache else None
    if cache and cache.exists():
        seen_by = pickle.loads(cache.read_bytes())
        blends = list(seen_by)
    else:
        with tempfile.TemporaryDirectory() as tmp:
            paths = build_bases(pathlib.Path(tmp), meaning)
            dbs = {k: open_db(v) for k, v in paths.items()}
            seen_by = observe(dbs, cases, meaning, blends)
        if cache:
            cache.write_bytes(pickle.dumps(seen_by))
    print(
        f"{len(cases)} questions over {len({c.set for c in cases})} sets, {FOLDS} folds; "
        f"{len(blends)} blends; {time.perf_counter() - started:.0f} s; meaning {meaning.engine}"
    )
    lex_held, lex_dev, lex_folds, _ = cross_validate(cases, seen_by, blends, with_meaning=False)
    held, dev, folds, chosen = cross_validate(cases, seen_by, blends, with_meaning=True)
    lex_p, lex_ok, p, ok = lex_folds.p, lex_folds.ok, folds.p, folds.ok
    first, share = words_first(cases, lex_folds, folds, WORDS_SURE)
    today = today_rule(cases, seen_by, OLD, OLD_THRESHOLD)
    today_lex = today_rule(cases, seen_by, weights.LEXICAL_BLEND, answer.THRESHOLD)  # 0.45, as before
    print("\nblends chosen per fold: " + "; ".join(_blend(b) for b in chosen))
    table(
        "each set: the rule before issue 26 beside the cross-validated choice (dev folds | held-out folds)",
        [
            ("words, before (score ≥ 0.45)", today_lex),
            ("words: dev", lex_dev),
            ("words: held-out", lex_held),
            ("meaning, before (damp 0.2, score ≥ 0.43)", today),
            ("meaning: dev", dev),
            ("meaning: held-out", held),
            (f"words sure (≥ {WORDS_SURE}), else meaning: held-out", first),
        ],
    )
    print(f"\nwords sure: {share:.0%} of the questions decided without the meaning stage")
    answerable = np.array(["expect" not in c.expect for c in cases])
    if args.blends:
        blend_table(cases, seen_by, blends)
    if args.curve:
        curve("words alone (held-out chances)", lex_p, lex_ok, answerable)
        curve("words and meaning (held-out chances)", p, ok, answerable)
    if args.fit:
        everything = list(range(len(cases)))
        for label, blend, oof_p, oof_ok in (
            ("LEXICAL", weights.LEXICAL_BLEND, lex_p, lex_ok),
            ("MEANING", choose(blends, seen_by, everything), p, ok),
        ):
            seen = seen_by[blend]
            width = LEXICAL_WIDTH if label == "LEXICAL" else MEANING_WIDTH
            x = features(seen, width)
            y = np.array([s.right for s in seen], dtype=float)
            b, coef = fit_logistic(x, y)
            tau = lowest_safe(oof_p, oof_ok)
            print(f"\n{label} blend {_blend(blend)}")
            print(
                f"{label} = Decision(bias={b:.3f}, coefficients=({', '.join(f'{c:.3f}' for c in coef)}), "
                f"threshold={tau:.3f})"
            )
    if args.fit:
        print(f"\nWORDS_SURE = {lowest_sure(cases, lex_folds, folds)}  # the lowest of {SURE_GRID} within the target")
    if args.show:
        seen = seen_by[chosen[0]]
        for i, c in enumerate(cases):
            if p[i] >= 0.5 and not seen[i].right:
                print(f"wrong? {c.set:16} {p[i]:.2f} {c.q}")
    return 0


def _blend(b: weights.Blend) -> str:
    return "words alone" if b.weight == 0 else f"{b.mode} {b.weight} k={b.rescale_k} nearest={b.candidates}"


if __name__ == "__main__":
    sys.exit(main())
