"""The participant's breakout pages: "my small group" (members, room link, or the topics to
choose from), the same in the side panel, and the way there from the participant's own page.

The routes join the breakouts blueprint (`pages.bp`), so their names stay `breakouts.*`.
"""

from __future__ import annotations

from typing import Any

from flask import flash, g, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_wtf.csrf import generate_csrf

from companion.accounts.identity import Actor, current_actor
from companion.board.views import PANEL_FRAME_ANCESTORS
from companion.breakouts import summaries
from companion.breakouts.access import group_for_participant
from companion.breakouts.channel import channel_for
from companion.breakouts.pages import app_object, bp, js_strings, live_boot, live_page
from companion.breakouts.schemas import MyGroupQuery, PickFormIn
from companion.breakouts.topic_rounds import pick_group, unpick
from companion.core.db import get_db, utcnow
from companion.core.errors import Conflict, Invalid, NotFound
from companion.core.live import live_origin, live_public_url
from companion.core.validation import form, query
from companion.sessions.models import Session
from companion.sessions.operations import session_for_actor


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
        "boot": {**live_boot(session), "strings": js_strings()},
    }


@bp.route("/sessions/<int:session_id>/my-group", methods=["GET", "POST"])
def my_group(session_id: int) -> ResponseReturnValue:
    """The participant's small group: members, room link, notes; or the topics to choose."""
    actor = current_actor()
    if actor is None:
        return _who_are_you()
    db = get_db()
    session = session_for_actor(db, actor, session_id)
    asked = query(MyGroupQuery)
    panel = asked.panel
    if actor.facilitator is not None:
        if panel and asked.part == "group":
            return render_template("breakouts/_panel_facilitator.html", session=session)
        return redirect(url_for("breakouts.session_page", session_id=session.id))
    participant = actor.participant
    assert participant is not None
    if request.method == "POST":
        try:
            picked = form(PickFormIn)
            group = group_for_participant(db, participant, picked.group_id)
            if picked.action == "leave":
                unpick(db, participant, group.round)
                message = _("Your choice was taken back.")
            else:
                pick_group(db, participant, group)
                message = _("You chose “%(name)s”.", name=group.name)
            db.commit()
        except (Conflict, NotFound, Invalid) as exc:
            db.rollback()
            live_page()
            context = _my_group_context(session, actor)
            return render_template("breakouts/my_group.html", error=exc.detail, **context), (
                exc.status
            )
        flash(message)
        return redirect(url_for("breakouts.my_group", session_id=session.id), code=303)
    live_page()
    context = _my_group_context(session, actor)
    if asked.part == "group":
        return render_template("breakouts/_my_group.html", panel=panel, **context)
    return render_template("breakouts/my_group.html", error=None, **context)


@bp.route("/panel/sessions/<int:session_id>/group")
def panel_group(session_id: int) -> ResponseReturnValue:
    """ "My group" in the side panel (Zoom, Teams): the page holds no data; its script reads a
    bearer token from the address fragment (or uses the join-link cookie), fetches the group
    part of "my small group" and follows the session's breakout channel."""
    app = app_object()
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
        # In a plain browser the panel rides on the join-link cookie, and cookie-authenticated
        # writes (choosing a topic) need the token; inside Zoom or Teams the bearer token is used.
        "csrf": generate_csrf(),
        "strings": js_strings(),
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
