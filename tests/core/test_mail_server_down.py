"""An unreachable mail server is the server's fault: no message's attempts are spent on it."""

from __future__ import annotations

from flask import Flask
from sqlalchemy import select, update

from companion.core.db import Db, get_database, utcnow
from companion.core.mail import MailServerState, OutboxMessage, SmtpTransport, deliver_due
from companion.core.mail.reachability import MAX_RETRY, server_status
from tests.core.test_mail import _queue_many
from tests.services import SmtpServer


def test_an_outage_longer_than_the_attempts_fails_nothing(
    app: Flask, db: Db, smtp_server: SmtpServer
) -> None:
    _queue_many(db, 3)
    database = get_database(app)
    config = app.extensions["companion.config"].model_copy(update={"mail_max_attempts": 2})
    down = SmtpTransport("smtp://127.0.0.1:9", timeout=2)
    waits = []
    for _ in range(6):  # three times the attempts a message has
        assert deliver_due(database, config, down, retry_base_seconds=0) == 0
        db.rollback()
        status = server_status(db)
        assert status.retry_at is not None
        waits.append(status.retry_at - utcnow())
        # Every worker waits until retry_at; the test moves it to now instead of waiting.
        db.execute(update(MailServerState).values(retry_at=utcnow()))
        db.commit()
    assert waits == sorted(waits) and waits[-1] <= MAX_RETRY  # backing off, up to a cap
    rows = db.scalars(select(OutboxMessage)).all()
    assert {(r.status, r.attempts) for r in rows} == {("queued", 0)}
    up = SmtpTransport(smtp_server.url)
    assert deliver_due(database, config, up, retry_base_seconds=0) == 3
    db.rollback()
    assert not server_status(db).down
    assert {r.status for r in db.scalars(select(OutboxMessage))} == {"sent"}
    assert len(smtp_server.messages) == 3
