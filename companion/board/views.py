"""The board's pages (full board, side panel) and its JSON API; every write commits once."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, g, render_template, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_wtf.csrf import generate_csrf

from companion.accounts.identity import current_actor, require_actor
from companion.board import access, moves, snapshot, timebox, topics, votes
from companion.board import channel as _channel  # noqa: F401  (registers the live channel)
from companion.board import personal_data as _personal_data  # noqa: F401  (registers its share)
from companion.board.schemas import (
    BoardSettingsIn,
    MergeIn,
    MoveIn,
    PollIn,
    SnapshotOut,
    TimerIn,
    TopicEdit,
    TopicIn,
    VoteQuery,
    WriteOut,
)
from companion.core.api import api_view
from companion.core.db import get_db
from companion.core.events import LiveEvent
from companion.core.live import live_origin, live_public_url
from companion.sessions.operations import session_for_actor

bp = Blueprint("board", __name__, template_folder="templates")
api = Blueprint("board_api", __name__, url_prefix="/api/v1")

#: Where the side panel may be framed: the Zoom client and Microsoft Teams (web and desktop).
PANEL_FRAME_ANCESTORS = (
    "'self' https://*.zoom.us https://zoom.us https://teams.microsoft.com "
    "https://*.teams.microsoft.com https://*.teams.microsoft.us https://*.office.com "
    "https://*.cloud.microsoft https://*.skype.com"
)


def _app() -> Any:
    return current_app._get_current_object()  # type: ignore[attr-defined]


def js_strings() -> dict[str, Any]:
    """The texts the board's scripts show, in the page's language."""
    return {
        "connecting": _("Connecting…"),
        "live": _("Live"),
        "offline": _("Offline – reconnecting…"),
        "offline_pending": _("Offline – your changes are sent when the connection is back"),
        "to_discuss": _("To discuss"),
        "discussing": _("Discussing now"),
        "done": _("Done"),
        "nothing_discussed": _("No topic is being discussed yet."),
        "nothing_discussed_now": _("No topic is being discussed right now."),
        "no_topics": _("No topics yet. Propose the first one!"),
        "vote": _("Vote"),
        "vote_for": _("Vote for %(title)s"),
        "unvote": _("Take back a vote from %(title)s"),
        # A phrase with a number comes in its forms by CLDR plural category, which the script
        # picks with Intl.PluralRules (Finnish and English have "one" and "other"); the
        # script fills in `n` itself.
        "votes_count": {
            "one": ngettext("%(n)s vote", "%(n)s votes", 1, n="%(n)s"),
            "other": ngettext("%(n)s vote", "%(n)s votes", 2, n="%(n)s"),
        },
        "your_votes": _("your votes: %(n)s"),
        "votes_left": _("Votes left: %(n)s of %(total)s"),
        "propose": _("Propose a topic"),
        "title": _("Topic"),
        "description": _("A few words more (optional)"),
        "anonymous": _("Propose anonymously"),
        "send": _("Propose"),
        "locked": _("Proposing is closed for now."),
        "lock": _("Close proposing"),
        "unlock": _("Open proposing"),
        "by": _("by %(name)s"),
        "anonymous_author": _("anonymous"),
        "move_discussing": _("Discuss now"),
        "move_done": _("Done"),
        "move_back": _("Back to the list"),
        "merge_into": _("Merge into…"),
        "merge_label": _("Merge %(title)s into another topic"),
        "merge": _("Merge"),
        "remove": _("Remove"),
        "timer": _("Time left"),
        "time_up": _("Time is up"),
        "start_timer": _("Start timer"),
        "minutes": _("Minutes"),
        "extend": _("+%(n)s min"),
        "stop_timer": _("Stop timer"),
        "keep_going": _("Keep going with this topic?"),
        "thumbs_up": _("Yes, keep going"),
        "thumbs_down": _("No, move on"),
        "poll_result": _("Keep going: %(up)s · Move on: %(down)s"),
        "settings": _("Votes"),
        "budget": _("Votes per person"),
        "cap": _("At most per topic"),
        "save": _("Save"),
        "error": _("That did not work. Please try again."),
        "no_access": _("This board is not available to you. Open your personal join link first."),
        "announce_proposed": _("New topic: %(title)s"),
        "announce_moved": _("Now discussing: %(title)s"),
        "announce_timer": _("The timer was started."),
        "announce_time_up": _("Time is up. Keep going?"),
        "announce_locked": _("Proposing was closed."),
        "announce_unlocked": _("Proposing is open again."),
        "announce_merged": _("Two topics were merged."),
        "full_board": _("Open the full board"),
        "mine": _("your topic"),
    }


def _page_security(*, framed: bool = False) -> None:
    """Allow the live server in connect-src; the side panel may be framed by Zoom and Teams."""
    extra: dict[str, str] = {"connect-src": f"'self' {live_origin(_app())}"}
    if framed:
        g.allow_framing = True
        extra["frame-ancestors"] = PANEL_FRAME_ANCESTORS
    g.csp_extra = extra


def _boot(session_id: int, board_id: int | None = None) -> dict[str, Any]:
    return {
        "session_id": session_id,
        "board_id": board_id,
        "api": url_for("board_api.session_board", session_id=session_id),
        "api_root": "/api/v1",
        "token_url": url_for("live_api.live_token"),
        "live_url": live_public_url(_app()),
        "full_board_url": url_for("board.board_page", session_id=session_id),
        # Cookie-authenticated writes need it; bearer-token requests (the panel) do not.
        "csrf": generate_csrf(),
        "strings": js_strings(),
    }


@bp.route("/sessions/<int:session_id>/board")
def board_page(session_id: int) -> str:
    """The full board for the facilitator's screen (members of the group may open it too)."""
    actor = require_actor()
    db = get_db()
    session = session_for_actor(db, actor, session_id)
    board = access.board_for_session(db, session)
    db.commit()
    _page_security()
    return render_template(
        "board/board.html",
        session=session,
        programme=session.group.programme,
        boot=_boot(session.id, board.id),
        is_facilitator=actor.is_facilitator,
    )


