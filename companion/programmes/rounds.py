"""The next round and the end of a programme: invite the interest list, copy a programme,
archive it, delete it.

- Inviting: each chosen interest-form answer gets, by email, the intake survey of the chosen
  group (once per group: the dedupe key and `InterestInvitation` remember it).
- Copying: a new programme with the same groups, agenda template, settings and team; no
  participants, no sessions.
- Archiving: the programme becomes read-only (`archive_views` refuses writes) and leaves the
  default list; its facilitators still find it under "Archived".
- Deleting (owners, with the programme's name typed as confirmation): every participant's data
  is erased as erasure does, then the programme and everything in it are deleted.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta

from flask import render_template
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import func, select

from companion.accounts.models import Facilitator
from companion.accounts.operations import can_delete_programme, grant_programme
from companion.accounts.roles import parse_role
from companion.config import Config
from companion.core.db import Db, utcnow
from companion.core.errors import Conflict, Invalid, NotAllowed
from companion.core.mail import queue_mail
from companion.privacy.audit import record_audit
from companion.privacy.erasure import erase_programme_data
from companion.programmes.models import (
    Group,
    InterestInvitation,
    InterestSubmission,
    Participant,
    Programme,
    ProgrammeArchive,
)
from companion.programmes.operations import create_group, create_programme
from companion.programmes.schemas import GroupIn, ProgrammeCopyIn, ProgrammeIn
from companion.sessions.agenda import copy_agenda_template
from companion.sessions.models import Session, SessionStatus

# --- inviting the interest list -------------------------------------------------------------


@dataclass(frozen=True)
class InvitationPlan:
    """Who an invitation to a group's intake survey would go to, and who has one already."""

    group: Group
    to_invite: list[InterestSubmission]
    already: list[InterestSubmission]


def plan_invitations(
    db: Db, facilitator: Facilitator, submission_ids: Iterable[int], group: Group
) -> InvitationPlan:
    """The chosen answers of the facilitator's organisation, split by whether they were invited
    to this group already. Conflict if the group cannot take answers."""
    if group.programme.is_archived:
        raise Conflict(_("The programme is archived."))
    if not group.intake_open:
        raise Conflict(_("Open the group's intake survey first."), field="group_id")
    ids = list(dict.fromkeys(submission_ids))
    submissions = list(
        db.scalars(
            select(InterestSubmission)
            .where(
                InterestSubmission.id.in_(ids),
                InterestSubmission.organisation_id == facilitator.organisation_id,
            )
            .order_by(func.lower(InterestSubmission.name))
        )
    )
    if not submissions:
        raise Invalid(errors={"submission": _("Choose the people to invite.")})
    invited = {i.submission_id for i in db.scalars(
        select(InterestInvitation).where(InterestInvitation.group_id == group.id)
    )}  # fmt: skip
    return InvitationPlan(
        group=group,
        to_invite=[s for s in submissions if s.id not in invited],
        already=[s for s in submissions if s.id in invited],
    )


@dataclass(frozen=True)
class InvitationEmail:
    """An invitation as it goes out."""

    subject: str
    text: str
    html: str


def invitation_email(
    config: Config, submission: InterestSubmission, group: Group
) -> InvitationEmail:
    """The invitation to the group's intake survey, in the person's language."""
    programme = group.programme
    language = submission.language or programme.language
    context = {
        "submission": submission,
        "programme": programme,
        "group": group,
        "organisation": programme.organisation,
        "survey_url": config.external_url(f"/intake/{group.intake_token}"),
    }
    with force_locale(language):
        subject = _("Join %(programme)s", programme=programme.name)
        text = render_template("programmes/email/interest_invitation.txt", **context)
        html = render_template("programmes/email/interest_invitation.html", **context)
    return InvitationEmail(subject, text, html)


