"""Breakout pages (facilitator's planner and round editor, participant's "my group") and API.

Every page works without JavaScript (forms post and redirect); the scripts in
`static/breakouts/` add drag and drop, keyboard moves and live updates through the JSON API.
Every write commits once; domain errors become problem+json or the page again with the message.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Blueprint, current_app, flash, g, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_wtf.csrf import generate_csrf

from companion.accounts.identity import Actor, current_actor, require_actor, require_facilitator
from companion.board.views import PANEL_FRAME_ANCESTORS
from companion.breakouts import rooms, summaries
from companion.breakouts.access import get_group as get_breakout_group
from companion.breakouts.access import get_round, group_for_participant, rounds_of
from companion.breakouts.attendance import absent_not_joined, set_absences, set_absent
from companion.breakouts.channel import channel_for
from companion.breakouts.drafts import later_sessions
from companion.breakouts.models import BreakoutGroup, BreakoutRound, RoundKind, RoundStatus
from companion.breakouts.moves import (
    add_group,
    move_person,
    release_person,
    remove_group,
    rename_group,
)
from companion.breakouts.people import absent_ids, group_members, programme_facilitators
from companion.breakouts.planning import Plan
from companion.breakouts.rounds import plan_rounds, replan
from companion.breakouts.rules import add_rule, remove_rule, rules_of
from companion.breakouts.schemas import (
    AbsenceIn,
    AbsencesIn,
    AttendanceOut,
    GroupIn,
    MatrixOut,
    MatrixQuery,
    MoveIn,
    MyGroupOut,
    PlanIn,
    RoundActionIn,
    RoundOut,
    RuleIn,
    RuleOut,
)
from companion.breakouts.status import (
    close_round,
    delete_round,
    lock_round,
    retry_platform,
    start_round,
    unlock_round,
)
from companion.breakouts.topic_rounds import assign_rest, pick_group, set_picks_open, unpick
from companion.core.api import api_view
from companion.core.db import Db, get_db, utcnow
from companion.core.errors import Conflict, DomainError, Invalid, NotFound
from companion.core.events import current_seq
from companion.core.live import live_origin, live_public_url
from companion.core.validation import form_data, parse
from companion.programmes.models import Group, Participant, Programme
from companion.programmes.operations import get_group, get_programme
from companion.sessions.models import Session
from companion.sessions.operations import get_session, session_for_actor

bp = Blueprint("breakouts", __name__, template_folder="templates")
api = Blueprint("breakouts_api", __name__, url_prefix="/api/v1")


def _app() -> Any:
    return current_app._get_current_object()  # type: ignore[attr-defined]


def _live_page() -> None:
    """Pages that follow the live channel may connect to the live server."""
    g.csp_extra = {"connect-src": f"'self' {live_origin(_app())}"}


def _live_boot(session: Session) -> dict[str, Any]:
    channel = channel_for(session.id)
    return {
        "channel": channel,
        "seq": current_seq(get_db(), channel),
        "token_url": url_for("live_api.live_token"),
        "live_url": live_public_url(_app()),
        "csrf": generate_csrf(),
    }


def _js_strings() -> dict[str, str]:
    """The texts the scripts show or announce, in the page's language."""
    return {
        "moved": _("%(name)s moved to %(group)s."),
        "unplaced": _("%(name)s is no longer in a group."),
        "move_failed": _("The move was not saved: %(reason)s"),
        "saving": _("Saving…"),
        "saved": _("Saved."),
        "updated": _("The groups were updated."),
        "live": _("Live"),
        "offline": _("Offline – reconnecting…"),
        "connecting": _("Connecting…"),
        "error": _("That did not work. Please try again."),
        "first": _("%(name)s is already in the first group."),
        "last": _("%(name)s is already in the last group."),
    }


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
    joined = {a.participant_id for a in session.attendance}
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
        done = _("Planned %(n)s rounds: this session and the later ones.", n=len(rounds))
    else:
        done = _("The round is planned. Adjust it, then lock it.")
    flash(" ".join([str(done), *_repeats_said(planned.plan)]))
    return redirect(url_for("breakouts.round_page", round_id=rounds[0].id), code=303)


def _repeats_said(plan: Plan | None) -> list[str]:
    """What an optimised plan means for meeting people again, in a sentence or two."""
    if plan is None:
        return []
    if plan.repeat_pairs == 0:
        return [str(_("Nobody meets the same person twice."))]
    said = [
        str(
            ngettext(
                "%(num)s pair meets more than once over the programme.",
                "%(num)s pairs meet more than once over the programme.",
                plan.repeat_pairs,
            )
        )
    ]
    if plan.fewest_possible:
        said.append(str(_("No plan could repeat less with these group sizes, absences and rules.")))
    return said


