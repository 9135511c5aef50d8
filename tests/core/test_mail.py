"""The mail outbox and its delivery through a real SMTP server (aiosmtpd) or to files."""

from __future__ import annotations

from email import message_from_bytes

import pytest
from flask import Flask
from sqlalchemy import select

from companion.core.db import get_database
from companion.core.jobs import Worker
from companion.core.mail import (
    Attachment,
    FileTransport,
    OutboxMessage,
    SmtpTransport,
    deliver_due,
    queue_mail,
)


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


def test_unreachable_server_keeps_messages_queued(app: Flask, db) -> None:
    _queue(db)
    database = get_database(app)
    deliver_due(database, _config(app), SmtpTransport("smtp://127.0.0.1:9"), retry_base_seconds=0)
    db.rollback()
    row = db.scalar(select(OutboxMessage))
    assert row.status == "queued"
    assert "cannot connect" in row.last_error


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
