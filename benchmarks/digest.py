"""Digest delivery: 1,000 personalised digests rendered and delivered through the worker, against
the same messages sent with bare smtplib, in the same run, to the same local aiosmtpd server.

Product side: a programme with one group of N participants (default 1,000) in 100 breakout
groups, with plenary and breakout notes, board topics, action items and contacts; the session
is ended (`end_session`, which enqueues the digest job), and the worker (`Worker.run_once`,
in this process) runs the job (read, render HTML + text + .ics per person, queue in the outbox)
and delivers the outbox over one SMTP connection per batch. Timed from the end of the session
until the last message is accepted by the server.

Baseline: the very same MIME messages (as the outbox built them), sent with `smtplib` over one
connection, nothing else. The SMTP server (aiosmtpd) runs in its own process and records the
recipient and Message-ID of every accepted message, so lost and duplicated messages are counted
from what it really received.

    python benchmarks/digest.py                         # 1,000 digests, SQLite
    python benchmarks/digest.py --messages 200
    python benchmarks/digest.py --database-url postgresql://user@127.0.0.1:5432/bench

The last line is one JSON object (messages, seconds, baseline_seconds, ratio, lost, duplicates,
job_seconds, delivery_seconds, ...).
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
import time
from collections import Counter
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
    """Accept everything; write "<recipient> <message-id>" per accepted message to the log."""
    import email
    import signal
    import threading

    from aiosmtpd.controller import Controller

    lock = threading.Lock()
    log = open(log_path, "a", buffering=1)  # noqa: SIM115 - lives as long as the process

    class Handler:
        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
            # Only the headers are parsed: enough to identify the message, cheap per message.
            headers = email.message_from_bytes(
                bytes(envelope.content).split(b"\r\n\r\n", 1)[0] + b"\r\n\r\n"
            )
            with lock:
                for recipient in envelope.rcpt_tos:
                    log.write(f"{recipient} {headers['Message-ID']}\n")
            return "250 Message accepted for delivery"

    controller = Controller(Handler(), hostname="127.0.0.1", port=port)
    controller.start()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    stop.wait()
    controller.stop()


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

    def received(self) -> list[tuple[str, str]]:
        lines = self.log.read_text().splitlines()
        return [tuple(line.split(" ", 1)) for line in lines if line]  # type: ignore[misc]

    def wait_for(self, count: int, timeout: float = 600) -> None:
        deadline = time.monotonic() + timeout
        while len(self.received()) < count and time.monotonic() < deadline:
            time.sleep(0.02)


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
    from companion.notes import operations as notes
    from companion.notes.schemas import ActionIn, NoteItemIn, SummaryIn
    from companion.programmes.models import Membership, Participant
    from companion.programmes.operations import create_group, create_programme
    from companion.programmes.schemas import GroupIn, ProgrammeIn
    from companion.sessions.models import AgendaItem, Attendance, Session
    from companion.sessions.operations import join_link_for

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
                db.add(Attendance(session_id=session.id, participant_id=person.id))
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
        plenary = notes.ensure_space(db, session)
        for line in range(5):
            notes.add_item(db, actor, plenary, NoteItemIn(body=f"Koko ryhmä: **havainto {line}**"))
        for gid, members in groups.items():
            space = notes.ensure_space(db, session, gid)
            member_actor = Actor(participant=db.get(Participant, min(members)))
            for line in range(3):
                notes.add_item(
                    db,
                    member_actor,
                    space,
                    NoteItemIn(body=f"Ryhmä {gid}: idea {line} – *hinnoittelu*"),
                )
            notes.save_summary(
                db,
                member_actor,
                space,
                SummaryIn(text=f"Ryhmä {gid} sopi:\n- kokeillaan", base_revision=0),
            )
            for member in sorted(members)[:5]:
                notes.add_action(
                    db,
                    member_actor,
                    space,
                    ActionIn(text=f"Soita asiakkaalle {member}", owner_id=member),
                )
            if gid % 10 == 0:
                notes.share_space(db, member_actor, space, True)
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
    """End the session; run the worker until every digest is accepted by the server."""
    from sqlalchemy import func, select

    from companion.core.db import get_database
    from companion.core.jobs import Job, Worker
    from companion.core.mail import OutboxMessage, SmtpTransport
    from companion.sessions.models import Session
    from companion.sessions.operations import end_session

    app.extensions["companion.mail_transport"] = SmtpTransport(f"smtp://127.0.0.1:{smtp.port}")
    database = get_database(app)
    worker = Worker(app)
    started = time.perf_counter()
    with app.app_context(), database.session() as db:
        session = db.get(Session, session_id)
        assert session is not None
        end_session(db, session)
        db.commit()
    while True:
        worker.run_once()
        with database.session() as db:
            job = db.scalar(select(Job).where(Job.kind == "digest.send"))
            left = db.scalar(
                select(func.count())
                .select_from(OutboxMessage)
                .where(OutboxMessage.kind == "digest", OutboxMessage.status != "sent")
            )
            if job is not None and job.status == "done" and left == 0:
                # The worker's own timestamps split the run: the job (read, render, queue),
                # then delivery until the last message was accepted.
                last_sent = db.scalar(select(func.max(OutboxMessage.sent_at)))
                assert job.claimed_at and job.finished_at and last_sent
                job_seconds = (job.finished_at - job.claimed_at).total_seconds()
                delivery_seconds = (last_sent - job.finished_at).total_seconds()
                break
    smtp.wait_for(expected, timeout=60)
    return {
        "seconds": time.perf_counter() - started,
        "job_seconds": job_seconds,
        "delivery_seconds": delivery_seconds,
    }


def outbox_messages(app: Any) -> list[Any]:
    """The digests exactly as the worker sent them (MIME messages), for the baseline."""
    from sqlalchemy import select

    from companion.core.db import get_database
    from companion.core.mail import OutboxMessage, build_email

    config = app.extensions["companion.config"]
    with get_database(app).session() as db:
        rows = db.scalars(
            select(OutboxMessage).where(OutboxMessage.kind == "digest").order_by(OutboxMessage.id)
        )
        return [build_email(row, config) for row in rows]


def baseline_run(messages: list[Any], smtp: SmtpProcess) -> float:
    """The same messages with bare smtplib (`send_message`) over one connection."""
    started = time.perf_counter()
    with smtplib.SMTP("127.0.0.1", smtp.port) as client:
        for message in messages:
            client.send_message(message)
    smtp.wait_for(len(messages), timeout=60)
    return time.perf_counter() - started


def count(received: list[tuple[str, str]], expected: set[str]) -> tuple[int, int]:
    """(lost, duplicates): expected recipients who got nothing, and copies beyond one each."""
    per_recipient = Counter(recipient for recipient, _ in received)
    lost = len(expected - set(per_recipient))
    # Every accepted message beyond one per recipient, whatever its Message-ID.
    duplicates = len(received) - len(per_recipient)
    return lost, duplicates


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=1000)
    parser.add_argument("--database-url", default="")
    parser.add_argument(
        "--keep-connection",
        action="store_true",
        help="diagnostic (SQLite): hold one idle connection during the product run",
    )
    parser.add_argument("--keep-folder", action="store_true", help="keep the database and logs")
    parser.add_argument("--serve-smtp", nargs=2, metavar=("PORT", "LOG"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_smtp:
        serve_smtp(int(args.serve_smtp[0]), args.serve_smtp[1])
        return

    import logging

    logging.basicConfig(level=logging.WARNING)
    from companion.app import create_app
    from companion.core.db import Base, get_database, upgrade_database

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
    Base.metadata.create_all(database.engine)

    print(f"Building {args.messages} participants ...", file=sys.stderr)
    session_id, _groups = build_world(app, args.messages)
    expected = {f"yrittaja{n:04d}@example.fi" for n in range(args.messages)}
    smtp = SmtpProcess(folder)

    smtp.start("product")
    # Diagnostic: an idle connection stops SQLite from checkpointing the WAL (with fsync)
    # each time the worker's connection closes after a commit (core.db uses NullPool).
    idle = database.engine.raw_connection() if args.keep_connection else None
    try:
        product = product_run(app, session_id, smtp, len(expected))
        product_received = smtp.received()
    finally:
        smtp.stop()
        if idle is not None:
            idle.close()
    messages = outbox_messages(app)

    smtp.start("baseline")
    try:
        baseline = baseline_run(messages, smtp)
        baseline_received = smtp.received()
    finally:
        smtp.stop()

    lost, duplicates = count(product_received, expected)
    baseline_lost, baseline_duplicates = count(baseline_received, expected)
    size = sum(len(bytes(m)) for m in messages) / max(len(messages), 1)
    result = {
        "messages": len(expected),
        "seconds": round(product["seconds"], 3),
        "baseline_seconds": round(baseline, 3),
        "ratio": round(product["seconds"] / baseline, 2),
        "lost": lost,
        "duplicates": duplicates,
        "job_seconds": round(product["job_seconds"], 3),
        "delivery_seconds": round(product["delivery_seconds"], 3),
        "baseline_lost": baseline_lost,
        "baseline_duplicates": baseline_duplicates,
        "mean_message_kib": round(size / 1024, 1),
        "database": database.dialect,
        "keep_connection": bool(args.keep_connection),
    }
    print(
        f"product:  {result['seconds']:.2f} s for {result['messages']} digests "
        f"(job {result['job_seconds']:.2f} s: read, render, queue; then delivery "
        f"{result['delivery_seconds']:.2f} s), lost {lost}, duplicates {duplicates}"
    )
    print(f"baseline: {result['baseline_seconds']:.2f} s (bare smtplib, same messages)")
    print(f"ratio:    {result['ratio']:.2f}  mean message {result['mean_message_kib']} KiB")
    database.dispose()
    print(json.dumps(result))
    if not args.keep_folder:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
