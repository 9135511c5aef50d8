"""Digest delivery: 1,000 personalised digests rendered and delivered through the worker, against
the same messages sent with bare smtplib, in the same run, to the same local aiosmtpd server.

Product side: a programme with one group of N participants (default 1,000) in 100 breakout
groups, with plenary and breakout notes, board topics, action items and contacts. The worker
runs as `companion serve` runs it: `Worker.run_forever` in a thread of this process (its job
loop, plus its mail loop in a thread of its own). The session is ended and its reviewed summary
released (`end_session`, then `release_summary`, which enqueues the digest job, as "Send the
summary" does); the job loop reads everything, renders HTML +
text + .ics per person and commits the outbox a chunk at a time, while the mail loop delivers
each committed chunk over one SMTP connection, marking each message sent right after the
server accepted it. Timed from the end of the session until the server accepted the last
digest.

Baseline: the very same bytes (every message as the worker built it, built before timing),
sent with `smtplib.SMTP.sendmail` over one connection, nothing else. The SMTP server (aiosmtpd)
runs in its own process and logs, for every accepted message, the recipient, Message-ID, a
SHA-256 of the content and the time; lost and duplicated messages are counted from what it
really received, and `same_bytes` checks that both sides delivered identical messages.

    python benchmarks/digest.py                         # 1,000 digests, SQLite
    python benchmarks/digest.py --messages 200
    python benchmarks/digest.py --database-url postgresql://user@127.0.0.1:5432/bench

The last line is one JSON object (messages, seconds, baseline_seconds, ratio, lost, duplicates,
job_seconds, first_sent_seconds, same_bytes, ...).
"""

from __future__ import annotations

