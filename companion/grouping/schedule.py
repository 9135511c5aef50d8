"""Breakout groups for several rounds: exact, geometric or greedy starts, then tabu search.

`solve_schedule` runs the portfolio of searches and chooses the answer. The parts:
- `schedule_state.py`: the state (one group per (round, person), meeting counts, cost tables)
  and its exact evaluation;
- `schedule_starts.py`: starting schedules, the best of a few randomised constructions (a
  design from finite geometry, repeat-free rounds by exact search, greedy rounds);
- `schedule_search.py`: the tabu search (swaps and relocations within a round, in the manner
  of Dotu & Van Hentenryck's search for the social golfer problem), whose iterations run
  compiled (`kernel.py`).

Two phases (`phase_weights`): the first minimises repeats (with new pairs as a guide), the
second starts from its best schedule and improves new pairs and diversity without giving up a
repeat.

Hard rules are penalties too large to trade against any soft goal, so the search can walk
through an infeasible schedule but never returns one; the greedy start already satisfies them
whenever it can.

Two searches run side by side (`PORTFOLIO`, threads: the compiled iterations release the GIL),
each with its own seed, and the better answer is kept (`solve_schedule` says which, and why the
choice does not depend on which thread is faster).

Determinism: each search stops after a work budget (candidate moves evaluated, plus fixed costs
for iterations and constructions) derived from the time limit, or `problem.iterations`; the
wall clock is only a safety cap. With the same problem and seed the answer is the same unless
that cap cuts the search short on a slow machine.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

from companion.grouping.metrics import evaluate_schedule, schedule_violations
from companion.grouping.model import Model, compile_problem
from companion.grouping.needs import NEEDS_PAIR_SHARE
from companion.grouping.problem import (
    Infeasible,
    ScheduleProblem,
    ScheduleSolution,
    Weights,
)
from companion.grouping.schedule_search import Best, Race, ScheduleSearch

#: Work units per second of time limit: a unit is one candidate move evaluated by the compiled
#: iterations (about 60 million a second on the 2-core CI machine when idle); the budget is set
#: at two thirds of that, so a run ends by its budget, with the same answer, unless the machine
#: is more than half as slow again.
WORK_PER_SECOND = 40_000_000
#: Share of the work budget for the first phase (repeats alone); see `phase_weights`.
FIRST_PHASE = 0.8
#: Independent searches run side by side, each with its own seed (threads: the compiled
#: iterations release the GIL, so two cores do twice the search); the best schedule wins. A
#: fixed number, not the machine's core count, so that the answer does not depend on it.
PORTFOLIO = 2
#: Seed offset between the searches of the portfolio (the first uses the problem's seed).
PORTFOLIO_SEED_STEP = 7_919
#: Share of the needs weight in phase one: none, so that phase one (repeats first) searches
#: exactly as without offers and needs, and needs count only among schedules of its R.
NEEDS_FIRST_PHASE = 0.0


@dataclass
class _Outcome:
    """One search of the portfolio: its final state, best schedule and when it proved it optimal."""

    search: ScheduleSearch
    best: Best
    iterations: int
    optimal_work: int | None


def search_limits(problem: ScheduleProblem) -> tuple[int, int]:
    """The deterministic limits of a run: (work units, iterations); see WORK_PER_SECOND."""
    if problem.iterations is not None:
        return 2**62, problem.iterations
    return int(problem.time_limit * WORK_PER_SECOND), 2**62


def phase_weights(model: Model, weights: Weights) -> tuple[Weights, Weights] | None:
    """The weights of the two phases, or None for one phase with `weights` as given.

    Repeats come first. Phase one searches on repeats and new pairs only (new pairs guide the
    search towards spreading meetings; diversity and needs are left out, so it runs exactly as
    without offers and needs); phase two starts from its best schedule with R weighted above
    all the rest can add up to, so that it never gives up a repeat. Below R, covering a person
    (their first helper met) is weighted above all that new pairs, diversity and further
    helpers can add up to (`needs_cover`): a need left uncovered is never traded for pairs or
    diversity.
    """
    n = model.n
    needs = weights.needs > 0 and bool(model.match.any())
    rest = weights.new_pair > 0 or (weights.diversity > 0 and bool(model.distance.any())) or needs
    if weights.repeat <= 0 or not rest:
        return None
    pairs = n * (n - 1) / 2
    top = weights.new_pair * pairs + weights.diversity * pairs * len(model.rounds)
    cover = None
    if needs:
        top += weights.needs * NEEDS_PAIR_SHARE * n * n  # every helper met, at most n each
        cover = top + 1.0  # whatever `needs` is: only its share per helper is weighed
        top += cover * n
    first = Weights(
        repeat=weights.repeat,
        new_pair=weights.new_pair,
        diversity=0.0,
        needs=weights.needs * NEEDS_FIRST_PHASE,
    )
    second = Weights(
        repeat=top + 1.0,
        new_pair=weights.new_pair,
        diversity=weights.diversity,
        needs=weights.needs,
        needs_cover=cover,
    )
    return first, second


def solve_schedule(problem: ScheduleProblem) -> ScheduleSolution:
    """Plan groups for every round of `problem`; raise `Infeasible` naming the rule that fails.

    `PORTFOLIO` searches run side by side with different seeds; the answer is the optimum that
    one of them proved with the least work (ties: the first search), otherwise the schedule
    with the lowest cost (ties: the first search). Both choices depend only on each search's
    own deterministic course, so the same problem and seed give the same answer.
    """
    start = time.perf_counter()
    model = compile_problem(problem)
    race = Race()
    seeds = [problem.seed + PORTFOLIO_SEED_STEP * i for i in range(PORTFOLIO)]
    outcomes: list[_Outcome | None] = [None] * len(seeds)
    failures: list[BaseException] = []

    def work(i: int) -> None:
        try:
            outcomes[i] = _search_once(problem, model, seeds[i], start, race, i)
        except BaseException as error:  # re-raised below, in the caller's thread
            failures.append(error)

    threads = [threading.Thread(target=work, args=(i,), daemon=True) for i in range(1, len(seeds))]
    for thread in threads:
        thread.start()
    work(0)
    for thread in threads:
        thread.join()
    if failures:
        raise failures[0]
    done = [outcome for outcome in outcomes if outcome is not None]
    proved = [(o.optimal_work, i) for i, o in enumerate(done) if o.optimal_work is not None]
    if proved:
        chosen = done[min(proved)[1]]
    else:
        chosen = done[min(range(len(done)), key=lambda i: (done[i].best.cost, i))]
    search, best = chosen.search, chosen.best
    rounds = search.rounds_of(best.idx)
    broken = schedule_violations(problem, rounds)
    if broken:
        raise Infeasible(
            "no grouping found that keeps every rule; still broken: " + "; ".join(broken[:3]),
            constraint="search",
        )
    metrics = evaluate_schedule(problem, rounds, time.perf_counter() - start)
    return ScheduleSolution(
        rounds=rounds,
        metrics=metrics,
        iterations=chosen.iterations,
        seconds_to_best=round(best.seconds, 4),
    )


def _search_once(
    problem: ScheduleProblem, model: Model, seed: int, start: float, race: Race, runner: int
) -> _Outcome:
    """One search of the portfolio (both phases, see `phase_weights`) with its own seed."""
    max_work, max_iterations = search_limits(problem)
    deadline = start + problem.time_limit
    phases = phase_weights(model, problem.weights)
    if phases is None:
        search = ScheduleSearch(model, problem.weights, seed, problem.history, runner)
        best, iterations = search.run(
            max_work, max_iterations, deadline, start, race=race, runner=runner
        )
        return _Outcome(search, best, iterations, search.optimal_work)
    first = ScheduleSearch(model, phases[0], seed, problem.history, runner)
    share_work = int(max_work * FIRST_PHASE)
    share_iterations = max(1, int(max_iterations * FIRST_PHASE))
    found, iterations = first.run(
        share_work, share_iterations, deadline, start, race=race, runner=runner
    )
    search = ScheduleSearch(model, phases[1], seed + 1, problem.history, runner)
    best, more = search.run(
        max_work - first.work_done,
        max(1, max_iterations - iterations),
        deadline,
        start,
        begin=found.idx,
        race=race,
        runner=runner,
        prior_work=first.work_done,
        proved_before=first.optimal_work,
    )
    iterations += more
    if best.iteration == 0:
        best.seconds = found.seconds
    optimal = search.optimal_work
    if first.optimal_work is not None:
        optimal = first.optimal_work
    return _Outcome(search, best, iterations, optimal)
