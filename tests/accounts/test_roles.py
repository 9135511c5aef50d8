"""The pure rules of programme roles (companion.accounts.roles)."""

from __future__ import annotations

import pytest

from companion.accounts.roles import (
    Capability,
    Mode,
    Role,
    allows,
    effective_role,
    needed_for,
    owners_left,
    parse_role,
)


def test_stored_values_and_the_legacy_facilitator() -> None:
    assert parse_role("facilitator") is Role.OWNER
    assert parse_role("co_facilitator") is Role.CO_FACILITATOR
    assert parse_role("observer") is Role.OBSERVER
    assert parse_role("admin") is None  # unknown values grant nothing
    assert parse_role(None) is None


@pytest.mark.parametrize(
    ("role", "granted"),
    [
        (Role.OWNER, set(Capability)),
        (
            Role.CO_FACILITATOR,
            {
                Capability.VIEW,
                Capability.RUN,
                Capability.READ_OUTCOMES,
                Capability.CONTACT_DETAILS,
            },
        ),
        (Role.OBSERVER, {Capability.VIEW, Capability.READ_OUTCOMES}),
        (None, set()),
    ],
)
def test_what_each_role_may_do(role: Role | None, granted: set[Capability]) -> None:
    assert {c for c in Capability if allows(role, c)} == granted


def test_a_read_needs_view_and_a_write_needs_run() -> None:
    assert needed_for(Mode.READ) is Capability.VIEW
    assert needed_for(Mode.WRITE) is Capability.RUN


def test_the_admin_owns_their_organisations_programmes_only() -> None:
    own = effective_role(active=True, is_admin=True, same_organisation=True, held=None)
    assert own is Role.OWNER
    other = effective_role(active=True, is_admin=True, same_organisation=False, held=None)
    assert other is None
    shared = effective_role(active=True, is_admin=True, same_organisation=False, held="observer")
    assert shared is Role.OBSERVER
    assert effective_role(active=False, is_admin=True, same_organisation=True, held="owner") is None


def test_owners_left_after_a_change() -> None:
    roles = ["owner", "facilitator", "observer"]
    assert owners_left(roles, removing="owner", becoming=None) == 1
    assert owners_left(["owner"], removing="owner", becoming=Role.OBSERVER) == 0
    assert owners_left(["owner"], removing="owner", becoming=Role.OWNER) == 1
    assert owners_left(["owner", "observer"], removing="observer", becoming=None) == 1
