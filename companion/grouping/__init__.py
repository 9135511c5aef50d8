"""The breakout-group optimiser: pure Python, numpy and numba, no Flask, no database.

`solve_schedule` plans groups for several rounds (few repeated pairs, many new ones, mixed
attributes, hard rules kept); `solve_weighted` solves the Maximally Diverse Grouping Problem;
`solve_json` reads either from the JSON form of `companion groups solve`.
"""

from companion.grouping.mdgp import solve_weighted
from companion.grouping.metrics import (
    GroupReport,
    PairMeeting,
    evaluate_groups,
    evaluate_schedule,
    schedule_violations,
)
from companion.grouping.parse import parse_problem, solve_json
from companion.grouping.problem import (
    FACILITATOR_RULES,
    FacilitatorRule,
    GroupingError,
    GroupSize,
    Infeasible,
    Person,
    ProblemError,
    ScheduleMetrics,
    ScheduleProblem,
    ScheduleSolution,
    WeightedProblem,
    WeightedSolution,
    Weights,
)
from companion.grouping.schedule import solve_schedule

__all__ = [
    "FACILITATOR_RULES",
    "FacilitatorRule",
    "GroupReport",
    "GroupSize",
    "GroupingError",
    "Infeasible",
    "PairMeeting",
    "Person",
    "ProblemError",
    "ScheduleMetrics",
    "ScheduleProblem",
    "ScheduleSolution",
    "WeightedProblem",
    "WeightedSolution",
    "Weights",
    "evaluate_groups",
    "evaluate_schedule",
    "parse_problem",
    "schedule_violations",
    "solve_json",
    "solve_schedule",
    "solve_weighted",
]
