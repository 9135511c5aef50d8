"""Pages for the next round and a programme's end: copy, archive, delete, invite the interest
list; and the rule that an archived programme is read-only.

The rule is one check before every writing request (`_refuse_writes_to_archived`): the
programme is found from the address (a programme, group, participant or session id) or, for a
participant, from who is asking. Unarchiving, deleting and a person's own privacy choices
(erasure above all) stay possible.
"""

from __future__ import annotations

from collections.abc import Callable

from flask import current_app, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy import select

from companion.accounts.identity import (
    current_facilitator,
    current_participant,
    require_facilitator,
)
from companion.accounts.operations import can_delete_programme, visible_programmes
from companion.accounts.roles import Capability
from companion.config import Config
from companion.core.db import Db, get_db
from companion.core.errors import Conflict, Invalid
from companion.core.validation import form, query, submit_form
from companion.programmes import operations as ops
from companion.programmes import rounds
from companion.programmes.blueprint import bp, error_summary
from companion.programmes.models import Group, Participant, ProgrammeArchive
from companion.programmes.schemas import DeleteProgrammeIn, InviteInterestedIn, ProgrammeCopyIn
from companion.sessions.models import Session


def _config() -> Config:
    config: Config = current_app.extensions["companion.config"]
    return config


# --- archived programmes are read-only --------------------------------------------------------

#: How a route's id argument leads to its programme.
PROGRAMME_OF: dict[str, Callable[[Db, int], int | None]] = {
    "programme_id": lambda db, value: value,
    "group_id": lambda db, value: db.scalar(select(Group.programme_id).where(Group.id == value)),
    "participant_id": lambda db, value: db.scalar(
        select(Participant.programme_id).where(Participant.id == value)
    ),
    "session_id": lambda db, value: db.scalar(
        select(Group.programme_id)
        .join(Session, Session.group_id == Group.id)
        .where(Session.id == value)
    ),
}
#: Writes allowed on an archived programme.
ALWAYS_ALLOWED = frozenset(
    {"programmes.unarchive_programme", "programmes.delete_programme", "accounts.sign_out"}
)


def _programme_of_request(db: Db) -> int | None:
    for name, value in (request.view_args or {}).items():
        resolve = PROGRAMME_OF.get(name)
        if resolve is not None and isinstance(value, int):
            return resolve(db, value)
    if current_facilitator() is None:
        participant = current_participant()
        if participant is not None:
            return participant.programme_id
    return None


@bp.before_app_request
def _refuse_writes_to_archived() -> None:
    """Refuse any change to an archived programme (Conflict: unarchive it first)."""
    if request.method in ("GET", "HEAD", "OPTIONS") or request.endpoint is None:
        return
    if request.endpoint in ALWAYS_ALLOWED or request.endpoint.startswith(("privacy.", "static")):
        return
    db = get_db()
    programme_id = _programme_of_request(db)
    if programme_id is not None and db.get(ProgrammeArchive, programme_id) is not None:
        raise Conflict(_("The programme is archived, so it cannot be changed. Unarchive it first."))


# --- copy, archive, delete --------------------------------------------------------------------


@bp.route("/programmes/<int:programme_id>/copy", methods=["GET", "POST"])
def copy_programme(programme_id: int) -> ResponseReturnValue:
    """Start the next round: a copy with the same groups, agenda and settings, without people."""
    facilitator = require_facilitator()
    db = get_db()
    source = ops.get_programme(db, facilitator, programme_id)

    def copy(data: ProgrammeCopyIn) -> ResponseReturnValue:
        programme = rounds.copy_programme(db, facilitator, source, data)
        flash(_("Programme copied. Schedule its sessions and invite its people."))
        return redirect(url_for("programmes.show", programme_id=programme.id), code=303)

    values, errors, response = submit_form(
        ProgrammeCopyIn, copy, defaults={"name": _("%(name)s (copy)", name=source.name)}
    )
    if response is not None:
        return response
    return render_template(
        "programmes/copy.html",
        programme=source,
        values=values,
        errors=errors,
        summary=error_summary(errors),
    ), (422 if errors else 200)


