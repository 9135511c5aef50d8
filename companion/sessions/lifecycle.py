"""A session's life as one state machine: what state it is in, and what may happen next.

    scheduled → open (its join window) → running → ended → summary sent
         \\________________________________/
                      cancelled (restorable while it has not happened)

Only three facts are stored (`Session.status`: scheduled, ended, summary_sent or cancelled;
the start and end times); whether a scheduled session is open or running follows from the
clock. Every page, the JSON API, the worker and the platforms ask `state_of` what a session is
and `transition` whether an action may happen, so nothing can end a session months ahead or
email people about a session that has not been held. Pure: no Flask, no database.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime, timedelta


class SessionState(enum.StrEnum):
    """Where a session is in its life, at a given moment."""

    SCHEDULED = "scheduled"
    #: Its join window: join links forward to the room, it may be started and ended.
    OPEN = "open"
    #: Its start time has passed and nobody has ended it.
    RUNNING = "running"
    #: Held; its summary waits for the facilitator's review (or goes out by itself later).
    ENDED = "ended"
    SUMMARY_SENT = "summary_sent"
    CANCELLED = "cancelled"


class StoredStatus(enum.StrEnum):
    """What `Session.status` holds; the clock adds open and running."""

    SCHEDULED = "scheduled"
    ENDED = "ended"
    SUMMARY_SENT = "summary_sent"
    CANCELLED = "cancelled"


class Action(enum.StrEnum):
    """What someone (or the worker, or a platform) can do to a session."""

    END = "end"
    REOPEN = "reopen"
    SEND_SUMMARY = "send_summary"
    CANCEL = "cancel"
    RESTORE = "restore"
    MOVE = "move"
    #: Change who was there: before the summary goes out (after it, figures may still change).
    CORRECT_PRESENCE = "correct_presence"


class Refusal(enum.StrEnum):
    """Why an action cannot happen now; the operations turn it into words."""

    NOT_STARTED = "not_started"
    ALREADY_ENDED = "already_ended"
    NOT_ENDED = "not_ended"
    SUMMARY_SENT = "summary_sent"
    CANCELLED = "cancelled"
    NOT_CANCELLED = "not_cancelled"
    PASSED = "passed"
    HELD = "held"


class TransitionRefused(Exception):
    """The action is not possible in the session's state; `reason` says why."""

    def __init__(self, action: Action, state: SessionState, reason: Refusal) -> None:
        super().__init__(f"{action} refused in state {state}: {reason}")
        self.action = action
        self.state = state
        self.reason = reason


@dataclass(frozen=True)
class Clock:
    """The moments that decide a scheduled session's state."""

    now: datetime
    starts_at: datetime
    ends_at: datetime
    #: How early before the start the join window opens.
    opens_before: timedelta


def state_of(status: str, clock: Clock) -> SessionState:
    """The session's state now, from its stored status and the clock."""
    if status == StoredStatus.CANCELLED:
        return SessionState.CANCELLED
    if status == StoredStatus.SUMMARY_SENT:
        return SessionState.SUMMARY_SENT
    if status == StoredStatus.ENDED:
        return SessionState.ENDED
    if clock.now >= clock.starts_at:
        return SessionState.RUNNING
    if clock.now >= clock.starts_at - clock.opens_before:
        return SessionState.OPEN
    return SessionState.SCHEDULED


#: Which stored status each action leads to, from the states it is allowed in.
_TRANSITIONS: dict[Action, dict[SessionState, StoredStatus]] = {
    Action.END: {
        SessionState.OPEN: StoredStatus.ENDED,
        SessionState.RUNNING: StoredStatus.ENDED,
    },
    Action.REOPEN: {SessionState.ENDED: StoredStatus.SCHEDULED},
    Action.SEND_SUMMARY: {SessionState.ENDED: StoredStatus.SUMMARY_SENT},
    Action.CANCEL: {
        SessionState.SCHEDULED: StoredStatus.CANCELLED,
        SessionState.OPEN: StoredStatus.CANCELLED,
        SessionState.RUNNING: StoredStatus.CANCELLED,
    },
    Action.RESTORE: {SessionState.CANCELLED: StoredStatus.SCHEDULED},
    Action.MOVE: {
        SessionState.SCHEDULED: StoredStatus.SCHEDULED,
        SessionState.OPEN: StoredStatus.SCHEDULED,
    },
    Action.CORRECT_PRESENCE: {
        SessionState.SCHEDULED: StoredStatus.SCHEDULED,
        SessionState.OPEN: StoredStatus.SCHEDULED,
        SessionState.RUNNING: StoredStatus.SCHEDULED,
        SessionState.ENDED: StoredStatus.ENDED,
        SessionState.SUMMARY_SENT: StoredStatus.SUMMARY_SENT,
    },
}

