"""Programme roles and what each may do: pure rules, no database and no request.

A facilitator holds at most one role in a programme (`ProgrammeRole.role`). Owners and
co-facilitators run the programme (sessions, board, breakouts, outcomes) and see its people's
contact details and the mail sent to them; owners also manage its team and may delete it;
observers (a funder's contact, a partner's staff) only look, and see people by name only (data
minimisation). The organisation's admin counts as an owner of every programme of their
organisation.

Whether a request may change anything is decided once, from its access mode (see
`companion.core.access_mode`): a read needs `VIEW`, a write needs `RUN`.
"""

from __future__ import annotations

from enum import StrEnum

from flask_babel import lazy_gettext as _l

from companion.core.access_mode import Mode


class Role(StrEnum):
    """A facilitator's role in one programme (the stored value)."""

    OWNER = "owner"
    CO_FACILITATOR = "co_facilitator"
    OBSERVER = "observer"


class Capability(StrEnum):
    """What a role may do in a programme."""

    #: See the programme, its sessions, board, notes and breakouts.
    VIEW = "view"
    #: Change anything in it: the programme, people, sessions, board, breakouts, notes.
    RUN = "run"
    #: Read its outcomes (feedback, reports).
    READ_OUTCOMES = "read_outcomes"
    #: See people's contact details (participants' and experts' email addresses and phone
    #: numbers) and the mail sent to them (outbox, summary emails, people exports).
    CONTACT_DETAILS = "contact_details"
    #: Add, remove and change the roles of its team.
    MANAGE_TEAM = "manage_team"
    #: Delete the programme.
    DELETE = "delete"


#: Stored before roles existed: every such row is an owner.
LEGACY_OWNER = "facilitator"

_GRANTS: dict[Role, frozenset[Capability]] = {
    Role.OWNER: frozenset(Capability),
    Role.CO_FACILITATOR: frozenset(
        {Capability.VIEW, Capability.RUN, Capability.READ_OUTCOMES, Capability.CONTACT_DETAILS}
    ),
    Role.OBSERVER: frozenset({Capability.VIEW, Capability.READ_OUTCOMES}),
}

#: Stored values of the roles that run the programme (mails, breakout planning go to them).
RUNNING_VALUES: tuple[str, ...] = (Role.OWNER, Role.CO_FACILITATOR, LEGACY_OWNER)
#: Stored values that count as an owner.
OWNER_VALUES: tuple[str, ...] = (Role.OWNER, LEGACY_OWNER)


def parse_role(value: str | None) -> Role | None:
    """The role a stored value stands for (a legacy "facilitator" is an owner); None for
    nothing or an unknown value (which grants nothing)."""
    if value is None:
        return None
    if value == LEGACY_OWNER:
        return Role.OWNER
    try:
        return Role(value)
    except ValueError:
        return None


def allows(role: Role | None, capability: Capability) -> bool:
    """Whether the role may do this (no role may do nothing)."""
    return role is not None and capability in _GRANTS[role]


def needed_for(mode: Mode) -> Capability:
    """The capability any access in this mode needs."""
    return Capability.VIEW if mode is Mode.READ else Capability.RUN


def effective_role(
    *, active: bool, is_admin: bool, same_organisation: bool, held: str | None
) -> Role | None:
    """A facilitator's role in a programme: the organisation's admin is an owner of all its
    programmes; others have the role they hold (from any organisation); inactive: none."""
    if not active:
        return None
    if is_admin and same_organisation:
        return Role.OWNER
    return parse_role(held)


def owners_left(stored_roles: list[str], *, removing: str | None, becoming: Role | None) -> int:
    """How many owners stay when the member whose stored role is `removing` leaves (becoming
    None) or changes role."""
    owners = sum(1 for value in stored_roles if parse_role(value) is Role.OWNER)
    if parse_role(removing) is Role.OWNER and becoming is not Role.OWNER:
        owners -= 1
    return owners


#: How each role is named on pages (the Team page, the organisation's Facilitators page).
ROLE_LABELS = {
    Role.OWNER: _l("Owner"),
    Role.CO_FACILITATOR: _l("Co-facilitator"),
    Role.OBSERVER: _l("Observer (read-only)"),
}


#: Said once on a page that leaves contact details out for the signed-in person's role.
CONTACTS_HIDDEN = _l(
    "As an observer you see people by name only: their contact details and the mail sent "
    "to them are hidden."
)


def role_label(value: str) -> str:
    """The name of a stored role value in the current language (an unknown value as it is)."""
    role = parse_role(value)
    return str(ROLE_LABELS[role]) if role is not None else value
