"""Accounts through their operations: creating, authenticating, passwords and roles."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask import Flask

from companion.accounts.models import Facilitator, Organisation
from companion.accounts.operations import (
    authenticate,
    can_manage_programme,
    create_facilitator,
    grant_programme,
    set_password,
    visible_programmes,
)
from companion.accounts.roles import Role
from companion.core.db import Db
from companion.core.errors import Conflict, Invalid
from companion.programmes.models import Programme
from tests.factories import PASSWORD


def test_create_facilitator_stores_a_hash_and_a_lower_case_email(
    app: Flask, db: Db, make_organisation: Callable[..., Organisation]
) -> None:
    organisation = make_organisation()
    with app.app_context():
        account = create_facilitator(
            db, organisation, email=" Fia@Example.ORG ", name="", password=PASSWORD
        )
    assert account.email == "fia@example.org"
    assert account.name == "fia@example.org"
    assert PASSWORD not in account.password_hash
    assert account.session_version == 1


@pytest.mark.parametrize(
    ("email", "password", "field"),
    [("not-an-email", PASSWORD, "email"), ("ok@example.org", "short", "password")],
)
def test_create_facilitator_refuses_bad_input(
    app: Flask,
    db: Db,
    make_organisation: Callable[..., Organisation],
    email: str,
    password: str,
    field: str,
) -> None:
    organisation = make_organisation()
    with app.test_request_context(), pytest.raises(Invalid) as caught:
        create_facilitator(db, organisation, email=email, name="X", password=password)
    assert set(caught.value.errors) == {field}


def test_an_email_has_one_account(
    app: Flask, db: Db, make_facilitator: Callable[..., Facilitator]
) -> None:
    existing = make_facilitator(email="fia@example.org")
    with app.test_request_context(), pytest.raises(Conflict):
        create_facilitator(
            db, existing.organisation, email="FIA@example.org", name="Twin", password=PASSWORD
        )


def test_authenticate(app: Flask, db: Db, make_facilitator: Callable[..., Facilitator]) -> None:
    facilitator = make_facilitator(email="fia@example.org")
    with app.app_context():
        assert authenticate(db, "FIA@example.org ", PASSWORD).id == facilitator.id
        assert authenticate(db, "fia@example.org", PASSWORD.upper()) is None
        assert authenticate(db, "nobody@example.org", PASSWORD) is None


def test_set_password_bumps_the_session_version(
    app: Flask, db: Db, make_facilitator: Callable[..., Facilitator]
) -> None:
    facilitator = db.get(Facilitator, make_facilitator().id)
    with app.test_request_context():
        with pytest.raises(Invalid):
            set_password(db, facilitator, "short")
        assert facilitator.session_version == 1
        set_password(db, facilitator, "another long password")
    assert facilitator.session_version == 2
    with app.app_context():
        assert authenticate(db, facilitator.email, "another long password") is not None


def test_roles_decide_who_manages_a_programme(
    app: Flask,
    db: Db,
    make_facilitator: Callable[..., Facilitator],
    make_programme: Callable[..., Programme],
) -> None:
    owner = make_facilitator()
    organisation = owner.organisation
    colleague = make_facilitator(organisation=organisation)
    admin = make_facilitator(organisation=organisation, admin=True)
    stranger = make_facilitator()
    spring = make_programme(facilitator=owner, name="Spring")
    autumn = make_programme(facilitator=colleague, name="Autumn")

    def names(facilitator: Facilitator) -> list[str]:
        return [p.name for p in visible_programmes(db, db.get(Facilitator, facilitator.id))]

    spring, autumn = db.get(Programme, spring.id), db.get(Programme, autumn.id)
    assert names(owner) == ["Spring"]
    assert names(colleague) == ["Autumn"]
    assert names(admin) == ["Autumn", "Spring"]  # newest first
    assert names(stranger) == []
    assert can_manage_programme(db.get(Facilitator, admin.id), spring)
    assert not can_manage_programme(db.get(Facilitator, colleague.id), spring)
    assert not can_manage_programme(db.get(Facilitator, stranger.id), spring)

    with app.test_request_context():
        role = grant_programme(db, db.get(Facilitator, colleague.id), spring)
        assert grant_programme(db, db.get(Facilitator, colleague.id), spring) is role
        assert role.role == "owner"
        # Another organisation's facilitator may be given a role: the programme is shared.
        shared = grant_programme(db, db.get(Facilitator, stranger.id), spring, Role.OBSERVER)
        assert shared.role == "observer"
    db.commit()
    assert names(colleague) == ["Autumn", "Spring"]
    assert names(stranger) == ["Spring"]


def test_an_inactive_admin_manages_nothing(
    db: Db,
    make_facilitator: Callable[..., Facilitator],
    make_programme: Callable[..., Programme],
) -> None:
    admin = make_facilitator(admin=True)
    programme = make_programme(facilitator=admin)
    account = db.get(Facilitator, admin.id)
    account.active = False
    assert not can_manage_programme(account, db.get(Programme, programme.id))
