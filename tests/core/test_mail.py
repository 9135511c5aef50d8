"""The mail outbox and its delivery through a real SMTP server (aiosmtpd) or to files."""

from __future__ import annotations

import email.policy
import threading
from collections import Counter
from dataclasses import dataclass, field
from email import message_from_bytes
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select, update

from companion.core.db import get_database, reading, utcnow
from companion.core.jobs import Worker
from companion.core.mail import (
    OUTBOX,
    Attachment,
    ConnectionLost,
    FileTransport,
    NewMail,
    OutboxMessage,
    SmtpTransport,
    build_email,
    deliver_due,
    message_bytes,
    message_id,
    queue_mail,
    queue_mails,
    server_status,
)
from tests.services import SmtpHandler, _free_port


def _queue(db, **kwargs) -> OutboxMessage:
    defaults = {
        "to_address": "aino@example.fi",
        "to_name": "Aino Virtanen",
        "subject": "Hei",
        "text_body": "Tervetuloa!",
        "html_body": "<p>Tervetuloa!</p>",
    }
    message = queue_mail(db, **{**defaults, **kwargs})
    db.commit()
    assert message is not None
    return message


def _config(app: Flask):
    return app.extensions["companion.config"]


def test_delivers_to_a_real_smtp_server(app: Flask, db, smtp_server) -> None:
    _queue(
        db,
        attachments=[
            Attachment(
                "kollega.ics",
                "text/calendar; method=PUBLISH",
                "BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n",
            )
        ],
    )
    handled = deliver_due(get_database(app), _config(app), SmtpTransport(smtp_server.url))
    assert handled == 1
    (delivered,) = smtp_server.wait_for(1)
    assert delivered.recipients == ["aino@example.fi"]
    message = delivered.message
    assert message["Subject"] == "Hei"
    assert message["To"] == "Aino Virtanen <aino@example.fi>"
    assert message["Message-ID"].startswith("<outbox-")
    parts = {part.get_content_type() for part in message.walk()}
    assert {"text/plain", "text/html", "text/calendar"} <= parts
    calendar = next(p for p in message.walk() if p.get_content_type() == "text/calendar")
    assert calendar.get_param("method") == "PUBLISH"
    db.rollback()
    row = db.scalar(select(OutboxMessage))
    assert row.status == "sent" and row.sent_at is not None and row.attempts == 1


def test_temporary_failure_is_retried_and_sent_once(app: Flask, db, smtp_server) -> None:
    smtp_server.handler.fail_next = 1  # the first DATA gets "451 try again later"
    _queue(db)
    transport = SmtpTransport(smtp_server.url)
    database = get_database(app)
    deliver_due(database, _config(app), transport, retry_base_seconds=0)
    db.rollback()
    row = db.scalar(select(OutboxMessage))
    assert row.status == "queued"
    assert row.attempts == 1
    assert row.last_error.startswith("451")
    assert smtp_server.messages == []
    deliver_due(database, _config(app), transport, retry_base_seconds=0)
    deliver_due(database, _config(app), transport, retry_base_seconds=0)  # nothing left to do
    assert len(smtp_server.wait_for(1)) == 1
    db.rollback()
    row = db.scalar(select(OutboxMessage))
    assert row.status == "sent" and row.attempts == 2 and row.last_error == ""


def test_backoff_waits_before_the_next_attempt(app: Flask, db, smtp_server) -> None:
    smtp_server.handler.fail_next = 1
    _queue(db)
    database = get_database(app)
    deliver_due(database, _config(app), SmtpTransport(smtp_server.url), retry_base_seconds=3600)
    assert deliver_due(database, _config(app), SmtpTransport(smtp_server.url)) == 0
    assert smtp_server.messages == []


def test_permanent_failure_is_marked_and_not_retried(app: Flask, db, smtp_server) -> None:
    smtp_server.handler.refuse["nobody@example.fi"] = "550 5.1.1 No such user"
    _queue(db, to_address="nobody@example.fi")
    ok = _queue(db, to_address="aino@example.fi")
    database = get_database(app)
    assert deliver_due(database, _config(app), SmtpTransport(smtp_server.url)) == 2
    db.rollback()
    rows = {r.to_address: r for r in db.scalars(select(OutboxMessage))}
    assert rows["nobody@example.fi"].status == "failed"
    assert "550" in rows["nobody@example.fi"].last_error
    assert rows["aino@example.fi"].status == "sent"
    assert [m.recipients for m in smtp_server.wait_for(1)] == [["aino@example.fi"]]
    assert deliver_due(database, _config(app), SmtpTransport(smtp_server.url)) == 0
    assert ok.id != rows["nobody@example.fi"].id