def invite_interested(
    db: Db, config: Config, facilitator: Facilitator, plan: InvitationPlan
) -> int:
    """Email each person of the plan the group's intake survey; returns how many were queued."""
    group = plan.group
    queued = 0
    for submission in plan.to_invite:
        email = invitation_email(config, submission, group)
        message = queue_mail(
            db,
            to_address=submission.email,
            to_name=submission.name,
            subject=email.subject,
            text_body=email.text,
            html_body=email.html,
            kind="interest_invitation",
            programme_id=group.programme_id,
            dedupe_key=f"interest-invite-{submission.id}-{group.id}",
        )
        db.add(
            InterestInvitation(
                submission_id=submission.id, group_id=group.id, facilitator_id=facilitator.id
            )
        )
        queued += message is not None
    record_audit(
        db,
        "interest.invite",
        organisation_id=facilitator.organisation_id,
        facilitator=facilitator,
        programme_id=group.programme_id,
        group_id=group.id,
        count=queued,
    )
    db.flush()
    return queued


# --- copying and archiving ------------------------------------------------------------------


def copy_programme(
    db: Db, facilitator: Facilitator, source: Programme, data: ProgrammeCopyIn
) -> Programme:
    """A new programme like `source`: its settings, groups, agenda template and team (with
    their roles), with the new name and dates; no participants and no sessions. The copy is
    the source's organisation's, also when a partner it was shared with makes it."""
    programme = create_programme(
        db,
        facilitator,
        ProgrammeIn(
            name=data.name,
            description=source.description,
            language=source.language,
            timezone=source.timezone,
            starts_on=data.starts_on,
            ends_on=data.ends_on,
            platform=source.platform,
        ),
    )
    programme.organisation_id = source.organisation_id
    for group in source.groups:
        create_group(db, programme, GroupIn(name=group.name, intake_open=True))
    for role in source.roles:
        held = parse_role(role.role)
        if role.facilitator.active and held is not None:
            granted = grant_programme(db, role.facilitator, programme, held)
            granted.role = held.value  # the copier too keeps their role (not owner by copying)
    copy_agenda_template(db, source, programme)
    return programme


def coming_sessions(db: Db, programme: Programme) -> int:
    """How many of the programme's sessions are still to be held (scheduled, not over)."""
    now = utcnow()
    candidates = db.scalars(
        select(Session)
        .join(Group, Group.id == Session.group_id)
        .where(
            Group.programme_id == programme.id,
            Session.status == SessionStatus.SCHEDULED,
            # No session lasts a day: older starts are over (their end is checked below).
            Session.starts_at >= now - timedelta(days=1),
        )
    )
    return sum(1 for session in candidates if session.ends_at > now)


def archive_programme(db: Db, facilitator: Facilitator, programme: Programme) -> None:
    """Put the programme away: read-only and out of the default list (once it is over)."""
    if programme.is_archived:
        return
    if coming_sessions(db, programme):
        raise Conflict(_("The programme still has coming sessions: archive it once they are over."))
    programme.archive = ProgrammeArchive(archived_by_id=facilitator.id, archived_at=utcnow())
    # Nobody joins a programme that is over (unarchiving leaves the surveys closed).
    for group in programme.groups:
        group.intake_open = False
    db.flush()


def unarchive_programme(db: Db, programme: Programme) -> None:
    """Take the programme back into use."""
    if programme.archive is not None:
        programme.archive = None
        db.flush()


# --- deleting ---------------------------------------------------------------------------------


def delete_programme(
    db: Db, facilitator: Facilitator, programme: Programme, typed_name: str
) -> int:
    """Delete the programme after erasing its people's data; returns how many were erased.

    Only its owners may (`can_delete_programme`), only when `typed_name` is its name, and not
    while sessions are coming (cancel them first, so members' calendars are told).
    """
    if not can_delete_programme(facilitator, programme):
        raise NotAllowed(_("Only the programme's owners can delete it."))
    if typed_name.strip() != programme.name.strip():
        message = _("Type the programme's name exactly as it is shown.")
        raise Invalid(message, errors={"confirm_name": message})
    if coming_sessions(db, programme):
        raise Conflict(
            _("The programme has coming sessions. Cancel them first, so members are told.")
        )
    people = db.scalar(
        select(func.count(Participant.id)).where(Participant.programme_id == programme.id)
    )
    erased = erase_programme_data(db, programme)
    record_audit(
        db,
        "programme.delete",
        organisation_id=programme.organisation_id,
        facilitator=facilitator,
        programme_id=programme.id,
        participants=int(people or 0),
    )
    db.delete(programme)
    db.flush()
    return erased
