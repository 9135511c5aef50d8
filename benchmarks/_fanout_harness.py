"""The parts of the board fan-out benchmark (`board_fanout.py`): the roles it runs as
subprocesses (the product's web process, the bare floor, the WebSocket clients), sending votes at
a steady rate, measuring receipts, and setting up the product's boards and voters."""

from __future__ import annotations

import argparse
import asyncio
import json
import secrets
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

#: The script every role runs as (`--role ...`).
SCRIPT = Path(__file__).resolve().parent / "board_fanout.py"

SECRET = "benchmark-secret-key-not-for-production"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_port(port: int, timeout: float = 180) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listens on {port}")


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


def config(
    instance: Path, database_url: str, redis_url: str = "", live_port: int = 0
) -> dict[str, Any]:
    return {
        "instance_path": instance,
        "database_url": database_url,
        "secret_key": SECRET,
        "redis_url": redis_url,
        "live_port": live_port,
        "base_url": "http://127.0.0.1:5000",
        "serve_worker": False,
        # Every simulated client is the same facilitator: lift the per-person cap.
        "live_connections_per_person": 100000,
    }


# --- roles run as subprocesses ----------------------------------------------------------------


def role_web(args: argparse.Namespace) -> None:
    """The product's web process as `companion serve` runs it (waitress), with the live server
    in a thread when asked; no worker."""
    import logging

    from companion.app import create_app
    from companion.cli import serve_app

    app = create_app(
        config(Path(args.instance), args.database_url, args.redis_url, live_port=args.live_port)
    )
    logging.getLogger().setLevel(logging.WARNING)
    serve_app(app, "127.0.0.1", args.port, worker=False, threads=args.threads)


def role_baseline(args: argparse.Namespace) -> None:
    """The floor: a bare websockets server; a bare WSGI POST on waitress triggers broadcast().

    With `--redis-url` it takes the product's shape through Redis instead: `--floor-part http`
    is only the bare WSGI app, publishing each frame on a Redis channel; `--floor-part ws` is
    only a bare websockets server subscribed to it (run two for two live processes).
    """
    import logging

    from waitress.server import create_server
    from websockets.asyncio.server import broadcast, serve

    logging.getLogger().setLevel(logging.WARNING)
    subscribers: dict[str, set[Any]] = {}
    loop_holder: list[asyncio.AbstractEventLoop] = []
    ready = threading.Event()

    async def handler(ws: Any) -> None:
        message = json.loads(await ws.recv())
        channel = message["channel"]
        subscribers.setdefault(channel, set()).add(ws)
        await ws.send(json.dumps({"type": "subscribed", "channel": channel, "seq": 0}))
        try:
            await ws.wait_closed()
        finally:
            subscribers[channel].discard(ws)

    async def main() -> None:
        loop_holder.append(asyncio.get_running_loop())
        async with serve(handler, "127.0.0.1", args.live_port, compression=None):
            ready.set()
            await asyncio.Future()

    def push(frame: str) -> None:
        channel = json.loads(frame)["channel"]
        targets = subscribers.get(channel, set())
        loop_holder[0].call_soon_threadsafe(broadcast, set(targets), frame)

    part = getattr(args, "floor_part", "")
    if part != "http":
        threading.Thread(target=lambda: asyncio.run(main()), daemon=True).start()
        ready.wait()
    if part == "ws":
        import redis

        pubsub = redis.Redis.from_url(args.redis_url).pubsub(ignore_subscribe_messages=True)
        pubsub.subscribe("floor")
        for item in pubsub.listen():
            push(item["data"].decode())
        return
    publisher = None
    if part == "http":
        import redis

        publisher = redis.Redis.from_url(args.redis_url)

    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length)
        message = json.loads(body)
        frame = json.dumps(message, separators=(",", ":"), ensure_ascii=False)
        if publisher is not None:
            publisher.publish("floor", frame)
        else:
            push(frame)
        start_response("200 OK", [("Content-Type", "application/json")])
        return [b'{"ok":true}']

    create_server(
        app, host="127.0.0.1", port=args.port, threads=args.threads, asyncore_use_poll=True
    ).run()