def test_gives_up_after_the_configured_attempts(app: Flask, db, smtp_server) -> None:
    smtp_server.handler.fail_next = 100
    _queue(db)
    database = get_database(app)
    for _ in range(_config(app).mail_max_attempts):
        deliver_due(database, _config(app), SmtpTransport(smtp_server.url), retry_base_seconds=0)
    db.rollback()
    row = db.scalar(select(OutboxMessage))
    assert row.status == "failed"
    assert row.attempts == _config(app).mail_max_attempts


def test_unreachable_server_keeps_messages_queued_without_spending_attempts(app: Flask, db) -> None:
    _queue(db)
    database = get_database(app)
    deliver_due(database, _config(app), SmtpTransport("smtp://127.0.0.1:9"), retry_base_seconds=0)
    db.rollback()
    row = db.scalar(select(OutboxMessage))
    assert row.status == "queued" and row.attempts == 0 and row.claimed_by is None
    status = server_status(db)
    assert status.down and "cannot connect" in status.last_error
    assert status.retry_at is not None and status.retry_at > utcnow()


@pytest.mark.parametrize("smtp_server", ["starttls", "ssl"], indirect=True)
def test_tls_servers(app: Flask, db, smtp_server) -> None:
    _queue(db)
    transport = SmtpTransport(smtp_server.url, ca_file=smtp_server.ca_file)
    assert deliver_due(get_database(app), _config(app), transport) == 1
    assert len(smtp_server.wait_for(1)) == 1


def test_dedupe_key_queues_once(app: Flask, db) -> None:
    first = queue_mail(db, to_address="a@example.fi", subject="x", text_body="y", dedupe_key="k1")
    second = queue_mail(db, to_address="a@example.fi", subject="x", text_body="y", dedupe_key="k1")
    db.commit()
    assert first is not None and second is None
    assert len(db.scalars(select(OutboxMessage)).all()) == 1


def test_without_smtp_messages_become_eml_files(app: Flask, db, tmp_path) -> None:
    message = _queue(db, subject="Tiedostoon")
    transport = FileTransport(tmp_path / "outbox")
    assert deliver_due(get_database(app), _config(app), transport) == 1
    files = list((tmp_path / "outbox").glob("*.eml"))
    assert [f.name for f in files] == [f"{message.id:08d}.eml"]
    parsed = message_from_bytes(files[0].read_bytes())
    assert parsed["Subject"] == "Tiedostoon"


def test_worker_delivers_through_the_installed_transport(app: Flask, db, smtp_server) -> None:
    _queue(db)
    app.extensions["companion.mail_transport"] = SmtpTransport(smtp_server.url)
    assert Worker(app).run_once() >= 1
    assert len(smtp_server.wait_for(1)) == 1


# --- the message's bytes ----------------------------------------------------------------------


def _row(db, message_id: int) -> OutboxMessage:
    db.rollback()
    row = db.get(OutboxMessage, message_id)
    assert row is not None
    return row


def test_message_bytes_are_the_same_on_every_attempt_and_parse_back(app: Flask, db) -> None:
    message = _queue(
        db,
        to_name='Yrittäjä Äänekoski, "Oy"',
        subject="Muistiinpanot: kevään tapaaminen – " + "pitkä otsikko " * 8,
        text_body="Hei!\n.piste rivin alussa\n" + "rivi\n" * 3,
    )
    config = _config(app)
    first = message_bytes(message, config)
    assert message_bytes(_row(db, message.id), config) == first  # a retry sends the same bytes
    assert all(len(line) <= 998 for line in first.split(b"\r\n"))
    assert all(len(line) <= 78 for line in first.split(b"\r\n\r\n", 1)[0].split(b"\r\n"))
    parsed = message_from_bytes(first, policy=email.policy.default)
    assert parsed["To"].addresses[0].display_name == 'Yrittäjä Äänekoski, "Oy"'
    assert parsed["To"].addresses[0].addr_spec == "aino@example.fi"
    assert parsed["Subject"] == message.subject
    assert parsed["Message-ID"] == message_id(message, config)
    assert parsed["Auto-Submitted"] == "auto-generated"
    assert parsed.get_body(("plain",)).get_content() == "Hei!\r\n.piste rivin alussa\r\n" + (
        "rivi\r\n" * 3
    )
    assert build_email(message, config)["Message-ID"] == parsed["Message-ID"]