@bp.route("/panel/sessions/<int:session_id>")
def panel_page(session_id: int) -> str:
    """The compact side panel. It shows no data itself: its script reads a bearer token from
    the address fragment (Zoom, Teams) or uses the join-link cookie, and asks the API."""
    _page_security(framed=True)
    return render_template(
        "board/panel.html",
        session_id=session_id,
        boot=_boot(session_id),
        signed_in=current_actor() is not None,
    )


# --- JSON API ---------------------------------------------------------------------------------


def _written(event: LiveEvent) -> WriteOut:
    return WriteOut.model_validate({"seq": event.seq, "kind": event.kind, **event.data})


@api.get("/sessions/<int:session_id>/board")
@api_view(summary="The session's board", response=SnapshotOut, tags=("board",))
def session_board(session_id: int) -> SnapshotOut:
    """The plenary board of the session as the caller sees it (made on first use)."""
    actor = require_actor()
    db = get_db()
    session = session_for_actor(db, actor, session_id)
    board = access.board_for_session(db, session)
    result = snapshot.snapshot(db, board, actor)
    db.commit()
    return result


@api.get("/boards/<int:board_id>")
@api_view(summary="A board", response=SnapshotOut, tags=("board",))
def get_board(board_id: int) -> SnapshotOut:
    """Topics, votes, timer and poll as of `seq`."""
    actor = require_actor()
    db = get_db()
    return snapshot.snapshot(db, access.board_for_actor(db, actor, board_id), actor)


@api.patch("/boards/<int:board_id>")
@api_view(summary="Change board settings", body=BoardSettingsIn, response=WriteOut, tags=("board",))
def update_board(board_id: int, body: BoardSettingsIn) -> WriteOut:
    """Lock or unlock proposing; change the vote budget or per-topic cap (facilitator)."""
    actor = require_actor()
    db = get_db()
    event = moves.update_board(db, access.board_for_actor(db, actor, board_id), actor, body)
    db.commit()
    return _written(event)


@api.post("/boards/<int:board_id>/topics")
@api_view(summary="Propose a topic", body=TopicIn, response=WriteOut, status=201, tags=("board",))
def propose(board_id: int, body: TopicIn) -> WriteOut:
    """A new topic in "to discuss"."""
    actor = require_actor()
    db = get_db()
    event = topics.propose_topic(db, access.board_for_actor(db, actor, board_id), actor, body)
    db.commit()
    return _written(event)


