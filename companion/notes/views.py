"""Pages and JSON API for shared notes, the group summary and action items."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, flash, g, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from companion.accounts.identity import Actor, current_actor, require_actor
from companion.board.views import PANEL_FRAME_ANCESTORS
from companion.core.api import api_view
from companion.core.db import get_db
from companion.core.errors import Conflict, Invalid, NotAllowed, NotFound
from companion.core.events import current_seq
from companion.core.live import live_origin
from companion.core.security import safe_next
from companion.core.validation import form, form_data, parse, query
from companion.notes import (
    access,
    action_items,
    channel,
    membership,
    note_items,
    payloads,
    sharing,
    summary,
)
from companion.notes import personal_data as _personal_data  # noqa: F401  (registers its share)
from companion.notes.models import ActionItem, NoteSpace
from companion.notes.schemas import (
    ActionIn,
    ActionOut,
    ActionPatch,
    ActionTick,
    EventsQuery,
    NoteItemIn,
    NoteItemOut,
    PanelQuery,
    RevisionOut,
    ShareIn,
    SpaceEventsOut,
    SpaceOut,
    SpaceQuery,
    SummaryIn,
)
from companion.sessions.models import Session
from companion.sessions.operations import session_for_actor

bp = Blueprint("notes", __name__, template_folder="templates")
api = Blueprint("notes_api", __name__, url_prefix="/api/v1")


def who_are_you() -> tuple[str, int]:
    """The page for someone we do not know: open your personal link (or sign in)."""
    return render_template("notes/who_are_you.html", next=request.full_path), 401


# --- pages ------------------------------------------------------------------------------------


def _space_url(space: NoteSpace) -> str:
    if space.breakout_group_id is None:
        # "whole": the plenary itself, not the participant's running group (see session_notes).
        return url_for("notes.session_notes", session_id=space.session_id, whole=1)
    return url_for(
        "notes.group_notes", session_id=space.session_id, group_id=space.breakout_group_id
    )


def _render_space(
    actor: Actor,
    space: NoteSpace,
    *,
    errors: dict[str, dict[str, str]] | None = None,
    values: dict[str, dict[str, Any]] | None = None,
    status: int = 200,
) -> tuple[str, int]:
    db = get_db()
    session: Session = space.session
    # The live server is another origin (its own port); the page's script connects to it.
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    g.csp_extra = {"connect-src": f"'self' {live_origin(app)}"}
    spaces = access.visible_spaces(db, actor, session)
    siblings = list(db.query(NoteSpace).filter_by(session_id=session.id))
    shared = [s for s in spaces if s.shared_to_plenary and s.id != space.id]
    html = render_template(
        "notes/space.html",
        actor=actor,
        space=space,
        session=session,
        programme=session.group.programme,
        spaces=[(s, access.space_label(s, siblings), _space_url(s)) for s in spaces],
        label=access.space_label(space, siblings),
        shared=[(s, access.space_label(s, siblings)) for s in shared] if space.is_plenary else [],
        can_write=access.can_write(db, actor, space),
        summary=payloads.summary_out(space),
        actions=[payloads.action_out(a) for a in payloads.space_actions(db, space)],
        items=[payloads.item_out(item) for item in space.items],
        member_options=[(p.id, p.name) for p in access.session_members(session)],
        seq=current_seq(db, access.channel_of(space)),
        channel=access.channel_of(space),
        breakouts_channel=membership.breakouts_channel(session.id),
        errors=errors or {},
        values=values or {},
    )
    return html, status


def _page_space(session_id: int, group_id: int | None) -> ResponseReturnValue:
    actor = current_actor()
    if actor is None:
        return who_are_you()
    db = get_db()
    space = access.session_space(db, actor, session_id, group_id)
    access.open_own_spaces(db, actor, space.session)
    db.commit()  # spaces are made on first view
    if request.method == "POST":
        return _page_write(actor, space)
    return _render_space(actor, space)


@bp.route("/sessions/<int:session_id>/notes", methods=["GET", "POST"])
def session_notes(session_id: int) -> ResponseReturnValue:
    """The whole group's shared notes of a session (and links to the small groups' notes).

    While a breakout round runs, a participant's notes open on their own small group (as the
    side panel's do, `mine` in the API); `?whole=1` asks for the whole group's notes."""
    if request.method == "GET" and not request.args.get("whole"):
        actor = current_actor()
        if actor is not None and actor.participant is not None:
            db = get_db()
            session = session_for_actor(db, actor, session_id)
            group_id = membership.running_breakout_group(db, session, actor.participant.id)
            if group_id is not None:
                return redirect(
                    url_for("notes.group_notes", session_id=session.id, group_id=group_id)
                )
    return _page_space(session_id, None)


@bp.route("/sessions/<int:session_id>/notes/groups/<int:group_id>", methods=["GET", "POST"])
def group_notes(session_id: int, group_id: int) -> ResponseReturnValue:
    """A breakout group's notes: its members write, everyone reads once shared."""
    return _page_space(session_id, group_id)


