"""SMTP trouble: a temporary failure is retried; a permanent one is shown to the facilitator."""

from __future__ import annotations

from collections import Counter

from flask import Flask
from sqlalchemy import select

from companion.core.db import Db
from companion.core.mail import OutboxMessage
from tests.digest.conftest import Held, by_recipient, end_session, run_worker
from tests.services import SmtpServer


def _rows(db: Db, session_id: int) -> list[OutboxMessage]:
    db.rollback()
    return list(
        db.scalars(
            select(OutboxMessage).where(OutboxMessage.dedupe_key.like(f"digest-{session_id}-%"))
        )
    )


def test_a_temporary_failure_is_retried_until_delivered(
    app: Flask, db: Db, held: Held, use_smtp: SmtpServer
) -> None:
    use_smtp.handler.fail_next = 2  # "451 Try again later" for the first two messages
    end_session(held.world)
    run_worker(app)
    rows = _rows(db, held.world.session.id)
    assert Counter(r.status for r in rows) == {"sent": 3}
    assert sorted(r.attempts for r in rows) == [1, 2, 2]
    assert all(len(m) == 1 for m in by_recipient(use_smtp).values())
    assert len(by_recipient(use_smtp)) == 3


def test_a_permanent_failure_is_reported_to_the_facilitator(
    app: Flask, db: Db, held: Held, use_smtp: SmtpServer
) -> None:
    world = held.world
    use_smtp.handler.refuse[world.bob.email] = "550 5.1.1 No such mailbox"
    end_session(world)
    run_worker(app)
    rows = {r.to_address: r for r in _rows(db, world.session.id)}
    assert rows[world.bob.email].status == "failed"
    assert rows[world.bob.email].attempts == 1  # not retried: it cannot work
    assert rows[world.alice.email].status == "sent"
    assert world.bob.email not in by_recipient(use_smtp)

    facilitator = world.client("facilitator")
    status = facilitator.get(f"/sessions/{world.session.id}/digest").get_data(as_text=True)
    assert "Some emails could not be delivered" in status
    assert "550 5.1.1 No such mailbox" in status
    session_page = facilitator.get(f"/sessions/{world.session.id}").get_data(as_text=True)
    assert "1 failed" in session_page or "Failed: 1" in session_page
    outbox = facilitator.get("/outbox").get_data(as_text=True)
    assert "550 5.1.1 No such mailbox" in outbox
    # Participants never see this page.
    assert world.client("alice").get(f"/sessions/{world.session.id}/digest").status_code in (
        302,
        401,
    )


def test_send_again_after_correcting_the_address_reaches_only_those_it_failed_for(
    app: Flask, db: Db, held: Held, use_smtp: SmtpServer
) -> None:
    world = held.world
    wrong = world.bob.email
    use_smtp.handler.refuse[wrong] = "550 5.1.1 No such mailbox"
    end_session(world)
    run_worker(app)
    facilitator = world.client("facilitator")
    page = facilitator.get(f"/sessions/{world.session.id}/digest").get_data(as_text=True)
    assert "Send again to those it failed for" in page

    # Participants cannot press it.
    assert world.client("alice").post(
        f"/sessions/{world.session.id}/digest/resend"
    ).status_code in (
        302,
        401,
    )
    with app.app_context():
        bob = db.get(type(world.bob), world.bob.id)
        assert bob is not None
        bob.email = "bob.berg@example.org"
        db.commit()
    answer = facilitator.post(f"/sessions/{world.session.id}/digest/resend")
    assert answer.status_code == 303
    again = facilitator.post(f"/sessions/{world.session.id}/digest/resend", follow_redirects=True)
    assert "No summary email is waiting to be sent again." in again.get_data(as_text=True)
    run_worker(app)

    delivered = by_recipient(use_smtp)
    assert len(delivered["bob.berg@example.org"]) == 1
    assert wrong not in delivered
    assert all(len(messages) == 1 for messages in delivered.values()), "nobody got it twice"
    rows = {r.dedupe_key: r for r in _rows(db, world.session.id)}
    assert Counter(r.status for r in rows.values()) == {"sent": len(rows)}
    status = facilitator.get(f"/sessions/{world.session.id}/digest").get_data(as_text=True)
    assert "Some emails could not be delivered" not in status
