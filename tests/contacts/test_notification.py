"""The other person is told: in the session's digest, or by email when asked afterwards."""

from __future__ import annotations

import re

from flask import Flask

from tests.contacts.conftest import World
from tests.digest.conftest import (  # noqa: F401
    by_recipient,
    end_session,
    parts,
    run_worker,
    use_smtp,
)
from tests.services import SmtpServer


def test_a_request_after_the_session_is_emailed_to_the_other_person(
    app: Flask,
    world: World,
    use_smtp: SmtpServer,  # noqa: F811
) -> None:
    # During the session nothing is sent: the summary will tell.
    world.client("alice").post(
        "/api/v1/contacts", json={"person_id": world.carol.id, "kind": "lunch"}
    )
    end_session(world)
    run_worker(app)
    carol_mail = by_recipient(use_smtp)[world.carol.email]
    assert len(carol_mail) == 1 and "What you missed" in str(carol_mail[0]["Subject"])
    assert "Alice Aho as lunch companion" in parts(carol_mail[0])[0]  # waiting for her answer

    # After the summary went out, a request is emailed at once, once.
    world.client("alice").post(
        "/api/v1/contacts", json={"person_id": world.bob.id, "kind": "customer"}
    )
    run_worker(app)
    (request,) = by_recipient(use_smtp, "would like to keep in touch")[world.bob.email]
    text, html = parts(request)
    assert "Alice Aho" in text and "customer" in text
    link = re.search(r"http://127\.0\.0\.1:\d+(/me/t/[\w.\-]+\?next=contacts)", text)
    assert link is not None and link.group(1) in html
    browser = app.test_client()
    assert browser.get(link.group(1)).location.endswith("/me/contacts")
    assert "Alice Aho would like to keep in touch" in browser.get("/me/contacts").get_data(
        as_text=True
    )
    run_worker(app)
    assert len(by_recipient(use_smtp, "would like to keep in touch")[world.bob.email]) == 1
