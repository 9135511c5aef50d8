"""The one check of a facilitator's access to a programme.

Each request is either a read (GET, HEAD, OPTIONS) or a write, set once per request
(`companion.core.access_mode`). Every lookup of a programme's rows for a facilitator
(`get_programme`, `get_session`, the board's SQL, ...) ends in `decide`, which needs `VIEW`
for a read and `RUN` for a write. So an observer, whose role only views, is refused every
write anywhere without a route saying so. Work outside a request (CLI, worker) writes; the
live server only reads.

People's contact details (email addresses, phone numbers, the mail sent to them) need
`CONTACT_DETAILS` on top, which observers lack. Routes whose purpose is contact details or
mail (the outbox, summary emails, people exports) ask `decide` for it and refuse observers;
pages that merely show people ask `contacts_shown()` (also a template global), which is False
once any programme the request reached was reached by a role without it, so a page showing
several programmes errs on hiding.

Another organisation's programme is NotFound unless the facilitator holds a role in it, so
ids cannot be probed; a programme of their own organisation that they hold no role in is
NotAllowed.
"""

from __future__ import annotations

from collections.abc import Callable

from flask import g, has_request_context
from flask_babel import gettext as _

from companion.accounts.models import Facilitator
from companion.accounts.roles import (
    Capability,
    Role,
    allows,
    effective_role,
    needed_for,
    parse_role,
)
from companion.core.access_mode import current_mode
from companion.core.errors import NotAllowed, NotFound
from companion.programmes.models import Programme


def held_role(facilitator: Facilitator, programme_id: int) -> str | None:
    """The stored role the facilitator holds in the programme, if any."""
    for role in facilitator.roles:
        if role.programme_id == programme_id:
            return role.role
    return None


def role_in(facilitator: Facilitator, programme: Programme) -> Role | None:
    """The facilitator's effective role in the programme (None: no access at all)."""
    return effective_role(
        active=facilitator.active,
        is_admin=facilitator.is_admin,
        same_organisation=programme.organisation_id == facilitator.organisation_id,
        held=held_role(facilitator, programme.id),
    )


def _no_programme() -> str:
    return _("No such programme.")


def decide(
    facilitator: Facilitator,
    organisation_id: int,
    held: str | None,
    *,
    capability: Capability | None = None,
    missing: Callable[[], str] = _no_programme,
) -> Role:
    """The facilitator's role if it allows the current mode (and `capability`, if given).

    NotFound for another organisation's programme without a role (`missing` gives the
    message); NotAllowed for their own organisation's without a role, or a role that may not
    do this (an observer writing)."""
    same_organisation = organisation_id == facilitator.organisation_id
    role = effective_role(
        active=facilitator.active,
        is_admin=facilitator.is_admin,
        same_organisation=same_organisation,
        held=held,
    )
    if role is None:
        if not same_organisation:
            raise NotFound(missing())
        raise NotAllowed(_("You are not a facilitator of this programme."))
    if not allows(role, needed_for(current_mode())):
        raise NotAllowed(_("As an observer you can look at this programme but not change it."))
    if capability is not None and not allows(role, capability):
        if capability in (Capability.MANAGE_TEAM, Capability.DELETE):
            raise NotAllowed(_("Only the owners of this programme can do this."))
        if capability is Capability.CONTACT_DETAILS:
            raise NotAllowed(
                _("Observers do not see people's contact details or the mail sent to them.")
            )
        raise NotAllowed(_("Your role in this programme does not allow this."))
    if not allows(role, Capability.CONTACT_DETAILS):
        hide_contacts()
    return role


def hide_contacts() -> None:
    """Leave people's contact details out of the rest of this request."""
    if has_request_context():
        g.contacts_hidden = True


def contacts_shown() -> bool:
    """Whether this request may show people's contact details: not once it reached a
    programme through a role without `CONTACT_DETAILS` (see the module's docstring)."""
    return not (has_request_context() and g.get("contacts_hidden", False))


def observes_only(facilitator: Facilitator) -> bool:
    """Whether the facilitator holds roles in their organisation's programmes and none of
    them sees contact details (an observer's account, e.g. a funder's contact): such an
    account does not see contact details on the organisation's own pages either (the
    interest list). Never the admin; a colleague without any role is not one."""
    if facilitator.is_admin:
        return False
    own = [
        parse_role(held.role)
        for held in facilitator.roles
        if held.programme.organisation_id == facilitator.organisation_id
    ]
    return bool(own) and not any(allows(role, Capability.CONTACT_DETAILS) for role in own)


def require_programme(
    facilitator: Facilitator,
    programme: Programme,
    *,
    capability: Capability | None = None,
    missing: Callable[[], str] = _no_programme,
) -> Role:
    """`decide` for a loaded programme."""
    return decide(
        facilitator,
        programme.organisation_id,
        held_role(facilitator, programme.id),
        capability=capability,
        missing=missing,
    )


def may(facilitator: Facilitator, programme: Programme, capability: Capability) -> bool:
    """Whether the facilitator's role allows the capability (whatever the mode; for pages
    that offer or hide a button)."""
    return allows(role_in(facilitator, programme), capability)
