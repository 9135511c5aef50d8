"""Serving the web app on waitress (`companion serve`), with what runs beside it, and draining.

`companion serve` is the one-machine way: the web app, and unless told otherwise the worker
and the live server in threads of the same process. Scaled out, the web runs under gunicorn
(`companion.wsgi:app`) and the worker and live server as processes of their own.

On SIGTERM the server drains: it stops accepting connections, lets the requests it has
finish (up to `DRAIN_SECONDS`), closes idle keep-alive connections, then stops the worker
(which hands back its unsent claims) and the live server.
"""

from __future__ import annotations

import logging
import signal
import threading
import time
from collections.abc import Callable
from typing import Any

import click
from flask import Flask

log = logging.getLogger("companion")

#: Longest wait for in-flight requests after SIGTERM (systemd's default stop timeout is 90 s).
DRAIN_SECONDS = 30.0


def serve_app(
    app: Flask,
    host: str,
    port: int,
    *,
    worker: bool,
    live: bool = True,
    threads: int = 8,
    drain_seconds: float = DRAIN_SECONDS,
) -> None:
    """Run the web app on waitress, with the worker and the live server in threads if asked."""
    from waitress.server import create_server

    from companion.core.jobs import Worker

    stoppers: list[Callable[[], None]] = []
    if worker:
        runner = Worker(app)
        threading.Thread(target=runner.run_forever, name="worker", daemon=True).start()
        stoppers.append(runner.stop)
    live_starter = app.extensions.get("companion.live_starter")
    if live and live_starter is not None:
        stoppers.append(live_starter(app))
    # poll() rather than select(): with the live server in this process, more than ~1,000
    # open sockets exceed what select() can watch.
    server: Any = create_server(
        app, host=host, port=port, threads=threads, ident="Kollega", asyncore_use_poll=True
    )
    draining = threading.Event()

    def _on_term(_signum: int, _frame: Any) -> None:
        if draining.is_set():
            return
        draining.set()
        log.info("Stopping: no new connections; finishing the requests under way")
        # The listening socket only: the connections and the loop's trigger stay open.
        server.accepting = False
        server.del_channel()
        server.socket.close()
        server.pull_trigger()

    signal.signal(signal.SIGTERM, _on_term)
    # Web-only processes too: a full collection over the startup heap stops every request
    # thread for 100-200 ms (see settle_heap).
    from companion.core.live import settle_heap

    settle_heap()
    threading.Thread(target=_warm_up_planner, name="grouping-warm-up", daemon=True).start()
    click.echo(f"Kollega is serving on http://{host}:{port}/ (Ctrl+C stops)")
    try:
        _run_until_drained(server, draining, drain_seconds)
    except KeyboardInterrupt:
        pass
    finally:
        for stop in stoppers:
            stop()
        server.task_dispatcher.shutdown(cancel_pending=False, timeout=5)
        log.info("Stopped")


def warn_if_key_not_shared(app: Flask) -> None:
    """Several processes on several machines need one COMPANION_SECRET_KEY: say so at start."""
    config = app.extensions["companion.config"]
    scaled_out = config.redis_url or config.database_url.startswith("postgresql")
    if scaled_out and config.secret_key_generated:
        log.warning(
            "COMPANION_SECRET_KEY is not set: this process uses a key generated into %s, which "
            "processes on other machines do not share (sign-ins, join links and live tokens "
            "then fail between them). Set it in every process; `companion check` verifies.",
            config.instance_path,
        )


def _warm_up_planner() -> None:
    # The breakout planner's compiled loops: built (or loaded from numba's cache) now, so the
    # first "Plan" a facilitator presses does not wait for them; then the heap is settled
    # again, since numba's modules and caches add objects the process keeps for good.
    from companion.core.live import settle_heap
    from companion.grouping.warmup import warm_up

    warm_up(weighted=False)  # the app plans schedules, never weighted problems
    settle_heap()


def _run_until_drained(server: Any, draining: threading.Event, drain_seconds: float) -> None:
    """waitress's loop, one poll at a time, so that a drain can end it."""
    from waitress.channel import HTTPChannel

    timeout = server.adj.asyncore_loop_timeout
    deadline: float | None = None
    while True:
        server.asyncore.loop(
            timeout=0.1 if draining.is_set() else timeout,
            map=server._map,
            use_poll=True,
            count=1,
        )
        if not draining.is_set():
            continue
        if deadline is None:
            deadline = time.monotonic() + drain_seconds
        busy = False
        for channel in list(server._map.values()):
            if not isinstance(channel, HTTPChannel):
                continue
            if channel.requests or channel.request is not None or channel.total_outbufs_len:
                busy = True
            else:
                channel.will_close = True  # idle keep-alive: close it (the loop does)
        dispatcher = server.task_dispatcher
        busy = busy or bool(dispatcher.queue) or dispatcher.active_count > 0
        if not busy or time.monotonic() > deadline:
            if busy:
                log.warning("Stopped with requests still running after %.0f s", drain_seconds)
            return