@bp.route("/sessions/<int:session_id>/breakouts/attendance", methods=["POST"])
def attendance(session_id: int) -> ResponseReturnValue:
    """Who is here: the ticked members are present, the rest absent; drafts are re-planned."""
    facilitator = require_facilitator()
    db = get_db()
    session = get_session(db, facilitator, session_id)
    try:
        if request.form.get("action") == "not_joined":
            change = absent_not_joined(db, session)
        else:
            data = parse(AbsencesIn, {"present": request.form.getlist("present")})
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
        flash(" ".join([str(done), *_repeats_said(change.plan)]))
    else:
        flash(_("Attendance saved."))
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
        "boot": {**_live_boot(session), "strings": _js_strings(), "round_id": round_.id},
    }


def _render_round(
    round_: BreakoutRound, *, error: str | None = None, status: int = 200
) -> ResponseReturnValue:
    _live_page()
    return render_template("breakouts/round.html", error=error, **_round_context(round_)), status


@bp.route("/breakouts/rounds/<int:round_id>", methods=["GET", "POST"])
def round_page(round_id: int) -> ResponseReturnValue:
    """A round's groups side by side: move people, lock, start and close it."""
    facilitator = require_facilitator()
    db = get_db()
    round_ = get_round(db, facilitator, round_id)
    if request.method == "GET":
        if request.args.get("part") == "board":
            # The scripts refresh the groups after a change or a live event.
            _live_page()
            return render_template("breakouts/_round_board.html", **_round_context(round_))
        return _render_round(round_)
    action = request.form.get("action", "")
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
    person = request.form.get("person", "")
    anchor = f"#person-{person.replace(':', '-')}" if action == "move" and person else ""
    return redirect(url_for("breakouts.round_page", round_id=round_id) + anchor, code=303)


def _fields(*names: str) -> dict[str, Any]:
    """The named fields of the posted form (each form also carries its action and token)."""
    values = form_data(request.form)
    return {name: values[name] for name in names if name in values}


def _round_action(round_: BreakoutRound, action: str) -> str | None:
    """Do one of the round page's form actions; the message to show after."""
    db = get_db()
    form = request.form
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
        group_id = form.get("group_id", "")
        group = get_breakout_group(
            db, require_facilitator(), int(group_id) if group_id.isdigit() else 0
        )
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
    return _status_action(round_, parse(RoundActionIn, {"action": action}).action)


def _status_action(round_: BreakoutRound, action: str) -> str | None:
    db = get_db()
    if action == "lock":
        result = lock_round(db, round_)
        if result.room_failures:
            failures = "; ".join(result.room_failures)
            flash(_("Some rooms could not be made: %(errors)s", errors=failures), "error")
        return str(_("The round is locked."))
    if action == "unlock":
        unlock_round(db, round_)
        return str(_("The round is a draft again."))
    if action == "start":
        start_round(db, round_)
        return str(_("The round has started: participants see their groups."))
    if action == "close":
        close_round(db, round_)
        return str(_("The round is closed."))
    if action == "replan":
        planned = replan(db, round_)
        done = _("Planned again (%(n)s rounds).", n=len(planned.rounds))
        return " ".join([str(done), *_repeats_said(planned.plan)])
    if action == "assign":
        assign_rest(db, round_)
        return str(_("Everyone has a group now."))
    if action in ("open_picks", "close_picks"):
        set_picks_open(db, round_, action == "open_picks")
        opened = action == "open_picks"
        return str(_("Choosing is open.") if opened else _("Choosing is closed."))
    if action == "push":
        retry_platform(db, round_)
        return str(_("Sent to the platform again."))
    raise NotFound()


# --- who has met whom, pair rules ------------------------------------------------------------


def _programme_group(programme: Programme) -> Group | None:
    raw = request.args.get("group", "")
    wanted = int(raw) if raw.isdigit() else None
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
            raw = str(values.get("rule_id", ""))
            remove_rule(db, programme, int(raw) if raw.isdigit() else 0)
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
    group = request.args.get("group", "")
    return redirect(
        url_for("breakouts.met_page", programme_id=programme.id, group=group or None) + "#rules",
        code=303,
    )


# --- the participant's page -----------------------------------------------------------------


def _who_are_you() -> ResponseReturnValue:
    from companion.notes.views import who_are_you

    return who_are_you()


