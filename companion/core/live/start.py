"""Starting the live server: beside the web app in `companion serve`, or on its own.

`companion serve` runs it in a thread of the web process (`start_live_in_thread`);
`companion live` runs it in the main thread until SIGTERM (`run_live`). Both settle the
garbage collector for a long-running process (`settle_heap`).
"""

from __future__ import annotations

import asyncio
import gc
import logging
import sys
from collections.abc import Callable

from flask import Flask

from companion.core.live.server import LiveServer

log = logging.getLogger(__name__)

#: Collections of the middle generation between full ones (Python's default is 10).
GC_FULL_EVERY = 100


def settle_heap() -> None:
    """Keep the garbage collector's pauses short in a long-running server process.

    Once started, a process holds some 150,000-250,000 objects it keeps until it exits
    (modules, the app, SQLAlchemy's mappers). Every full collection walked them all while every
    thread, the event loop included, stood still: 100-300 ms under load, several times a
    minute with web requests in the same process. So: collect once, freeze what exists (never
    collected again; it lives as long as the process anyway), and make full collections ten
    times rarer. The young generations keep Python's defaults: their collections stay well
    under a millisecond, while larger ones measured 5-10 ms.
    """
    gc.collect()
    gc.freeze()
    young, middle, full = gc.get_threshold()
    gc.set_threshold(young, middle, max(full, GC_FULL_EVERY))


#: How long a thread may keep the GIL while another waits for it (Python's default: 5 ms).
SHARED_SWITCH_INTERVAL = 0.0005


def start_live_in_thread(app: Flask) -> Callable[[], None]:
    """For `companion serve`: the live server in a thread; returns its stop (port 0: none).

    Its event loop then shares the interpreter with the web's request threads. Every socket
    write gives the GIL up, and getting it back took up to the switch interval while a request
    computed, so the interval is shortened: in the board benchmark this halved the p99 from a
    vote's commit to its broadcast and the tail of the writes queued behind it.
    """
    config = app.extensions["companion.config"]
    if config.live_port == 0:
        return lambda: None
    server = LiveServer(app, config.live_host, config.live_port).start_in_thread()
    log.info("Live server on ws://%s:%s/ws", config.live_host, server.port)
    settle_heap()
    sys.setswitchinterval(min(sys.getswitchinterval(), SHARED_SWITCH_INTERVAL))
    return server.stop


def run_live(app: Flask, host: str, port: int) -> None:
    """For `companion live`: serve in this thread until SIGTERM or Ctrl+C."""
    import signal

    server = LiveServer(app, host, port)

    async def main() -> None:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, server.stop)

        def started() -> None:
            log.info("Live server on %s", server.url)
            settle_heap()

        await server.run(started=started)

    asyncio.run(main())
