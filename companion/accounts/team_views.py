"""The team page (an organisation admin invites facilitators, sends again or revokes an
invitation, closes and reopens accounts, and sees who has access to what) and the
invitee's page where the invitation's link leads."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, flash, g, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_babel import get_locale
from flask_babel import gettext as _

from companion.accounts import identity, invitations, team
from companion.accounts.models import Facilitator
from companion.accounts.passwords import LinkNotValid
from companion.accounts.schemas import AcceptInvitationIn, InviteIn
from companion.config import Config
from companion.core.db import get_db, utcnow
from companion.core.errors import Conflict, Invalid, NotAllowed
from companion.core.security import limiter, rate_limited
from companion.core.slots import add_to_slot
from companion.core.validation import submit_form

bp = Blueprint("team", __name__, template_folder="templates")

#: Failed attempts at accepting an invitation from one client (a weak password, say).
ACCEPT_LIMIT = "30 per 15 minutes"


@bp.record_once
def _add_nav_links(state: Any) -> None:
    """Admins' menu links to the team; everyone's to their password."""

    def is_admin() -> bool:
        facilitator = g.get("facilitator")
        return bool(facilitator is not None and facilitator.is_admin)

    add_to_slot(state.app, "nav", "accounts/nav_team.html", is_admin)
    add_to_slot(state.app, "nav", "accounts/nav_password.html")


def _config() -> Config:
    config: Config = current_app.extensions["companion.config"]
    return config


def _admin() -> Facilitator:
    facilitator = identity.require_facilitator()
    invitations.require_admin(facilitator)
    return facilitator


def _team_page(
    admin: Facilitator,
    *,
    values: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> ResponseReturnValue:
    db = get_db()
    defaults = {"language": admin.language or str(get_locale() or "fi")}
    return render_template(
        "accounts/team.html",
        admin=admin,
        members=team.team_overview(db, admin),
        invitations=invitations.pending_invitations(db, admin),
        state_of=invitations.invitation_state,
        values=values or defaults,
        errors=errors or {},
    ), status


@bp.route("/team")
def team_page() -> ResponseReturnValue:
    """Who is on the organisation's team and what they have access to; the invitations."""
    return _team_page(_admin())


@bp.route("/team/invitations", methods=["POST"])
def invite() -> ResponseReturnValue:
    """Invite a facilitator by email."""
    admin = _admin()
    db = get_db()

    def send(data: InviteIn) -> ResponseReturnValue:
        invitations.invite_facilitator(
            db,
            _config(),
            admin,
            email=data.email,
            name=data.name,
            is_admin=data.is_admin,
            language=data.language,
        )
        flash(_("The invitation is on its way to %(email)s.", email=data.email))
        return redirect(url_for("team.team_page"), code=303)

    values, errors, response = submit_form(InviteIn, send)
    if response is not None:
        return response
    return _team_page(admin, values=values, errors=errors, status=422)


@bp.route("/team/invitations/<int:invitation_id>/resend", methods=["POST"])
def resend(invitation_id: int) -> ResponseReturnValue:
    """Send an invitation again with a new link (the old one stops) and a new expiry."""
    admin = _admin()
    db = get_db()
    invitation = invitations.invitation_for_admin(db, admin, invitation_id)
    invitations.resend_invitation(db, _config(), admin, invitation)
    db.commit()
    flash(_("The invitation was sent again to %(email)s.", email=invitation.email))
    return redirect(url_for("team.team_page"), code=303)


@bp.route("/team/invitations/<int:invitation_id>/revoke", methods=["POST"])
def revoke(invitation_id: int) -> ResponseReturnValue:
    """Stop an invitation's link."""
    admin = _admin()
    db = get_db()
    invitation = invitations.invitation_for_admin(db, admin, invitation_id)
    invitations.revoke_invitation(db, admin, invitation)
    db.commit()
    flash(_("The invitation to %(email)s no longer works.", email=invitation.email))
    return redirect(url_for("team.team_page"), code=303)


@bp.route("/team/<int:facilitator_id>/deactivate", methods=["POST"])
def deactivate(facilitator_id: int) -> ResponseReturnValue:
    """Close a facilitator's account: they are signed out everywhere at once."""
    admin = _admin()
    db = get_db()
    member = team.member_for_admin(db, admin, facilitator_id)
    team.deactivate_member(db, admin, member)
    db.commit()
    flash(_("%(name)s can no longer sign in; every session of theirs has ended.", name=member.name))
    return redirect(url_for("team.team_page"), code=303)


@bp.route("/team/<int:facilitator_id>/reactivate", methods=["POST"])
def reactivate(facilitator_id: int) -> ResponseReturnValue:
    """Open a closed account again (they sign in anew)."""
    admin = _admin()
    db = get_db()
    member = team.member_for_admin(db, admin, facilitator_id)
    team.reactivate_member(db, admin, member)
    db.commit()
    flash(_("%(name)s can sign in again.", name=member.name))
    return redirect(url_for("team.team_page"), code=303)


# --- the invitee --------------------------------------------------------------------------


def _failed(response: Any) -> bool:
    return bool(response.status_code != 303)


def _refused(message: str, status: int) -> ResponseReturnValue:
    get_db().rollback()
    return render_template("accounts/invitation_refused.html", message=message), status


@bp.route("/invitation/<token>", methods=["GET", "POST"])
@rate_limited
@limiter.limit(ACCEPT_LIMIT, methods=["POST"], deduct_when=_failed)
def accept(token: str) -> ResponseReturnValue:
    """The invitee chooses their name and password; the account is made and signed in."""
    db = get_db()
    signed_in = identity.current_facilitator()
    try:
        invitation = invitations.invitation_for_token(db, token)
        invitations.check_invitation_use(db, invitation, signed_in)
    except LinkNotValid as exc:
        db.rollback()
        page = render_template("accounts/link_invalid.html", reason=exc.reason, kind="invitation")
        return page, exc.status
    except (NotAllowed, Conflict) as exc:
        return _refused(exc.detail or str(exc.title), exc.status)
    organisation_name = invitation.organisation.name

    def create(data: AcceptInvitationIn) -> ResponseReturnValue:
        if data.password != data.password_confirm:
            raise Invalid(
                _("Please correct the marked fields."),
                errors={"password_confirm": _("The two passwords are not the same.")},
            )
        account = invitations.accept_invitation(
            db, token, name=data.name, password=data.password, signed_in=signed_in
        )
        identity.sign_in(db, account)
        account.last_sign_in_at = utcnow()
        flash(_("Welcome to Kollega, %(name)s.", name=account.name))
        return redirect(url_for("programmes.index"), code=303)

    try:
        values, errors, response = submit_form(
            AcceptInvitationIn, create, defaults={"name": invitation.name}
        )
    except LinkNotValid as exc:
        db.rollback()
        page = render_template("accounts/link_invalid.html", reason=exc.reason, kind="invitation")
        return page, exc.status
    if response is not None:
        return response
    return render_template(
        "accounts/accept_invitation.html",
        email=invitation.email,
        organisation_name=organisation_name,
        values={"name": values.get("name", "")},
        errors=errors,
    ), (422 if errors else 200)
