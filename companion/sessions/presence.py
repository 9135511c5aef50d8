"""Whether a person was at a session: one fact, merged from its sources with a fixed precedence.

Sources, strongest first:

1. the facilitator's mark (present or absent): final;
2. the platform's report (Zoom's or Teams' participants of the meeting);
3. the person's own join link, opened in the session's window;
4. membership in a breakout group of a round that ran in the session.

Only the facilitator can say someone was *not* there; every other source only ever reports
that someone was. So a person is present when the facilitator says so, or, without a mark,
when any source saw them (the strongest one is the fact's source); absent when the
facilitator says so, or when the session has ended and nobody saw them; and expected until
then (while it runs, someone not seen yet may still come, and an untracked room sees nobody).
The summary email, who-met-whom, the optimiser's history and the outcome figures all read
this one fact. Pure: no Flask, no database (`attendance.py` reads and writes the reports).
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime


class PresenceSource(enum.StrEnum):
    """Where a report of someone's presence came from."""

    FACILITATOR = "facilitator"
    PLATFORM = "platform"
    LINK = "link"
    BREAKOUT = "breakout"


#: Strongest first.
PRECEDENCE: tuple[PresenceSource, ...] = (
    PresenceSource.FACILITATOR,
    PresenceSource.PLATFORM,
    PresenceSource.LINK,
    PresenceSource.BREAKOUT,
)


@dataclass(frozen=True)
class Report:
    """What one source says about one person at one session."""

    source: PresenceSource
    present: bool
    #: Minutes in the meeting, where the source knows them (a platform).
    minutes: int | None = None
    first_seen_at: datetime | None = None
    last_seen_at: datetime | None = None


@dataclass(frozen=True)
class Presence:
    """The merged fact for one person at one session."""

    #: True present, False absent, None not decided yet (the session has not ended).
    present: bool | None
    #: The source the fact comes from (None for "nobody saw them" and for "expected").
    source: PresenceSource | None
    #: Minutes present where a platform measured them; None otherwise.
    minutes: int | None
    first_seen_at: datetime | None
    #: Every report that went into the fact, strongest first.
    reports: tuple[Report, ...] = ()

    @property
    def absent(self) -> bool:
        """Decided absent (not merely expected)."""
        return self.present is False

    @property
    def marked(self) -> bool:
        """The facilitator decided it."""
        return self.source is PresenceSource.FACILITATOR


def merge(reports: Iterable[Report], *, settled: bool) -> Presence:
    """One person's presence from every report about them.

    `settled`: the session has ended; before that, nobody is absent unless the facilitator
    marked them so.
    """
    ordered = tuple(sorted(reports, key=lambda r: PRECEDENCE.index(r.source)))
    minutes = next((r.minutes for r in ordered if r.minutes is not None and r.present), None)
    seen = [r.first_seen_at for r in ordered if r.present and r.first_seen_at is not None]
    first_seen = min(seen) if seen else None
    for report in ordered:
        if report.source is PresenceSource.FACILITATOR:
            return Presence(
                report.present,
                report.source,
                minutes if report.present else None,
                first_seen if report.present else None,
                ordered,
            )
        if report.present:
            return Presence(True, report.source, minutes, first_seen, ordered)
    return Presence(False if settled else None, None, None, None, ordered)


def present_ids(facts: dict[int, Presence]) -> set[int]:
    """The people a set of facts says were there."""
    return {person for person, fact in facts.items() if fact.present}


def absent_ids(facts: dict[int, Presence]) -> set[int]:
    """The people a set of facts says were not there (decided, not merely expected)."""
    return {person for person, fact in facts.items() if fact.absent}


def minutes_present(fact: Presence, scheduled_minutes: int) -> int:
    """Minutes to count for a person: what a platform measured, else the scheduled length
    for someone present, else nothing."""
    if not fact.present:
        return 0
    if fact.minutes is None:
        return scheduled_minutes
    return max(0, fact.minutes)
