"""The Team page of a programme: its members and their roles; owners add, change, remove."""

from __future__ import annotations

from flask import flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from companion.accounts.access import may
from companion.accounts.identity import require_facilitator
from companion.accounts.roles import Capability, Role
from companion.core.db import get_db
from companion.core.errors import Conflict, Invalid
from companion.core.validation import form
from companion.programmes import operations as ops
from companion.programmes import team
from companion.programmes.blueprint import bp, error_summary
from companion.programmes.schemas import TeamMemberIn, TeamRoleIn


def _page(programme_id: int, values: dict[str, str], errors: dict[str, str]) -> ResponseReturnValue:
    facilitator = require_facilitator()
    db = get_db()
    programme = ops.get_programme(db, facilitator, programme_id)
    return render_template(
        "programmes/team.html",
        programme=programme,
        members=team.team_of(db, programme),
        may_manage=may(facilitator, programme, Capability.MANAGE_TEAM),
        roles=[(role.value, team.ROLE_LABELS[role]) for role in Role],
        labels=team.ROLE_LABELS,
        me=facilitator.id,
        values=values,
        errors=errors,
        summary=error_summary(errors),
    ), (422 if errors else 200)


@bp.route("/programmes/<int:programme_id>/team")
def team_page(programme_id: int) -> ResponseReturnValue:
    """Who runs and who follows the programme, with their roles."""
    return _page(programme_id, {"role": Role.CO_FACILITATOR.value}, {})


@bp.route("/programmes/<int:programme_id>/team", methods=["POST"])
def add_member(programme_id: int) -> ResponseReturnValue:
    """Add a facilitator (of any organisation here) to the team by their account's email."""
    facilitator = require_facilitator()
    db = get_db()
    programme = ops.get_programme(db, facilitator, programme_id)
    data = form(TeamMemberIn)
    try:
        member = team.add_member(db, facilitator, programme, data.email, data.role)
    except Invalid as exc:
        db.rollback()
        return _page(programme_id, {"email": data.email, "role": data.role.value}, exc.errors)
    except Conflict as exc:
        db.rollback()
        flash(exc.detail or "", "error")
    else:
        db.commit()
        flash(_("%(name)s was added to the team.", name=member.name))
    return redirect(url_for("programmes.team_page", programme_id=programme_id), code=303)


@bp.route("/programmes/<int:programme_id>/team/<int:facilitator_id>", methods=["POST"])
def change_member(programme_id: int, facilitator_id: int) -> ResponseReturnValue:
    """Change a member's role."""
    facilitator = require_facilitator()
    db = get_db()
    programme = ops.get_programme(db, facilitator, programme_id)
    data = form(TeamRoleIn)
    try:
        team.change_role(db, facilitator, programme, facilitator_id, data.role)
    except Conflict as exc:
        db.rollback()
        flash(exc.detail or "", "error")
    else:
        db.commit()
        flash(_("The role was changed."))
    return redirect(url_for("programmes.team_page", programme_id=programme_id), code=303)


@bp.route("/programmes/<int:programme_id>/team/<int:facilitator_id>/remove", methods=["POST"])
def remove_member(programme_id: int, facilitator_id: int) -> ResponseReturnValue:
    """Remove a member from the team."""
    facilitator = require_facilitator()
    db = get_db()
    programme = ops.get_programme(db, facilitator, programme_id)
    try:
        team.remove_member(db, facilitator, programme, facilitator_id)
    except Conflict as exc:
        db.rollback()
        flash(exc.detail or "", "error")
        return redirect(url_for("programmes.team_page", programme_id=programme_id), code=303)
    db.commit()
    flash(_("The member was removed from the team."))
    if facilitator_id == facilitator.id:
        return redirect(url_for("programmes.index"), code=303)
    return redirect(url_for("programmes.team_page", programme_id=programme_id), code=303)