def _page_write(actor: Actor, space: NoteSpace) -> ResponseReturnValue:
    """Every form on the notes page posts here with an `action` saying which it is."""
    db = get_db()
    values = form_data(request.form)
    action = str(values.pop("action", ""))
    try:
        if action == "add_item":
            note_items.add_item(db, actor, space, parse(NoteItemIn, values))
            message = _("Your note was added.")
        elif action == "summary":
            values.setdefault("text", "")
            summary.save_summary(db, actor, space, parse(SummaryIn, values))
            message = _("The summary was saved.")
        elif action == "share":
            sharing.share_space(db, actor, space, parse(ShareIn, values).shared)
            message = (
                _("The notes are now shared with the whole group.")
                if space.shared_to_plenary
                else _("The notes are no longer shared.")
            )
        elif action == "add_action":
            action_items.add_action(db, actor, space, parse(ActionIn, values))
            message = _("The action item was added.")
        else:
            raise NotFound()
        db.commit()
    except Invalid as exc:
        db.rollback()
        errors = dict(exc.errors) or {"form": exc.detail or _("Please check the input.")}
        return _render_space(
            actor, space, errors={action: errors}, values={action: values}, status=422
        )
    except Conflict as exc:
        db.rollback()
        db.refresh(space)
        return render_template(
            "notes/merge.html",
            space=space,
            session=space.session,
            back=_space_url(space),
            detail=exc.detail,
            **exc.extra,
        ), 409
    flash(message)
    anchor = {"add_item": "#items", "summary": "#summary", "add_action": "#actions"}.get(action, "")
    return redirect(_space_url(space) + anchor, code=303)


@bp.route("/panel/sessions/<int:session_id>/notes")
def panel_notes(session_id: int) -> ResponseReturnValue:
    """The notes in the side panel (Zoom, Teams): the page holds no data; its script reads a
    bearer token from the address fragment (or uses the join-link cookie) and asks the API."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    g.allow_framing = True
    g.csp_extra = {
        "connect-src": f"'self' {live_origin(app)}",
        "frame-ancestors": PANEL_FRAME_ANCESTORS,
    }
    group = query(PanelQuery).group
    # Without a group: the participant's small group while a round runs, else the plenary.
    space_query = f"?group={group}" if group is not None else "?mine=true"
    full_url = url_for("notes.session_notes", session_id=session_id)
    if group is not None:
        full_url = url_for("notes.group_notes", session_id=session_id, group_id=group)
    return render_template(
        "notes/panel.html",
        session_id=session_id,
        space_url=url_for("notes_api.api_session_notes", session_id=session_id) + space_query,
        full_url=full_url,
        breakouts_channel=membership.breakouts_channel(session_id),
    )


@bp.route("/notes/items/<int:item_id>/edit", methods=["GET", "POST"])
def edit_item(item_id: int) -> ResponseReturnValue:
    """Change one's own note (facilitators: any note)."""
    actor = current_actor()
    if actor is None:
        return who_are_you()
    db = get_db()
    item = note_items.item_for_actor(db, actor, item_id, write=True)
    errors: dict[str, str] = {}
    values: dict[str, Any] = {"body": item.body}
    if request.method == "POST":
        values = form_data(request.form)
        try:
            note_items.edit_item(db, actor, item, parse(NoteItemIn, values))
            db.commit()
        except Invalid as exc:
            db.rollback()
            errors = dict(exc.errors)
        else:
            flash(_("The note was changed."))
            return redirect(_space_url(item.space) + f"#item-{item.id}", code=303)
    return render_template(
        "notes/edit_item.html", item=item, back=_space_url(item.space), values=values, errors=errors
    ), (422 if errors else 200)


