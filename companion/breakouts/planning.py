"""Pure planning: programme data as plain values in, `companion.grouping` problems out and back.

Nothing here touches Flask or the database, so the rules (who counts as having met, how big
a topic group may get, what a group's mix looks like) are tested on plain data. People are
named by keys: "p:<participant id>" or "f:<facilitator id>".
"""

from __future__ import annotations

import math
import random
import re
from collections import Counter
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field

from companion.grouping import (
    FacilitatorRule,
    GroupSize,
    Person,
    ScheduleProblem,
    Weights,
    evaluate_groups,
    solve_schedule,
)
from companion.grouping.needs import NeedMatch, matches_within

Grouping = list[list[str]]

#: Seconds the optimiser may take for one plan (a facilitator waits for it).
PLAN_SECONDS = 1.0
#: The optimiser's weights for a random round: no goal, only the hard rules.
RANDOM_WEIGHTS = Weights(repeat=0.0, new_pair=0.0, diversity=0.0, needs=0.0)
#: Mix levels: diversity (mean attribute distance, 0..1) below LOW is "low", from HIGH "high".
MIX_LOW = 0.34
MIX_HIGH = 0.6


@dataclass(frozen=True)
class Seat:
    """Someone who can be placed in a group, with what makes groups mixed."""

    key: str
    name: str
    company: str = ""
    industry: str = ""
    region: str = ""
    years: int | None = None
    facilitator: bool = False
    #: Theme keys the person offers and looks for (`companion.needs`).
    offers: tuple[str, ...] = ()
    needs: tuple[str, ...] = ()

    def as_person(self) -> Person:
        """The optimiser's view: attributes that are known, the facilitator flag, offers and
        needs."""
        attributes: dict[str, str | int] = {}
        if self.industry.strip():
            attributes["industry"] = self.industry
        if self.region.strip():
            attributes["region"] = self.region
        if self.years is not None:
            attributes["years"] = self.years
        return Person(self.key, attributes, self.facilitator, self.offers, self.needs)


@dataclass(frozen=True)
class PastRound:
    """A round that happened: its groups, and who of them was absent from the session."""

    groups: Sequence[Sequence[str]]
    absent: Collection[str] = ()


@dataclass(frozen=True)
class Sizing:
    """Either a number of groups, or bounds on the group size."""

    groups: int | None = None
    min_size: int | None = None
    max_size: int | None = None

    def group_size(self) -> GroupSize | None:
        """The optimiser's size bounds, when the sizing gives sizes."""
        if self.groups is not None:
            return None
        low = self.min_size or 1
        return GroupSize(low, max(low, self.max_size or low))

    def group_count(self, present: int) -> int:
        """How many groups `present` people make (at least one)."""
        if self.groups is not None:
            return max(1, self.groups)
        return max(1, math.ceil(present / max(1, self.max_size or 1)))


@dataclass(frozen=True)
class PlanRequest:
    """Everything one optimiser run needs, in keys."""

    seats: Sequence[Seat]
    rounds: int
    sizing: Sizing
    history: Sequence[PastRound] = ()
    #: Round index -> keys not to place in that round.
    absent: Mapping[int, Collection[str]] = field(default_factory=dict)
    apart: Sequence[tuple[str, str]] = ()
    together: Sequence[tuple[str, str]] = ()
    facilitator_rule: FacilitatorRule = "any"
    #: Round index -> key -> group index (kept where the facilitator put them).
    fixed: Mapping[int, Mapping[str, int]] = field(default_factory=dict)
    seed: int = 0
    weights: Weights = field(default_factory=Weights)
    time_limit: float = PLAN_SECONDS


def met_history(past: Sequence[PastRound], known: Collection[str]) -> list[Grouping]:
    """Past rounds as the optimiser takes them: absent and unknown people removed.

    An absent person did not meet their group, so they are dropped from it; people outside
    the plan (another group's members) are dropped because the optimiser only knows its own.
    """
    wanted = set(known)
    rounds: list[Grouping] = []
    for item in past:
        away = set(item.absent)
        groups = [[k for k in group if k in wanted and k not in away] for group in item.groups]
        groups = [g for g in groups if len(g) > 1]
        if groups:
            rounds.append(groups)
    return rounds


