"""The attendance merge: one fact per person and session, with a fixed precedence."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from companion.sessions.presence import (
    PRECEDENCE,
    PresenceSource,
    Report,
    absent_ids,
    merge,
    minutes_present,
    present_ids,
)

AT = datetime(2027, 4, 28, 6, 5, tzinfo=UTC)
FACILITATOR, PLATFORM, LINK, BREAKOUT = PRECEDENCE


def test_nobody_saw_them_by_the_end_means_absent() -> None:
    fact = merge([], settled=True)
    assert fact.present is False and fact.source is None and fact.absent


def test_until_the_end_nobody_is_absent_unless_marked() -> None:
    assert merge([], settled=False).present is None
    marked = merge([Report(FACILITATOR, False)], settled=False)
    assert marked.present is False and marked.marked


def test_facilitator_mark_is_final_both_ways() -> None:
    seen = [Report(PLATFORM, True, 50, AT), Report(LINK, True, None, AT)]
    assert merge([*seen, Report(FACILITATOR, False)], settled=True).present is False
    unseen = merge([Report(FACILITATOR, True)], settled=True)
    assert unseen.present is True and unseen.source is FACILITATOR


def test_strongest_positive_source_is_the_fact_source() -> None:
    fact = merge([Report(BREAKOUT, True), Report(LINK, True, None, AT)], settled=True)
    assert fact.source is LINK
    fact = merge(
        [Report(LINK, True, None, AT), Report(PLATFORM, True, 42, AT - timedelta(minutes=3))],
        settled=True,
    )
    assert fact.source is PLATFORM
    assert fact.minutes == 42
    assert fact.first_seen_at == AT - timedelta(minutes=3)


def test_breakout_membership_alone_counts_as_present() -> None:
    fact = merge([Report(BREAKOUT, True)], settled=True)
    assert fact.present is True and fact.source is PresenceSource.BREAKOUT


def test_marked_present_keeps_measured_minutes_and_absent_drops_them() -> None:
    reports = [Report(FACILITATOR, True), Report(PLATFORM, True, 75, AT)]
    assert merge(reports, settled=True).minutes == 75
    gone = merge([Report(FACILITATOR, False), Report(PLATFORM, True, 75, AT)], settled=True)
    assert gone.minutes is None and gone.first_seen_at is None


def test_minutes_to_count() -> None:
    assert minutes_present(merge([Report(PLATFORM, True, 75, AT)], settled=True), 120) == 75
    assert minutes_present(merge([Report(LINK, True)], settled=True), 120) == 120
    assert minutes_present(merge([], settled=True), 120) == 0


def test_id_sets() -> None:
    facts = {
        1: merge([Report(LINK, True)], settled=True),
        2: merge([], settled=True),
        3: merge([], settled=False),
    }
    assert present_ids(facts) == {1}
    assert absent_ids(facts) == {2}


reports = st.lists(
    st.builds(
        Report,
        source=st.sampled_from(list(PresenceSource)),
        present=st.booleans(),
        minutes=st.none() | st.integers(0, 600),
    ),
    max_size=4,
    # One report per source, as the table's unique key keeps it.
    unique_by=lambda r: r.source,
)


@given(reports, st.booleans())
def test_merge_obeys_precedence(given_reports: list[Report], settled: bool) -> None:
    # Only the facilitator can say "absent": other sources' False reports are not evidence.
    fact = merge(given_reports, settled=settled)
    marks = [r for r in given_reports if r.source is FACILITATOR]
    if marks:
        assert fact.present is marks[0].present and fact.source is FACILITATOR
        return
    positive = [r for r in given_reports if r.present]
    if positive:
        strongest = min(positive, key=lambda r: PRECEDENCE.index(r.source))
        assert fact.present is True and fact.source is strongest.source
    else:
        assert fact.present is (False if settled else None)
    # The order in which reports arrive never matters.
    assert merge(list(reversed(given_reports)), settled=settled).present == fact.present
