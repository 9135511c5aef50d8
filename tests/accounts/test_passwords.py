"""Passwords: the strength check (in both languages), changing one, and the reset by email
(single use, expiry, no hint whether an address has an account, every sign-in ended)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select, update

from companion.accounts.models import Facilitator, PasswordReset
from companion.accounts.passwords import password_problem, user_inputs_of
from companion.core.db import Db, utcnow
from companion.core.mail import OutboxMessage
from tests.accounts.helpers import STRONG, link_token, mails_to
from tests.factories import PASSWORD

EMAIL = "fia@example.org"


def _reset(client: FlaskClient, token: str, password: str = STRONG) -> Any:
    data = {"password": password, "password_confirm": password}
    return client.post(f"/reset-password/{token}", data=data)


def _ask(client: FlaskClient, email: str = EMAIL) -> Any:
    return client.post("/forgot-password", data={"email": email})


def _outbox_count(db: Db) -> int:
    db.rollback()
    return int(db.scalar(select(func.count()).select_from(OutboxMessage)) or 0)


# --- strength -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("language", "expected"),
    [("en", "This password is too easy to guess."), ("fi", "Tämä salasana on liian helppo")],
)
def test_a_weak_password_is_refused_in_the_users_language(
    client: FlaskClient,
    make_facilitator: Callable[..., Any],
    sign_in: Callable[..., FlaskClient],
    language: str,
    expected: str,
) -> None:
    sign_in(client, make_facilitator(email=EMAIL, language=language))
    weak = "qwertyuiop123"
    response = client.post(
        "/account/password",
        data={"current_password": PASSWORD, "password": weak, "password_confirm": weak},
    )
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert f'<html lang="{language}">' in page
    assert expected in page
    if language == "fi":
        # zxcvbn's own English feedback never reaches a Finnish page.
        assert "common password" not in page and "easy to guess" not in page


def test_the_persons_own_name_and_address_make_a_password_weak(app: Flask) -> None:
    with app.test_request_context():
        assert password_problem(STRONG) is None
        assert password_problem("short") is not None
        inputs = user_inputs_of("nina.virtanen@example.org", "Nina Virtanen", "Kasvuyrittajat")
        for password in ("nina.virtanen@example.org", "virtanennina1", "kasvuyrittajat2026"):
            problem = password_problem(password, inputs)
            assert problem is not None and "name, email address" in problem, password


def test_every_zxcvbn_warning_has_a_text_of_ours(app: Flask) -> None:
    """A weak password always says why in our words, whatever zxcvbn found."""
    from zxcvbn import zxcvbn

    from companion.accounts import passwords

    samples = [
        "qwertyuiop12",
        "aaaaaaaaaaaa",
        "abcabcabcabc",
        "abcdefghijkl",
        "1987198719",
        "password1234",
    ]
    with app.test_request_context():
        texts = passwords._warning_texts()
        for sample in samples:
            english = zxcvbn(sample)["feedback"]["warning"]
            if english:
                assert passwords._warning_key(english) in texts, english


# --- change ---------------------------------------------------------------------------------


def test_changing_the_password_asks_the_current_one_and_signs_out_other_browsers(
    app: Flask,
    db: Db,
    client: FlaskClient,
    make_facilitator: Callable[..., Any],
    sign_in: Callable[..., FlaskClient],
) -> None:
    facilitator = make_facilitator(email=EMAIL)
    sign_in(client, facilitator)
    other = sign_in(app.test_client(), facilitator)
    wrong = client.post(
        "/account/password",
        data={"current_password": "not it at all", "password": STRONG, "password_confirm": STRONG},
    )
    assert wrong.status_code == 422
    assert "current password is not right" in wrong.get_data(as_text=True)
    changed = client.post(
        "/account/password",
        data={"current_password": PASSWORD, "password": STRONG, "password_confirm": STRONG},
    )
    assert changed.status_code == 303
    assert client.get("/programmes").status_code == 200  # this browser stays signed in
    assert other.get("/programmes").status_code == 302  # the other one does not
    fresh = app.test_client()
    assert fresh.post("/sign-in", data={"email": EMAIL, "password": STRONG}).status_code == 303


# --- reset ----------------------------------------------------------------------------------


def test_reset_by_email_sets_the_password_and_ends_every_sign_in(
    app: Flask,
    db: Db,
    client: FlaskClient,
    make_facilitator: Callable[..., Any],
    sign_in: Callable[..., FlaskClient],
) -> None:
    facilitator = make_facilitator(email=EMAIL, language="fi")
    old_browser = sign_in(app.test_client(), facilitator)
    assert old_browser.get("/programmes").status_code == 200
    assert _ask(client).status_code == 200
    (mail,) = mails_to(db, EMAIL)
    assert "salasana" in mail.subject.lower()  # the account's language
    token = link_token(mail, "reset-password")
    assert token not in db.scalars(select(PasswordReset)).one().token_hash
    assert EMAIL in client.get(f"/reset-password/{token}").get_data(as_text=True)
    response = _reset(client, token)
    assert response.status_code == 303
    assert response.headers["Location"].startswith("/sign-in")
    # The old cookie no longer signs anyone in.
    assert old_browser.get("/programmes").status_code == 302
    assert client.post("/sign-in", data={"email": EMAIL, "password": PASSWORD}).status_code == 401
    assert client.post("/sign-in", data={"email": EMAIL, "password": STRONG}).status_code == 303


def test_a_reset_link_works_once(
    app: Flask, db: Db, client: FlaskClient, make_facilitator: Callable[..., Any]
) -> None:
    make_facilitator(email=EMAIL)
    _ask(client)
    token = link_token(mails_to(db, EMAIL)[0], "reset-password")
    assert _reset(client, token).status_code == 303
    again = _reset(app.test_client(), token, password="another fine phrase here")
    assert again.status_code == 410
    assert "used already" in again.get_data(as_text=True)
    fresh = app.test_client()
    assert fresh.post("/sign-in", data={"email": EMAIL, "password": STRONG}).status_code == 303


def test_a_reset_link_expires(
    app: Flask, db: Db, client: FlaskClient, make_facilitator: Callable[..., Any]
) -> None:
    make_facilitator(email=EMAIL)
    _ask(client)
    token = link_token(mails_to(db, EMAIL)[0], "reset-password")
    db.execute(update(PasswordReset).values(expires_at=utcnow() - timedelta(seconds=1)))
    db.commit()
    response = _reset(client, token)
    assert response.status_code == 410
    assert "expired" in response.get_data(as_text=True)
    assert client.post("/sign-in", data={"email": EMAIL, "password": PASSWORD}).status_code == 303


def test_a_weak_password_leaves_the_reset_link_usable(
    db: Db, client: FlaskClient, make_facilitator: Callable[..., Any]
) -> None:
    make_facilitator(email=EMAIL)
    _ask(client)
    token = link_token(mails_to(db, EMAIL)[0], "reset-password")
    weak = _reset(client, token, password="password1234")
    assert weak.status_code == 422
    assert "too easy to guess" in weak.get_data(as_text=True)
    assert _reset(client, token).status_code == 303


def test_asking_for_a_reset_does_not_tell_whether_an_address_has_an_account(
    app: Flask, db: Db, make_facilitator: Callable[..., Any]
) -> None:
    make_facilitator(email=EMAIL)
    known = _ask(app.test_client(), EMAIL)
    queued_after_known = _outbox_count(db)
    unknown = _ask(app.test_client(), "nobody@example.org")
    assert known.status_code == unknown.status_code == 200
    assert known.get_data() == unknown.get_data()
    assert queued_after_known == 1
    assert _outbox_count(db) == 1  # nothing queued for the unknown address
    assert mails_to(db, "nobody@example.org") == []
    assert db.scalars(select(PasswordReset)).all().__len__() == 1


def test_no_reset_mail_for_a_deactivated_account(
    db: Db, client: FlaskClient, make_facilitator: Callable[..., Any]
) -> None:
    facilitator = make_facilitator(email=EMAIL)
    db.get(Facilitator, facilitator.id).active = False  # type: ignore[union-attr]
    db.commit()
    assert _ask(client).status_code == 200
    assert mails_to(db, EMAIL) == []


def test_asking_for_resets_is_rate_limited(
    db: Db, client: FlaskClient, make_facilitator: Callable[..., Any]
) -> None:
    make_facilitator(email=EMAIL)
    answers = [_ask(client).status_code for _ in range(7)]
    assert answers[:5] == [200] * 5
    assert answers[5:] == [429, 429]
    assert len(mails_to(db, EMAIL)) == 5
    # An unknown address is limited alike (the limit says nothing about accounts).
    unknown = [_ask(client, "nobody@example.org").status_code for _ in range(6)]
    assert unknown[-1] == 429


def test_the_sign_in_page_links_to_the_reset(client: FlaskClient) -> None:
    page = client.get("/sign-in").get_data(as_text=True)
    assert 'href="/forgot-password"' in page
    assert "Forgot your password?" in page


def test_old_reset_records_are_purged(
    app: Flask, db: Db, client: FlaskClient, make_facilitator: Callable[..., Any]
) -> None:
    from companion.accounts.passwords import purge_password_resets

    make_facilitator(email=EMAIL)
    _ask(client)
    _ask(client)
    first, second = db.scalars(select(PasswordReset).order_by(PasswordReset.id)).all()
    first.expires_at = utcnow() - timedelta(days=2)
    db.commit()
    with app.app_context():
        purge_password_resets(db)
        db.commit()
    assert [r.id for r in db.scalars(select(PasswordReset))] == [second.id]
