"""The outcome figures from factory data against the values worked out by hand (conftest)."""

from __future__ import annotations

import pytest
from flask import Flask

from companion.core.db import Db
from companion.outcomes.figures import Figures, figures
from companion.outcomes.gather import programme_facts
from tests.outcomes.conftest import EXPECTED, Outcomes


@pytest.fixture()
def result(app: Flask, db: Db, outcomes_world: Outcomes) -> Figures:
    with app.test_request_context():
        programme = db.merge(outcomes_world.programme)
        return figures(programme_facts(db, programme))


def test_counts_held_sessions_only(result: Figures) -> None:
    assert result.participants == EXPECTED["participants"]
    assert result.sessions_held == EXPECTED["sessions_held"]
    assert result.sessions_cancelled == EXPECTED["sessions_cancelled"]
    assert len(result.expert_talks) == EXPECTED["expert_talks"]
    assert result.expert_talks[0][1] == "VAT for starters"


def test_hours_and_attendance_per_person(result: Figures, outcomes_world: Outcomes) -> None:
    letter = {p.id: k for k, p in outcomes_world.people.items()}
    rows = {letter[p.person_id]: p for p in result.attendance_by_person}
    assert {k: r.minutes for k, r in rows.items()} == EXPECTED["minutes"]
    for key, hours in EXPECTED["hours"].items():
        assert rows[key].hours == pytest.approx(hours)
    assert {k: r.attended for k, r in rows.items()} == EXPECTED["attended"]
    assert {k: r.held for k, r in rows.items()} == EXPECTED["held_for"]
    assert result.total_minutes == EXPECTED["total_minutes"]


def test_drop_outs_missed_the_last_two(result: Figures, outcomes_world: Outcomes) -> None:
    letter = {p.id: k for k, p in outcomes_world.people.items()}
    assert {letter[p.person_id] for p in result.dropped_out} == EXPECTED["dropped_out"]


def test_attendance_per_session(result: Figures, outcomes_world: Outcomes) -> None:
    key = {s.id: k for k, s in outcomes_world.sessions.items()}
    got = {key[r.session_id]: (r.present, r.expected) for r in result.attendance_by_session}
    assert got == EXPECTED["by_session"]


def test_share_with_a_mutual_new_contact(result: Figures) -> None:
    whole = result.with_contact
    assert (whole.count, whole.total) == EXPECTED["with_contact"]
    assert whole.share == pytest.approx(0.5)
    groups = [(s.count, s.total) for s in result.contact_shares[:-1]]
    assert groups == EXPECTED["with_contact_groups"]


def test_contacts_by_kind_and_network(result: Figures, outcomes_world: Outcomes) -> None:
    assert {k.kind: (k.mutual, k.pending) for k in result.contacts_by_kind} == EXPECTED["kinds"]
    assert result.mutual_contacts == 3
    letter = {p.id: k for k, p in outcomes_world.people.items()}
    edges = {tuple(sorted((letter[a], letter[b]))) for a, b in result.network}
    assert edges == EXPECTED["network"]


def test_pairs_met_versus_possible(result: Figures, outcomes_world: Outcomes) -> None:
    assert result.pairs_met == EXPECTED["pairs_met"]
    assert result.pairs == EXPECTED["pairs"]
    group1 = result.met[0]
    order = [p.id for p in group1.people]
    a, d = outcomes_world.people["A"].id, outcomes_world.people["D"].id
    c = outcomes_world.people["C"].id
    assert group1.matrix.counts[order.index(a)][order.index(d)] == 1
    assert group1.matrix.counts[order.index(c)][order.index(d)] == 0


def test_feedback_averages(result: Figures, outcomes_world: Outcomes) -> None:
    key = {s.id: k for k, s in outcomes_world.sessions.items()}
    got = {key[f.session_id]: (f.count, f.average) for f in result.feedback if key[f.session_id]}
    for session, (count, average) in EXPECTED["feedback"].items():
        assert got[session][0] == count
        assert got[session][1] == (pytest.approx(average) if average is not None else None)
    assert result.feedback_average == pytest.approx(EXPECTED["feedback_average"])
