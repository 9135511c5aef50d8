"""Four workers, 5,000 emails: how long, and was any sent twice? Against a floor in the same run.

Product: four `companion worker` processes, running and idle (their heartbeats seen), then
5,000 messages queued in the outbox on PostgreSQL in one `INSERT`; each worker claims batches
with `FOR UPDATE SKIP LOCKED` under a lease and sends over its own SMTP connection to one
aiosmtpd server (its own process, logging each message it accepts). Timed from just before the
queueing until the server accepted the last message. Floor: the very same bytes (each message
as `prepare` builds it) sent by four threads of this process over four `smtplib` connections,
a quarter each, to the same server, nothing else.

Counted against the server's log: lost (queued, never accepted), duplicated (accepted more
than once), and whether both sides sent the same bytes' Message-IDs.

    python benchmarks/mail_workers.py
    python benchmarks/mail_workers.py --messages 1000 --workers 2

The last line is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import smtplib
import sys
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _deployment import ROOT, Deployment, smtp_received

sys.path.insert(0, str(ROOT))


def queue(deployment: Deployment, count: int) -> list[Any]:
    """Queue `count` messages and return their rows (for the floor's bytes)."""
    from sqlalchemy import select

    from companion.app import create_app
    from companion.core.db import get_database
    from companion.core.mail import NewMail, OutboxMessage, queue_mails

    app = create_app(deployment.app_settings())
    body = ("Tämä on kokeiluviesti Kollegan postinkulun mittaamiseen.\n" * 40).strip()
    mails = [
        NewMail(
            to_address=f"w{number:05d}@example.org",
            to_name=f"Osallistuja {number}",
            subject=f"Yhteenveto {number}",
            text_body=body,
            html_body=f"<p>{body}</p>",
            dedupe_key=f"workers-{number}",
        )
        for number in range(count)
    ]
    with get_database(app).session() as db:
        queue_mails(db, mails)
        db.commit()
        return list(db.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


def wait_workers(deployment: Deployment, count: int) -> None:
    """Until `count` workers beat (their loops run)."""
    from sqlalchemy import func, select

    from companion.app import create_app
    from companion.core.db import get_database
    from companion.core.leases import WorkerHeartbeat

    database = get_database(create_app(deployment.app_settings()))
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        with database.session() as db:
            if (db.scalar(select(func.count()).select_from(WorkerHeartbeat)) or 0) >= count:
                return
        time.sleep(0.2)
    raise RuntimeError("the workers did not start")


def floor(deployment: Deployment, rows: list[Any], connections: int) -> float:
    """Send the same bytes over `connections` smtplib connections, in threads; seconds."""
    from companion.app import create_app
    from companion.core.mail import prepare, sender_address

    app = create_app(deployment.app_settings())
    config = app.extensions["companion.config"]
    sender = sender_address(config)
    messages = [prepare(row, config, sender) for row in rows]
    shares = [messages[i::connections] for i in range(connections)]

    def send(share: list[Any]) -> None:
        with smtplib.SMTP("127.0.0.1", deployment.smtp_port) as smtp:
            for message in share:
                smtp.sendmail(message.sender, [message.recipient], message.raw)

    threads = [threading.Thread(target=send, args=(share,)) for share in shares]
    began = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return time.monotonic() - began


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--messages", type=int, default=5000)
    parser.add_argument("--workers", type=int, default=4)
    args = parser.parse_args()

    deployment = Deployment(web=0, live=0, workers=0)
    try:
        print("starting PostgreSQL, Redis and the SMTP server ...", flush=True)
        deployment.nginx_port = 8080  # no nginx here; only names the (unused) live address
        deployment.base_url = "http://127.0.0.1:8080"
        (deployment.workdir / "instance").mkdir()
        deployment.start_postgres()
        deployment.start_redis()
        deployment.start_smtp()
        deployment.prepare_database()
        print(f"product: {args.workers} workers, {args.messages} messages ...", flush=True)
        for index in range(args.workers):
            deployment.services[f"worker{index + 1}"] = deployment._worker(index).start()
        wait_workers(deployment, args.workers)  # running and idle, as in a deployment
        began = time.time()
        rows = queue(deployment, args.messages)
        deadline = time.monotonic() + 600
        received: list[dict[str, Any]] = []
        while time.monotonic() < deadline:
            received = smtp_received(deployment.smtp_log)
            if len({r["to"] for r in received}) >= args.messages:
                break
            for index in range(args.workers):
                worker = deployment.services[f"worker{index + 1}"]
                if worker.process is not None and worker.process.poll() is not None:
                    raise RuntimeError(deployment.logs(worker.name))
            time.sleep(0.2)
        time.sleep(1.0)
        received = smtp_received(deployment.smtp_log)
        product_seconds = max(r["at"] for r in received) - began
        for index in range(args.workers):
            deployment.services[f"worker{index + 1}"].stop()
        copies = Counter(r["to"] for r in received)
        product_ids = {r["to"]: r["id"] for r in received}
        print("floor: the same bytes over smtplib connections ...", flush=True)
        already = len(received)
        floor_seconds = floor(deployment, rows, args.workers)
        time.sleep(1.0)
        floor_received = smtp_received(deployment.smtp_log)[already:]
        floor_ids = {r["to"]: r["id"] for r in floor_received}
    finally:
        deployment.close()

    ratio = round(product_seconds / floor_seconds, 2)
    summary = {
        "messages": args.messages,
        "workers": args.workers,
        "seconds": round(product_seconds, 2),
        "baseline_seconds": round(floor_seconds, 2),
        "ratio": ratio,
        "per_second": round(args.messages / product_seconds, 1),
        "lost": args.messages - len(copies),
        "duplicated": sum(n - 1 for n in copies.values()),
        "same_message_ids": product_ids == floor_ids,
    }
    print(f"{'':10}{'seconds':>9}{'per s':>8}{'lost':>6}{'dup':>5}")
    print(
        f"{'product':10}{summary['seconds']:>9}{summary['per_second']:>8}"
        f"{summary['lost']:>6}{summary['duplicated']:>5}"
    )
    print(f"{'floor':10}{summary['baseline_seconds']:>9}")
    print(f"ratio {ratio}; the same Message-IDs on both sides: {summary['same_message_ids']}")
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
