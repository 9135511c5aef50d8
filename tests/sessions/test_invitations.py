"""Invitations carry each participant's join link and calendar, in their language, once."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlsplit

from flask import Flask
from icalendar import Calendar
from sqlalchemy import select

from companion.core.db import utcnow
from companion.core.jobs import Worker
from companion.core.mail import OutboxMessage, SmtpTransport


def test_invitations_are_delivered_with_link_and_calendar(
    app: Flask, client, db, make_programme, make_participant, make_session, sign_in, smtp_server
) -> None:
    programme = make_programme(name="eKollega kevät", language="fi")
    group = programme.groups[0]
    make_session(group, starts_at=utcnow() + timedelta(days=7), title="Tapaaminen 1")
    finn = make_participant(programme, group=group, name="Aino Virtanen", email="aino@example.fi")
    make_participant(
        programme, group=group, name="Jane Doe", email="jane@example.com", language="en"
    )
    sign_in(client, programme.roles[0].facilitator)

    response = client.post(f"/programmes/{programme.id}/invitations")
    assert response.status_code == 303
    again = client.post(f"/programmes/{programme.id}/invitations", follow_redirects=True)
    assert "already has an invitation" in again.get_data(as_text=True)
    assert len(db.scalars(select(OutboxMessage)).all()) == 2  # the second press queued nothing

    app.extensions["companion.mail_transport"] = SmtpTransport(smtp_server.url)
    Worker(app).run_once()
    delivered = {m.recipients[0]: m.message for m in smtp_server.wait_for(2)}
    assert set(delivered) == {"aino@example.fi", "jane@example.com"}

    finnish = delivered["aino@example.fi"]
    assert finnish["Subject"] == "Linkkisi ohjelmaan eKollega kevät"
    text = next(p for p in finnish.walk() if p.get_content_type() == "text/plain")
    body = text.get_content()
    assert "Hei Aino," in body  # the first name, as the pages greet
    link = next(line.strip() for line in body.splitlines() if "/j/" in line)
    assert client.get(urlsplit(link).path).status_code == 200  # the waiting page
    ics = next(p for p in finnish.walk() if p.get_content_type() == "text/calendar")
    events = list(Calendar.from_ical(ics.get_content()).walk("VEVENT"))
    assert [str(e["summary"]) for e in events] == ["eKollega kevät: Tapaaminen 1"]

    english = delivered["jane@example.com"]
    assert english["Subject"] == "Your link to eKollega kevät"
    assert finn.id != 0
