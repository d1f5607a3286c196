"""The task queue the webhooks put their work on before they answer 200 (issue 27): Huey.

Huey is a small, maintained task queue whose tasks live in SQLite or in Redis behind one API.
``KOSODATE_QUEUE_URL`` picks the storage:

- ``sqlite:///path/to/queue.db`` (the default: a file beside the base, ``<base>-queue.db``): one
  machine, nothing else to run. The web processes also run the queue's workers (``QueueConfig
  .workers`` threads each), so ``make run`` and the Procfile's web process need nothing more.
- ``redis://host:6379/0``: web processes on several hosts put work on one queue; the workers run
  where the base is (``kosodate-bot queue work``, the Procfile's ``worker`` line), and the web
  processes run none (``KOSODATE_QUEUE_WORKERS=0`` is their default with Redis).

What a crash can still lose is said in the README ("Nothing a parent sends is lost").
"""

from __future__ import annotations

import atexit
import logging
import pathlib
import threading
import weakref
from dataclasses import dataclass
from urllib.parse import urlparse

from huey import RedisHuey, SqliteHuey
from huey.api import Huey
from huey.consumer import Consumer

logger = logging.getLogger(__name__)
QUEUE_NAME = "kosodate"
SQLITE_BUSY_S = 30  # an enqueue waits this long for the queue file's lock (writers take turns)
DEFAULT_WORKERS = 4  # worker threads per process that runs them
# … in each of the processes gunicorn's master runs beside the web workers: answering holds the
# GIL, so more threads only add takers of the queue file's lock
PROCESS_THREADS = 2
STOP_WAIT_S = 25  # a graceful stop waits this long for the tasks under way (gunicorn allows 30)
# An idle worker looks at a SQLite queue again after at most this long (Redis wakes it at once):
# the wait a parent's first message after a quiet spell adds to the reply
POLL_FIRST_S, POLL_MAX_S, POLL_BACKOFF = 0.02, 0.25, 1.5


class QueueError(ValueError):
    """``KOSODATE_QUEUE_URL`` names no storage Huey has."""


@dataclass(frozen=True)
class QueueConfig:
    url: str  # sqlite:///… or redis://…
    workers: int  # worker threads this process runs (0: another process works the queue)

    @property
    def kind(self) -> str:
        return urlparse(self.url).scheme


def default_url(db_path: str) -> str:
    """The embedded default: a SQLite file beside the base (``kosodate.db`` → ``kosodate-queue.db``)."""
    path = pathlib.Path(db_path)
    return f"sqlite:///{path.with_name(path.stem + '-queue.db')}"


def make_huey(config: QueueConfig, immediate: bool = False) -> Huey:
    """The Huey instance for ``config.url``; its tasks are registered by the channels. Both
    storages hand tasks out first in, first out."""
    parsed = urlparse(config.url)
    if parsed.scheme == "sqlite":
        filename = config.url[len("sqlite:///") :] if config.url.startswith("sqlite:///") else parsed.path
        if not filename:
            raise QueueError(f"KOSODATE_QUEUE_URL={config.url!r} names no file (sqlite:///path/to/queue.db)")
        return SqliteHuey(QUEUE_NAME, filename=filename, timeout=SQLITE_BUSY_S, immediate=immediate)
    if parsed.scheme in ("redis", "rediss", "unix"):
        return RedisHuey(QUEUE_NAME, url=config.url, immediate=immediate)
    raise QueueError(f"KOSODATE_QUEUE_URL={config.url!r}: use sqlite:///path/to/queue.db or redis://host:6379/0")


class HostedConsumer(Consumer):
    """Huey's consumer run inside a process that owns its signals (gunicorn's worker, Flask's
    server): worker threads only, no signal handlers of its own, stopped by ``stop``."""

    def _set_signal_handlers(self) -> None:
        pass  # the host process decides what SIGTERM means; it calls ``stop`` on its way out


class Workers:
    """The queue's worker threads in this process, started once and stopped gracefully."""

    running: weakref.WeakSet[Workers] = weakref.WeakSet()  # started and not stopped (tests stop them all)

    def __init__(self, huey: Huey, count: int):
        self.huey, self.count = huey, count
        self._consumer: HostedConsumer | None = None
        self._lock = threading.Lock()

    def start(self) -> None:
        with self._lock:
            if self._consumer is not None or self.count <= 0 or self.huey.immediate:
                return
            self._consumer = HostedConsumer(
                self.huey,
                workers=self.count,
                worker_type="thread",
                periodic=False,
                initial_delay=POLL_FIRST_S,
                backoff=POLL_BACKOFF,
                max_delay=POLL_MAX_S,
            )
            self._consumer.start()
            Workers.running.add(self)
            atexit.register(self.stop)
            logger.info("queue workers started: %d threads on %s", self.count, type(self.huey.storage).__name__)

    def stop(self) -> None:
        """Stop taking tasks and wait for the ones under way; what was not started stays queued
        for the next process."""
        with self._lock:
            consumer, self._consumer = self._consumer, None
        Workers.running.discard(self)
        atexit.unregister(self.stop)
        if consumer is None:
            return
        consumer.stop_flag.set()
        for _worker, thread in consumer.worker_threads:
            thread.join(STOP_WAIT_S)
        consumer.scheduler.join(1)
        try:
            left = str(self.huey.pending_count())
        except Exception as e:  # the queue's server gone first (Redis stopped): say so, stop anyway
            left = f"unknown ({type(e).__name__})"
        logger.info("queue workers stopped; %s tasks left queued", left)


class QueueProcesses:
    """The queue's workers in processes of their own beside gunicorn's web workers, started and
    watched by gunicorn's master (``bot.gunicorn_conf``): the webhook's processes then only take
    bodies and put them on the queue, and answering never takes their CPU during a burst. A
    process that dies is started again; ``stop`` ends them gracefully (SIGTERM: the tasks under
    way finish, the rest stay queued)."""

    RESTART_WAIT_S = 1.0  # between a worker process's death and its next start

    def __init__(self, count: int, threads: int, db_path: str):
        self.count, self.threads, self.db_path = count, threads, db_path
        self._procs: list = []
        self._stopping = threading.Event()
        self._watcher: threading.Thread | None = None

    def argv(self) -> list[str]:
        import sys

        run = "from bot.cli import cli; cli()"
        return [sys.executable, "-c", run, "queue", "work", "--workers", str(self.threads), "--db", self.db_path]

    def start(self) -> None:
        import subprocess

        self._procs = [subprocess.Popen(self.argv()) for _ in range(self.count)]
        self._watcher = threading.Thread(target=self._watch, name="queue-processes", daemon=True)
        self._watcher.start()
        logger.info("queue: %d worker processes of %d threads started", self.count, self.threads)

    def _watch(self) -> None:
        import subprocess

        while not self._stopping.wait(self.RESTART_WAIT_S):
            for i, proc in enumerate(self._procs):
                if proc.poll() is not None and not self._stopping.is_set():
                    logger.error("queue worker process %d exited (%s): starting it again", proc.pid, proc.returncode)
                    self._procs[i] = subprocess.Popen(self.argv())

    def stop(self) -> None:
        import subprocess

        self._stopping.set()
        for proc in self._procs:
            if proc.poll() is None:
                proc.terminate()
        for proc in self._procs:
            try:
                proc.wait(STOP_WAIT_S + 5)
            except subprocess.TimeoutExpired:
                proc.kill()
        logger.info("queue worker processes stopped")