def schedule_problem(request: PlanRequest) -> ScheduleProblem:
    """The optimiser's problem for a plan request."""
    keys = {seat.key for seat in request.seats}
    pairs_apart = [list(p) for p in request.apart if p[0] in keys and p[1] in keys and p[0] != p[1]]
    pairs_together = [
        list(p) for p in request.together if p[0] in keys and p[1] in keys and p[0] != p[1]
    ]
    absent = {r: sorted(set(ids) & keys) for r, ids in request.absent.items() if set(ids) & keys}
    fixed = {
        r: {k: g for k, g in chosen.items() if k in keys and k not in absent.get(r, ())}
        for r, chosen in request.fixed.items()
    }
    group_size = request.sizing.group_size()
    return ScheduleProblem(
        people=[seat.as_person() for seat in request.seats],
        rounds=request.rounds,
        group_size=group_size,
        groups=request.sizing.groups if group_size is None else None,
        history=met_history(request.history, keys),
        absent=absent,
        apart=pairs_apart,
        together=pairs_together,
        facilitators=request.facilitator_rule,
        fixed={r: f for r, f in fixed.items() if f},
        weights=request.weights,
        time_limit=request.time_limit,
        seed=request.seed,
    )


@dataclass(frozen=True)
class Plan:
    """The optimiser's groups for each planned round, and how often people meet again."""

    groupings: list[Grouping]
    #: Pairs that meet more than once over the programme (earlier rounds and this plan), pairs
    #: kept together left out: they meet whenever both are there, by the facilitator's rule.
    repeat_pairs: int
    #: No plan could repeat less (R, the optimiser's measure of repeats, meets its proven
    #: lower bound for these people, sizes, absences and rules).
    fewest_possible: bool


def plan(request: PlanRequest) -> Plan:
    """Groups for each planned round (raises `Infeasible` with a message naming the rule)."""
    problem = schedule_problem(request)
    solution = solve_schedule(problem)
    groupings = [[list(group) for group in grouping] for grouping in solution.rounds]
    together = {frozenset((a, b)) for block in problem.together for a in block for b in block}
    met = pair_counts([*problem.history, *groupings])
    metrics = solution.metrics
    return Plan(
        groupings=groupings,
        repeat_pairs=sum(1 for pair, n in met.items() if n > 1 and pair not in together),
        fewest_possible=metrics.repeats <= metrics.repeats_lower_bound,
    )


def pair_counts(rounds: Sequence[Sequence[Sequence[str]]]) -> Counter[frozenset[str]]:
    """How often each pair shares a group over these rounds."""
    met: Counter[frozenset[str]] = Counter()
    for grouping in rounds:
        for group in grouping:
            for i, a in enumerate(group):
                for b in group[i + 1 :]:
                    met[frozenset((a, b))] += 1
    return met


def new_seed() -> int:
    """A fresh seed for a random round (kept on the round, so it can be explained later)."""
    return random.SystemRandom().randrange(1, 2**31)


def topic_limit(present: int, topics: int, limit: int | None = None) -> int:
    """Most people per topic group: the facilitator's limit, or an even share (ceil(n/N))."""
    if limit is not None:
        return limit
    return max(1, math.ceil(present / max(1, topics)))


def balanced_fill(
    unplaced: Sequence[str],
    groups: Sequence[Sequence[str]],
    limits: Sequence[int],
    history: Sequence[Grouping] = (),
) -> list[list[str]]:
    """Place people in the groups with room left, each where they have met fewest before.

    Used for topic groups when picks already made the sizes uneven, where the optimiser (whose
    groups differ by at most one) cannot keep everyone's pick; the emptiest group wins ties.
    """
    met = pair_counts(history)
    result = [list(group) for group in groups]
    for key in unplaced:
        open_groups = [g for g in range(len(result)) if len(result[g]) < limits[g]]
        if not open_groups:
            raise ValueError("no room left")
        best = min(
            open_groups,
            key=lambda g: (
                sum(met[frozenset((key, other))] for other in result[g]),
                len(result[g]),
                g,
            ),
        )
        result[best].append(key)
    return result


def can_keep_picks(picks: Sequence[int], present: int) -> bool:
    """Whether groups of sizes differing by at most one can hold the picks already made."""
    if not picks:
        return True
    k = len(picks)
    base, extra = divmod(present, k)
    too_big = sorted(picks, reverse=True)
    # The `extra` largest groups may hold base + 1, the rest base.
    return all(count <= (base + 1 if i < extra else base) for i, count in enumerate(too_big))


