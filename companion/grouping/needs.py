"""Offers and needs: who can help whom, and how well a schedule brings them together.

A person may offer themes to others and look for themes; `helper` can help `helped` when one
of `helper`'s offers is among `helped`'s needs (themes compare without case or surrounding
space). A person's need is *coverable* when someone else offers it, and *covered* once they
shared a group with such a helper (in the history or a planned round).

The optimiser's term (`Weights.needs`, kept incrementally in `kernel.tabu_steps`) is, for each
person p with c(p) helpers met, `cover * [c(p) >= 1] + needs * NEEDS_PAIR_SHARE * c(p)`:
covering a person counts most, and each further helper met a little (each ordered pair of
helper and helped is worth a meeting, so the sum also grows when two people can help each
other). `cover` is `needs` unless `Weights.needs_cover` is set; the optimiser's second phase
sets it above all that new pairs, diversity and helper meetings can add up to, so coverage
comes right after repeats (`schedule.phase_weights`).

`season_needs` reads the same facts from the rounds that ran, for the outcome figures: which
needs were covered and by whom, and whether such a pair recorded a contact.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from companion.grouping.problem import Person, Weights

#: What each further helper met adds, against 1 for a person's first (see the docstring).
NEEDS_PAIR_SHARE = 0.25

BoolMatrix = npt.NDArray[np.bool_]
IntArray = npt.NDArray[np.int64]


def theme_key(theme: str) -> str:
    """The form in which themes are compared: no surrounding space, no case."""
    return theme.strip().casefold()


def _themes(values: Iterable[str]) -> dict[str, str]:
    """Theme keys to the first spelling given, empty ones left out."""
    out: dict[str, str] = {}
    for value in values:
        key = theme_key(value)
        if key:
            out.setdefault(key, value.strip())
    return out


def helps(helper: Person, helped: Person) -> tuple[str, ...]:
    """The themes `helper` offers that `helped` looks for (as `helped` spelled them), in
    `helped`'s order; empty when none or when they are the same person."""
    if helper.id == helped.id:
        return ()
    offered = _themes(helper.offers)
    return tuple(name for key, name in _themes(helped.needs).items() if key in offered)


def match_matrix(people: Sequence[Person]) -> BoolMatrix:
    """match[h, p]: person h offers something person p looks for (never on the diagonal)."""
    n = len(people)
    match = np.zeros((n, n), dtype=bool)
    needers = [(p, set(_themes(person.needs))) for p, person in enumerate(people)]
    needers = [(p, keys) for p, keys in needers if keys]
    if not needers:
        return match
    for h, person in enumerate(people):
        offered = set(_themes(person.offers))
        if not offered:
            continue
        for p, keys in needers:
            if p != h and offered & keys:
                match[h, p] = True
    return match


def helpers_met(
    match: BoolMatrix, met: npt.NDArray[np.int64] | npt.NDArray[np.float64]
) -> IntArray:
    """For each person, how many of their possible helpers they met (`met[a, b]` > 0)."""
    return np.asarray(((met > 0) & match).sum(axis=0), dtype=np.int64)


def needs_value(helped: IntArray, pair_share: float = NEEDS_PAIR_SHARE) -> float:
    """The needs met by helper counts (see the module docstring), before the weight."""
    return float((helped > 0).sum()) + pair_share * float(helped.sum())


def need_weights(weights: Weights) -> tuple[float, float]:
    """What each helper met and each person covered count in the cost: (pair, cover)."""
    cover = weights.needs if weights.needs_cover is None else weights.needs_cover
    return weights.needs * NEEDS_PAIR_SHARE, cover


def weighted_needs(helped: IntArray, weights: Weights) -> float:
    """The needs term of the cost (before its sign) for helper counts `helped`."""
    pair, cover = need_weights(weights)
    return cover * float((helped > 0).sum()) + pair * float(helped.sum())


@dataclass(frozen=True)
class NeedMatch:
    """`helper` offers what `helped` looks for: the themes, as `helped` named them."""

    helper: str
    helped: str
    themes: tuple[str, ...]


def matches_within(people: Sequence[Person], members: Collection[str]) -> list[NeedMatch]:
    """Every ordered pair of `members` in which one can help the other, in `people`'s order."""
    wanted = set(members)
    here = [person for person in people if person.id in wanted]
    out = []
    for helped in here:
        for helper in here:
            themes = helps(helper, helped)
            if themes:
                out.append(NeedMatch(helper.id, helped.id, themes))
    return out


@dataclass(frozen=True)
class NeedMeeting:
    """A pair of helper and helped that shared a group: how often, first in which round (from
    0), and whether the two recorded a contact."""

    helper: str
    helped: str
    themes: tuple[str, ...]
    first_round: int
    times: int
    contact: bool


@dataclass(frozen=True)
class SeasonNeeds:
    """Needs over the rounds that ran: who could be helped, who was, and by whom."""

    #: People someone else offers a theme they look for.
    coverable: tuple[str, ...]
    #: Of those, the people who shared a group with such a helper at least once.
    covered: tuple[str, ...]
    meetings: tuple[NeedMeeting, ...]

    @property
    def pairs_with_contact(self) -> int:
        """Pairs of helper and helped that met and recorded a contact (each pair once, however
        many directions it helps in)."""
        return len({frozenset((m.helper, m.helped)) for m in self.meetings if m.contact})

    @property
    def pairs_met(self) -> int:
        """Pairs of helper and helped that met (each pair once)."""
        return len({frozenset((m.helper, m.helped)) for m in self.meetings})


def season_needs(
    people: Sequence[Person],
    rounds: Sequence[Sequence[Sequence[str]]],
    contacts: Collection[frozenset[str]] = (),
) -> SeasonNeeds:
    """Which needs the `rounds` (groups of person ids, in order) covered and by whom; `contacts`
    holds the pairs (frozensets of two ids) that recorded a follow-up contact.

    Ids in the rounds that are not among `people` are ignored (people who left the programme).
    """
    index = {person.id: i for i, person in enumerate(people)}
    first: dict[tuple[int, int], int] = {}
    times: dict[tuple[int, int], int] = {}
    for r, grouping in enumerate(rounds):
        for group in grouping:
            idx = sorted({index[p] for p in group if p in index})
            for x, a in enumerate(idx):
                for b in idx[x + 1 :]:
                    first.setdefault((a, b), r)
                    times[(a, b)] = times.get((a, b), 0) + 1
    match = match_matrix(people)
    meetings = []
    for (a, b), r in sorted(first.items(), key=lambda item: (item[1], item[0])):
        for helper, helped in ((a, b), (b, a)):
            if match[helper, helped]:
                h, p = people[helper], people[helped]
                meetings.append(
                    NeedMeeting(
                        helper=h.id,
                        helped=p.id,
                        themes=helps(h, p),
                        first_round=r,
                        times=times[(a, b)],
                        contact=frozenset((h.id, p.id)) in contacts,
                    )
                )
    coverable = np.asarray(match.any(axis=0), dtype=bool)
    reached = {m.helped for m in meetings}
    return SeasonNeeds(
        coverable=tuple(person.id for i, person in enumerate(people) if coverable[i]),
        covered=tuple(person.id for person in people if person.id in reached),
        meetings=tuple(meetings),
    )
