"""Facilitator accounts by invitation: an organisation admin invites by email, the invitee
opens a single-use link that expires and chooses their name and password.

An invitation belongs to the inviting organisation: the account it makes is that
organisation's, and the link refuses to be used from a browser signed in to another
organisation or for an address that already has an account. Only the token's hash is
stored; sending again makes a new link (the old one stops).
"""

from __future__ import annotations

from datetime import timedelta

from flask_babel import gettext as _
from sqlalchemy import CursorResult, delete, func, select, update

from companion.accounts.models import Facilitator, FacilitatorInvitation
from companion.accounts.operations import create_facilitator
from companion.accounts.passwords import (
    LinkNotValid,
    new_link_token,
    require_strong_password,
    token_digest,
    user_inputs_of,
)
from companion.config import Config
from companion.core.db import Db, utcnow
from companion.core.errors import Conflict, NotAllowed, NotFound
from companion.core.jobs import periodic
from companion.core.mail import queue_mail

#: How long an invitation link works.
INVITATION_LIFETIME = timedelta(days=7)
#: An invitation (the invitee's address) is kept this long after its link expired, so the
#: team page still shows it as expired for a while and it can be sent again.
INVITATION_RECORD_LIFETIME = timedelta(days=30)


def require_admin(facilitator: Facilitator) -> None:
    """NotAllowed unless the facilitator is an active organisation admin."""
    if not facilitator.active or not facilitator.is_admin:
        raise NotAllowed(_("Only the organisation's administrators manage its team."))


def invitation_url(config: Config, token: str) -> str:
    """The absolute address of an invitation link."""
    return config.external_url(f"/invitation/{token}")


def invitation_state(invitation: FacilitatorInvitation) -> str:
    """ "accepted", "revoked", "expired" or "pending"."""
    if invitation.accepted_at is not None:
        return "accepted"
    if invitation.revoked_at is not None:
        return "revoked"
    if invitation.expires_at <= utcnow():
        return "expired"
    return "pending"


def _send(db: Db, config: Config, invitation: FacilitatorInvitation, admin: Facilitator) -> None:
    """A fresh link (the previous one stops), a new expiry, and the email."""
    from companion.accounts.mail import render_invitation

    token, digest = new_link_token()
    invitation.token_hash = digest
    invitation.sent_at = utcnow()
    invitation.expires_at = invitation.sent_at + INVITATION_LIFETIME
    invitation.revoked_at = None
    invitation.invited_by_id = admin.id
    mail = render_invitation(
        config,
        name=invitation.name,
        language=invitation.language,
        url=invitation_url(config, token),
        organisation_name=admin.organisation.name,
        invited_by_name=admin.name,
        invited_by_email=admin.email,
        days=INVITATION_LIFETIME.days,
    )
    queue_mail(
        db,
        to_address=invitation.email,
        to_name=invitation.name,
        subject=mail.subject,
        text_body=mail.text,
        html_body=mail.html,
        kind="account_invitation",
    )
    db.flush()


def invite_facilitator(
    db: Db,
    config: Config,
    admin: Facilitator,
    *,
    email: str,
    name: str = "",
    is_admin: bool = False,
    language: str = "",
) -> FacilitatorInvitation:
    """Invite a person to the admin's organisation by email (again, if already invited)."""
    require_admin(admin)
    email = email.strip().lower()
    member = db.scalar(
        select(Facilitator.id).where(
            func.lower(Facilitator.email) == email,
            Facilitator.organisation_id == admin.organisation_id,
        )
    )
    if member is not None:
        raise Conflict(_("This person is already on your team."), field="email")
    invitation = db.scalar(
        select(FacilitatorInvitation).where(
            FacilitatorInvitation.organisation_id == admin.organisation_id,
            FacilitatorInvitation.email == email,
            FacilitatorInvitation.accepted_at.is_(None),
        )
    )
    if invitation is None:
        invitation = FacilitatorInvitation(
            organisation_id=admin.organisation_id,
            email=email,
            token_hash="",
            expires_at=utcnow(),
        )
        db.add(invitation)
    invitation.name = name.strip()
    invitation.is_admin = is_admin
    invitation.language = language
    _send(db, config, invitation, admin)
    return invitation