@dataclass(frozen=True)
class Mix:
    """How mixed a group is: the optimiser's diversity and the plain counts behind it."""

    diversity: float
    industries: int
    regions: int
    years_low: int | None
    years_high: int | None

    @property
    def level(self) -> str:
        """ "low", "medium" or "high"."""
        if self.diversity < MIX_LOW:
            return "low"
        if self.diversity < MIX_HIGH:
            return "medium"
        return "high"


@dataclass(frozen=True)
class GroupFacts:
    """One group of a proposal: who met whom before (with counts) and its mix."""

    members: tuple[str, ...]
    #: (a, b, times) for pairs of the group that met in earlier rounds.
    met_before: tuple[tuple[str, str, int], ...]
    mix: Mix
    #: Pairs of the group where one offers what the other looks for.
    needs_met: tuple[NeedMatch, ...] = ()


def _mix(seats: Mapping[str, Seat], members: Sequence[str], diversity: float) -> Mix:
    people = [seats[k] for k in members if k in seats and not seats[k].facilitator]
    years = [s.years for s in people if s.years is not None]
    return Mix(
        diversity=round(diversity, 3),
        industries=len({s.industry.strip().casefold() for s in people if s.industry.strip()}),
        regions=len({s.region.strip().casefold() for s in people if s.region.strip()}),
        years_low=min(years) if years else None,
        years_high=max(years) if years else None,
    )


def group_facts(
    seats: Sequence[Seat], history: Sequence[PastRound], groups: Sequence[Sequence[str]]
) -> list[GroupFacts]:
    """For each proposed group: pairs that met before and how mixed it is (`evaluate_groups`)."""
    # Facilitators are left out: they make no group more mixed, and having met them before
    # is what facilitating is.
    known = {seat.key: seat for seat in seats if not seat.facilitator}
    people = [seat.as_person() for seat in seats if not seat.facilitator]
    cleaned = [[k for k in group if k in known] for group in groups]
    reports = evaluate_groups(people, met_history(history, known), cleaned)
    return [
        GroupFacts(
            members=report.members,
            met_before=tuple((m.a, m.b, m.count) for m in report.met_before),
            mix=_mix(known, report.members, report.diversity),
            needs_met=tuple(matches_within(people, report.members)),
        )
        for report in reports
    ]


@dataclass(frozen=True)
class MetMatrix:
    """Who has met whom: `counts[i][j]` rounds together, for `keys` in order."""

    keys: list[str]
    counts: list[list[int]]

    @property
    def pairs(self) -> int:
        """Number of pairs."""
        n = len(self.keys)
        return n * (n - 1) // 2

    def pairs_met(self, at_least: int = 1) -> int:
        """Pairs that met at least `at_least` times."""
        n = len(self.keys)
        return sum(1 for i in range(n) for j in range(i + 1, n) if self.counts[i][j] >= at_least)

    def met_count(self, i: int) -> int:
        """How many of the others person i has met."""
        return sum(1 for j, c in enumerate(self.counts[i]) if j != i and c > 0)

    @property
    def most(self) -> int:
        """The highest count (0 when nobody met)."""
        return max((max(row) for row in self.counts), default=0)


def met_matrix(keys: Sequence[str], history: Sequence[PastRound]) -> MetMatrix:
    """The who-has-met-whom matrix of these people over the given rounds."""
    index = {k: i for i, k in enumerate(keys)}
    counts = [[0] * len(keys) for _ in keys]
    for pair, times in pair_counts(met_history(history, index)).items():
        a, b = (index[k] for k in pair)
        counts[a][b] = counts[b][a] = times
    return MetMatrix(list(keys), counts)


_QUOTED_KEY = re.compile(r"'([pf]:\d+)'")


def readable(
    message: str,
    names: Mapping[str, str],
    rounds: Sequence[str] = (),
    groups: Sequence[str] = (),
) -> str:
    """An optimiser message with people's names for their keys, and round and group labels for
    the optimiser's 0-based numbers."""
    text = _QUOTED_KEY.sub(lambda m: names.get(m.group(1), m.group(1)), message)
    for word, labels in (("round", rounds), ("group", groups)):
        if not labels:
            continue

        def label(match: re.Match[str], labels: Sequence[str] = labels) -> str:
            index = int(match.group(1))
            return labels[index] if 0 <= index < len(labels) else match.group(0)

        text = re.sub(rf"\b{word} (\d+)", label, text)
    return text
