"""Facilitators join by invitation: the admin's team page, the single-use link that expires,
and the refusals (another organisation, an address that has an account, a non-admin)."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, update

from companion.accounts.models import Facilitator, FacilitatorInvitation
from companion.core.db import Db, utcnow
from tests.accounts.helpers import STRONG, link_token, mails_to

NEW = "nina@example.org"


def _invite(client: FlaskClient, email: str = NEW, **extra: str) -> Any:
    data = {"email": email, "name": "Nina Uusi", "language": "en", **extra}
    return client.post("/team/invitations", data=data)


def _accept(client: FlaskClient, token: str, password: str = STRONG, name: str = "Nina") -> Any:
    data = {"name": name, "password": password, "password_confirm": password}
    return client.post(f"/invitation/{token}", data=data)


def test_an_admin_invites_and_the_invitee_creates_the_account(
    app: Flask,
    db: Db,
    client: FlaskClient,
    make_facilitator: Callable[..., Any],
    sign_in: Callable[..., FlaskClient],
) -> None:
    admin = make_facilitator(admin=True, name="Ada Admin", email="ada@example.org")
    sign_in(client, admin)
    response = _invite(client)
    assert response.status_code == 303
    (mail,) = mails_to(db, NEW)
    assert "invites you to Kollega" in mail.subject
    token = link_token(mail, "invitation")
    # Only a hash of the token is stored.
    stored = db.scalars(select(FacilitatorInvitation)).one()
    assert token not in stored.token_hash and len(stored.token_hash) == 64
    assert NEW in client.get("/team").get_data(as_text=True)

    invitee = app.test_client()
    page = invitee.get(f"/invitation/{token}")
    assert page.status_code == 200
    assert NEW in page.get_data(as_text=True)
    created = _accept(invitee, token)
    assert created.status_code == 303
    assert invitee.get("/programmes").status_code == 200  # signed in at once
    db.rollback()
    account = db.scalars(select(Facilitator).where(Facilitator.email == NEW)).one()
    assert account.organisation_id == admin.organisation_id
    assert account.name == "Nina" and not account.is_admin


def test_an_invitation_link_works_once(
    app: Flask,
    db: Db,
    client: FlaskClient,
    make_facilitator: Callable[..., Any],
    sign_in: Callable[..., FlaskClient],
) -> None:
    sign_in(client, make_facilitator(admin=True))
    _invite(client)
    token = link_token(mails_to(db, NEW)[0], "invitation")
    assert _accept(app.test_client(), token).status_code == 303
    again = _accept(app.test_client(), token, password="another fine phrase here")
    assert again.status_code == 410
    assert "used already" in again.get_data(as_text=True)
    assert app.test_client().get(f"/invitation/{token}").status_code == 410
    db.rollback()
    assert len(db.scalars(select(Facilitator).where(Facilitator.email == NEW)).all()) == 1


def test_an_invitation_link_expires(
    app: Flask,
    db: Db,
    client: FlaskClient,
    make_facilitator: Callable[..., Any],
    sign_in: Callable[..., FlaskClient],
) -> None:
    sign_in(client, make_facilitator(admin=True))
    _invite(client)
    token = link_token(mails_to(db, NEW)[0], "invitation")
    db.execute(update(FacilitatorInvitation).values(expires_at=utcnow() - timedelta(minutes=1)))
    db.commit()
    response = _accept(app.test_client(), token)
    assert response.status_code == 410
    assert "expired" in response.get_data(as_text=True)
    db.rollback()
    assert db.scalar(select(Facilitator).where(Facilitator.email == NEW)) is None
    # Sending it again makes a new link that works; the old one stays dead.
    invitation = db.scalars(select(FacilitatorInvitation)).one()
    assert "Expired" in client.get("/team").get_data(as_text=True)
    assert client.post(f"/team/invitations/{invitation.id}/resend").status_code == 303
    fresh = link_token(mails_to(db, NEW)[-1], "invitation")
    assert fresh != token
    assert _accept(app.test_client(), token).status_code == 404
    assert _accept(app.test_client(), fresh).status_code == 303


def test_a_revoked_invitation_does_not_work(
    app: Flask,
    db: Db,
    client: FlaskClient,
    make_facilitator: Callable[..., Any],
    sign_in: Callable[..., FlaskClient],
) -> None:
    sign_in(client, make_facilitator(admin=True))
    _invite(client)
    token = link_token(mails_to(db, NEW)[0], "invitation")
    invitation = db.scalars(select(FacilitatorInvitation)).one()
    assert client.post(f"/team/invitations/{invitation.id}/revoke").status_code == 303
    response = _accept(app.test_client(), token)
    assert response.status_code == 410
    assert "cancelled" in response.get_data(as_text=True)


def test_a_link_opened_while_signed_in_to_another_organisation_is_refused(
    app: Flask,
    db: Db,
    client: FlaskClient,
    make_facilitator: Callable[..., Any],
    sign_in: Callable[..., FlaskClient],
) -> None:
    admin = make_facilitator(admin=True)
    sign_in(client, admin)
    _invite(client)
    token = link_token(mails_to(db, NEW)[0], "invitation")
    outsider = make_facilitator(name="Oscar Outside")  # another organisation
    browser = sign_in(app.test_client(), outsider)
    page = browser.get(f"/invitation/{token}")
    assert page.status_code == 403
    assert "signed in to another organisation" in page.get_data(as_text=True)
    assert _accept(browser, token).status_code == 403
    db.rollback()
    assert db.scalar(select(Facilitator).where(Facilitator.email == NEW)) is None
    assert db.scalars(select(FacilitatorInvitation)).one().accepted_at is None


def test_an_invitation_for_an_address_with_an_account_is_refused(
    app: Flask,
    db: Db,
    client: FlaskClient,
    make_facilitator: Callable[..., Any],
    sign_in: Callable[..., FlaskClient],
) -> None:
    sign_in(client, make_facilitator(admin=True))
    make_facilitator(email=NEW)  # an account in another organisation
    assert _invite(client).status_code == 303  # the admin learns nothing of other teams
    token = link_token(mails_to(db, NEW)[0], "invitation")
    response = _accept(app.test_client(), token)
    assert response.status_code == 409
    assert "already has a Kollega account" in response.get_data(as_text=True)


def test_inviting_someone_already_on_the_team_is_a_form_error(
    db: Db,
    client: FlaskClient,
    make_facilitator: Callable[..., Any],
    sign_in: Callable[..., FlaskClient],
) -> None:
    admin = make_facilitator(admin=True)
    make_facilitator(organisation=admin.organisation, email=NEW)
    sign_in(client, admin)
    response = _invite(client)
    assert response.status_code == 422
    assert "already on your team" in response.get_data(as_text=True)
    assert mails_to(db, NEW) == []


def test_non_admins_cannot_invite_or_see_the_team(
    db: Db,
    client: FlaskClient,
    make_facilitator: Callable[..., Any],
    sign_in: Callable[..., FlaskClient],
) -> None:
    admin = make_facilitator(admin=True)
    sign_in(client, make_facilitator(organisation=admin.organisation))
    assert _invite(client).status_code == 403
    assert client.get("/team").status_code == 403
    assert mails_to(db, NEW) == []
    assert db.scalars(select(FacilitatorInvitation)).all() == []


def test_a_weak_password_is_refused_on_the_invitation_page(
    app: Flask,
    db: Db,
    client: FlaskClient,
    make_facilitator: Callable[..., Any],
    sign_in: Callable[..., FlaskClient],
) -> None:
    sign_in(client, make_facilitator(admin=True))
    _invite(client)
    token = link_token(mails_to(db, NEW)[0], "invitation")
    response = _accept(app.test_client(), token, password="password1234")
    assert response.status_code == 422
    assert "too easy to guess" in response.get_data(as_text=True)
    # Not used up: the invitee tries again with a better one.
    assert _accept(app.test_client(), token).status_code == 303


def test_the_invitation_is_written_in_the_chosen_language(
    db: Db,
    client: FlaskClient,
    make_facilitator: Callable[..., Any],
    sign_in: Callable[..., FlaskClient],
) -> None:
    sign_in(client, make_facilitator(admin=True, language="en"))
    _invite(client, language="fi")
    (mail,) = mails_to(db, NEW)
    assert "kutsuu sinut" in mail.subject
    assert "Luo tunnuksesi" in mail.html_body


def test_the_invitation_form_needs_its_csrf_token(
    db: Db,
    client: FlaskClient,
    csrf_on: None,
    make_facilitator: Callable[..., Any],
    sign_in: Callable[..., FlaskClient],
) -> None:
    sign_in(client, make_facilitator(admin=True))
    assert _invite(client).status_code == 400
    assert mails_to(db, NEW) == []
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/team").get_data(True))
    assert token is not None
    assert _invite(client, csrf_token=token.group(1)).status_code == 303
    assert len(mails_to(db, NEW)) == 1


def test_an_invitation_can_make_an_administrator(
    app: Flask,
    db: Db,
    client: FlaskClient,
    make_facilitator: Callable[..., Any],
    sign_in: Callable[..., FlaskClient],
) -> None:
    sign_in(client, make_facilitator(admin=True))
    _invite(client, is_admin="on")
    token = link_token(mails_to(db, NEW)[0], "invitation")
    invitee = app.test_client()
    assert _accept(invitee, token).status_code == 303
    assert invitee.get("/team").status_code == 200
    db.rollback()
    assert db.scalars(select(Facilitator).where(Facilitator.email == NEW)).one().is_admin


def test_invitations_a_month_past_their_expiry_are_purged(
    app: Flask,
    db: Db,
    client: FlaskClient,
    make_facilitator: Callable[..., Any],
    sign_in: Callable[..., FlaskClient],
) -> None:
    from companion.accounts.invitations import purge_invitations

    sign_in(client, make_facilitator(admin=True))
    _invite(client)
    _invite(client, email="other@example.org")
    old, recent = db.scalars(select(FacilitatorInvitation).order_by(FacilitatorInvitation.id))
    old.expires_at = utcnow() - timedelta(days=31)
    recent.expires_at = utcnow() - timedelta(days=29)
    db.commit()
    with app.app_context():
        purge_invitations(db)
        db.commit()
    assert [i.email for i in db.scalars(select(FacilitatorInvitation))] == ["other@example.org"]
