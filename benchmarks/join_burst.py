"""Join burst: 500 participants open their join links within 10 s, against a bare redirect.

Product: nginx in front of two web processes under gunicorn (`companion.wsgi:app`, one worker
of eight threads each, as `_deployment.py` starts them) on PostgreSQL; each request is a
participant's own `/j/<token>` during the session's join window: the token is checked, the
presence is recorded (one row per person even when a link is opened twice) and the answer is a
303 to the room. Floor, in the same run: the same nginx in front of two gunicorn processes with
the same settings on the same ports, serving a bare WSGI app that answers every request with
the same 303 and does nothing else. Requests come at an even pace from 16 threads, each
request on a new connection as a phone's browser opens it; redirects are not followed.

    python benchmarks/join_burst.py
    python benchmarks/join_burst.py --requests 1000 --seconds 10

The last line is one JSON object: requests, errors, p99_ms, baseline_p99_ms, ratio_p99,
attendance_rows (and p50s and the error counts of both sides).
"""

from __future__ import annotations

import argparse
import json
import sys
import threading
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _deployment import ROOT, Deployment, Service, wait_http

sys.path.insert(0, str(ROOT))

ROOM = "https://meet.jit.si/kollega-benchmark-room"


def bare_redirect(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    """The floor: answer a 303 to the room and nothing else (`/readyz` answers 200)."""
    if environ.get("PATH_INFO") == "/readyz":
        start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "2")])
        return [b"ok"]
    start_response("303 See Other", [("Location", ROOM), ("Content-Length", "0")])
    return [b""]


def setup(deployment: Deployment, people: int) -> tuple[list[str], int]:
    """A programme of `people` participants in one group, a session open now; their links."""
    from datetime import timedelta

    from companion.accounts.operations import create_facilitator, create_organisation
    from companion.app import create_app
    from companion.core.db import get_database, utcnow
    from companion.meetings.operations import ensure_session_room
    from companion.programmes.models import Membership, Participant
    from companion.programmes.operations import create_group, create_programme
    from companion.programmes.schemas import GroupIn, ProgrammeIn
    from companion.sessions.join_links import join_link_for, join_token
    from companion.sessions.models import Session

    app = create_app(deployment.app_settings())
    with app.app_context(), get_database(app).session() as db:
        organisation = create_organisation(db, "Benchmark")
        facilitator = create_facilitator(
            db, organisation, email="bench@example.org", name="Bench", password="x" * 12
        )
        programme = create_programme(db, facilitator, ProgrammeIn(name="Burst", timezone="UTC"))
        group = create_group(db, programme, GroupIn(name="Everyone"))
        persons = []
        for index in range(people):
            person = Participant(
                programme=programme, name=f"Person {index}", email=f"p{index}@example.fi"
            )
            db.add(person)
            db.add(Membership(group=group, participant=person))
            persons.append(person)
        session = Session(
            group=group,
            title="Burst",
            starts_at=utcnow() - timedelta(minutes=5),
            duration_minutes=120,
            platform=programme.platform,
        )
        db.add(session)
        db.flush()
        ensure_session_room(db, session)
        paths = [f"/j/{join_token(join_link_for(db, person))}" for person in persons]
        db.commit()
        return paths, session.id


def attendance_rows(deployment: Deployment, session_id: int) -> int:
    """Rows recorded for the session's join links (one per person, however often opened)."""
    from sqlalchemy import text

    from companion.app import create_app
    from companion.core.db import get_database

    app = create_app(deployment.app_settings())
    with get_database(app).engine.connect() as connection:
        count = connection.execute(
            text("SELECT count(*) FROM presence_report WHERE session_id = :s AND source = 'link'"),
            {"s": session_id},
        ).scalar_one()
    return int(count)