def invitation_for_admin(db: Db, admin: Facilitator, invitation_id: int) -> FacilitatorInvitation:
    """One of the admin's organisation's invitations (NotFound for any other)."""
    require_admin(admin)
    invitation = db.get(FacilitatorInvitation, invitation_id)
    if invitation is None or invitation.organisation_id != admin.organisation_id:
        raise NotFound(_("No such invitation."))
    return invitation


def resend_invitation(
    db: Db, config: Config, admin: Facilitator, invitation: FacilitatorInvitation
) -> None:
    """Send the invitation again with a new link and a new expiry."""
    require_admin(admin)
    if invitation.accepted_at is not None:
        raise Conflict(_("This invitation has already been accepted."))
    _send(db, config, invitation, admin)


def revoke_invitation(db: Db, admin: Facilitator, invitation: FacilitatorInvitation) -> None:
    """Stop the invitation's link."""
    require_admin(admin)
    if invitation.accepted_at is not None:
        raise Conflict(_("This invitation has already been accepted."))
    invitation.revoked_at = invitation.revoked_at or utcnow()
    db.flush()


def pending_invitations(db: Db, admin: Facilitator) -> list[FacilitatorInvitation]:
    """The organisation's invitations not yet accepted (pending, expired or revoked)."""
    require_admin(admin)
    return list(
        db.scalars(
            select(FacilitatorInvitation)
            .where(
                FacilitatorInvitation.organisation_id == admin.organisation_id,
                FacilitatorInvitation.accepted_at.is_(None),
            )
            .order_by(FacilitatorInvitation.sent_at.desc(), FacilitatorInvitation.id.desc())
        )
    )


def invitation_for_token(db: Db, token: str) -> FacilitatorInvitation:
    """The live invitation of a link, or LinkNotValid saying why not."""
    invitation = db.scalar(
        select(FacilitatorInvitation).where(FacilitatorInvitation.token_hash == token_digest(token))
    )
    if invitation is None:
        raise LinkNotValid("unknown")
    state = invitation_state(invitation)
    if state == "accepted":
        raise LinkNotValid("used")
    if state in ("revoked", "expired"):
        raise LinkNotValid("revoked" if state == "revoked" else "expired")
    return invitation


def check_invitation_use(
    db: Db, invitation: FacilitatorInvitation, signed_in: Facilitator | None
) -> None:
    """Refuse a link opened while signed in to another organisation, or for an address that
    has an account already."""
    if signed_in is not None and signed_in.organisation_id != invitation.organisation_id:
        raise NotAllowed(
            _(
                "This invitation is for %(organisation)s, and you are signed in to another "
                "organisation. An account belongs to one organisation: sign out first, and "
                "create the new account with the invited address.",
                organisation=invitation.organisation.name,
            )
        )
    existing = db.scalar(
        select(Facilitator.id).where(func.lower(Facilitator.email) == invitation.email)
    )
    if existing is not None:
        raise Conflict(
            _(
                "The address %(email)s already has a Kollega account, so this invitation "
                "cannot make another. Sign in with it, or ask the person who invited you.",
                email=invitation.email,
            )
        )


def accept_invitation(
    db: Db, token: str, *, name: str, password: str, signed_in: Facilitator | None = None
) -> Facilitator:
    """Create the invited account with the chosen name and password (the link then stops)."""
    invitation = invitation_for_token(db, token)
    check_invitation_use(db, invitation, signed_in)
    require_strong_password(
        password, user_inputs_of(invitation.email, name, invitation.organisation.name)
    )
    # The guard makes the link single-use even when two requests race with it.
    used = db.execute(
        update(FacilitatorInvitation)
        .where(
            FacilitatorInvitation.id == invitation.id,
            FacilitatorInvitation.accepted_at.is_(None),
            FacilitatorInvitation.revoked_at.is_(None),
        )
        .values(accepted_at=utcnow())
    )
    if not isinstance(used, CursorResult) or used.rowcount != 1:
        raise LinkNotValid("used")
    return create_facilitator(
        db,
        invitation.organisation,
        email=invitation.email,
        name=name or invitation.name,
        password=password,
        is_admin=invitation.is_admin,
        language=invitation.language,
    )


@periodic(3600)
def purge_invitations(db: Db) -> None:
    """Delete invitations a month past their link's expiry (accepted ones too: the account
    holds the address then), so an invitee's address is not kept for nothing."""
    cutoff = utcnow() - INVITATION_RECORD_LIFETIME
    db.execute(delete(FacilitatorInvitation).where(FacilitatorInvitation.expires_at < cutoff))