@api.patch("/topics/<int:topic_id>")
@api_view(summary="Edit a topic", body=TopicEdit, response=WriteOut, tags=("board",))
def edit(topic_id: int, body: TopicEdit) -> WriteOut:
    """Change a topic's wording (author or facilitator)."""
    actor = require_actor()
    db = get_db()
    event = topics.edit_topic(db, access.topic_for_actor(db, actor, topic_id), actor, body)
    db.commit()
    return _written(event)


@api.delete("/topics/<int:topic_id>")
@api_view(summary="Remove a topic", response=WriteOut, tags=("board",))
def remove(topic_id: int) -> WriteOut:
    """Take a topic off the board (author, if nobody else voted, or facilitator)."""
    actor = require_actor()
    db = get_db()
    event = topics.remove_topic(db, access.topic_for_actor(db, actor, topic_id), actor)
    db.commit()
    return _written(event)


@api.post("/topics/<int:topic_id>/vote")
@api_view(summary="Vote for a topic", query=VoteQuery, response=WriteOut, tags=("board",))
def vote(topic_id: int, query: VoteQuery) -> WriteOut:
    """One more dot vote (409 when the budget or the per-topic cap is used up). The answer
    has the caller's own count on the topic; the event everyone gets has the total only, and
    echoes `request_id`, so the voter's client can tell its own vote from the others'."""
    actor = require_actor()
    db = get_db()
    event, own = votes.cast_vote(db, actor, topic_id, query.request_id)
    db.commit()
    return _written(event).model_copy(update={"vote": own})


@api.delete("/topics/<int:topic_id>/vote")
@api_view(summary="Take back a vote", query=VoteQuery, response=WriteOut, tags=("board",))
def unvote(topic_id: int, query: VoteQuery) -> WriteOut:
    """One dot vote less (the answer as for a vote)."""
    actor = require_actor()
    db = get_db()
    event, own = votes.retract_vote(db, actor, topic_id, query.request_id)
    db.commit()
    return _written(event).model_copy(update={"vote": own})


@api.post("/topics/<int:topic_id>/move")
@api_view(summary="Move a topic", body=MoveIn, response=WriteOut, tags=("board",))
def move(topic_id: int, body: MoveIn) -> WriteOut:
    """To discuss, discussing (one at a time) or done (facilitator)."""
    actor = require_actor()
    db = get_db()
    event = moves.move_topic(db, access.topic_for_actor(db, actor, topic_id), actor, body.column)
    db.commit()
    return _written(event)


@api.post("/topics/<int:topic_id>/merge")
@api_view(summary="Merge duplicate topics", body=MergeIn, response=WriteOut, tags=("board",))
def merge(topic_id: int, body: MergeIn) -> WriteOut:
    """Fold this topic into `into`; votes carry over (facilitator)."""
    actor = require_actor()
    db = get_db()
    source = access.topic_for_actor(db, actor, topic_id)
    target = access.topic_for_actor(db, actor, body.into)
    event = moves.merge_topics(db, source, target, actor)
    db.commit()
    return _written(event)


@api.post("/boards/<int:board_id>/timer")
@api_view(
    summary="Start, extend or stop the timer", body=TimerIn, response=WriteOut, tags=("board",)
)
def timer(board_id: int, body: TimerIn) -> WriteOut:
    """The timebox is stored as an absolute end time; clients count down to it (facilitator)."""
    actor = require_actor()
    db = get_db()
    board = access.board_for_actor(db, actor, board_id)
    if body.action == "start":
        event = timebox.start_timer(db, board, actor, body.minutes)
    elif body.action == "extend":
        event = timebox.extend_timer(db, board, actor, body.minutes)
    else:
        event = timebox.stop_timer(db, board, actor)
    db.commit()
    return _written(event)


@api.post("/boards/<int:board_id>/poll")
@api_view(summary="Answer the keep-going poll", body=PollIn, response=WriteOut, tags=("board",))
def poll(board_id: int, body: PollIn) -> WriteOut:
    """Thumbs up or down once the time is up."""
    actor = require_actor()
    db = get_db()
    event = timebox.answer_poll(db, access.board_for_actor(db, actor, board_id), actor, body.answer)
    db.commit()
    return _written(event)
