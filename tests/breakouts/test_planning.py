"""The pure planning rules, on plain data: who counts as having met, limits, filling topic
groups, the mix, the who-met-whom matrix and readable optimiser messages."""

from __future__ import annotations

import pytest

from companion.breakouts import planning
from companion.breakouts.planning import PastRound, PlanRequest, Seat, Sizing
from companion.grouping import Infeasible


def _seats(n: int) -> list[Seat]:
    industries = ("food", "design", "software", "retail")
    regions = ("Turku", "Salo", "Raisio")
    return [
        Seat(
            key=f"p:{i}",
            name=f"Person {i}",
            industry=industries[i % 4],
            region=regions[i % 3],
            years=i,
        )
        for i in range(1, n + 1)
    ]


def test_absent_people_did_not_meet_and_strangers_are_dropped() -> None:
    past = [PastRound(groups=[["p:1", "p:2", "p:3"], ["p:4", "p:9"]], absent={"p:3"})]
    assert planning.met_history(past, {"p:1", "p:2", "p:3", "p:4"}) == [[["p:1", "p:2"]]]


def test_sizing_gives_counts_and_bounds() -> None:
    assert Sizing(groups=3).group_count(20) == 3
    assert Sizing(min_size=3, max_size=4).group_count(9) == 3
    assert Sizing(min_size=3, max_size=4).group_size() is not None
    assert Sizing(groups=2).group_size() is None


@pytest.mark.parametrize(
    ("present", "topics", "limit", "expected"),
    [(8, 3, None, 3), (9, 3, None, 3), (10, 3, None, 4), (0, 3, None, 1), (8, 3, 6, 6)],
)
def test_topic_limit(present: int, topics: int, limit: int | None, expected: int) -> None:
    assert planning.topic_limit(present, topics, limit) == expected


def test_can_keep_picks() -> None:
    assert planning.can_keep_picks([3, 1, 0], 8)
    assert not planning.can_keep_picks([4, 0], 6)  # 3 + 3 cannot hold four picks in one
    assert planning.can_keep_picks([], 5)


def test_balanced_fill_prefers_new_people_and_respects_limits() -> None:
    history = [[["p:1", "p:2"]]]
    filled = planning.balanced_fill(["p:1"], [["p:2"], ["p:3"]], [3, 3], history)
    assert filled == [["p:2"], ["p:3", "p:1"]]
    with pytest.raises(ValueError, match="no room"):
        planning.balanced_fill(["p:1"], [["p:2"]], [1])


def test_plan_keeps_hard_rules_and_fixed_people() -> None:
    seats = _seats(9)
    request = PlanRequest(
        seats=seats,
        rounds=2,
        sizing=Sizing(groups=3),
        apart=[("p:1", "p:2")],
        together=[("p:3", "p:4")],
        fixed={0: {"p:5": 2}},
        absent={1: {"p:9"}},
        time_limit=0.2,
    )
    first, second = planning.plan(request).groupings
    for grouping in (first, second):
        assert not any({"p:1", "p:2"} <= set(g) for g in grouping)
        assert any({"p:3", "p:4"} <= set(g) for g in grouping)
    assert "p:5" in first[2]
    assert "p:9" not in {k for g in second for k in g}


@pytest.mark.parametrize(
    ("rounds", "together", "history", "repeat_pairs"),
    [
        (3, [], [], 0),  # three rounds of pairs among four: everyone meets everyone once
        (4, [], [], 2),  # a fourth round repeats two pairs; no plan can do better
        (3, [("p:1", "p:2")], [], 1),  # kept together: p:1-p:2 meet thrice (not counted), and
        # so must p:3-p:4 (counted)
        (1, [], [PastRound(groups=[["p:1", "p:2"], ["p:3", "p:4"]])] * 2, 2),  # met twice before
    ],
)
def test_plan_says_how_many_pairs_meet_again_and_whether_that_is_the_fewest(
    rounds: int, together: list[tuple[str, str]], history: list[PastRound], repeat_pairs: int
) -> None:
    request = PlanRequest(
        seats=_seats(4),
        rounds=rounds,
        sizing=Sizing(min_size=2, max_size=2),
        together=together,
        history=history,
        time_limit=0.5,
    )
    result = planning.plan(request)
    assert result.repeat_pairs == repeat_pairs
    assert result.fewest_possible


def test_a_plan_above_the_proven_bound_does_not_claim_the_fewest() -> None:
    """12 people in groups of 4 for 6 rounds: the optimum (R = 45) lies above the bound the
    optimiser can prove (42), so even the best plan may not say that none could do better."""
    request = PlanRequest(
        seats=_seats(12), rounds=6, sizing=Sizing(min_size=4, max_size=4), time_limit=0.3
    )
    result = planning.plan(request)
    assert result.repeat_pairs > 0
    assert not result.fewest_possible


def test_infeasible_is_raised_with_the_rule() -> None:
    request = PlanRequest(seats=_seats(4), rounds=1, sizing=Sizing(min_size=5, max_size=6))
    with pytest.raises(Infeasible) as caught:
        planning.plan(request)
    assert caught.value.constraint == "group_size"


def test_group_facts_show_who_met_and_the_mix() -> None:
    seats = _seats(4)
    past = [PastRound(groups=[["p:1", "p:2"], ["p:3", "p:4"]])]
    facts = planning.group_facts(seats, past, [["p:1", "p:2", "p:3"], ["p:4"]])
    assert facts[0].met_before == (("p:1", "p:2", 1),)
    assert facts[0].mix.industries == 3
    assert facts[0].mix.regions == 3
    assert (facts[0].mix.years_low, facts[0].mix.years_high) == (1, 3)
    assert facts[0].mix.level in ("medium", "high")
    assert facts[1].mix.diversity == 0.0 and facts[1].mix.level == "low"


def test_facilitators_do_not_count_in_the_mix_or_as_met() -> None:
    chair = Seat(key="f:1", name="Fia", facilitator=True)
    past = [PastRound(groups=[["p:1", "f:1"]])]
    alone = planning.group_facts(_seats(2), [], [["p:1", "p:2"]])
    facts = planning.group_facts([*_seats(2), chair], past, [["p:1", "p:2", "f:1"]])
    assert facts[0].mix == alone[0].mix
    assert facts[0].met_before == ()


def test_met_matrix_counts_pairs() -> None:
    past = [
        PastRound(groups=[["p:1", "p:2", "p:3"]]),
        PastRound(groups=[["p:1", "p:2"], ["p:3"]]),
        PastRound(groups=[["p:1", "p:3"]], absent={"p:3"}),
    ]
    matrix = planning.met_matrix(["p:1", "p:2", "p:3"], past)
    assert matrix.counts == [[0, 2, 1], [2, 0, 1], [1, 1, 0]]
    assert (matrix.pairs, matrix.pairs_met(), matrix.pairs_met(2), matrix.most) == (3, 3, 1, 2)
    assert matrix.met_count(0) == 2


def test_readable_messages_use_names_and_labels() -> None:
    message = "round 0: 'p:1' and 'p:2' must be kept apart but are fixed to group 1"
    text = planning.readable(message, {"p:1": "Aino", "p:2": "Bertta"}, ["Session 2"], ["A", "B"])
    assert text == "Session 2: Aino and Bertta must be kept apart but are fixed to B"