def test_a_line_break_in_a_subject_cannot_add_a_header(app: Flask, db) -> None:
    message = _queue(db, subject="Hei\r\nBcc: someone@example.org", to_name="Aino\nCc: x@y.z")
    parsed = message_from_bytes(message_bytes(message, _config(app)), policy=email.policy.default)
    assert parsed["Bcc"] is None and parsed["Cc"] is None
    assert parsed["Subject"] == "Hei Bcc: someone@example.org"


def test_long_lines_are_quoted_printable_and_others_go_as_they_are(app: Flask, db) -> None:
    html = "<p>" + "ääkköset " * 300 + "</p>\n<p>loppu</p>\n"
    message = _queue(db, text_body="Lyhyt rivi, ääkkösiä.\n", html_body=html)
    raw = message_bytes(message, _config(app))
    parsed = message_from_bytes(raw, policy=email.policy.default)
    text, html_part = parsed.get_body(("plain",)), parsed.get_body(("html",))
    assert text["Content-Transfer-Encoding"] == "8bit"
    assert html_part["Content-Transfer-Encoding"] == "quoted-printable"
    assert html_part.get_content().replace("\r\n", "\n") == html
    assert all(len(line) <= 998 for line in raw.split(b"\r\n"))


def test_a_body_holding_the_boundary_gets_another_boundary(app: Flask, db) -> None:
    message = _queue(db, text_body="x")
    text = f"--=_kollega_a{message.id}_0\n--=_kollega_m{message.id}_0\nstill text\n"
    db.execute(update(OutboxMessage).where(OutboxMessage.id == message.id).values(text_body=text))
    db.commit()
    row = _row(db, message.id)
    row_with_attachment = row
    row_with_attachment.attachments = [
        {"filename": "a.ics", "content_type": "text/calendar", "content": "BEGIN:VCALENDAR"}
    ]
    parsed = message_from_bytes(
        message_bytes(row_with_attachment, _config(app)), policy=email.policy.default
    )
    assert parsed.get_body(("plain",)).get_content().replace("\r\n", "\n") == text
    assert [p.get_content_type() for p in parsed.walk()] == [
        "multipart/mixed",
        "multipart/alternative",
        "text/plain",
        "text/html",
        "text/calendar",
    ]
    db.rollback()


def test_the_eml_file_holds_the_very_bytes_smtp_delivers(
    app: Flask, db, smtp_server, tmp_path
) -> None:
    message = _queue(
        db,
        to_name="Åsa Öhman",
        attachments=[Attachment("kollega.ics", "text/calendar; method=PUBLISH", "BEGIN:X\r\n")],
    )
    database = get_database(app)
    assert deliver_due(database, _config(app), SmtpTransport(smtp_server.url)) == 1
    (delivered,) = smtp_server.wait_for(1)
    db.execute(update(OutboxMessage).values(status="queued"))
    db.commit()
    assert deliver_due(database, _config(app), FileTransport(tmp_path)) == 1
    eml = (tmp_path / f"{message.id:08d}.eml").read_bytes()
    assert eml == delivered.raw == message_bytes(message, _config(app))


# --- queueing many ----------------------------------------------------------------------------


def test_queue_mails_queues_each_dedupe_key_once(app: Flask, db) -> None:
    mails = [
        NewMail(to_address=f"p{n}@example.fi", subject="x", text_body="y", dedupe_key=f"k-{n}")
        for n in range(5)
    ]
    assert queue_mails(db, mails[:3]) == 3
    db.commit()
    assert queue_mails(db, mails) == 2  # a re-run queues only what is missing
    assert queue_mails(db, []) == 0
    db.commit()
    keys = sorted(db.scalars(select(OutboxMessage.dedupe_key)))
    assert keys == [f"k-{n}" for n in range(5)]


# --- delivery ---------------------------------------------------------------------------------


def _queue_many(db, count: int) -> list[int]:
    ids = []
    for n in range(count):
        message = queue_mail(
            db, to_address=f"p{n:03d}@example.fi", subject=f"Viesti {n}", text_body="Hei"
        )
        assert message is not None
        ids.append(message.id)
    db.commit()
    return ids