def _my_group_context(session: Session, actor: Actor) -> dict[str, Any]:
    assert actor.participant is not None
    db = get_db()
    view = summaries.my_group_out(db, session, actor.participant)
    return {
        "session": session,
        "programme": session.group.programme,
        "view": view,
        "boot": {**_live_boot(session), "strings": _js_strings()},
    }


@bp.route("/sessions/<int:session_id>/my-group", methods=["GET", "POST"])
def my_group(session_id: int) -> ResponseReturnValue:
    """The participant's small group: members, room link, notes; or the topics to choose."""
    actor = current_actor()
    if actor is None:
        return _who_are_you()
    db = get_db()
    session = session_for_actor(db, actor, session_id)
    panel = request.args.get("panel") == "1"
    if actor.facilitator is not None:
        if panel and request.args.get("part") == "group":
            return render_template("breakouts/_panel_facilitator.html", session=session)
        return redirect(url_for("breakouts.session_page", session_id=session.id))
    participant = actor.participant
    assert participant is not None
    if request.method == "POST":
        raw = request.form.get("group_id", "")
        try:
            group = group_for_participant(db, participant, int(raw) if raw.isdigit() else 0)
            if request.form.get("action") == "leave":
                unpick(db, participant, group.round)
                message = _("Your choice was taken back.")
            else:
                pick_group(db, participant, group)
                message = _("You chose “%(name)s”.", name=group.name)
            db.commit()
        except (Conflict, NotFound) as exc:
            db.rollback()
            _live_page()
            context = _my_group_context(session, actor)
            return render_template("breakouts/my_group.html", error=exc.detail, **context), (
                exc.status
            )
        flash(message)
        return redirect(url_for("breakouts.my_group", session_id=session.id), code=303)
    _live_page()
    context = _my_group_context(session, actor)
    if request.args.get("part") == "group":
        return render_template("breakouts/_my_group.html", panel=panel, **context)
    return render_template("breakouts/my_group.html", error=None, **context)


@bp.route("/panel/sessions/<int:session_id>/group")
def panel_group(session_id: int) -> ResponseReturnValue:
    """ "My group" in the side panel (Zoom, Teams): the page holds no data; its script reads a
    bearer token from the address fragment (or uses the join-link cookie), fetches the group
    part of "my small group" and follows the session's breakout channel."""
    app = _app()
    g.allow_framing = True
    g.csp_extra = {
        "connect-src": f"'self' {live_origin(app)}",
        "frame-ancestors": PANEL_FRAME_ANCESTORS,
    }
    boot = {
        "session_id": session_id,
        "channel": channel_for(session_id),
        "seq": None,
        "part_url": url_for("breakouts.my_group", session_id=session_id, part="group", panel=1),
        "pick_url": url_for("breakouts_api.api_pick", group_id=0).replace("/0/", "/{id}/"),
        "token_url": url_for("live_api.live_token"),
        "live_url": live_public_url(app),
        "strings": _js_strings(),
    }
    return render_template("breakouts/panel.html", session_id=session_id, boot=boot)


@bp.route("/me/group")
def my_current_group() -> ResponseReturnValue:
    """From the participant's own page: the group of the session running now (or next)."""
    actor = current_actor()
    if actor is None:
        return _who_are_you()
    if actor.participant is None:
        return redirect(url_for("programmes.index"))
    now = utcnow()
    sessions = sorted(
        (s for g in actor.participant.groups for s in g.sessions if not s.is_cancelled),
        key=lambda s: s.starts_at,
    )
    if not sessions:
        raise NotFound(_("Your group has no sessions yet."))
    running = [s for s in sessions if s.starts_at <= now <= s.ends_at]
    coming = [s for s in sessions if s.starts_at > now]
    chosen = (running or coming or sessions[-1:])[0]
    return redirect(url_for("breakouts.my_group", session_id=chosen.id))


# --- JSON API -----------------------------------------------------------------------------------


@api.get("/sessions/<int:session_id>/breakouts")
@api_view(summary="The session's breakout rounds", response=list[RoundOut], tags=("breakouts",))
def api_rounds(session_id: int) -> list[RoundOut]:
    """Every round of the session with its groups (facilitator)."""
    facilitator = require_facilitator()
    db = get_db()
    session = get_session(db, facilitator, session_id)
    return [summaries.round_out(db, r) for r in rounds_of(db, session)]


