"""The facilitator's breakout pages: the session's planner (who is here, the rounds so far),
the round editor, and who has met whom with the programme's pair rules.

Every page works without JavaScript (forms post and redirect); the scripts in
`static/breakouts/` add drag and drop, keyboard moves and live updates through the JSON API
(`api`). Every write commits once; domain errors show the page again with the message.
"""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import ngettext

from companion.accounts.identity import require_facilitator
from companion.breakouts import (
    # For its routes: the participant's pages join `bp` when imported, and the app registers
    # `bp` from this module.
    participant_views,  # noqa: F401
    rooms,
    summaries,
)
from companion.breakouts import personal_data as _personal_data  # noqa: F401  (registers its share)
from companion.breakouts.access import get_group, get_round, rounds_of
from companion.breakouts.attendance import absent_not_joined, set_absences
from companion.breakouts.broadcasts import send_broadcast, time_left_text
from companion.breakouts.drafts import later_sessions
from companion.breakouts.models import BreakoutRound, RoundKind
from companion.breakouts.moves import (
    add_group,
    move_person,
    release_person,
    remove_group,
    rename_group,
)
from companion.breakouts.pages import (
    bp,
    js_strings,
    live_boot,
    live_page,
    repeats_said,
    status_action,
)
from companion.breakouts.people import absent_ids, group_members, programme_facilitators
from companion.breakouts.rounds import plan_rounds
from companion.breakouts.rules import add_rule, remove_rule, rules_of
from companion.breakouts.schemas import (
    AbsencesIn,
    BroadcastIn,
    GroupIn,
    GroupRefIn,
    MetQuery,
    MoveIn,
    PlanIn,
    RoundActionIn,
    RoundFormIn,
    RoundPageQuery,
    RuleIn,
    RuleRefIn,
)
from companion.breakouts.status import delete_round
from companion.core.db import get_db, utcnow
from companion.core.errors import Conflict, DomainError, Invalid, NotFound
from companion.core.validation import form, form_data, parse, query
from companion.programmes.models import Group, Programme
from companion.programmes.operations import get_programme
from companion.sessions.attendance import presence_of
from companion.sessions.models import Session
from companion.sessions.operations import get_session
from companion.sessions.presence import PresenceSource

# --- the facilitator's session page ---------------------------------------------------------


def _facilitator_options(programme: Programme) -> list[Any]:
    return programme_facilitators(get_db(), programme)


