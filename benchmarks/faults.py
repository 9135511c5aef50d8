"""Fault injection on a scaled-out Kollega: what is lost, duplicated or late when things break.

Starts the real processes (`_deployment.py`): PostgreSQL and Redis from the Debian binaries,
two web processes under gunicorn, two `companion live`, two `companion worker`, an SMTP server
(aiosmtpd) and nginx in front with the repository's location file. Load runs throughout: votes
over HTTP through nginx at a steady rate, WebSocket clients (in their own process) following
the boards through nginx and reconnecting as the browser's client does (a fresh token, the
same address, resume by sequence number, jittered backoff), and mail queued in batches.

The faults, one after the other: Redis stopped, Redis frozen (SIGSTOP), a live process killed,
PostgreSQL restarted, a worker killed mid-batch, the SMTP server down for longer than a
message's attempts would last, a web process terminated under load. Each figure is compared
with its target in the table; the last line is one JSON object with every figure.

    python benchmarks/faults.py            # the full run (about 5 minutes)
    python benchmarks/faults.py --short    # what CI runs (about 2-3 minutes)
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _deployment import ROOT, Deployment, smtp_received

sys.path.insert(0, str(ROOT))

#: The targets the issue sets (and the pytest of --short asserts).
TARGETS = {
    "events_lost": 0,
    "events_duplicated": 0,
    "mail_lost": 0,
    "mail_failed": 0,
    "write_errors": 0,
    "redis_freeze_write_max_ms": 1000,
    "live_reconnect_max_s": 5.0,
    "worker_claims_back_s": 30.0,
}


# --- the clients (a subprocess) ---------------------------------------------------------------


def role_clients(plan_file: Path, out_file: Path, base_url: str) -> None:
    """Follow the planned channels through nginx like the browser; record until stdin says stop."""
    import requests
    from websockets.asyncio.client import connect

    plan = json.loads(plan_file.read_text())
    records: list[dict[str, Any]] = [
        {"channel": s["channel"], "events": [], "snapshots": [], "drops": [], "duplicates": 0}
        for s in plan
    ]
    stopping = asyncio.Event()
    session = requests.Session()

    def fetch_token(spec: dict[str, Any]) -> dict[str, Any]:
        answer = session.get(
            f"{base_url}/api/v1/live/token",
            params={"channel": spec["channel"]},
            headers={"Authorization": f"Bearer {spec['bearer']}"},
            timeout=5,
        )
        answer.raise_for_status()
        return dict(answer.json())

    async def follow(index: int, spec: dict[str, Any]) -> None:
        loop = asyncio.get_running_loop()
        record = records[index]
        seq: int | None = None
        attempt = 0
        closed_at: float | None = None
        while not stopping.is_set():
            try:
                grant = await loop.run_in_executor(None, fetch_token, spec)
                async with connect(grant["url"], open_timeout=5, compression=None) as ws:
                    await ws.send(json.dumps({"type": "auth", "token": grant["token"]}))
                    subscribe = {"type": "subscribe", "channel": spec["channel"], "since": seq}
                    await ws.send(json.dumps(subscribe))
                    async for raw in ws:
                        now = time.monotonic()
                        message = json.loads(raw)
                        kind = message.get("type")
                        if kind == "snapshot":
                            seq = message["seq"]
                            record["snapshots"].append([seq, now])
                        elif kind == "event":
                            if seq is not None and message["seq"] <= seq:
                                record["duplicates"] += 1
                            elif seq is not None and message["seq"] > seq + 1:
                                subscribe["since"] = seq  # a gap: ask again from what we have
                                await ws.send(json.dumps(subscribe))
                            else:
                                seq = message["seq"]
                                record["events"].append([seq, now])
                        elif kind == "subscribed":
                            attempt = 0
                            if closed_at is not None:
                                record["drops"].append([closed_at, now])
                                closed_at = None
                        elif kind == "resync":
                            subscribe["since"] = seq
                            await ws.send(json.dumps(subscribe))
            except Exception:  # the server went away, a token could not be had: retry
                pass
            if stopping.is_set():
                break
            if closed_at is None:
                closed_at = time.monotonic()
            ceiling = min(10.0, 0.5 * 2**attempt)
            attempt += 1
            await asyncio.sleep(0.1 + random.random() * (ceiling - 0.1))
        if closed_at is not None:
            record["drops"].append([closed_at, None])

    async def main() -> None:
        tasks = [asyncio.create_task(follow(i, spec)) for i, spec in enumerate(plan)]
        await asyncio.sleep(1.0)
        print("ready", flush=True)
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
        stopping.set()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    asyncio.run(main())
    out_file.write_text(json.dumps(records))


# --- load from the orchestrator ---------------------------------------------------------------


class Votes:
    """Votes through nginx at a steady rate until stopped; each one's times and outcome."""

    def __init__(self, base_url: str, voters: list[dict[str, Any]], channels: list[str]) -> None:
        self.base_url = base_url
        self.voters = voters
        self.channels = channels
        self.results: list[dict[str, Any]] = []
        self.lock = threading.Lock()
        self.stop = threading.Event()
        self.threads: list[threading.Thread] = []

    def start(self, rate: float, threads: int = 6) -> None:
        counter = iter(range(10**9))
        begin = time.monotonic() + 0.1

        def work() -> None:
            import requests

            session = requests.Session()
            while not self.stop.is_set():
                with self.lock:
                    index = next(counter)
                delay = begin + index / rate - time.monotonic()
                if delay > 0 and self.stop.wait(delay):
                    return
                channel = self.channels[index % len(self.channels)]
                voter = self.voters[index % len(self.voters)]
                topic = voter["topics"][channel]
                started = time.monotonic()
                outcome: dict[str, Any] = {"channel": channel, "start": started}
                try:
                    answer = session.post(
                        f"{self.base_url}/api/v1/topics/{topic}/vote",
                        headers={"Authorization": f"Bearer {voter['token']}"},
                        timeout=30,
                    )
                    outcome["status"] = answer.status_code
                    if answer.status_code == 200:
                        outcome["seq"] = int(answer.json()["seq"])
                except Exception as exc:
                    outcome["status"] = f"{exc.__class__.__name__}"
                outcome["end"] = time.monotonic()
                with self.lock:
                    self.results.append(outcome)

        self.threads = [threading.Thread(target=work, daemon=True) for _ in range(threads)]
        for thread in self.threads:
            thread.start()

    def finish(self) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(timeout=40)


