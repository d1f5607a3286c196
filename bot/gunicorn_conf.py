"""gunicorn settings for the Procfile's web process (``gunicorn -c python:bot.gunicorn_conf``).

The app, not gunicorn, decides what a question may be: gunicorn's default request-line limit
(4,094 bytes) turns a question of about 450 Japanese characters in a GET into an HTML 414
before the app sees it. The app cuts long questions as documented (``knowledge.answers.ask``) and
bounds the request itself (``bot.app.MAX_QUERY_BYTES``, ``MAX_CONTENT_LENGTH``). Errors that
gunicorn still answers itself (a header too large, a malformed request line) are JSON, like
the app's own.
"""

from __future__ import annotations

import json
import os

from gunicorn import util

bind = f"0.0.0.0:{os.environ.get('PORT', '8000')}"
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
worker_class = "gthread"
threads = int(os.environ.get("WEB_THREADS", "4"))
limit_request_line = 0  # unlimited here; the app answers 414 above MAX_QUERY_BYTES
timeout = 30
control_socket_disable = True  # one process per dyno or unit; several test servers must not share a socket


def write_json_error(sock, status_int, reason, mesg):
    """gunicorn's own error page, as JSON (it is HTML by default)."""
    body = json.dumps({"error": reason.lower(), "detail": mesg or reason}, ensure_ascii=False).encode("utf-8")
    head = (
        f"HTTP/1.1 {status_int} {reason}\r\nConnection: close\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    ).encode("latin1")
    util.write_nonblock(sock, head + body)


util.write_error = write_json_error


def when_ready(server):
    """On the embedded queue (SQLite, the default) with LINE configured, the queue's workers run
    in processes of their own (``bot.queue.QueueProcesses``), as many as the web workers, so a
    burst of webhooks is not slowed by the answering; the web workers run none. A deploy that set
    ``KOSODATE_QUEUE_WORKERS`` keeps its choice, and Redis deploys run ``kosodate-bot queue work``
    where the base is."""
    env = os.environ
    if not env.get("LINE_CHANNEL_SECRET") or "KOSODATE_QUEUE_WORKERS" in env:
        return
    if (env.get("KOSODATE_QUEUE_URL") or "sqlite:").split(":", 1)[0] != "sqlite":
        return
    from bot.queue import PROCESS_THREADS, QueueProcesses

    env["KOSODATE_QUEUE_WORKERS"] = "0"  # read by the web workers, forked after this
    server.kosodate_queue = QueueProcesses(workers, PROCESS_THREADS, env.get("KOSODATE_DB") or "./kosodate.db")
    server.kosodate_queue.start()


def on_exit(server):
    """The master on its way out: the queue's worker processes stop gracefully."""
    processes = getattr(server, "kosodate_queue", None)
    if processes is not None:
        processes.stop()


def worker_exit(server, worker):
    """A worker on its way out (SIGTERM, a deploy): its queue workers finish the tasks under way
    and leave the rest queued for the next process (``bot.queue.Workers.stop``)."""
    app = getattr(worker, "wsgi", None)
    workers = getattr(app, "extensions", {}).get("kosodate_queue")
    if workers is not None:
        workers.stop()