@bp.route("/programmes/<int:programme_id>/archive", methods=["POST"])
def archive_programme(programme_id: int) -> ResponseReturnValue:
    """Archive a programme that is over."""
    facilitator = require_facilitator()
    db = get_db()
    programme = ops.get_programme(db, facilitator, programme_id)
    rounds.archive_programme(db, facilitator, programme)
    db.commit()
    flash(_("The programme is archived. It is read-only now."))
    return redirect(url_for("programmes.show", programme_id=programme.id), code=303)


@bp.route("/programmes/<int:programme_id>/unarchive", methods=["POST"])
def unarchive_programme(programme_id: int) -> ResponseReturnValue:
    """Take an archived programme back into use."""
    facilitator = require_facilitator()
    db = get_db()
    programme = ops.get_programme(db, facilitator, programme_id)
    rounds.unarchive_programme(db, programme)
    db.commit()
    flash(_("The programme is back in use."))
    return redirect(url_for("programmes.show", programme_id=programme.id), code=303)


@bp.route("/programmes/<int:programme_id>/delete", methods=["GET", "POST"])
def delete_programme(programme_id: int) -> ResponseReturnValue:
    """Delete a programme and its people's data, after the owner types its name."""
    facilitator = require_facilitator()
    db = get_db()
    programme = ops.get_programme(db, facilitator, programme_id)
    errors: dict[str, str] = {}
    typed = form(DeleteProgrammeIn).confirm_name if request.method == "POST" else ""
    if request.method == "POST":
        try:
            rounds.delete_programme(db, facilitator, programme, typed)
        except Invalid as exc:
            db.rollback()
            errors = dict(exc.errors)
        else:
            db.commit()
            flash(_("The programme and its people's data were deleted."))
            return redirect(url_for("programmes.index"), code=303)
    return render_template(
        "programmes/delete.html",
        programme=programme,
        may_delete=can_delete_programme(facilitator, programme),
        coming=rounds.coming_sessions(db, programme),
        people=len(programme.participants),
        values={"confirm_name": typed},
        errors=errors,
        summary=errors,
    ), (422 if errors else 200)


# --- inviting the interest list ---------------------------------------------------------------


def _chosen() -> InviteInterestedIn:
    """The chosen people and group, from the list's query string or the confirmation form."""
    if request.method == "POST":
        return form(InviteInterestedIn, lists=("submission",))
    return query(InviteInterestedIn)


def invitation_groups(db: Db) -> list[Group]:
    """Groups of the facilitator's organisation's programmes in use whose intake survey is
    open (the interest list is the organisation's: not for programmes shared with them)."""
    facilitator = require_facilitator()
    return [
        group
        for programme in visible_programmes(db, facilitator, archived=False)
        for group in programme.groups
        if group.intake_open and programme.organisation_id == facilitator.organisation_id
    ]


@bp.route("/interest/invite", methods=["GET", "POST"])
def invite_interested() -> ResponseReturnValue:
    """Show what the invitations say and to whom (GET), then send them (POST)."""
    facilitator = require_facilitator()
    db = get_db()
    chosen = _chosen()  # a malformed address or form is a 422, like everywhere
    try:
        if chosen.group_id is None:
            raise Invalid(errors={"group_id": _("Choose the group to invite them to.")})
        # The invitations are mail to people, shown with their addresses: not for observers.
        group = ops.get_group(
            db, facilitator, chosen.group_id, capability=Capability.CONTACT_DETAILS
        )
        plan = rounds.plan_invitations(db, facilitator, chosen.submission, group)
    except (Invalid, Conflict) as exc:
        errors = exc.errors if isinstance(exc, Invalid) else {}
        for message in errors.values() or [exc.detail or ""]:
            flash(message, "error")
        return redirect(url_for("programmes.interest_list"), code=303)
    if request.method == "POST":
        queued = rounds.invite_interested(db, _config(), facilitator, plan)
        db.commit()
        flash(
            ngettext(
                "%(num)s invitation is on its way. See the outbox.",
                "%(num)s invitations are on their way. See the outbox.",
                queued,
            )
        )
        return redirect(url_for("programmes.interest_list"), code=303)
    sample = (
        rounds.invitation_email(_config(), plan.to_invite[0], group) if plan.to_invite else None
    )
    return render_template("programmes/invite_confirm.html", plan=plan, sample=sample)