def _statuses(db) -> Counter[str]:
    db.rollback()
    return Counter(db.scalars(select(OutboxMessage.status)))


def test_concurrent_workers_never_send_a_message_twice(app: Flask, db, smtp_server) -> None:
    _queue_many(db, 60)
    database = get_database(app)
    errors: list[BaseException] = []

    def work() -> None:
        try:
            transport = SmtpTransport(smtp_server.url, timeout=10)
            while deliver_due(database, _config(app), transport, batch_size=4):
                pass
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    delivered = smtp_server.wait_for(60)
    ids = Counter(message.message["Message-ID"] for message in delivered)
    assert len(ids) == 60 and set(ids.values()) == {1}
    assert _statuses(db) == {"sent": 60}


@dataclass
class _RecordCheckingHandler(SmtpHandler):
    """Checks, as each message is accepted, that all earlier ones are recorded as sent."""

    database: Any = None
    sent_when_accepted: list[int] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with reading(), self.database.engine.connect() as connection:
            sent = connection.scalar(
                select(func.count()).select_from(OUTBOX).where(OUTBOX.c.status == "sent")
            )
        self.sent_when_accepted.append(sent)
        return await super().handle_DATA(server, session, envelope)


def test_each_message_is_recorded_before_the_next_can_be_accepted(app: Flask, db) -> None:
    """The re-send window after a crash: at most the one message whose reply was the last."""
    from aiosmtpd.controller import Controller

    _queue_many(db, 25)
    handler = _RecordCheckingHandler(database=get_database(app))
    port = _free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        transport = SmtpTransport(f"smtp://127.0.0.1:{port}")
        while deliver_due(get_database(app), _config(app), transport, batch_size=10):
            pass
    finally:
        controller.stop()
    # When the n-th message (from 0) was accepted, exactly the n before it were recorded.
    assert handler.sent_when_accepted == list(range(25))
    assert _statuses(db) == {"sent": 25}


@dataclass
class _RefusingAfterDataHandler(SmtpHandler):
    """Refuses chosen recipients only after their data, as a content filter does."""

    after_data: dict[str, str] = field(default_factory=dict)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        reply = self.after_data.get(envelope.rcpt_tos[0])
        if reply is not None:
            return reply
        return await super().handle_DATA(server, session, envelope)


def test_a_refusal_after_the_data_takes_the_sent_record_back(app: Flask, db) -> None:
    """A refusal after the data: a temporary one is tried again later, a permanent one fails;
    neither counts as sent."""
    from aiosmtpd.controller import Controller

    first, later, never = _queue_many(db, 3)
    handler = _RefusingAfterDataHandler(
        after_data={
            "p001@example.fi": "451 4.7.1 Try again later",
            "p002@example.fi": "554 5.7.1 No",
        }
    )
    port = _free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        transport = SmtpTransport(f"smtp://127.0.0.1:{port}")
        assert deliver_due(get_database(app), _config(app), transport) == 3
    finally:
        controller.stop()
    db.rollback()
    sent, retried, failed = (db.get(OutboxMessage, i) for i in (first, later, never))
    assert (sent.status, sent.attempts) == ("sent", 1) and sent.sent_at is not None
    assert (retried.status, retried.attempts, retried.sent_at) == ("queued", 1, None)
    assert retried.next_attempt_at is not None and "451" in retried.last_error
    assert (failed.status, failed.sent_at) == ("failed", None) and "554" in failed.last_error
    assert [m.recipients for m in handler.delivered] == [["p000@example.fi"]]


class _StoppingTransport(FileTransport):
    """Asks the worker to stop after a number of messages."""

    def __init__(self, folder, stop: threading.Event, after: int) -> None:
        super().__init__(folder)
        self.stop, self.after, self.sent = stop, after, 0

    def send(self, message, *, before_accept=None, while_accepting=None) -> None:
        super().send(message, before_accept=before_accept, while_accepting=while_accepting)
        self.sent += 1
        if self.sent == self.after:
            self.stop.set()


