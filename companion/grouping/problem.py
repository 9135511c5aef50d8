"""The problems the optimiser solves, its answers and its errors, as plain frozen dataclasses.

Rounds are numbered from 0, as in the JSON form (`"absent": {"0": [...]}`), and so are the
groups of a round (`"fixed": {"0": {"p1": 2}}`). Messages use the same numbers.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Literal

import numpy as np
import numpy.typing as npt

#: What a person may carry for diversity: categories (industry, region) or numbers (years).
AttributeValue = str | int | float | bool

FacilitatorRule = Literal["any", "at_most_one", "at_least_one", "exactly_one"]
FACILITATOR_RULES: tuple[FacilitatorRule, ...] = (
    "any",
    "at_most_one",
    "at_least_one",
    "exactly_one",
)

#: Defaults when a problem does not say.
DEFAULT_TIME_LIMIT = 2.0
DEFAULT_SEED = 0


class GroupingError(Exception):
    """Base of the optimiser's errors."""


class ProblemError(GroupingError, ValueError):
    """The problem itself is malformed; `path` names the bad field (`people[3].id`)."""

    def __init__(self, path: str, message: str) -> None:
        self.path = path
        self.message = message
        super().__init__(f"{path}: {message}" if path else message)


class Infeasible(GroupingError):
    """The hard constraints cannot all hold; the message names the constraint that fails."""

    def __init__(self, message: str, *, constraint: str = "", round: int | None = None) -> None:
        self.message = message
        #: A short name of the rule at fault: "group_size", "together", "apart",
        #: "facilitators", "fixed" or "search" (no grouping found within the time).
        self.constraint = constraint
        self.round = round
        super().__init__(message)


@dataclass(frozen=True)
class Person:
    """Someone to place: an id, attributes that make groups diverse, a facilitator flag, and
    the themes they can offer others and are looking for (see `needs.py`)."""

    id: str
    attributes: Mapping[str, AttributeValue] = field(default_factory=dict)
    facilitator: bool = False
    offers: Collection[str] = ()
    needs: Collection[str] = ()


@dataclass(frozen=True)
class GroupSize:
    """Inclusive bounds on the size of every group of a round."""

    min: int
    max: int


@dataclass(frozen=True)
class Weights:
    """How much each soft goal counts; repeats come first, then new pairs, diversity and needs.

    R is the sum over pairs of C(m, 2) (m = how often they met), D the summed attribute
    distance of the pairs placed together and N the needs met (`needs.py`: each person whose
    need met a matching offer counts 1, each ordered pair of helper and helped that met
    `NEEDS_PAIR_SHARE` more). When `repeat` > 0 the optimiser first minimises
    `repeat * R - new_pair * distinct_pairs`, then, never raising R, minimises
    `-new_pair * distinct_pairs - diversity * D - needs * N` (see `schedule.phase_weights`);
    with `repeat` = 0 it minimises `-new_pair * distinct_pairs - diversity * D - needs * N`.

    `needs_cover`, when set, replaces `needs` as what covering a person (their first helper
    met) counts; the second phase sets it above all that new pairs, diversity and further
    helpers can add up to, so that it covers every need it can before weighing the rest (at
    the R of the first phase).
    """

    repeat: float = 10.0
    new_pair: float = 1.0
    diversity: float = 0.2
    needs: float = 2.0
    needs_cover: float | None = None


@dataclass(frozen=True)
class ScheduleProblem:
    """Breakout groups for several rounds of one programme group.

    Give either `group_size` (the number of groups is then the smallest that respects
    `group_size.max`) or `groups` (a fixed number of groups). Within a round, sizes differ by
    at most one. People in `absent[r]` are not placed in round r (arriving late = absent in the
    early rounds). `fixed[r]` maps a person to a group index of round r.
    """

    people: Sequence[Person]
    rounds: int
    group_size: GroupSize | None = None
    groups: int | None = None
    history: Sequence[Sequence[Sequence[str]]] = ()
    absent: Mapping[int, Collection[str]] = field(default_factory=dict)
    apart: Sequence[Sequence[str]] = ()
    together: Sequence[Sequence[str]] = ()
    facilitators: FacilitatorRule = "any"
    fixed: Mapping[int, Mapping[str, int]] = field(default_factory=dict)
    weights: Weights = field(default_factory=Weights)
    time_limit: float = DEFAULT_TIME_LIMIT
    seed: int = DEFAULT_SEED
    #: An explicit search budget (iterations). By default it is derived from `time_limit`.
    iterations: int | None = None


@dataclass(frozen=True)
class ScheduleMetrics:
    """Figures of a schedule; pair counts include the history."""

    #: R = sum over pairs of C(m, 2); 0 means no pair met twice.
    repeats: int
    #: A proven lower bound on R for this problem (R meeting it is optimal).
    repeats_lower_bound: int
    #: Pairs that met more than once.
    repeat_pairs: int
    #: Pairs that met at least once.
    distinct_pairs: int
    #: An upper bound on distinct_pairs.
    pair_upper_bound: int
    #: Mean attribute distance (0..1) of the pairs placed together in the planned rounds.
    diversity: float
    #: Broken hard rules; a returned solution always has 0.
    violations: int
    seconds: float
    #: People whose need met a matching offer at least once (history included), and those for
    #: whom someone offers what they look for (`needs.py`).
    needs_covered: int = 0
    needs_coverable: int = 0

    def as_dict(self) -> dict[str, int | float]:
        """The metrics as a JSON-ready dict (the keys of the CLI output)."""
        return asdict(self)


@dataclass(frozen=True)
class ScheduleSolution:
    """Groups per planned round (lists of person ids) and their metrics."""

    rounds: list[list[list[str]]]
    metrics: ScheduleMetrics
    #: Iterations done by the search whose schedule is returned (one of `schedule.PORTFOLIO`),
    #: and seconds until that schedule was first reached.
    iterations: int = 0
    seconds_to_best: float = 0.0

    def as_dict(self) -> dict[str, object]:
        """The solution in the JSON shape of `companion groups solve`."""
        return {"rounds": self.rounds, "metrics": self.metrics.as_dict()}


@dataclass(frozen=True)
class WeightedProblem:
    """Maximally Diverse Grouping: split 0..n-1 into groups maximising in-group pair weights.

    `weights` is a symmetric n x n matrix (the diagonal is ignored); `sizes` holds the inclusive
    (min, max) size of each group, so `len(sizes)` is the number of groups.
    """

    weights: npt.NDArray[np.float64]
    sizes: Sequence[tuple[int, int]]
    time_limit: float = DEFAULT_TIME_LIMIT
    seed: int = DEFAULT_SEED
    iterations: int | None = None

    @property
    def n(self) -> int:
        """Number of elements."""
        return int(self.weights.shape[0])


@dataclass(frozen=True)
class WeightedSolution:
    """Groups of element indices, the objective (sum of in-group pair weights) and the time."""

    groups: list[list[int]]
    objective: float
    seconds: float
    iterations: int = 0
    seconds_to_best: float = 0.0

    def as_dict(self) -> dict[str, object]:
        """The solution in the JSON shape of `companion groups solve`."""
        return {"groups": self.groups, "objective": self.objective, "seconds": self.seconds}
