"""Messages to every group of a running round: a short text of the facilitator's, or the
"2 minutes left" notice.

The latest message is kept on the round (its "broadcast" setting), so a page opened later
shows it while the round runs, and it goes out at once on the session's live channel as
"round.broadcast". Everyone in the session follows that channel, so the event carries the
message and nothing else; the notice goes out as a kind, and each page says it in its reader's
language.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext

from companion.breakouts.channel import channel_for
from companion.breakouts.models import BreakoutRound, RoundStatus
from companion.breakouts.schemas import BroadcastIn, BroadcastOut
from companion.breakouts.status import require_running
from companion.core.db import Db, utcnow
from companion.core.errors import DomainError, Invalid
from companion.core.events import append_event

#: Longest message (a phone shows it whole, above the group).
MESSAGE_MAX = 280
#: What the "time is nearly up" button says is left.
TIME_LEFT_MINUTES = 2
#: Shortest time between two messages to one round: a double click, or an impatient
#: facilitator, must not make every phone in the session flash again and again.
MIN_INTERVAL = timedelta(seconds=5)


class TooSoon(DomainError):
    """Another message went to the round a moment ago."""

    status = 429
    type_slug = "too-many-requests"
    title = _l("Too many attempts")


def send_broadcast(db: Db, round_: BreakoutRound, data: BroadcastIn) -> BroadcastOut:
    """Show a message (or "2 minutes left") in every group of the running round; returns it as
    the sender reads it. TooSoon within `MIN_INTERVAL` of the round's previous message."""
    # The row lock (PostgreSQL; SQLite writers hold the database lock) makes two messages sent
    # at once wait for each other, so the second one sees the first one's time.
    db.refresh(round_, with_for_update=True)
    require_running(round_)
    text = data.text
    if data.kind == "message" and not text:
        raise Invalid(errors={"text": _("Write the message first.")})
    now = utcnow()
    previous = latest_broadcast(round_)
    if previous is not None:
        wait = MIN_INTERVAL - (now - datetime.fromisoformat(previous["at"]))
        if wait > timedelta(0):
            seconds = max(1, round(wait.total_seconds()))
            raise TooSoon(
                _("A message was sent a moment ago. Wait a few seconds."),
                retry_after=seconds,
            )
    stored: dict[str, Any] = {
        "kind": data.kind,
        "text": text if data.kind == "message" else "",
        "minutes": TIME_LEFT_MINUTES if data.kind == "time_left" else None,
        "at": now.isoformat(),
    }
    round_.settings = {**round_.settings, "broadcast": stored}
    db.flush()
    append_event(
        db,
        channel_for(round_.session_id),
        "round.broadcast",
        {"id": round_.id, "number": round_.number, "broadcast": stored},
    )
    return _out(round_, stored)


def latest_broadcast(round_: BreakoutRound) -> dict[str, Any] | None:
    """The round's latest message as kept (kind, text, minutes, at), if any."""
    stored = round_.settings.get("broadcast")
    return stored if isinstance(stored, dict) and "at" in stored else None


def broadcast_out(round_: BreakoutRound) -> BroadcastOut | None:
    """The message to show while the round runs, in the reader's language; None otherwise."""
    stored = latest_broadcast(round_)
    if stored is None or round_.status != RoundStatus.STARTED:
        return None
    return _out(round_, stored)


def time_left_text(minutes: int = TIME_LEFT_MINUTES) -> str:
    """The "time is nearly up" notice in the current language ("2 minutes left")."""
    return str(ngettext("%(num)s minute left", "%(num)s minutes left", minutes))


def _out(round_: BreakoutRound, stored: dict[str, Any]) -> BroadcastOut:
    minutes = stored.get("minutes")
    if stored.get("kind") == "time_left" and isinstance(minutes, int):
        text = time_left_text(minutes)
    else:
        text = str(stored.get("text", ""))
    return BroadcastOut(
        round_id=round_.id,
        kind="time_left" if stored.get("kind") == "time_left" else "message",
        text=text,
        minutes=minutes if isinstance(minutes, int) else None,
        at=datetime.fromisoformat(stored["at"]),
    )
