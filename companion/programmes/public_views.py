"""The public forms: a group's intake survey and an organisation's interest form (no sign-in),
and the facilitator's list of interest-form answers."""

from __future__ import annotations

from flask import render_template, request
from flask.typing import ResponseReturnValue

from companion.accounts.access import hide_contacts, observes_only
from companion.accounts.identity import require_facilitator
from companion.core.db import get_db
from companion.core.security import limiter, rate_limited
from companion.core.validation import submit_form
from companion.needs.operations import set_needs
from companion.needs.schemas import NEEDS_LISTS
from companion.privacy.audit import record_audit
from companion.programmes import operations as ops
from companion.programmes.blueprint import bp, error_summary
from companion.programmes.round_views import invitation_groups
from companion.programmes.schemas import IntakeIn, InterestIn


@bp.route("/intake/<token>", methods=["GET", "POST"])
@rate_limited
@limiter.limit("20 per hour", methods=["POST"])
def intake(token: str) -> ResponseReturnValue:
    """A group's public intake survey."""
    db = get_db()
    group = ops.group_by_intake_token(db, token)
    if not group.intake_open:
        # The page itself says the survey is closed; a late answer gets the same page.
        status = 403 if request.method == "POST" else 200
        return render_template(
            "programmes/intake.html", group=group, values={}, errors={}, summary={}
        ), status

    def submit(data: IntakeIn) -> ResponseReturnValue:
        participant = ops.submit_intake(db, group, data)
        if participant is not None:
            set_needs(db, participant, data)
        # Thank by the name typed: a known email must not reveal the stored name.
        return render_template("programmes/intake_done.html", group=group, name=data.name)

    values, errors, response = submit_form(
        IntakeIn, submit, lists=NEEDS_LISTS, defaults={"language": group.programme.language}
    )
    if response is not None:
        return response
    return render_template(
        "programmes/intake.html",
        group=group,
        values=values,
        errors=errors,
        summary=error_summary(errors),
    ), (422 if errors else 200)


@bp.route("/interest/<token>", methods=["GET", "POST"])
@rate_limited
@limiter.limit("20 per hour", methods=["POST"])
def interest(token: str) -> ResponseReturnValue:
    """An organisation's public form for people who want to join a later round."""
    db = get_db()
    organisation = ops.organisation_by_interest_token(db, token)

    def submit(data: InterestIn) -> ResponseReturnValue:
        ops.submit_interest(db, organisation, data)
        return render_template("programmes/interest_done.html", organisation=organisation)

    values, errors, response = submit_form(InterestIn, submit)
    if response is not None:
        return response
    return render_template(
        "programmes/interest.html",
        organisation=organisation,
        values=values,
        errors=errors,
        summary=error_summary(errors),
    ), (422 if errors else 200)


@bp.route("/interest")
def interest_list() -> str:
    """Interest-form answers for the facilitator's organisation."""
    facilitator = require_facilitator()
    db = get_db()
    if observes_only(facilitator):
        hide_contacts()
    submissions = ops.interest_submissions(db, facilitator)
    record_audit(
        db,
        "interest.view",
        organisation_id=facilitator.organisation_id,
        facilitator=facilitator,
        count=len(submissions),
    )
    db.commit()
    return render_template(
        "programmes/interest_list.html",
        organisation=facilitator.organisation,
        submissions=submissions,
        groups=invitation_groups(db),
    )