def test_a_stopped_batch_hands_back_what_it_did_not_send(app: Flask, db, tmp_path) -> None:
    _queue_many(db, 10)
    stop = threading.Event()
    transport = _StoppingTransport(tmp_path, stop, after=3)
    assert deliver_due(get_database(app), _config(app), transport, stop=stop) == 3
    assert _statuses(db) == {"sent": 3, "queued": 7}
    waiting = db.scalars(select(OutboxMessage).where(OutboxMessage.status == "queued")).all()
    assert all(m.attempts == 0 and m.claimed_at is None for m in waiting)
    assert len(list(tmp_path.glob("*.eml"))) == 3


class _LosingTransport(FileTransport):
    """Loses the connection at the n-th message."""

    def __init__(self, folder, lose_at: int) -> None:
        super().__init__(folder)
        self.lose_at, self.calls = lose_at, 0

    def send(self, message, *, before_accept=None, while_accepting=None) -> None:
        self.calls += 1
        if self.calls == self.lose_at:
            if before_accept is not None:
                before_accept()
            raise ConnectionLost("server disconnected")
        super().send(message, before_accept=before_accept, while_accepting=while_accepting)


def test_a_connection_lost_mid_batch_retries_the_rest_later(app: Flask, db, tmp_path) -> None:
    _queue_many(db, 6)
    database = get_database(app)
    assert deliver_due(database, _config(app), _LosingTransport(tmp_path, 3)) == 2
    db.rollback()
    rows = db.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()
    assert [r.status for r in rows] == ["sent"] * 2 + ["queued"] * 4
    assert all(r.attempts == 0 for r in rows[2:])  # the server's fault, not the messages'
    assert "disconnected" in server_status(db).last_error
    # Every worker waits before trying the server again.
    assert deliver_due(database, _config(app), FileTransport(tmp_path)) == 0


def test_a_message_that_cannot_be_built_fails_alone(app: Flask, db, tmp_path) -> None:
    broken, *_others = _queue_many(db, 3)
    db.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == broken)
        .values(attachments=[{"filename": "x.txt"}])  # no content type
    )
    db.commit()
    assert deliver_due(get_database(app), _config(app), FileTransport(tmp_path)) == 3
    db.rollback()
    row = db.get(OutboxMessage, broken)
    assert row.status == "failed" and "cannot build" in row.last_error
    assert _statuses(db) == {"sent": 2, "failed": 1}


class _IdleDropTransport(SmtpTransport):
    """The server closed the connection while it was idle, before the second message."""

    def send(self, message, *, before_accept=None, while_accepting=None) -> None:
        if message.recipient == "p001@example.fi" and self._smtp is not None:
            self._smtp.sock.close()
        super().send(message, before_accept=before_accept, while_accepting=while_accepting)


def test_a_connection_dropped_between_messages_is_reopened_without_duplicates(
    app: Flask, db, smtp_server
) -> None:
    _queue_many(db, 3)
    transport = _IdleDropTransport(smtp_server.url)
    assert deliver_due(get_database(app), _config(app), transport) == 3
    delivered = smtp_server.wait_for(3)
    assert sorted(r for m in delivered for r in m.recipients) == [
        "p000@example.fi",
        "p001@example.fi",
        "p002@example.fi",
    ]
    assert _statuses(db) == {"sent": 3}


class _NoEightBitHandler(SmtpHandler):
    """A server that does not offer 8BITMIME (RFC 6152), as some old relays do not."""

    async def handle_EHLO(
        self, server: Any, session: Any, envelope: Any, hostname: str, responses: list[str]
    ) -> list[str]:
        session.host_name = hostname
        return [r for r in responses if "8BITMIME" not in r.upper()]


def test_a_server_without_8bitmime_gets_quoted_printable(app: Flask, db) -> None:
    from aiosmtpd.controller import Controller

    handler = _NoEightBitHandler()
    port = _free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        _queue(db, text_body="Hyvää päivää, Äänekoski!", html_body="<p>Hyvää päivää</p>")
        transport = SmtpTransport(f"smtp://127.0.0.1:{port}")
        assert deliver_due(get_database(app), app.extensions["companion.config"], transport) == 1
        (delivered,) = handler.delivered
    finally:
        controller.stop()
    assert delivered.raw.isascii()  # nothing 8-bit on the wire
    message = delivered.message
    plain = next(p for p in message.walk() if p.get_content_type() == "text/plain")
    assert plain["Content-Transfer-Encoding"] == "quoted-printable"
    assert plain.get_content().strip() == "Hyvää päivää, Äänekoski!"
