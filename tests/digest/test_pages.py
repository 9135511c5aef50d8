"""The participant's page (/me), personal links from emails, and the facilitator's preview."""

from __future__ import annotations

import re

from flask import Flask

from companion.core.db import Db
from companion.digest.links import personal_token
from companion.sessions.join_links import join_link_for, renew_join_link
from tests.digest.conftest import Held, end_session, run_worker
from tests.notes.conftest import World
from tests.services import SmtpServer


def test_my_programme_page(world: World) -> None:
    page = world.client("alice").get("/me")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Hello Alice!" in html and "/j/" in html
    assert f"/sessions/{world.session.id}/notes" in html
    assert world.client("nobody").get("/me").status_code == 401
    assert world.client("facilitator").get("/me").status_code == 302


def test_personal_links_stop_working_when_the_join_link_is_renewed(
    app: Flask, db: Db, world: World
) -> None:
    with app.app_context():
        token = personal_token(join_link_for(db, world.alice))
        db.commit()
    opened = app.test_client().get(f"/me/t/{token}?next=preferences")
    assert opened.status_code == 303 and opened.location.endswith("/me/preferences")
    assert (
        app.test_client().get(f"/me/t/{token}?next=https://evil.example").location.endswith("/me")
    )
    with app.app_context():
        renew_join_link(db, world.alice)
        db.commit()
    assert app.test_client().get(f"/me/t/{token}").status_code == 410


def test_the_facilitator_previews_each_persons_digest(app: Flask, held: Held) -> None:
    world = held.world
    facilitator = world.client("facilitator")
    page = facilitator.get(f"/sessions/{world.session.id}/digest?participant={world.carol.id}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Notes from" in html and "B-ONLY: marketing" in html and "A-ONLY" not in html
    missed = facilitator.get(
        f"/sessions/{world.session.id}/digest?participant={world.carol.id}&variant=missed"
    ).get_data(as_text=True)
    assert "What you missed" in missed
    frame = facilitator.get(
        f"/sessions/{world.session.id}/digest/preview.html?participant={world.alice.id}"
    )
    assert frame.status_code == 200 and "A-ONLY" in frame.get_data(as_text=True)
    assert "sandbox" in frame.headers["Content-Security-Policy"]
    assert "script-src" not in frame.headers["Content-Security-Policy"]
    # Nothing was sent by previewing, and nothing can be before the session has ended.
    assert "can be reviewed and sent once the session has ended" in html
    for name in ("alice", "olli", "nobody"):
        assert world.client(name).get(f"/sessions/{world.session.id}/digest").status_code in (
            302,
            401,
        )


def test_send_now_only_for_held_sessions_and_only_once(
    app: Flask, held: Held, use_smtp: SmtpServer
) -> None:
    world = held.world
    facilitator = world.client("facilitator")
    url = f"/sessions/{world.session.id}/digest/send"
    early = facilitator.post(url)
    assert early.status_code == 409 and "End the session first" in early.get_data(as_text=True)
    end_session(world)
    again = facilitator.post(url)
    assert again.status_code == 409 and "already been sent" in again.get_data(as_text=True)
    run_worker(app)
    status = facilitator.get(f"/sessions/{world.session.id}/digest").get_data(as_text=True)
    assert re.search(r"Sent: 3", status)