@api.post("/sessions/<int:session_id>/breakouts")
@api_view(
    summary="Plan a breakout round",
    body=PlanIn,
    response=list[RoundOut],
    status=201,
    tags=("breakouts",),
)
def api_plan(session_id: int, body: PlanIn) -> list[RoundOut]:
    """An optimised (optionally for every remaining session), random, manual or topic round.

    Rules that cannot hold answer 422 with the optimiser's reason and `constraint`.
    """
    facilitator = require_facilitator()
    db = get_db()
    session = get_session(db, facilitator, session_id)
    planned = plan_rounds(db, session, facilitator, body)
    db.commit()
    return [summaries.round_out(db, r) for r in planned.rounds]


@api.get("/breakouts/rounds/<int:round_id>")
@api_view(summary="A breakout round", response=RoundOut, tags=("breakouts",))
def api_round(round_id: int) -> RoundOut:
    """Groups with who met whom before, their mix, rooms and who is not placed."""
    facilitator = require_facilitator()
    db = get_db()
    return summaries.round_out(db, get_round(db, facilitator, round_id))


@api.delete("/breakouts/rounds/<int:round_id>")
@api_view(summary="Remove a breakout round", tags=("breakouts",))
def api_delete_round(round_id: int) -> None:
    """Only rounds that have not started (their rooms go too)."""
    facilitator = require_facilitator()
    db = get_db()
    delete_round(db, get_round(db, facilitator, round_id))
    db.commit()


@api.post("/breakouts/rounds/<int:round_id>/moves")
@api_view(summary="Move a person", body=MoveIn, response=RoundOut, tags=("breakouts",))
def api_move(round_id: int, body: MoveIn) -> RoundOut:
    """Into a group (kept there when re-planned), or out of every group (`group_id` null)."""
    facilitator = require_facilitator()
    db = get_db()
    round_ = get_round(db, facilitator, round_id)
    move_person(db, round_, body.person, body.group_id)
    db.commit()
    return summaries.round_out(db, round_)


@api.post("/breakouts/rounds/<int:round_id>/actions")
@api_view(summary="Change a round", body=RoundActionIn, response=RoundOut, tags=("breakouts",))
def api_round_action(round_id: int, body: RoundActionIn) -> RoundOut:
    """lock (rooms are made or groups pushed), unlock, start, close, replan, assign (the rest),
    open_picks, close_picks, push (make missing rooms or push again)."""
    facilitator = require_facilitator()
    db = get_db()
    round_ = get_round(db, facilitator, round_id)
    _status_action(round_, body.action)
    db.commit()
    return summaries.round_out(db, round_)


@api.post("/breakouts/rounds/<int:round_id>/groups")
@api_view(
    summary="Add an empty group", body=GroupIn, response=RoundOut, status=201, tags=("breakouts",)
)
def api_add_group(round_id: int, body: GroupIn) -> RoundOut:
    """A new empty group at the end (draft rounds)."""
    facilitator = require_facilitator()
    db = get_db()
    round_ = get_round(db, facilitator, round_id)
    add_group(db, round_, body.name)
    db.commit()
    return summaries.round_out(db, round_)


@api.patch("/breakouts/groups/<int:group_id>")
@api_view(summary="Rename a group", body=GroupIn, response=RoundOut, tags=("breakouts",))
def api_rename_group(group_id: int, body: GroupIn) -> RoundOut:
    """Names must differ within a round (platforms show them)."""
    facilitator = require_facilitator()
    db = get_db()
    group = get_breakout_group(db, facilitator, group_id)
    rename_group(db, group, body.name)
    db.commit()
    return summaries.round_out(db, group.round)


@api.delete("/breakouts/groups/<int:group_id>")
@api_view(summary="Remove an empty group", response=RoundOut, tags=("breakouts",))
def api_remove_group(group_id: int) -> RoundOut:
    """Only empty groups of draft rounds."""
    facilitator = require_facilitator()
    db = get_db()
    group = get_breakout_group(db, facilitator, group_id)
    round_ = group.round
    remove_group(db, group)
    db.commit()
    return summaries.round_out(db, round_)


@api.put("/sessions/<int:session_id>/absences/<int:participant_id>")
@api_view(
    summary="Mark someone absent or present",
    body=AbsenceIn,
    response=AttendanceOut,
    tags=("breakouts",),
)
def api_absence(session_id: int, participant_id: int, body: AbsenceIn) -> AttendanceOut:
    """Draft rounds follow: absent people leave them, optimised drafts are planned again."""
    facilitator = require_facilitator()
    db = get_db()
    session = get_session(db, facilitator, session_id)
    change = set_absent(db, session, participant_id, body.absent)
    db.commit()
    return AttendanceOut(
        absent=sorted(absent_ids(db, session)),
        replanned=[r.id for r in change.replanned],
        problem=change.problem,
    )


