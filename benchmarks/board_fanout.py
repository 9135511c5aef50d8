"""Board fan-out: latency from a vote's HTTP request to every subscriber's receipt, against a floor.

Product side: the real app on waitress (votes over HTTP, SQLite or PostgreSQL, event log,
bus) and the live server (in the web process with the in-process bus, or `--live-processes 2`
separate `companion live` processes joined by Redis). Floor: a bare `websockets` server whose
`broadcast()` is triggered by a bare HTTP POST to a bare WSGI app on the same waitress, pushing
the same frames to the same clients; with two live processes the floor has the same shape (the
bare WSGI app publishes each frame on Redis, two bare `websockets` processes subscribed to it
broadcast it). Clients run in their own processes. Each side first gets one second of votes
at the same rate that is not measured (`--warmup`): connection pools, compiled statements and
the like, the same for both; `--warmup 0` measures from a cold start.

    python benchmarks/board_fanout.py                      # 1000 clients, 40 boards, 100/s, 10 s
    python benchmarks/board_fanout.py --live-processes 2   # through Redis
    python benchmarks/board_fanout.py --clients 200 --boards 8 --seconds 5

The last line is one JSON object (clients, boards, p50_ms, p99_ms, baseline_p99_ms, ratio_p99,
lost, duplicated, kib_per_connection, ...).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from _fanout_harness import (
    ROOT,
    SECRET,
    free_port,
    measure,
    role_baseline,
    role_clients,
    role_web,
    rss_kib,
    run_clients,
    send_votes,
    setup_product,
    spawn,
    stop_clients,
    wait_port,
)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--clients", type=int, default=1000)
    parser.add_argument("--boards", type=int, default=40)
    parser.add_argument("--rate", type=float, default=100, help="votes per second")
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument(
        "--warmup",
        type=float,
        default=1.0,
        help="seconds of votes at the same rate before measuring, on both sides (0: none)",
    )
    parser.add_argument("--live-processes", type=int, default=1, choices=(1, 2))
    parser.add_argument("--client-processes", type=int, default=2)
    parser.add_argument("--voters", type=int, default=8, help="participants posting votes")
    parser.add_argument("--database-url", default="", help="default: SQLite in a temp folder")
    parser.add_argument("--redis-url", default="", help="default: a redis-server started here")
    parser.add_argument("--role", default="", help=argparse.SUPPRESS)
    for hidden in ("--instance", "--plan", "--out"):
        parser.add_argument(hidden, default="", help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--live-port", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--threads", type=int, default=8, help=argparse.SUPPRESS)
    parser.add_argument("--floor-part", default="", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.role == "web":
        return role_web(args)
    if args.role == "baseline":
        return role_baseline(args)
    if args.role == "clients":
        return role_clients(args)

    import requests

    workdir = Path(tempfile.mkdtemp(prefix="board-fanout-"))
    instance = workdir / "instance"
    database_url = args.database_url or f"sqlite:///{instance / 'bench.sqlite'}"
    processes: list[subprocess.Popen[Any]] = []
    try:
        print(f"setting up {args.boards} boards, {args.clients} clients ...", flush=True)
        channels, voters, extra = setup_product(
            instance, database_url, args.boards, args.voters, args.clients
        )
        tokens = extra["tokens"]
        redis_url = args.redis_url
        if args.live_processes == 2 and not redis_url:
            binary = shutil.which("redis-server")
            if binary is None:
                raise SystemExit("--live-processes 2 needs redis-server or --redis-url")
            redis_port = free_port()
            processes.append(
                subprocess.Popen(
                    [binary, "--port", str(redis_port), "--bind", "127.0.0.1", "--save", ""],
                    stdout=subprocess.DEVNULL,
                )
            )
            wait_port(redis_port)
            redis_url = f"redis://127.0.0.1:{redis_port}/0"

        # --- product ---------------------------------------------------------------------------
        web_port = free_port()
        live_ports = [free_port() for _ in range(args.live_processes)]
        common = ["--instance", str(instance), "--database-url", database_url]
        if args.live_processes == 1:
            web = spawn("web", *common, "--port", str(web_port), "--live-port", str(live_ports[0]))
            live_pids = [web.pid]
            processes.append(web)
        else:
            web = spawn("web", *common, "--redis-url", redis_url, "--port", str(web_port))
            processes.append(web)
            env = {
                **os.environ,
                "COMPANION_DATABASE_URL": database_url,
                "COMPANION_SECRET_KEY": SECRET,
                "COMPANION_REDIS_URL": redis_url,
                "COMPANION_INSTANCE_PATH": str(instance),
            }
            live_pids = []
            for port in live_ports:
                process = subprocess.Popen(
                    [
                        sys.executable,
                        "-c",
                        "from companion.cli import main; main()",
                        "live",
                        "--port",
                        str(port),
                    ],
                    env=env,
                    cwd=str(ROOT),
                    stderr=subprocess.DEVNULL,
                )
                processes.append(process)
                live_pids.append(process.pid)
        wait_port(web_port)
        for port in live_ports:
            wait_port(port)
        time.sleep(0.5)

        def plan_for(urls: list[str], product: bool) -> list[list[dict[str, Any]]]:
            plans: list[list[dict[str, Any]]] = [[] for _ in range(args.client_processes)]
            for index in range(args.clients):
                channel = channels[index % len(channels)]
                spec = {
                    "url": urls[(index // len(channels)) % len(urls)],
                    "channel": channel,
                    "token": tokens[channel][index // len(channels)] if product else "",
                    "since": 1,
                }
                plans[index % args.client_processes].append(spec)
            return plans

        before = sum(rss_kib(pid) for pid in live_pids)
        urls = [f"ws://127.0.0.1:{port}/ws" for port in live_ports]
        workers = run_clients(plan_for(urls, True), workdir, "product")
        time.sleep(1.0)
        after = sum(rss_kib(pid) for pid in live_pids)
        kib_per_connection = round((after - before) / args.clients, 1)

        local = threading.local()

        def http() -> requests.Session:
            # One keep-alive connection per sending thread.
            if not hasattr(local, "session"):
                local.session = requests.Session()
            return local.session

        base = f"http://127.0.0.1:{web_port}/api/v1"
        sample: dict[str, Any] = {}

        def vote(index: int) -> tuple[str, int]:
            channel = channels[index % len(channels)]
            voter = voters[(index // len(channels)) % len(voters)]
            topic = voter["topics"][channel]
            response = http().post(
                f"{base}/topics/{topic}/vote",
                headers={"Authorization": f"Bearer {voter['token']}"},
                timeout=30,
            )
            response.raise_for_status()
            body = response.json()
            # The floor sends the same frames: the vote event's data, as the response echoes it.
            data = {
                k: v for k, v in body.items() if k not in ("seq", "kind") and v not in (None, [])
            }
            sample.setdefault("data", data)
            return channel, int(body["seq"])

        if args.warmup > 0:
            print(f"product: warming up for {args.warmup:g} s (not measured) ...", flush=True)
            send_votes(args.rate, args.warmup, vote)
        print(f"product: {args.rate:g} votes/s for {args.seconds:g} s ...", flush=True)
        sent, round_trips = send_votes(args.rate, args.seconds, vote)
        time.sleep(2.0)
        product = measure(stop_clients(workers, workdir, "product"), sent, round_trips)
        for process in list(processes):
            if process.args and "redis-server" in str(process.args[0]):
                continue
            process.terminate()
            process.wait(timeout=15)
            processes.remove(process)

        # --- baseline --------------------------------------------------------------------------
        web_port = free_port()
        if args.live_processes == 1:
            live_ports = [free_port()]
            floor = [spawn("baseline", "--port", str(web_port), "--live-port", str(live_ports[0]))]
            processes += floor
            wait_port(web_port)
            floor_ws = floor
        else:
            # The product's shape without the product: a bare WSGI app publishes each frame on
            # Redis, two bare websockets processes subscribed to it broadcast it.
            live_ports = [free_port() for _ in range(args.live_processes)]
            common = ["--redis-url", redis_url]
            floor_ws = [
                spawn("baseline", *common, "--floor-part", "ws", "--live-port", str(port))
                for port in live_ports
            ]
            http = spawn("baseline", *common, "--floor-part", "http", "--port", str(web_port))
            processes += [*floor_ws, http]
            wait_port(web_port)
        for port in live_ports:
            wait_port(port)
        time.sleep(0.5)
        before = sum(rss_kib(p.pid) for p in floor_ws)
        workers = run_clients(
            plan_for([f"ws://127.0.0.1:{port}/ws" for port in live_ports], False),
            workdir,
            "baseline",
        )
        time.sleep(1.0)
        after = sum(rss_kib(p.pid) for p in floor_ws)
        baseline_kib = round((after - before) / args.clients, 1)
        counters = {channel: 1 for channel in channels}
        counter_lock = threading.Lock()

        def publish(index: int) -> tuple[str, int]:
            channel = channels[index % len(channels)]
            with counter_lock:
                counters[channel] += 1
                seq = counters[channel]
            frame = {"type": "event", "channel": channel, "seq": seq, "kind": "vote.cast", **sample}
            response = http().post(f"http://127.0.0.1:{web_port}/publish", json=frame, timeout=30)
            response.raise_for_status()
            return channel, seq

        if args.warmup > 0:
            print(f"baseline: warming up for {args.warmup:g} s (not measured) ...", flush=True)
            send_votes(args.rate, args.warmup, publish)
        print("baseline: the same rate through a bare websockets server ...", flush=True)
        sent, round_trips = send_votes(args.rate, args.seconds, publish)
        time.sleep(2.0)
        baseline = measure(stop_clients(workers, workdir, "baseline"), sent, round_trips)
    finally:
        for process in processes:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
        shutil.rmtree(workdir, ignore_errors=True)

    ratio = round(product["p99_ms"] / baseline["p99_ms"], 2) if baseline["p99_ms"] else None
    print(
        f"{'':12}{'p50':>9}{'p95':>9}{'p99':>9}{'max':>9}{'lost':>7}{'dup':>6}"
        f"{'http p50':>10}{'http p99':>10}  receipts"
    )
    for name, row in (("product", product), ("baseline", baseline)):
        print(
            f"{name:12}{row['p50_ms']:>9}{row['p95_ms']:>9}{row['p99_ms']:>9}{row['max_ms']:>9}"
            f"{row['lost']:>7}{row['duplicated']:>6}{row['http_p50_ms']:>10}"
            f"{row['http_p99_ms']:>10}  {row['receipts']}"
        )
    print(
        f"ratio p99 {ratio}; live process memory {kib_per_connection} KiB per connection "
        f"(floor {baseline_kib})"
    )
    summary = {
        "clients": args.clients,
        "boards": args.boards,
        "rate": args.rate,
        "seconds": args.seconds,
        "warmup": args.warmup,
        "live_processes": args.live_processes,
        "database": "postgresql" if database_url.startswith("postgres") else "sqlite",
        "p50_ms": product["p50_ms"],
        "p95_ms": product["p95_ms"],
        "p99_ms": product["p99_ms"],
        "max_ms": product["max_ms"],
        "baseline_p50_ms": baseline["p50_ms"],
        "baseline_p95_ms": baseline["p95_ms"],
        "baseline_p99_ms": baseline["p99_ms"],
        "baseline_max_ms": baseline["max_ms"],
        "ratio_p99": ratio,
        "lost": product["lost"],
        "duplicated": product["duplicated"],
        "baseline_lost": baseline["lost"],
        "http_p50_ms": product["http_p50_ms"],
        "http_p99_ms": product["http_p99_ms"],
        "baseline_http_p99_ms": baseline["http_p99_ms"],
        "kib_per_connection": kib_per_connection,
        "baseline_kib_per_connection": baseline_kib,
        "receipts": product["receipts"],
    }
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
