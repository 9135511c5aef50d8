"""The session state machine: states from the clock, and every transition's outcome."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from companion.sessions.lifecycle import (
    Action,
    Clock,
    Refusal,
    SessionState,
    StoredStatus,
    TransitionRefused,
    can,
    every_transition,
    has_happened,
    is_coming,
    overdue_for_ending,
    state_of,
    summary_due,
    transition,
)

START = datetime(2027, 4, 28, 6, 0, tzinfo=UTC)
END = START + timedelta(hours=2)
WINDOW = timedelta(minutes=15)


def clock(now: datetime) -> Clock:
    return Clock(now=now, starts_at=START, ends_at=END, opens_before=WINDOW)


@pytest.mark.parametrize(
    ("status", "now", "expected"),
    [
        ("scheduled", START - timedelta(days=150), SessionState.SCHEDULED),
        ("scheduled", START - WINDOW - timedelta(seconds=1), SessionState.SCHEDULED),
        ("scheduled", START - WINDOW, SessionState.OPEN),
        ("scheduled", START - timedelta(seconds=1), SessionState.OPEN),
        ("scheduled", START, SessionState.RUNNING),
        ("scheduled", END + timedelta(days=3), SessionState.RUNNING),
        ("ended", START + timedelta(minutes=90), SessionState.ENDED),
        ("summary_sent", END, SessionState.SUMMARY_SENT),
        ("cancelled", START, SessionState.CANCELLED),
        ("cancelled", START - timedelta(days=1), SessionState.CANCELLED),
    ],
)
def test_state_follows_status_and_clock(status: str, now: datetime, expected: SessionState) -> None:
    assert state_of(status, clock(now)) is expected


def test_a_session_months_ahead_cannot_be_ended() -> None:
    with pytest.raises(TransitionRefused) as refused:
        transition(SessionState.SCHEDULED, Action.END)
    assert refused.value.reason is Refusal.NOT_STARTED
    assert not can(SessionState.SCHEDULED, Action.END)


@pytest.mark.parametrize("state", [SessionState.OPEN, SessionState.RUNNING])
def test_ending_is_possible_in_the_join_window_and_while_running(state: SessionState) -> None:
    assert transition(state, Action.END) is StoredStatus.ENDED


def test_the_summary_goes_only_from_an_ended_session_and_only_once() -> None:
    assert transition(SessionState.ENDED, Action.SEND_SUMMARY) is StoredStatus.SUMMARY_SENT
    for state in (SessionState.RUNNING, SessionState.SCHEDULED, SessionState.SUMMARY_SENT):
        assert not can(state, Action.SEND_SUMMARY)


def test_reopening_is_possible_until_the_summary_went_out() -> None:
    assert transition(SessionState.ENDED, Action.REOPEN) is StoredStatus.SCHEDULED
    with pytest.raises(TransitionRefused) as refused:
        transition(SessionState.SUMMARY_SENT, Action.REOPEN)
    assert refused.value.reason is Refusal.SUMMARY_SENT


def test_restore_only_while_the_session_has_not_happened() -> None:
    ahead = clock(START - timedelta(days=1))
    assert transition(SessionState.CANCELLED, Action.RESTORE, ahead) is StoredStatus.SCHEDULED
    with pytest.raises(TransitionRefused) as refused:
        transition(SessionState.CANCELLED, Action.RESTORE, clock(END + timedelta(minutes=1)))
    assert refused.value.reason is Refusal.PASSED


def test_a_held_session_cannot_be_cancelled_or_moved() -> None:
    for state in (SessionState.ENDED, SessionState.SUMMARY_SENT):
        assert not can(state, Action.CANCEL)
        assert not can(state, Action.MOVE)
    assert not can(SessionState.RUNNING, Action.MOVE)
    assert can(SessionState.OPEN, Action.MOVE)


def test_every_state_and_action_has_an_outcome() -> None:
    table = every_transition()
    assert len(table) == len(SessionState) * len(Action)
    outcomes = {(state, action): outcome for state, action, outcome in table}
    assert outcomes[(SessionState.RUNNING, Action.END)] is StoredStatus.ENDED
    assert outcomes[(SessionState.CANCELLED, Action.END)] is Refusal.CANCELLED
    # Correcting presence is possible in every state but a cancelled one, and changes nothing.
    assert outcomes[(SessionState.ENDED, Action.CORRECT_PRESENCE)] is StoredStatus.ENDED
    assert outcomes[(SessionState.CANCELLED, Action.CORRECT_PRESENCE)] is Refusal.CANCELLED


def test_worker_rules() -> None:
    grace = timedelta(minutes=30)
    assert not overdue_for_ending(SessionState.RUNNING, clock(END + timedelta(minutes=29)), grace)
    assert overdue_for_ending(SessionState.RUNNING, clock(END + grace), grace)
    assert not overdue_for_ending(SessionState.ENDED, clock(END + grace), grace)
    delay = timedelta(hours=2)
    assert not summary_due(SessionState.ENDED, END, END + timedelta(minutes=119), delay)
    assert summary_due(SessionState.ENDED, END, END + delay, delay)
    assert not summary_due(SessionState.SUMMARY_SENT, END, END + delay, delay)


def test_coming_and_happened() -> None:
    assert is_coming(SessionState.OPEN) and not is_coming(SessionState.CANCELLED)
    assert not is_coming(SessionState.ENDED)
    assert has_happened(SessionState.SUMMARY_SENT) and not has_happened(SessionState.RUNNING)