class Mail:
    """Queues mail straight into the outbox (as a job would) and tracks what was queued."""

    def __init__(self, deployment: Deployment) -> None:
        from companion.app import create_app
        from companion.core.db import get_database

        self.app = create_app(deployment.app_settings())
        self.database = get_database(self.app)
        self.queued: dict[str, str] = {}  # recipient -> phase

    def queue(self, count: int, phase: str) -> None:
        from companion.core.mail import NewMail, queue_mails

        start = len(self.queued)
        mails = []
        for number in range(start, start + count):
            recipient = f"m{number:05d}@example.org"
            self.queued[recipient] = phase
            mails.append(
                NewMail(
                    to_address=recipient,
                    subject=f"Fault test {number}",
                    text_body="Hei!\n" * 20,
                    dedupe_key=f"fault-{number}",
                )
            )
        with self.database.session() as db:
            queue_mails(db, mails)
            db.commit()

    def claimed_by(self, worker_id: str) -> int:
        from sqlalchemy import func, select

        from companion.core.mail import OutboxMessage

        with self.database.session() as db:
            return int(
                db.scalar(
                    select(func.count())
                    .select_from(OutboxMessage)
                    .where(OutboxMessage.claimed_by == worker_id, OutboxMessage.status == "sending")
                )
                or 0
            )

    def worker_id(self, pid: int) -> str | None:
        from sqlalchemy import select

        from companion.core.leases import WorkerHeartbeat

        with self.database.session() as db:
            return db.scalar(select(WorkerHeartbeat.worker_id).where(WorkerHeartbeat.pid == pid))

    def statuses(self) -> Counter[str]:
        from sqlalchemy import select

        from companion.core.mail import OutboxMessage

        with self.database.session() as db:
            return Counter(db.scalars(select(OutboxMessage.status)))