def role_clients(args: argparse.Namespace) -> None:
    """Open the listed connections, say ready, record receipts until stdin says stop."""
    from websockets.asyncio.client import connect

    plan = json.loads(Path(args.plan).read_text())
    received: list[list[Any]] = [[] for _ in plan]

    async def one(
        index: int, spec: dict[str, Any], opened: asyncio.Event, count: list[int]
    ) -> None:
        # Thousands of handshakes on a busy machine: one may time out or be refused. Try again
        # (from the last event received) rather than leave the run waiting for it.
        mine = received[index]
        counted = False
        for attempt in range(20):
            since = mine[-1][0] if mine else spec["since"]
            try:
                async with connect(
                    spec["url"], compression=None, open_timeout=60, max_queue=None
                ) as ws:
                    if spec["token"]:
                        await ws.send(json.dumps({"type": "auth", "token": spec["token"]}))
                        await ws.recv()
                        subscribe = {
                            "type": "subscribe",
                            "channel": spec["channel"],
                            "since": since,
                        }
                        await ws.send(json.dumps(subscribe))
                    else:
                        await ws.send(json.dumps({"type": "subscribe", "channel": spec["channel"]}))
                    while json.loads(await ws.recv())["type"] != "subscribed":
                        pass
                    if not counted:
                        counted = True
                        count[0] += 1
                        if count[0] == len(plan):
                            opened.set()
                    async for raw in ws:
                        now = time.monotonic()
                        message = json.loads(raw)
                        if message.get("type") == "event":
                            mine.append((message["seq"], now))
                return
            except asyncio.CancelledError:
                raise
            except Exception:
                await asyncio.sleep(0.5 + attempt * 0.5)

    async def main() -> None:
        opened = asyncio.Event()
        count = [0]
        tasks = []
        for index, spec in enumerate(plan):
            tasks.append(asyncio.create_task(one(index, spec, opened, count)))
            if index % 50 == 49:
                await asyncio.sleep(0.01)  # do not open hundreds of handshakes at once
        await opened.wait()
        print("ready", flush=True)
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(None, sys.stdin.readline)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    asyncio.run(main())
    Path(args.out).write_text(
        json.dumps(
            [{"channel": s["channel"], "got": r} for s, r in zip(plan, received, strict=True)]
        )
    )


# --- the orchestration --------------------------------------------------------------------------


def spawn(role: str, *extra: str, stdin: Any = None, stdout: Any = None) -> subprocess.Popen[str]:
    command = [sys.executable, str(SCRIPT), "--role", role, *extra]
    return subprocess.Popen(command, stdin=stdin, stdout=stdout, text=True, cwd=str(ROOT))


def run_clients(
    plans: list[list[dict[str, Any]]], workdir: Path, tag: str
) -> list[subprocess.Popen[str]]:
    workers = []
    for index, plan in enumerate(plans):
        plan_file = workdir / f"{tag}-plan-{index}.json"
        plan_file.write_text(json.dumps(plan))
        out = workdir / f"{tag}-out-{index}.json"
        workers.append(
            spawn(
                "clients",
                "--plan",
                str(plan_file),
                "--out",
                str(out),
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
            )
        )
    for worker in workers:
        assert worker.stdout is not None
        line = worker.stdout.readline()
        if not line.startswith("ready"):
            raise RuntimeError(f"a client process failed to connect ({line!r})")
    return workers


def stop_clients(
    workers: list[subprocess.Popen[str]], workdir: Path, tag: str
) -> list[dict[str, Any]]:
    results: list[dict[str, Any]] = []
    for worker in workers:
        assert worker.stdin is not None
        worker.stdin.write("stop\n")
        worker.stdin.flush()
    for index, worker in enumerate(workers):
        worker.wait(timeout=60)
        results += json.loads((workdir / f"{tag}-out-{index}.json").read_text())
    return results