def _session_page(
    session: Session,
    *,
    values: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> ResponseReturnValue:
    db = get_db()
    programme = session.group.programme
    facilitator = require_facilitator()
    rounds = rounds_of(db, session)
    members = group_members(session)
    absent = absent_ids(db, session)
    # "joined": seen by a join link or the platform (the facilitator's own marks are the boxes).
    joined = {
        pid
        for pid, fact in presence_of(db, session).items()
        if fact.present and fact.source in (PresenceSource.LINK, PresenceSource.PLATFORM)
    }
    defaults: dict[str, Any] = {
        "kind": "optimised",
        "sizing": "size",
        "min_size": 3,
        "max_size": 4,
        "groups": 3,
        "facilitator_rule": "any",
        "facilitator_ids": [],
        "scope": "session",
        "topics": 3,
        "assign": "pick",
    }
    if rounds:
        last = rounds[-1].settings
        sizing = last.get("sizing") or {}
        if rounds[-1].kind != RoundKind.TOPICS:
            if "groups" in sizing:
                defaults.update(sizing="count", groups=sizing["groups"])
            else:
                defaults.update(min_size=sizing.get("min", 3), max_size=sizing.get("max", 4))
        defaults["facilitator_rule"] = last.get("facilitator_rule", "any")
        defaults["facilitator_ids"] = last.get("facilitator_ids", [])
    shown = {**defaults, **(values or {})}
    shown["facilitator_ids"] = [str(i) for i in shown.get("facilitator_ids") or []]
    html = render_template(
        "breakouts/session.html",
        session=session,
        programme=programme,
        rounds=rounds,
        members=members,
        absent=absent,
        joined=joined,
        started=session.starts_at <= utcnow(),
        facilitators=_facilitator_options(programme),
        me=facilitator,
        later=len(later_sessions(session)),
        values=shown,
        errors=errors or {},
        field_errors={k: v for k, v in (errors or {}).items() if k != "form"},
        room_mode=rooms.room_mode(db, session),
        held=summaries.held_out(db, session),
    )
    return html, status


@bp.route("/sessions/<int:session_id>/breakouts", methods=["GET", "POST"])
def session_page(session_id: int) -> ResponseReturnValue:
    """Plan a round (optimised, random, manual or from topics); who is here; the rounds so far."""
    facilitator = require_facilitator()
    db = get_db()
    session = get_session(db, facilitator, session_id)
    if request.method == "GET":
        return _session_page(session)
    values = form_data(request.form, lists=("facilitator_ids",))
    try:
        data = parse(PlanIn, values)
        planned = plan_rounds(db, session, facilitator, data)
        db.commit()
    except Invalid as exc:
        db.rollback()
        errors = dict(exc.errors) or {"form": exc.detail or _("Please check the input.")}
        return _session_page(session, values=values, errors=errors, status=422)
    except Conflict as exc:
        db.rollback()
        return _session_page(session, values=values, errors={"form": str(exc.detail)}, status=409)
    rounds = planned.rounds
    if len(rounds) > 1:
        done = ngettext(
            "Planned %(num)s round: this session.",
            "Planned %(num)s rounds: this session and the later ones.",
            len(rounds),
        )
    else:
        done = _("The round is planned. Adjust it, then lock it.")
    flash(" ".join([str(done), *repeats_said(planned.plan)]))
    return redirect(url_for("breakouts.round_page", round_id=rounds[0].id), code=303)


@bp.route("/sessions/<int:session_id>/breakouts/attendance", methods=["POST"])
def attendance(session_id: int) -> ResponseReturnValue:
    """Who is here: the ticked members are present, the rest absent; drafts are re-planned."""
    facilitator = require_facilitator()
    db = get_db()
    session = get_session(db, facilitator, session_id)
    try:
        if form_data(request.form).get("action") == "not_joined":
            change = absent_not_joined(db, session)
        else:
            present = form_data(request.form, lists=("present",)).get("present", [])
            data = parse(AbsencesIn, {"present": present})
            members = {p.id for p in group_members(session)}
            change = set_absences(db, session, members - set(data.present))
        db.commit()
    except DomainError as exc:
        db.rollback()
        flash(exc.detail or str(exc.title), "error")
        return redirect(url_for("breakouts.session_page", session_id=session.id), code=303)
    if change.problem:
        flash(
            _("Attendance saved, but the drafts could not be planned again: %(reason)s",
              reason=change.problem),
            "warning",
        )  # fmt: skip
    elif change.replanned:
        done = _("Attendance saved; the draft rounds were planned again.")
        flash(" ".join([str(done), *repeats_said(change.plan)]))
    else:
        flash(_("Attendance saved."))
    return redirect(url_for("breakouts.session_page", session_id=session.id), code=303)


@bp.route("/sessions/<int:session_id>/breakouts/platform", methods=["POST"])
def sync_platform(session_id: int) -> ResponseReturnValue:
    """Push the current round to the platform again (or clear it there when none applies)."""
    facilitator = require_facilitator()
    db = get_db()
    session = get_session(db, facilitator, session_id)
    record = rooms.sync_breakouts(db, session, force=True)
    db.commit()
    if record is not None and record.get("error"):
        flash(_("That did not work: %(error)s", error=record["error"]), "error")
    else:
        held = summaries.held_out(db, session)
        flash(held.text if held is not None else _("Sent to the platform again."))
    return redirect(url_for("breakouts.session_page", session_id=session.id), code=303)


# --- the round editor ---------------------------------------------------------------------------


def _round_context(round_: BreakoutRound) -> dict[str, Any]:
    db = get_db()
    session = round_.session
    return {
        "round": round_,
        "view": summaries.round_out(db, round_),
        "session": session,
        "programme": session.group.programme,
        "boot": {
            **live_boot(session),
            "strings": js_strings(),
            "round_id": round_.id,
            "timezone": session.group.programme.timezone,
        },
        "time_left_text": time_left_text(),
    }


def _render_round(
    round_: BreakoutRound, *, error: str | None = None, status: int = 200
) -> ResponseReturnValue:
    live_page()
    return render_template("breakouts/round.html", error=error, **_round_context(round_)), status


@bp.route("/breakouts/rounds/<int:round_id>", methods=["GET", "POST"])
def round_page(round_id: int) -> ResponseReturnValue:
    """A round's groups side by side: move people, lock, start and close it."""
    facilitator = require_facilitator()
    db = get_db()
    round_ = get_round(db, facilitator, round_id)
    if request.method == "GET":
        if query(RoundPageQuery).part == "board":
            # The scripts refresh the groups after a change or a live event.
            live_page()
            return render_template("breakouts/_round_board.html", **_round_context(round_))
        return _render_round(round_)
    sent = form(RoundFormIn)
    action = sent.action
    session_id = round_.session_id
    try:
        message = _round_action(round_, action)
        db.commit()
    except DomainError as exc:
        db.rollback()
        db.refresh(round_)
        detail = exc.detail or str(exc.title)
        if isinstance(exc, Invalid) and exc.errors:
            detail = " ".join(exc.errors.values())
        return _render_round(round_, error=detail, status=exc.status)
    if message:
        flash(message)
    if action == "delete":
        return redirect(url_for("breakouts.session_page", session_id=session_id), code=303)
    person = sent.person
    anchor = f"#person-{person.replace(':', '-')}" if action == "move" and person else ""
    return redirect(url_for("breakouts.round_page", round_id=round_id) + anchor, code=303)


def _fields(*names: str) -> dict[str, Any]:
    """The named fields of the posted form (each form also carries its action and token)."""
    values = form_data(request.form)
    return {name: values[name] for name in names if name in values}


def _round_action(round_: BreakoutRound, action: str) -> str | None:
    """Do one of the round page's form actions; the message to show after."""
    db = get_db()
    if action == "move":
        data = parse(MoveIn, _fields("person", "group_id"))
        move_person(db, round_, data.person, data.group_id)
        return None
    if action == "release":
        release_person(db, round_, parse(MoveIn, _fields("person")).person)
        return str(_("The optimiser may move this person again."))
    if action == "add_group":
        add_group(db, round_, parse(GroupIn, _fields("name")).name)
        return str(_("An empty group was added."))
    if action in ("rename", "remove_group"):
        group_id = parse(GroupRefIn, _fields("group_id")).group_id
        group = get_group(db, require_facilitator(), group_id)
        if group.round_id != round_.id:
            raise NotFound()
        if action == "rename":
            rename_group(db, group, parse(GroupIn, _fields("name")).name)
            return str(_("The group was renamed."))
        remove_group(db, group)
        return str(_("The group was removed."))
    if action == "delete":
        delete_round(db, round_)
        return str(_("The round was removed."))
    if action in ("broadcast", "time_left"):
        if action == "broadcast":
            message = parse(BroadcastIn, {"kind": "message", **_fields("text")})
        else:
            message = BroadcastIn(kind="time_left")
        sent = send_broadcast(db, round_, message)
        return str(_("Shown in every group: “%(text)s”", text=sent.text))
    return status_action(round_, parse(RoundActionIn, {"action": action}).action)


# --- who has met whom, pair rules ------------------------------------------------------------


def _programme_group(programme: Programme) -> Group | None:
    wanted = query(MetQuery).group
    for group in programme.groups:
        if group.id == wanted:
            return group
    return programme.groups[0] if programme.groups else None


def _met_page(
    programme: Programme,
    *,
    values: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> ResponseReturnValue:
    db = get_db()
    group = _programme_group(programme)
    matrix = summaries.matrix_out(db, group) if group is not None else None
    html = render_template(
        "breakouts/met.html",
        programme=programme,
        group=group,
        matrix=matrix,
        people=sorted(programme.participants, key=lambda p: p.name.casefold()),
        rules=rules_of(db, programme),
        values=values or {"kind": "apart"},
        errors=errors or {},
    )
    return html, status


@bp.route("/programmes/<int:programme_id>/breakouts", methods=["GET", "POST"])
def met_page(programme_id: int) -> ResponseReturnValue:
    """Who has met whom (a heatmap per group) and the keep-apart / keep-together pairs."""
    facilitator = require_facilitator()
    db = get_db()
    programme = get_programme(db, facilitator, programme_id)
    if request.method == "GET":
        return _met_page(programme)
    values = form_data(request.form)
    try:
        if values.get("action") == "remove":
            remove_rule(db, programme, parse(RuleRefIn, {"rule_id": values.get("rule_id")}).rule_id)
            message = _("The rule was removed.")
        else:
            values.pop("action", None)
            add_rule(db, programme, parse(RuleIn, values))
            message = _("The rule was saved. It holds in every round planned from now on.")
        db.commit()
    except Invalid as exc:
        db.rollback()
        errors = dict(exc.errors) or {"form": exc.detail or _("Please check the input.")}
        return _met_page(programme, values=values, errors=errors, status=422)
    flash(message)
    group = query(MetQuery).group
    return redirect(
        url_for("breakouts.met_page", programme_id=programme.id, group=group) + "#rules",
        code=303,
    )