# --- the run --------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--short", action="store_true", help="shorter faults and less load (CI)")
    parser.add_argument("--role", default="", help=argparse.SUPPRESS)
    parser.add_argument("--plan", default="", help=argparse.SUPPRESS)
    parser.add_argument("--out", default="", help=argparse.SUPPRESS)
    parser.add_argument("--base-url", default="", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.role == "clients":
        return role_clients(Path(args.plan), Path(args.out), args.base_url)

    short = args.short
    sizes = {
        "clients": 30 if short else 200,
        "boards": 6 if short else 20,
        "rate": 8.0 if short else 15.0,
        "redis_down_s": 4.0 if short else 10.0,
        "redis_freeze_s": 6.0 if short else 20.0,
        "smtp_down_s": 10.0 if short else 40.0,
        "lease_s": 10.0 if short else 20.0,
        "mail_batch": 150 if short else 600,
    }
    deployment = Deployment(
        smtp_delay=0.01,
        settings={
            "COMPANION_WORKER_LEASE_SECONDS": str(sizes["lease_s"]),
            "COMPANION_MAIL_RETRY_SECONDS": "1",
            "COMPANION_MAIL_MAX_ATTEMPTS": "3",
            # The clients share eight voters' identities; the per-person cap is for people.
            "COMPANION_LIVE_CONNECTIONS_PER_PERSON": "100000",
        },
    )
    clients: subprocess.Popen[str] | None = None
    timeline: dict[str, list[float]] = {}
    figures: dict[str, Any] = {"short": short, **{f"setting_{k}": v for k, v in sizes.items()}}
    started = time.monotonic()
    try:
        print("starting PostgreSQL, Redis, SMTP, 2 web, 2 live, 2 workers, nginx ...", flush=True)
        deployment.start()
        from _fanout_harness import setup_product

        channels, voters, _extra = setup_product(
            deployment.workdir / "instance", deployment.database_url, sizes["boards"], 8, 0
        )
        plan = [
            {"channel": channels[i % len(channels)], "bearer": voters[i % len(voters)]["token"]}
            for i in range(sizes["clients"])
        ]
        plan_file, out_file = deployment.workdir / "plan.json", deployment.workdir / "out.json"
        plan_file.write_text(json.dumps(plan))
        clients = subprocess.Popen(
            [sys.executable, __file__, "--role", "clients", "--plan", str(plan_file),
             "--out", str(out_file), "--base-url", deployment.base_url],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=ROOT,
        )  # fmt: skip
        assert clients.stdout is not None
        if not clients.stdout.readline().startswith("ready"):
            raise RuntimeError("the client process failed")
        time.sleep(2.0)  # every client subscribed
        mail = Mail(deployment)
        votes = Votes(deployment.base_url, voters, channels)
        votes.start(sizes["rate"])

        def phase(name: str, seconds: float = 0.0) -> None:
            print(f"  {name} ...", flush=True)
            timeline[name] = [time.monotonic(), time.monotonic() + seconds]
            if seconds:
                time.sleep(seconds)

        def end(name: str) -> None:
            timeline[name][1] = time.monotonic()

        print("faults:", flush=True)
        phase("baseline", 3.0)
        mail.queue(30, "baseline")

        phase("redis_stopped")
        deployment.services["redis"].stop()
        time.sleep(sizes["redis_down_s"])
        deployment.restart("redis")
        end("redis_stopped")
        time.sleep(3.0)

        phase("redis_frozen")
        deployment.services["redis"].signal(signal.SIGSTOP)
        time.sleep(sizes["redis_freeze_s"])
        deployment.services["redis"].signal(signal.SIGCONT)
        end("redis_frozen")
        time.sleep(3.0)

        phase("live_killed")
        deployment.services["live1"].kill()
        time.sleep(8.0)
        end("live_killed")
        deployment.restart("live1", wait=False)

        phase("postgres_restarted")
        deployment.restart_postgres()
        time.sleep(4.0)
        end("postgres_restarted")

        phase("worker_killed")
        mail.queue(sizes["mail_batch"], "worker_killed")
        # Kill whichever worker holds claims (one may have taken the whole batch).
        victim, dead_id, held = None, None, 0
        deadline = time.monotonic() + 60
        while victim is None and time.monotonic() < deadline:
            for name in ("worker1", "worker2"):
                service = deployment.services[name]
                worker_id = mail.worker_id(service.pid)
                if worker_id and mail.claimed_by(worker_id) > 0:
                    victim, dead_id = service, worker_id
                    break
            else:
                time.sleep(0.05)
        if victim is not None and dead_id is not None:
            victim.kill()
            killed_at = time.monotonic()
            held = mail.claimed_by(dead_id)  # what it held when it died
        back = None
        while victim is not None and dead_id is not None and time.monotonic() < killed_at + 90:
            if mail.claimed_by(dead_id) == 0:
                back = time.monotonic() - killed_at
                break
            time.sleep(0.2)
        figures["worker_claims_held_at_kill"] = held
        figures["worker_claims_back_s"] = round(back, 2) if back is not None else None
        end("worker_killed")
        if victim is not None:
            deployment.restart(victim.name, wait=False)

        phase("smtp_down")
        deployment.services["smtp"].stop()
        mail.queue(40, "smtp_down")
        time.sleep(sizes["smtp_down_s"])
        deployment.restart("smtp")
        smtp_back = time.monotonic()
        end("smtp_down")
        recovered = None
        while time.monotonic() < smtp_back + 90:
            received = {r["to"] for r in smtp_received(deployment.smtp_log)}
            if all(r in received for r, p in mail.queued.items() if p == "smtp_down"):
                recovered = time.monotonic() - smtp_back
                break
            time.sleep(0.2)
        figures["smtp_recovery_s"] = round(recovered, 2) if recovered is not None else None

        phase("web_terminated")
        web1 = deployment.services["web1"]
        web1.signal(signal.SIGTERM)
        assert web1.process is not None
        figures["web_terminated_exit"] = web1.process.wait(timeout=60)
        time.sleep(1.0)
        end("web_terminated")
        deployment.restart("web1", wait=False)

        phase("settle", 5.0)
        votes.finish()
        # Everything written is delivered: mail to the last message, events to every client.
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if len({r["to"] for r in smtp_received(deployment.smtp_log)}) >= len(mail.queued):
                break
            time.sleep(0.5)
        time.sleep(3.0)
        clients.stdin.write("stop\n")  # type: ignore[union-attr]
        clients.stdin.flush()  # type: ignore[union-attr]
        clients.wait(timeout=60)
        results = json.loads(out_file.read_text())
        figures.update(analyse(votes.results, results, timeline, deployment, mail))
    finally:
        if clients is not None and clients.poll() is None:
            clients.kill()
        deployment.close()
    figures["seconds"] = round(time.monotonic() - started, 1)
    report(figures)


def analyse(
    votes: list[dict[str, Any]],
    clients: list[dict[str, Any]],
    timeline: dict[str, list[float]],
    deployment: Deployment,
    mail: Mail,
) -> dict[str, Any]:
    """The figures: events, writes, reconnects and mail, overall and per fault."""

    def within(moment: float, name: str, slack: float = 0.0) -> bool:
        begin, finish = timeline[name]
        return begin - slack <= moment <= finish + slack

    sent = {(v["channel"], v["seq"]): v["start"] for v in votes if "seq" in v}
    last = Counter[str]()
    for channel, seq in sent:
        last[channel] = max(last[channel], seq)
    lost = duplicated = late = 0
    latencies: list[float] = []
    for client in clients:
        channel = client["channel"]
        snapshots = client["snapshots"]
        if not snapshots:
            lost += sum(1 for c, _s in sent if c == channel)
            continue
        first = snapshots[0][0]
        covered = {seq for seq, _t in client["events"]}
        for seq, _t in snapshots[1:]:
            covered |= set(range(first + 1, seq + 1))  # a later snapshot holds what came before
        expected = {s for c, s in sent if c == channel and s > first}
        lost += len(expected - covered)
        duplicated += client["duplicates"]
        for seq, received in client["events"]:
            began = sent.get((channel, seq))
            if began is not None:
                latency = received - began
                latencies.append(latency)
                late += latency > 5.0
    latencies.sort()

    def pct(values: list[float], q: float) -> float:
        return values[min(len(values) - 1, int(q / 100 * len(values)))] if values else float("nan")

    outage = ("postgres_restarted",)
    errors = [
        v
        for v in votes
        if v["status"] != 200
        and not (v["status"] == 503 and any(within(v["start"], n, 2) for n in outage))
    ]
    refused = [v for v in votes if v["status"] == 503]
    freeze = [v["end"] - v["start"] for v in votes if within(v["start"], "redis_frozen")]
    web_term = [v for v in votes if within(v["start"], "web_terminated") and v["status"] != 200]
    kill_at = timeline["live_killed"][0]
    reconnects = [
        back - closed
        for client in clients
        for closed, back in client["drops"]
        if back is not None and kill_at - 0.5 <= closed <= kill_at + 5
    ]
    never_back = sum(1 for client in clients for closed, back in client["drops"] if back is None)
    # Only the mail this run queued (the app sends its own too, such as session reminders).
    received = [r for r in smtp_received(deployment.smtp_log) if r["to"] in mail.queued]
    copies = Counter(r["to"] for r in received)
    ids: dict[str, set[str]] = {}
    for r in received:
        ids.setdefault(r["to"], set()).add(r["id"])
    statuses = mail.statuses()

    def phase_of(moment: float) -> str:
        during = next((n for n in timeline if within(moment, n)), None)
        if during is not None:
            return during
        before = [n for n in timeline if timeline[n][1] < moment]
        return f"after {before[-1]}" if before else "before"

    error_kinds = Counter(f"{phase_of(v['start'])}:{v['status']}" for v in errors)
    slow_events = Counter(
        phase_of(sent[(c["channel"], seq)])
        for c in clients
        for seq, received in c["events"]
        if (c["channel"], seq) in sent and received - sent[(c["channel"], seq)] > 5.0
    )
    slowest = sorted(votes, key=lambda v: v["start"] - v["end"])[:5]
    return {
        "writes": len(votes),
        "write_errors": len(errors),
        "write_errors_by_phase": dict(error_kinds),
        "slowest_writes": [
            f"{phase_of(v['start'])}:{v['status']}:{v['end'] - v['start']:.2f}s" for v in slowest
        ],
        "events_late_by_phase": dict(slow_events),
        "writes_refused_during_postgres_restart": len(refused),
        "write_p99_ms": round(pct(sorted(v["end"] - v["start"] for v in votes), 99) * 1000, 1),
        "redis_freeze_writes": len(freeze),
        "redis_freeze_write_max_ms": round(max(freeze, default=0) * 1000, 1),
        "web_terminated_errors": len(web_term),
        "events": len(sent),
        "receipts": len(latencies),
        "events_lost": lost,
        "events_duplicated": duplicated,
        "events_late_over_5s": late,
        "event_p50_ms": round(pct(latencies, 50) * 1000, 1),
        "event_p99_ms": round(pct(latencies, 99) * 1000, 1),
        "event_max_ms": round(max(latencies, default=float("nan")) * 1000, 1),
        "live_reconnects": len(reconnects),
        "live_reconnect_max_s": round(max(reconnects, default=0.0), 2),
        "clients_not_back": never_back,
        "mail_queued": len(mail.queued),
        "mail_delivered": len(copies),
        "mail_lost": len(set(mail.queued) - set(copies)),
        "mail_failed": statuses.get("failed", 0),
        "mail_repeated_same_id": sum(n - 1 for r, n in copies.items() if len(ids[r]) == 1),
        "mail_duplicated_other_id": sum(len(s) - 1 for s in ids.values()),
    }


def report(figures: dict[str, Any]) -> None:
    print()
    print(f"{'figure':<40}{'measured':>12}  target")
    for name, value in figures.items():
        if name.startswith("setting_"):
            continue
        target = TARGETS.get(name)
        mark = ""
        if target is not None and isinstance(value, int | float):
            ok = value <= target
            mark = f"<= {target}  {'ok' if ok else 'MISSED'}"
        print(f"{name:<40}{value!s:>12}  {mark}")
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