@bp.route("/notes/items/<int:item_id>/delete", methods=["POST"])
def delete_item(item_id: int) -> ResponseReturnValue:
    """Remove one's own note (facilitators: any note)."""
    actor = require_actor()
    db = get_db()
    item = note_items.item_for_actor(db, actor, item_id, write=True)
    back = _space_url(item.space)
    note_items.delete_item(db, actor, item)
    db.commit()
    flash(_("The note was removed."))
    return redirect(back + "#items", code=303)


@bp.route("/notes/<int:space_id>/revisions")
def revisions(space_id: int) -> ResponseReturnValue:
    """Every saved version of a summary."""
    actor = current_actor()
    if actor is None:
        return who_are_you()
    space = access.space_for_actor(get_db(), actor, space_id)
    return render_template(
        "notes/revisions.html",
        space=space,
        session=space.session,
        back=_space_url(space),
        revisions=summary.revisions_of(space),
    )


def _action_back(action: ActionItem) -> str:
    return safe_next(form(ActionTick).back, url_for("notes.my_actions"))


@bp.route("/actions/<int:action_id>/done", methods=["POST"])
def toggle_action(action_id: int) -> ResponseReturnValue:
    """Tick an action item done (or not done)."""
    actor = require_actor()
    db = get_db()
    action = action_items.action_for_actor(db, actor, action_id, write=True)
    done = form(ActionTick).done
    action_items.update_action(db, actor, action, ActionPatch(done=done))
    db.commit()
    return redirect(_action_back(action), code=303)


@bp.route("/actions/<int:action_id>/delete", methods=["POST"])
def delete_action(action_id: int) -> ResponseReturnValue:
    """Remove an action item."""
    actor = require_actor()
    db = get_db()
    action = action_items.action_for_actor(db, actor, action_id, write=True)
    back = _action_back(action)
    action_items.delete_action(db, actor, action)
    db.commit()
    flash(_("The action item was removed."))
    return redirect(back, code=303)


@bp.route("/me/actions")
def my_actions() -> ResponseReturnValue:
    """The participant's own action items across the programme."""
    actor = current_actor()
    if actor is None:
        return who_are_you()
    if actor.participant is None:
        return redirect(url_for("programmes.index"))
    actions = [payloads.action_out(a) for a in action_items.actions_of(get_db(), actor.participant)]
    return render_template(
        "notes/my_actions.html",
        participant=actor.participant,
        open_actions=[a for a in actions if not a.done],
        done_actions=[a for a in actions if a.done],
    )


# --- JSON API ---------------------------------------------------------------------------------


@api.get("/sessions/<int:session_id>/notes")
@api_view(summary="Open a session's notes", query=SpaceQuery, response=SpaceOut, tags=("notes",))
def api_session_notes(session_id: int, query: SpaceQuery) -> SpaceOut:
    """The plenary notes, or with `group` a breakout group's; made on first use. With `mine`
    (and no group): the participant's group in the running round, else the plenary."""
    db = get_db()
    actor = require_actor()
    space = access.session_space(db, actor, session_id, query.group, mine=query.mine)
    db.commit()
    return payloads.space_view(db, actor, space)


@api.get("/notes/<int:space_id>")
@api_view(summary="Get notes", response=SpaceOut, tags=("notes",))
def api_space(space_id: int) -> SpaceOut:
    """Items, summary and action items of a notes space."""
    db = get_db()
    actor = require_actor()
    return payloads.space_view(db, actor, access.space_for_actor(db, actor, space_id))


@api.get("/notes/<int:space_id>/events")
@api_view(summary="Changes since", query=EventsQuery, response=SpaceEventsOut, tags=("notes",))
def api_space_events(space_id: int, query: EventsQuery) -> SpaceEventsOut:
    """What changed after sequence number `after` (the fallback when WebSockets are blocked)."""
    db = get_db()
    space = access.space_for_actor(db, require_actor(), space_id)
    return channel.space_events(db, space, query.after)