@api.get("/sessions/<int:session_id>/my-group")
@api_view(summary="My breakout group", response=MyGroupOut, tags=("breakouts",))
def api_my_group(session_id: int) -> MyGroupOut:
    """The participant's group (members, room) or the topic groups to choose from."""
    actor = require_actor()
    db = get_db()
    session = session_for_actor(db, actor, session_id)
    if actor.participant is None:
        raise NotFound(_("Facilitators see every group on the round's page."))
    return summaries.my_group_out(db, session, actor.participant)


@api.post("/breakouts/groups/<int:group_id>/pick")
@api_view(summary="Choose a topic group", response=MyGroupOut, tags=("breakouts",))
def api_pick(group_id: int) -> MyGroupOut:
    """409 with a clear message when the group is full or choosing is closed."""
    return _choose(group_id, lambda db, me, group: pick_group(db, me, group))


@api.delete("/breakouts/groups/<int:group_id>/pick")
@api_view(summary="Take back a choice", response=MyGroupOut, tags=("breakouts",))
def api_unpick(group_id: int) -> MyGroupOut:
    """While choosing is open."""
    return _choose(group_id, lambda db, me, group: unpick(db, me, group.round))


def _choose(
    group_id: int, change: Callable[[Db, Participant, BreakoutGroup], object]
) -> MyGroupOut:
    """A participant's choice of a topic group (or taking it back), then their view."""
    actor = require_actor()
    if actor.participant is None:
        raise NotFound(_("Only participants choose a group."))
    db = get_db()
    group = group_for_participant(db, actor.participant, group_id)
    session = group.round.session
    change(db, actor.participant, group)
    db.commit()
    return summaries.my_group_out(db, session, actor.participant)


@api.get("/programmes/<int:programme_id>/breakouts/met")
@api_view(summary="Who has met whom", query=MatrixQuery, response=MatrixOut, tags=("breakouts",))
def api_matrix(programme_id: int, query: MatrixQuery) -> MatrixOut:
    """Rounds together for every pair of a programme group's members."""
    facilitator = require_facilitator()
    db = get_db()
    programme = get_programme(db, facilitator, programme_id)
    group = get_group(db, facilitator, query.group)
    if group.programme_id != programme.id:
        raise NotFound(_("No such group."))
    return summaries.matrix_out(db, group)


@api.post("/programmes/<int:programme_id>/breakouts/rules")
@api_view(
    summary="Keep two people apart or together",
    body=RuleIn,
    response=RuleOut,
    status=201,
    tags=("breakouts",),
)
def api_add_rule(programme_id: int, body: RuleIn) -> RuleOut:
    """In every round planned from now on; a pair has one rule (a new one replaces it)."""
    facilitator = require_facilitator()
    db = get_db()
    programme = get_programme(db, facilitator, programme_id)
    rule = add_rule(db, programme, body)
    db.commit()
    return RuleOut(id=rule.id, kind=rule.kind, first_id=rule.first_id, second_id=rule.second_id)


@api.delete("/programmes/<int:programme_id>/breakouts/rules/<int:rule_id>")
@api_view(summary="Remove a pair rule", tags=("breakouts",))
def api_remove_rule(programme_id: int, rule_id: int) -> None:
    """The pair may share groups again (or be apart)."""
    facilitator = require_facilitator()
    db = get_db()
    remove_rule(db, get_programme(db, facilitator, programme_id), rule_id)
    db.commit()


#: Statuses shown on pages, in the page's language.
STATUS_LABELS = {
    RoundStatus.DRAFT: lambda: _("Draft"),
    RoundStatus.LOCKED: lambda: _("Locked"),
    RoundStatus.STARTED: lambda: _("Running"),
    RoundStatus.CLOSED: lambda: _("Closed"),
}
KIND_LABELS = {
    RoundKind.OPTIMISED: lambda: _("Planned by the optimiser"),
    RoundKind.MANUAL: lambda: _("By hand"),
    RoundKind.RANDOM: lambda: _("Random"),
    RoundKind.TOPICS: lambda: _("From topics"),
}


@bp.app_template_filter("round_status")
def _round_status(status: str) -> str:
    label = STATUS_LABELS.get(status)  # type: ignore[call-overload]
    return str(label()) if label else status


@bp.app_template_filter("round_kind")
def _round_kind(kind: str) -> str:
    label = KIND_LABELS.get(kind)  # type: ignore[call-overload]
    return str(label()) if label else kind