def send_votes(
    rate: float, seconds: float, post: Any, threads: int = 8
) -> tuple[dict[tuple[str, int], float], list[float]]:
    """Call `post(i) -> (channel, seq)` at `rate` per second; returns the request start times
    and the requests' round-trip times (ms)."""
    total = int(rate * seconds)
    sent: dict[tuple[str, int], float] = {}
    round_trips: list[float] = []
    lock = threading.Lock()
    counter = iter(range(total))
    start = time.monotonic() + 0.2

    def worker() -> None:
        while True:
            with lock:
                index = next(counter, None)
            if index is None:
                return
            delay = start + index / rate - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            began = time.monotonic()
            key = post(index)
            ended = time.monotonic()
            with lock:
                sent[key] = began
                round_trips.append((ended - began) * 1000)

    pool = [threading.Thread(target=worker) for _ in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    return sent, round_trips


def measure(
    results: list[dict[str, Any]], sent: dict[tuple[str, int], float], round_trips: list[float]
) -> dict[str, Any]:
    latencies: list[float] = []
    lost = duplicated = 0
    expected_by_channel: dict[str, set[int]] = {}
    for channel, seq in sent:
        expected_by_channel.setdefault(channel, set()).add(seq)
    for connection in results:
        channel = connection["channel"]
        seqs = [seq for seq, _t in connection["got"]]
        expected = expected_by_channel.get(channel, set())
        duplicated += len(seqs) - len(set(seqs))
        lost += len(expected - set(seqs))
        for seq, received in connection["got"]:
            began = sent.get((channel, seq))
            if began is not None:
                latencies.append((received - began) * 1000)
    return {
        "receipts": len(latencies),
        "p50_ms": round(percentile(latencies, 50), 2),
        "p95_ms": round(percentile(latencies, 95), 2),
        "p99_ms": round(percentile(latencies, 99), 2),
        "max_ms": round(max(latencies, default=float("nan")), 2),
        "lost": lost,
        "duplicated": duplicated,
        "http_p50_ms": round(percentile(round_trips, 50), 2),
        "http_p99_ms": round(percentile(round_trips, 99), 2),
    }


def setup_product(
    instance: Path, database_url: str, boards: int, voters: int, clients: int
) -> tuple[list[str], list[dict[str, Any]], dict[str, Any]]:
    """Sessions with boards, a topic each and voters with bearer tokens; a live token for each
    of the `clients` (spread over the boards' channels)."""
    from datetime import timedelta

    from sqlalchemy import select

    from companion.accounts.identity import Actor, participant_token
    from companion.accounts.operations import create_facilitator, create_organisation
    from companion.app import create_app
    from companion.board.access import board_for_session, channel_of
    from companion.board.models import Topic
    from companion.board.schemas import TopicIn
    from companion.board.topics import propose_topic
    from companion.core.db import create_missing_schema, get_database, upgrade_database, utcnow
    from companion.core.live import issue_live_token
    from companion.programmes.models import Membership, Participant
    from companion.programmes.operations import create_group, create_programme
    from companion.programmes.schemas import GroupIn, ProgrammeIn
    from companion.sessions.join_links import join_link_for
    from companion.sessions.models import Session

    app = create_app(config(instance, database_url))
    database = get_database(app)
    upgrade_database(database)
    create_missing_schema(database)
    channels: list[str] = []
    grants: list[dict[str, Any]] = []
    with app.app_context(), database.session() as db:
        organisation = create_organisation(db, "Benchmark")
        # A fresh account per run, so a PostgreSQL database can be reused between runs.
        email = f"bench-{secrets.token_hex(4)}@example.org"
        facilitator = create_facilitator(
            db, organisation, email=email, name="Bench", password="x" * 12
        )
        programme = create_programme(db, facilitator, ProgrammeIn(name="Bench", timezone="UTC"))
        group = create_group(db, programme, GroupIn(name="Group"))
        people = []
        for index in range(voters):
            person = Participant(
                programme=programme, name=f"Voter {index}", email=f"v{index}@example.fi"
            )
            db.add(person)
            db.add(Membership(group=group, participant=person))
            people.append(person)
        db.flush()
        for index in range(boards):
            session = Session(
                group=group, title=f"Board {index}", starts_at=utcnow() + timedelta(hours=1)
            )
            db.add(session)
            db.flush()
            board = board_for_session(db, session)
            propose_topic(db, board, Actor(facilitator=facilitator), TopicIn(title="Pricing"))
            # Enough votes that every request is accepted (after the propose, which reloads).
            board.vote_budget = board.votes_per_topic = 1_000_000
            channels.append(channel_of(board))
        db.commit()
        for person in people:
            grants.append({"token": participant_token(person, join_link_for(db, person))})
        db.commit()
        topics = {channel_of(t.board): t.id for t in db.scalars(select(Topic)).all()}
        # A live token opens one connection: one per client of each channel.
        per_channel = -(-clients // len(channels)) if channels else 0
        tokens = {
            c: [
                issue_live_token(db, Actor(facilitator=facilitator), [c])
                for _ in range(per_channel)
            ]
            for c in channels
        }
    for grant in grants:
        grant["topics"] = topics
    return channels, grants, {"tokens": tokens}  # type: ignore[return-value]