@api.post("/notes/<int:space_id>/items")
@api_view(summary="Add a note", body=NoteItemIn, response=NoteItemOut, status=201, tags=("notes",))
def api_add_item(space_id: int, body: NoteItemIn) -> NoteItemOut:
    """A short Markdown note; it is sanitised (no scripts, event handlers or javascript: links)."""
    db = get_db()
    actor = require_actor()
    item = note_items.add_item(
        db, actor, access.space_for_actor(db, actor, space_id, write=True), body
    )
    db.commit()
    return payloads.item_out(item)


@api.patch("/notes/items/<int:item_id>")
@api_view(summary="Change a note", body=NoteItemIn, response=NoteItemOut, tags=("notes",))
def api_edit_item(item_id: int, body: NoteItemIn) -> NoteItemOut:
    """Authors change their own notes; facilitators any."""
    db = get_db()
    actor = require_actor()
    item = note_items.edit_item(
        db, actor, note_items.item_for_actor(db, actor, item_id, write=True), body
    )
    db.commit()
    return payloads.item_out(item)


@api.delete("/notes/items/<int:item_id>")
@api_view(summary="Remove a note", tags=("notes",))
def api_delete_item(item_id: int) -> None:
    """Authors remove their own notes; facilitators any."""
    db = get_db()
    actor = require_actor()
    note_items.delete_item(db, actor, note_items.item_for_actor(db, actor, item_id, write=True))
    db.commit()


@api.put("/notes/<int:space_id>/summary")
@api_view(summary="Save the summary", body=SummaryIn, response=SpaceOut, tags=("notes",))
def api_save_summary(space_id: int, body: SummaryIn) -> SpaceOut:
    """Save against `base_revision`; 409 with `current_text`, `your_text` and a suggested
    `merged_text` when someone saved in between."""
    db = get_db()
    actor = require_actor()
    space = summary.save_summary(db, actor, access.space_for_actor(db, actor, space_id), body)
    db.commit()
    return payloads.space_out(db, space)


@api.get("/notes/<int:space_id>/summary/revisions")
@api_view(summary="Summary history", response=list[RevisionOut], tags=("notes",))
def api_revisions(space_id: int) -> list[RevisionOut]:
    """Every saved version of the summary, newest first."""
    return summary.revisions_of(access.space_for_actor(get_db(), require_actor(), space_id))


@api.put("/notes/<int:space_id>/shared")
@api_view(summary="Share with the plenary", body=ShareIn, response=SpaceOut, tags=("notes",))
def api_share(space_id: int, body: ShareIn) -> SpaceOut:
    """Let everyone in the session read a breakout group's notes (or stop)."""
    db = get_db()
    actor = require_actor()
    space = sharing.share_space(db, actor, access.space_for_actor(db, actor, space_id), body.shared)
    db.commit()
    return payloads.space_out(db, space)


@api.post("/notes/<int:space_id>/actions")
@api_view(
    summary="Add an action item", body=ActionIn, response=ActionOut, status=201, tags=("notes",)
)
def api_add_action(space_id: int, body: ActionIn) -> ActionOut:
    """An action item for a participant of the session."""
    db = get_db()
    actor = require_actor()
    action = action_items.add_action(db, actor, access.space_for_actor(db, actor, space_id), body)
    db.commit()
    return payloads.action_out(action)


@api.patch("/actions/<int:action_id>")
@api_view(summary="Change an action item", body=ActionPatch, response=ActionOut, tags=("notes",))
def api_update_action(action_id: int, body: ActionPatch) -> ActionOut:
    """Tick it done, reword it, change its due date or owner."""
    db = get_db()
    actor = require_actor()
    action = action_items.update_action(
        db, actor, action_items.action_for_actor(db, actor, action_id), body
    )
    db.commit()
    return payloads.action_out(action)


@api.delete("/actions/<int:action_id>")
@api_view(summary="Remove an action item", tags=("notes",))
def api_delete_action(action_id: int) -> None:
    """Remove an action item."""
    db = get_db()
    actor = require_actor()
    action_items.delete_action(db, actor, action_items.action_for_actor(db, actor, action_id))
    db.commit()


@api.get("/me/actions")
@api_view(summary="My action items", response=list[ActionOut], tags=("notes",))
def api_my_actions() -> list[ActionOut]:
    """The participant's own action items across the programme."""
    actor = require_actor()
    if actor.participant is None:
        raise NotAllowed(_("Only participants have action items."))
    return [payloads.action_out(a) for a in action_items.actions_of(get_db(), actor.participant)]
