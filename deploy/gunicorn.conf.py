"""gunicorn settings for Kollega's web processes: `gunicorn -c deploy/gunicorn.conf.py
companion.wsgi:app` (the systemd unit and the compose file use it).

Threads rather than many processes: requests mostly wait for the database. On SIGTERM
gunicorn stops accepting (nginx sends new requests to the other web process) and lets every
request under way finish within `graceful_timeout`.
"""

import os
import tempfile

#: The unit passes --bind 127.0.0.1:<port> (kollega-web@<port>.service).
bind = "127.0.0.1:8001"
worker_class = "gthread"
workers = 2
threads = 8
#: Load the app before listening: a (re)started process then never accepts connections it
#: cannot serve yet (without it, requests nginx sends there wait in the listen queue while
#: the workers import the app, tens of seconds on a busy machine). Code changes need a
#: restart, not a HUP.
preload_app = True
#: Seconds the requests under way get after SIGTERM.
graceful_timeout = 30
timeout = 60
keepalive = 5
#: No access log here: nginx writes one without the tokens of personal links.
accesslog = None
errorlog = "-"
#: Behind nginx on the same machine; the app reads X-Forwarded-* itself
#: (COMPANION_TRUSTED_PROXIES).
forwarded_allow_ips = "127.0.0.1"

#: prometheus_client sums the workers' metrics through files in this folder (its own
#: variable). The unit sets it in its runtime directory, which systemd empties at every stop;
#: without it a fresh private folder is made. It must exist before the app is preloaded.
metrics_dir = os.environ.get("PROMETHEUS_MULTIPROC_DIR") or tempfile.mkdtemp(prefix="kollega-")
os.environ["PROMETHEUS_MULTIPROC_DIR"] = metrics_dir
os.makedirs(metrics_dir, exist_ok=True)


def post_worker_init(worker: object) -> None:
    """Settle the heap once the app is loaded (see companion.core.live.settle_heap)."""
    from companion.core.live import settle_heap

    settle_heap()


def child_exit(server: object, worker: object) -> None:
    """Drop a dead worker's live gauges from the sums."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)  # type: ignore[attr-defined]
