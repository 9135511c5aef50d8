"""The JSON API for programmes, groups and participants (`/api/v1`)."""

from __future__ import annotations

from flask import Blueprint, current_app

from companion.accounts.access import contacts_shown
from companion.accounts.identity import require_facilitator
from companion.accounts.operations import is_shared_with, visible_programmes
from companion.core.api import api_view
from companion.core.db import get_db
from companion.programmes import operations as ops
from companion.programmes.models import Group, Participant
from companion.programmes.platform_choice import require_ready_platform
from companion.programmes.schemas import (
    GroupIn,
    GroupOut,
    GroupPatch,
    ParticipantIn,
    ParticipantOut,
    ParticipantPatch,
    ProgrammeIn,
    ProgrammeOut,
    ProgrammePatch,
)

api = Blueprint("programmes_api", __name__, url_prefix="/api/v1")


def _group_out(group: Group) -> GroupOut:
    return GroupOut(
        id=group.id,
        programme_id=group.programme_id,
        name=group.name,
        intake_open=group.intake_open,
        member_count=len(group.memberships),
    )


def _participant_out(participant: Participant) -> ParticipantOut:
    hidden = () if contacts_shown() else ("email", "phone")
    return ParticipantOut.model_validate(
        {
            **{k: getattr(participant, k) for k in ParticipantOut.model_fields if k != "group_ids"},
            **dict.fromkeys(hidden),
            "group_ids": [m.group_id for m in participant.memberships],
        }
    )


@api.get("/programmes")
@api_view(
    summary="List programmes", response=list[ProgrammeOut], tags=("programmes",), auth="facilitator"
)
def api_programmes() -> list[ProgrammeOut]:
    """The programmes the caller holds a role in (or administers), shared ones marked with
    their organisation's name."""
    facilitator = require_facilitator()
    return [
        ProgrammeOut.model_validate(p).model_copy(
            update={"shared": True, "organisation_name": p.organisation.name}
            if is_shared_with(facilitator, p)
            else {}
        )
        for p in visible_programmes(get_db(), facilitator)
    ]


@api.post("/programmes")
@api_view(
    summary="Create a programme",
    body=ProgrammeIn,
    response=ProgrammeOut,
    status=201,
    tags=("programmes",),
    auth="facilitator",
)
def api_create_programme(body: ProgrammeIn) -> ProgrammeOut:
    """A new programme facilitated by the caller."""
    facilitator = require_facilitator()
    require_ready_platform(current_app.extensions["companion.config"], body.platform)
    db = get_db()
    programme = ops.create_programme(db, facilitator, body)
    db.commit()
    return ProgrammeOut.model_validate(programme)


@api.get("/programmes/<int:programme_id>")
@api_view(
    summary="Get a programme", response=ProgrammeOut, tags=("programmes",), auth="facilitator"
)
def api_programme(programme_id: int) -> ProgrammeOut:
    """One programme."""
    facilitator = require_facilitator()
    return ProgrammeOut.model_validate(ops.get_programme(get_db(), facilitator, programme_id))


@api.patch("/programmes/<int:programme_id>")
@api_view(
    summary="Change a programme",
    body=ProgrammePatch,
    response=ProgrammeOut,
    tags=("programmes",),
    auth="facilitator",
)
def api_update_programme(programme_id: int, body: ProgrammePatch) -> ProgrammeOut:
    """Change the given fields."""
    facilitator = require_facilitator()
    db = get_db()
    programme = ops.update_programme(db, ops.get_programme(db, facilitator, programme_id), body)
    db.commit()
    return ProgrammeOut.model_validate(programme)


@api.get("/programmes/<int:programme_id>/groups")
@api_view(summary="List groups", response=list[GroupOut], tags=("groups",), auth="facilitator")
def api_groups(programme_id: int) -> list[GroupOut]:
    """The programme's groups."""
    facilitator = require_facilitator()
    programme = ops.get_programme(get_db(), facilitator, programme_id)
    return [_group_out(g) for g in programme.groups]


@api.post("/programmes/<int:programme_id>/groups")
@api_view(
    summary="Create a group",
    body=GroupIn,
    response=GroupOut,
    status=201,
    tags=("groups",),
    auth="facilitator",
)
def api_create_group(programme_id: int, body: GroupIn) -> GroupOut:
    """A new group in the programme."""
    facilitator = require_facilitator()
    db = get_db()
    group = ops.create_group(db, ops.get_programme(db, facilitator, programme_id), body)
    db.commit()
    return _group_out(group)


@api.get("/groups/<int:group_id>")
@api_view(summary="Get a group", response=GroupOut, tags=("groups",), auth="facilitator")
def api_group(group_id: int) -> GroupOut:
    """One group."""
    facilitator = require_facilitator()
    return _group_out(ops.get_group(get_db(), facilitator, group_id))


@api.patch("/groups/<int:group_id>")
@api_view(
    summary="Change a group",
    body=GroupPatch,
    response=GroupOut,
    tags=("groups",),
    auth="facilitator",
)
def api_update_group(group_id: int, body: GroupPatch) -> GroupOut:
    """Rename a group or open/close its intake survey."""
    facilitator = require_facilitator()
    db = get_db()
    group = ops.update_group(db, ops.get_group(db, facilitator, group_id), body)
    db.commit()
    return _group_out(group)


@api.get("/programmes/<int:programme_id>/participants")
@api_view(
    summary="List participants",
    response=list[ParticipantOut],
    tags=("participants",),
    auth="facilitator",
)
def api_participants(programme_id: int) -> list[ParticipantOut]:
    """The programme's participants."""
    facilitator = require_facilitator()
    programme = ops.get_programme(get_db(), facilitator, programme_id)
    return [_participant_out(p) for p in programme.participants]


@api.post("/programmes/<int:programme_id>/participants")
@api_view(
    summary="Add a participant",
    body=ParticipantIn,
    response=ParticipantOut,
    status=201,
    tags=("participants",),
    auth="facilitator",
)
def api_create_participant(programme_id: int, body: ParticipantIn) -> ParticipantOut:
    """A new participant; the email must be new to the programme."""
    facilitator = require_facilitator()
    db = get_db()
    participant = ops.add_participant(db, ops.get_programme(db, facilitator, programme_id), body)
    db.commit()
    return _participant_out(participant)


@api.get("/participants/<int:participant_id>")
@api_view(
    summary="Get a participant", response=ParticipantOut, tags=("participants",), auth="facilitator"
)
def api_participant(participant_id: int) -> ParticipantOut:
    """One participant."""
    facilitator = require_facilitator()
    return _participant_out(ops.get_participant(get_db(), facilitator, participant_id))


@api.patch("/participants/<int:participant_id>")
@api_view(
    summary="Change a participant",
    body=ParticipantPatch,
    response=ParticipantOut,
    tags=("participants",),
    auth="facilitator",
)
def api_update_participant(participant_id: int, body: ParticipantPatch) -> ParticipantOut:
    """Change the given fields (and groups, if given)."""
    facilitator = require_facilitator()
    db = get_db()
    participant = ops.update_participant(
        db, ops.get_participant(db, facilitator, participant_id), body
    )
    db.commit()
    return _participant_out(participant)


@api.delete("/participants/<int:participant_id>")
@api_view(summary="Remove a participant", tags=("participants",), auth="facilitator")
def api_remove_participant(participant_id: int) -> None:
    """Remove the participant and their data."""
    facilitator = require_facilitator()
    db = get_db()
    ops.remove_participant(db, facilitator, ops.get_participant(db, facilitator, participant_id))
    db.commit()