#: Why each action is refused in the states it is not allowed in.
_REFUSALS: dict[Action, dict[SessionState, Refusal]] = {
    Action.END: {
        SessionState.SCHEDULED: Refusal.NOT_STARTED,
        SessionState.ENDED: Refusal.ALREADY_ENDED,
        SessionState.SUMMARY_SENT: Refusal.ALREADY_ENDED,
        SessionState.CANCELLED: Refusal.CANCELLED,
    },
    Action.REOPEN: {
        SessionState.SCHEDULED: Refusal.NOT_ENDED,
        SessionState.OPEN: Refusal.NOT_ENDED,
        SessionState.RUNNING: Refusal.NOT_ENDED,
        SessionState.SUMMARY_SENT: Refusal.SUMMARY_SENT,
        SessionState.CANCELLED: Refusal.CANCELLED,
    },
    Action.SEND_SUMMARY: {
        SessionState.SCHEDULED: Refusal.NOT_ENDED,
        SessionState.OPEN: Refusal.NOT_ENDED,
        SessionState.RUNNING: Refusal.NOT_ENDED,
        SessionState.SUMMARY_SENT: Refusal.SUMMARY_SENT,
        SessionState.CANCELLED: Refusal.CANCELLED,
    },
    Action.CANCEL: {
        SessionState.ENDED: Refusal.HELD,
        SessionState.SUMMARY_SENT: Refusal.HELD,
        SessionState.CANCELLED: Refusal.CANCELLED,
    },
    Action.RESTORE: {
        SessionState.SCHEDULED: Refusal.NOT_CANCELLED,
        SessionState.OPEN: Refusal.NOT_CANCELLED,
        SessionState.RUNNING: Refusal.NOT_CANCELLED,
        SessionState.ENDED: Refusal.NOT_CANCELLED,
        SessionState.SUMMARY_SENT: Refusal.NOT_CANCELLED,
    },
    Action.MOVE: {
        SessionState.RUNNING: Refusal.HELD,
        SessionState.ENDED: Refusal.HELD,
        SessionState.SUMMARY_SENT: Refusal.HELD,
        SessionState.CANCELLED: Refusal.CANCELLED,
    },
    Action.CORRECT_PRESENCE: {SessionState.CANCELLED: Refusal.CANCELLED},
}


def transition(state: SessionState, action: Action, clock: Clock | None = None) -> StoredStatus:
    """The stored status after `action` in `state`, or TransitionRefused saying why.

    Restoring needs the clock: a cancelled session comes back only while it has not happened
    (its scheduled end is still ahead).
    """
    allowed = _TRANSITIONS[action]
    if state not in allowed:
        raise TransitionRefused(action, state, _REFUSALS[action][state])
    if action is Action.RESTORE and (clock is None or clock.ends_at <= clock.now):
        raise TransitionRefused(action, state, Refusal.PASSED)
    return allowed[state]


def can(state: SessionState, action: Action, clock: Clock | None = None) -> bool:
    """Whether `action` is possible in `state` (what pages ask before offering a button)."""
    try:
        transition(state, action, clock)
    except TransitionRefused:
        return False
    return True


def has_happened(state: SessionState) -> bool:
    """Whether the session has been held (it counts in attendance and history)."""
    return state in (SessionState.ENDED, SessionState.SUMMARY_SENT)


def is_coming(state: SessionState) -> bool:
    """Whether the session is still ahead or on now (listed as coming, counted as planned)."""
    return state in (SessionState.SCHEDULED, SessionState.OPEN, SessionState.RUNNING)


def overdue_for_ending(state: SessionState, clock: Clock, grace: timedelta) -> bool:
    """Whether the worker should end a session nobody ended: its end plus the grace passed."""
    return state is SessionState.RUNNING and clock.now >= clock.ends_at + grace


def summary_due(
    state: SessionState, ended_at: datetime | None, now: datetime, delay: timedelta
) -> bool:
    """Whether an ended session's summary goes out by itself now (nobody sent it in time)."""
    return state is SessionState.ENDED and ended_at is not None and now >= ended_at + delay


def every_transition() -> list[tuple[SessionState, Action, StoredStatus | Refusal]]:
    """The whole table, for documentation and tests: each state and action and its outcome."""
    table: list[tuple[SessionState, Action, StoredStatus | Refusal]] = []
    for action in Action:
        for state in SessionState:
            if state in _TRANSITIONS[action]:
                table.append((state, action, _TRANSITIONS[action][state]))
            else:
                table.append((state, action, _REFUSALS[action][state]))
    return table