def burst(base_url: str, paths: list[str], seconds: float, threads: int = 16) -> dict[str, Any]:
    """Open each path once at an even pace; each on a new connection; no redirects followed."""
    import requests

    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    counter = iter(range(len(paths)))
    rate = len(paths) / seconds
    start = time.monotonic() + 0.2

    def work() -> None:
        while True:
            with lock:
                index = next(counter, None)
            if index is None:
                return
            delay = start + index / rate - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            began = time.monotonic()
            try:
                answer = requests.get(base_url + paths[index], allow_redirects=False, timeout=30)
                ok = answer.status_code == 303 and answer.headers.get("Location", "").startswith(
                    "https://"
                )
                problem = None if ok else f"HTTP {answer.status_code}"
            except requests.RequestException as exc:
                problem = exc.__class__.__name__
            elapsed = (time.monotonic() - began) * 1000
            with lock:
                latencies.append(elapsed)
                if problem:
                    errors.append(problem)

    pool = [threading.Thread(target=work) for _ in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    latencies.sort()

    def pct(q: float) -> float:
        return round(latencies[min(len(latencies) - 1, int(q / 100 * len(latencies)))], 2)

    return {
        "requests": len(latencies),
        "errors": len(errors),
        "error_kinds": sorted(set(errors)),
        "p50_ms": pct(50),
        "p99_ms": pct(99),
        "max_ms": round(latencies[-1], 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--requests", type=int, default=500)
    parser.add_argument("--seconds", type=float, default=10.0)
    args = parser.parse_args()

    deployment = Deployment(web=2, live=0, workers=0)
    try:
        print("starting PostgreSQL, Redis, nginx and two web processes ...", flush=True)
        deployment.start()
        paths, session_id = setup(deployment, args.requests)
        warm = burst(deployment.base_url, paths[:20], 1.0)  # connection pools, first queries
        print(f"product: {args.requests} join links in {args.seconds:g} s ...", flush=True)
        product = burst(deployment.base_url, paths, args.seconds)
        rows = attendance_rows(deployment, session_id)
        for name in ("web1", "web2"):
            deployment.services[name].stop()
        for index, port in enumerate(deployment.web_ports):
            command = [
                sys.executable, "-m", "gunicorn", "-c", str(ROOT / "deploy" / "gunicorn.conf.py"),
                "--bind", f"127.0.0.1:{port}", "--workers", "1", "--threads", "8",
                "--chdir", str(Path(__file__).resolve().parent), "join_burst:bare_redirect",
            ]  # fmt: skip
            service = Service(
                f"floor{index}", command, deployment.env(), port, deployment.workdir / "floor.log"
            ).start()
            deployment.services[f"floor{index}"] = service
            wait_http(f"http://127.0.0.1:{port}/readyz", process=service.process)
        burst(deployment.base_url, paths[:20], 1.0)
        print("floor: the same through a bare redirect ...", flush=True)
        floor = burst(deployment.base_url, paths, args.seconds)
    finally:
        deployment.close()

    ratio = round(product["p99_ms"] / floor["p99_ms"], 2) if floor["p99_ms"] else None
    print(f"{'':10}{'requests':>10}{'errors':>8}{'p50 ms':>9}{'p99 ms':>9}{'max ms':>9}")
    for name, row in (("product", product), ("floor", floor)):
        print(
            f"{name:10}{row['requests']:>10}{row['errors']:>8}{row['p50_ms']:>9}"
            f"{row['p99_ms']:>9}{row['max_ms']:>9}"
        )
    print(
        f"ratio p99 {ratio}; attendance rows {rows} of {args.requests}; "
        f"warm-up errors {warm['errors']}"
    )
    summary = {
        "requests": product["requests"],
        "errors": product["errors"],
        "p99_ms": product["p99_ms"],
        "baseline_p99_ms": floor["p99_ms"],
        "ratio_p99": ratio,
        "attendance_rows": rows,
        "p50_ms": product["p50_ms"],
        "max_ms": product["max_ms"],
        "baseline_p50_ms": floor["p50_ms"],
        "baseline_errors": floor["errors"],
        "error_kinds": product["error_kinds"],
        "seconds": args.seconds,
    }
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