import argparse
import json
import shutil
import smtplib
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SECRET = "benchmark-secret-key-not-for-production"
GROUP_SIZE = 10


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_port(port: int, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listens on {port}")


# --- the SMTP server, in its own process ---------------------------------------------------


def serve_smtp(port: int, log_path: str) -> None:
    """Accept everything; log "<recipient> <message-id> <sha256> <time>" per accepted message."""
    import email
    import hashlib
    import signal
    import threading

    from aiosmtpd.controller import Controller

    lock = threading.Lock()
    log = open(log_path, "a", buffering=1)  # noqa: SIM115 - lives as long as the process

    class Handler:
        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
            content = bytes(envelope.content)
            # Only the headers are parsed: enough to identify the message, cheap per message.
            headers = email.message_from_bytes(content.split(b"\r\n\r\n", 1)[0] + b"\r\n\r\n")
            digest = hashlib.sha256(content).hexdigest()[:16]
            with lock:
                for recipient in envelope.rcpt_tos:
                    log.write(f"{recipient} {headers['Message-ID']} {digest} {time.time():.6f}\n")
            return "250 Message accepted for delivery"

    controller = Controller(Handler(), hostname="127.0.0.1", port=port)
    controller.start()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    stop.wait()
    controller.stop()


@dataclass(frozen=True)
class Accepted:
    """One message the server accepted."""

    recipient: str
    message_id: str
    sha256: str
    at: float


class SmtpProcess:
    """The aiosmtpd server process and its log of accepted messages."""

    def __init__(self, folder: Path) -> None:
        self.port = free_port()
        self.folder = folder
        self.log = folder / "smtp-product.log"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, name: str) -> None:
        self.log = self.folder / f"smtp-{name}.log"
        self.log.write_text("")
        self.process = subprocess.Popen(
            [sys.executable, __file__, "--serve-smtp", str(self.port), str(self.log)]
        )
        wait_port(self.port)

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=30)
            self.process = None

    def received(self) -> list[Accepted]:
        lines = self.log.read_text().splitlines()
        found = []
        for line in lines:
            parts = line.split(" ")
            if len(parts) == 4:  # a line being written has fewer parts yet
                found.append(Accepted(parts[0], parts[1], parts[2], float(parts[3])))
        return found

    def wait_for(self, count: int, timeout: float = 600) -> list[Accepted]:
        """Wait until `count` messages were accepted, checking cheaply (counting lines in C):
        parsing the log on every check would take the interpreter from the worker beside."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.log.read_bytes().count(b"\n") >= count:
                return self.received()
            time.sleep(0.1)
        raise RuntimeError(f"only {len(self.received())} of {count} messages arrived")


# --- the data ------------------------------------------------------------------------------


def build_world(app: Any, participants: int) -> tuple[int, dict[int, set[int]]]:
    """A programme, one group of `participants`, a held session full of material, a next one."""
    from datetime import timedelta

    from companion.accounts.identity import Actor
    from companion.accounts.operations import create_facilitator, create_organisation
    from companion.board.models import Board, Topic, Vote
    from companion.contacts.models import ContactStatus, FollowUpContact, ParticipantPreferences
    from companion.core.db import get_database, utcnow
    from companion.meetings.operations import ensure_session_room
    from companion.notes.access import ensure_space
    from companion.notes.action_items import add_action
    from companion.notes.note_items import add_item
    from companion.notes.schemas import ActionIn, NoteItemIn, SummaryIn
    from companion.notes.sharing import share_space
    from companion.notes.summary import save_summary
    from companion.programmes.models import Membership, Participant
    from companion.programmes.operations import create_group, create_programme
    from companion.programmes.schemas import GroupIn, ProgrammeIn
    from companion.sessions.attendance import record_join
    from companion.sessions.join_links import join_link_for
    from companion.sessions.models import AgendaItem, Session

    groups: dict[int, set[int]] = {}
    with app.app_context(), get_database(app).session() as db:
        organisation = create_organisation(db, "Varsinais-Suomen Yrittäjät")
        facilitator = create_facilitator(
            db, organisation, email="fia@example.org", name="Fia", password="x" * 12
        )
        programme = create_programme(
            db, facilitator, ProgrammeIn(name="eKollega", timezone="Europe/Helsinki", language="fi")
        )
        group = create_group(db, programme, GroupIn(name="Ryhmä 1"))
        people = []
        for number in range(participants):
            person = Participant(
                programme=programme,
                name=f"Yrittäjä {number:04d}",
                email=f"yrittaja{number:04d}@example.fi",
                company=f"Yritys {number} Oy",
                language="fi" if number % 3 else "en",
            )
            db.add(person)
            db.add(Membership(group=group, participant=person))
            people.append(person)
        now = utcnow()
        session = Session(
            group=group,
            title="Tapaaminen 1",
            starts_at=now - timedelta(hours=2),
            duration_minutes=120,
        )
        upcoming = Session(
            group=group,
            title="Tapaaminen 2",
            starts_at=now + timedelta(days=21),
            duration_minutes=120,
        )
        db.add_all([session, upcoming])
        db.flush()
        upcoming.agenda.append(AgendaItem(position=0, title="Asiantuntijatietoisku: ajanhallinta"))
        ensure_session_room(db, session)
        ensure_session_room(db, upcoming)
        for index, person in enumerate(people):
            join_link_for(db, person)  # everyone was invited, so everyone has a join link
            groups.setdefault(1000 + index // GROUP_SIZE, set()).add(person.id)
            if index % 5:
                record_join(db, session.id, person.id)
            db.add(
                ParticipantPreferences(
                    participant_id=person.id,
                    share_email=True,
                    phone="040 123 4567",
                    share_phone=bool(index % 2),
                )
            )
        db.commit()

        # Notes are written through the operations, as the API would.
        import companion.notes.membership as membership

        membership.group_members_of = lambda _db, _s, gid: groups.get(gid, set())  # type: ignore[assignment]
        actor = Actor(facilitator=facilitator)
        plenary = ensure_space(db, session)
        for line in range(5):
            add_item(db, actor, plenary, NoteItemIn(body=f"Koko ryhmä: **havainto {line}**"))
        for gid, members in groups.items():
            space = ensure_space(db, session, gid)
            member_actor = Actor(participant=db.get(Participant, min(members)))
            for line in range(3):
                add_item(
                    db,
                    member_actor,
                    space,
                    NoteItemIn(body=f"Ryhmä {gid}: idea {line} – *hinnoittelu*"),
                )
            save_summary(
                db,
                member_actor,
                space,
                SummaryIn(text=f"Ryhmä {gid} sopi:\n- kokeillaan", base_revision=0),
            )
            for member in sorted(members)[:5]:
                add_action(
                    db,
                    member_actor,
                    space,
                    ActionIn(text=f"Soita asiakkaalle {member}", owner_id=member),
                )
            if gid % 10 == 0:
                share_space(db, member_actor, space, True)
        board = Board(session_id=session.id, breakout_key="")
        db.add(board)
        db.flush()
        for number, title in enumerate(("Hinnoittelu", "Markkinointi", "Jaksaminen", "Verotus")):
            topic = Topic(board_id=board.id, title=title, author="f:1", column="done")
            db.add(topic)
            db.flush()
            db.add(Vote(topic_id=topic.id, voter="p:1", count=number + 1))
        for index in range(0, len(people) - 1, 2):
            db.add(
                FollowUpContact(
                    programme_id=programme.id,
                    session_id=session.id,
                    requester_id=people[index].id,
                    recipient_id=people[index + 1].id,
                    kind="lunch" if index % 4 else "sparring",
                    status=ContactStatus.ACCEPTED if index % 3 else ContactStatus.PENDING,
                    responded_at=now if index % 3 else None,
                )
            )
        db.commit()
        return session.id, groups


# --- the two runs ----------------------------------------------------------------------------


def product_run(app: Any, session_id: int, smtp: SmtpProcess, expected: int) -> dict[str, Any]:
    """End the session with the worker running as in `serve`; wait for every digest."""
    from sqlalchemy import select

    from companion.core.db import get_database
    from companion.core.jobs import Job, Worker
    from companion.core.mail import SmtpTransport
    from companion.digest.operations import release_summary
    from companion.sessions.models import Session
    from companion.sessions.operations import end_session

    app.extensions["companion.mail_transport"] = SmtpTransport(f"smtp://127.0.0.1:{smtp.port}")
    database = get_database(app)
    worker = Worker(app)
    # As `serve_app` runs it: the worker in a thread (which starts its own mail thread).
    thread = threading.Thread(target=worker.run_forever, name="worker", daemon=True)
    thread.start()
    time.sleep(0.5)  # let it make its first (empty) passes, as a long-running worker has
    try:
        started = time.time()
        with app.app_context(), database.session() as db:
            session = db.get(Session, session_id)
            assert session is not None
            end_session(db, session, by="facilitator")
            release_summary(db, session)
            db.commit()
        received = smtp.wait_for(expected)
    finally:
        worker.stop()
        thread.join(timeout=60)
    with database.session() as db:
        job = db.scalar(select(Job).where(Job.kind == "digest.send"))
        assert job is not None and job.status == "done" and job.claimed_at and job.finished_at
    finished = max(r.at for r in received)
    return {
        "seconds": finished - started,
        "job_started_seconds": job.claimed_at.timestamp() - started,
        "job_seconds": (job.finished_at - job.claimed_at).total_seconds(),
        "first_sent_seconds": min(r.at for r in received) - started,
        "after_job_seconds": finished - job.finished_at.timestamp(),
        "sent_during_job": sum(r.at <= job.finished_at.timestamp() for r in received),
    }


def outbox_envelopes(app: Any) -> list[tuple[str, str, bytes]]:
    """(sender, recipient, bytes) of every digest, exactly as the worker built and sent it."""
    from sqlalchemy import select

    from companion.core.db import get_database
    from companion.core.mail import OutboxMessage, prepare

    config = app.extensions["companion.config"]
    with get_database(app).session() as db:
        rows = db.scalars(
            select(OutboxMessage).where(OutboxMessage.kind == "digest").order_by(OutboxMessage.id)
        )
        prepared = [prepare(row, config) for row in rows]
    return [(p.sender, p.recipient, p.raw) for p in prepared]


def baseline_run(envelopes: list[tuple[str, str, bytes]], smtp: SmtpProcess) -> float:
    """The same bytes with bare smtplib (`sendmail`) over one connection."""
    started = time.perf_counter()
    with smtplib.SMTP("127.0.0.1", smtp.port) as client:
        for sender, recipient, raw in envelopes:
            client.sendmail(sender, [recipient], raw)
    return time.perf_counter() - started


def count(received: list[Accepted], expected: set[str]) -> tuple[int, int]:
    """(lost, duplicates): expected recipients who got nothing, and copies beyond one each."""
    per_recipient = Counter(r.recipient for r in received)
    lost = len(expected - set(per_recipient))
    # Every accepted message beyond one per recipient, whatever its Message-ID.
    duplicates = len(received) - len(per_recipient)
    return lost, duplicates


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=1000)
    parser.add_argument("--database-url", default="")
    parser.add_argument("--keep-folder", action="store_true", help="keep the database and logs")
    parser.add_argument("--serve-smtp", nargs=2, metavar=("PORT", "LOG"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_smtp:
        serve_smtp(int(args.serve_smtp[0]), args.serve_smtp[1])
        return

    import logging

    logging.basicConfig(level=logging.WARNING)
    from companion.app import create_app
    from companion.core.db import create_missing_schema, get_database, upgrade_database

    folder = Path(tempfile.mkdtemp(prefix="kollega-digest-bench-"))
    database_url = args.database_url or f"sqlite:///{folder / 'bench.sqlite'}"
    if database_url.startswith("postgresql"):
        from sqlalchemy import text

        from companion.core.db import Database

        reset = Database(database_url.replace("postgresql://", "postgresql+psycopg://", 1))
        with reset.engine.begin() as connection:
            connection.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
            connection.execute(text("CREATE SCHEMA public"))
        reset.dispose()
    app = create_app(
        {
            "instance_path": folder,
            "database_url": database_url,
            "secret_key": SECRET,
            "base_url": "https://kollega.example.fi",
            "live_port": 0,
            "reminder_hours": (),
        }
    )
    database = get_database(app)
    upgrade_database(database)
    create_missing_schema(database)

    print(f"Building {args.messages} participants ...", file=sys.stderr)
    session_id, _groups = build_world(app, args.messages)
    expected = {f"yrittaja{n:04d}@example.fi" for n in range(args.messages)}
    smtp = SmtpProcess(folder)

    smtp.start("product")
    try:
        product = product_run(app, session_id, smtp, len(expected))
        product_received = smtp.received()
    finally:
        smtp.stop()
    envelopes = outbox_envelopes(app)

    smtp.start("baseline")
    try:
        baseline = baseline_run(envelopes, smtp)
        baseline_received = smtp.wait_for(len(envelopes), timeout=60)
    finally:
        smtp.stop()

    lost, duplicates = count(product_received, expected)
    baseline_lost, baseline_duplicates = count(baseline_received, expected)
    same_bytes = Counter((r.recipient, r.sha256) for r in product_received) == Counter(
        (r.recipient, r.sha256) for r in baseline_received
    )
    size = sum(len(raw) for _, _, raw in envelopes) / max(len(envelopes), 1)
    result = {
        "messages": len(expected),
        "seconds": round(product["seconds"], 3),
        "baseline_seconds": round(baseline, 3),
        "ratio": round(product["seconds"] / baseline, 2),
        "lost": lost,
        "duplicates": duplicates,
        "job_started_seconds": round(product["job_started_seconds"], 3),
        "job_seconds": round(product["job_seconds"], 3),
        "first_sent_seconds": round(product["first_sent_seconds"], 3),
        "after_job_seconds": round(product["after_job_seconds"], 3),
        "sent_during_job": product["sent_during_job"],
        "baseline_lost": baseline_lost,
        "baseline_duplicates": baseline_duplicates,
        "same_bytes": same_bytes,
        "mean_message_kib": round(size / 1024, 1),
        "database": database.dialect,
    }
    print(
        f"product:  {result['seconds']:.2f} s for {result['messages']} digests "
        f"(job {result['job_seconds']:.2f} s: read, render, queue; first digest accepted at "
        f"{result['first_sent_seconds']:.2f} s; last {result['after_job_seconds']:.2f} s after "
        f"the job), lost {lost}, duplicates {duplicates}"
    )
    print(
        f"baseline: {result['baseline_seconds']:.2f} s (bare smtplib sendmail, the same bytes: "
        f"{same_bytes})"
    )
    print(f"ratio:    {result['ratio']:.2f}  mean message {result['mean_message_kib']} KiB")
    database.dispose()
    print(json.dumps(result))
    if not args.keep_folder:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
