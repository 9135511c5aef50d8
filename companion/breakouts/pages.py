"""The breakout pages' blueprint and what the pages and the JSON API share: the live channel's
boot data, the scripts' texts, the round's status actions and the labels of statuses and kinds.

The pages live in `views` (the facilitator's) and `participant_views`; the API in `api`.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, flash, g, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_wtf.csrf import generate_csrf

from companion.breakouts.broadcasts import time_left_text
from companion.breakouts.channel import channel_for
from companion.breakouts.models import BreakoutRound, RoundKind, RoundStatus
from companion.breakouts.planning import Plan
from companion.breakouts.rounds import replan
from companion.breakouts.status import (
    close_round,
    lock_round,
    retry_platform,
    start_round,
    unlock_round,
)
from companion.breakouts.topic_rounds import assign_rest, set_picks_open
from companion.core.db import get_db
from companion.core.errors import NotFound
from companion.core.events import current_seq
from companion.core.live import live_origin, live_public_url
from companion.sessions.models import Session

bp = Blueprint("breakouts", __name__, template_folder="templates")


def app_object() -> Any:
    """The application behind `current_app` (the live server's helpers take the app itself)."""
    return current_app._get_current_object()  # type: ignore[attr-defined]


def live_page() -> None:
    """Pages that follow the live channel may connect to the live server."""
    g.csp_extra = {"connect-src": f"'self' {live_origin(app_object())}"}


def live_boot(session: Session) -> dict[str, Any]:
    """What a page's script needs to follow the session's breakout channel."""
    channel = channel_for(session.id)
    return {
        "channel": channel,
        "seq": current_seq(get_db(), channel),
        "token_url": url_for("live_api.live_token"),
        "live_url": live_public_url(app_object()),
        "csrf": generate_csrf(),
    }


def js_strings() -> dict[str, str]:
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
        "time_left": time_left_text(),
        "broadcast_sent": _("Shown in every group: “%(text)s”"),
        "from_facilitator": _("From the facilitator"),
    }


def repeats_said(plan: Plan | None) -> list[str]:
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


def status_action(round_: BreakoutRound, action: str) -> str | None:
    """Lock, unlock, start, close, re-plan, assign the rest, open or close choosing, or push the
    round again (the round page and the API); the message to show after."""
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
        done = ngettext(
            "Planned again (%(num)s round).", "Planned again (%(num)s rounds).", len(planned.rounds)
        )
        return " ".join([str(done), *repeats_said(planned.plan)])
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
