"""The needs figure of the grouping benchmark (`grouping.py`): the seed scenario with offers
and needs drawn from a fixed seed, every need offered by someone else.

For each optimiser seed it plans the season three ways in the same time limit: with the needs
objective (`Weights.needs`, the default), without it (`needs=0`: the optimiser before offers
and needs, same time) and random groups (all weights 0: the product's "random round", which
keeps the hard rules), and reports needs_covered / needs_coverable with R for each.
"""

from __future__ import annotations

import random
import statistics
from dataclasses import replace
from itertools import combinations
from typing import Any

import numpy as np

from companion.grouping import (
    Person,
    ScheduleProblem,
    Weights,
    schedule_violations,
    solve_schedule,
)
from companion.grouping.needs import match_matrix

#: The default themes of a programme (`companion.needs.themes.DEFAULT_THEMES`, in English).
THEMES = [
    "sales",
    "marketing and social media",
    "pricing",
    "bookkeeping and finance",
    "IT and web",
    "legal",
    "recruiting",
    "exporting",
    "partners in a sector",
    "customers in a sector",
    "time management and wellbeing",
]
#: The fixed seed of the offers and needs.
NEEDS_SEED = 19


def with_needs(people: list[Person], seed: int = NEEDS_SEED) -> list[Person]:
    """The participants (not the facilitators) with offers and needs drawn from `seed`.

    Each participant offers one or two themes (their trade; one in ten none) and looks for one
    or two, drawn among the themes someone else offers, so every need is coverable. With 11
    themes that is about three people offering each theme, so a need has a few possible
    helpers; a theme few people offer and many look for makes those few helpers hubs.
    """
    rnd = random.Random(seed)
    offers: dict[str, list[str]] = {}
    for person in people:
        if person.facilitator:
            continue
        count = rnd.choices([0, 1, 2], weights=[1, 5, 4])[0]
        offers[person.id] = rnd.sample(THEMES, count)
    out = []
    for person in people:
        if person.facilitator:
            out.append(person)
            continue
        others = sorted({t for p, themes in offers.items() if p != person.id for t in themes})
        wanted = [t for t in others if t not in offers[person.id]]
        needs = rnd.sample(wanted, rnd.choice([1, 2]))
        out.append(replace(person, offers=offers[person.id], needs=needs))
    return out


def uncoverable(spec: dict[str, Any], people: list[Person]) -> list[str]:
    """The people of `spec` (with `people`) whose every possible helper is kept apart from them
    or never present in a round with them: counted coverable, yet no schedule covers them."""
    match = match_matrix(people)
    ids = [person.id for person in people]
    apart = {frozenset(pair) for group in spec.get("apart", []) for pair in combinations(group, 2)}
    absent = spec.get("absent", {})
    out = []
    for p, person in enumerate(people):
        helpers = [ids[h] for h in np.flatnonzero(match[:, p]).tolist()]
        can_meet = [
            h
            for h in helpers
            if frozenset((h, person.id)) not in apart
            and any(
                h not in absent.get(r, ()) and person.id not in absent.get(r, ())
                for r in range(spec["rounds"])
            )
        ]
        if helpers and not can_meet:
            out.append(person.id)
    return out


def run_needs(spec: dict[str, Any], seeds: int, limit: float) -> dict[str, Any]:
    """The needs figure on the seed scenario (`spec`) for optimiser seeds 0..seeds-1."""
    people = with_needs(spec["people"])
    # needs_coverable counts a need once someone else offers it; here each such need can also
    # be met (its helper is neither kept apart nor always absent when the person is there).
    assert not uncoverable(spec, people), uncoverable(spec, people)
    ways = {
        "with": Weights(),
        "without": Weights(needs=0.0),
        "random": Weights(repeat=0.0, new_pair=0.0, diversity=0.0, needs=0.0),
    }
    runs = []
    for seed in range(seeds):
        run: dict[str, Any] = {"seed": seed}
        for way, weights in ways.items():
            problem = ScheduleProblem(
                **{**spec, "people": people}, weights=weights, time_limit=limit, seed=seed
            )
            solution = solve_schedule(problem)
            m = solution.metrics
            run[way] = {
                "needs_covered": m.needs_covered,
                "needs_coverable": m.needs_coverable,
                "coverage": round(m.needs_covered / max(1, m.needs_coverable), 4),
                "repeats": m.repeats,
                "repeats_lower_bound": m.repeats_lower_bound,
                "distinct_pairs": m.distinct_pairs,
                "diversity": m.diversity,
                "hard_rules_hold": not schedule_violations(problem, solution.rounds),
                "seconds_to_best": solution.seconds_to_best,
                "seconds": m.seconds,
            }
        runs.append(run)
    figures: dict[str, Any] = {"runs": runs, "time_limit": limit, "needs_seed": NEEDS_SEED}
    for way in ways:
        values = [r[way]["coverage"] for r in runs]
        figures[f"needs_coverage_{way}"] = values
        figures[f"needs_coverage_{way}_min"] = min(values)
        figures[f"needs_coverage_{way}_mean"] = round(statistics.mean(values), 4)
    figures["repeats_with"] = [r["with"]["repeats"] for r in runs]
    figures["repeats_without"] = [r["without"]["repeats"] for r in runs]
    figures["all_covered_with"] = sum(
        r["with"]["needs_covered"] == r["with"]["needs_coverable"] for r in runs
    )
    print_needs(figures)
    return figures


def print_needs(figures: dict[str, Any]) -> None:
    """The needs table: coverage and R per seed for each way."""
    runs = figures["runs"]
    coverable = runs[0]["with"]["needs_coverable"]
    print(
        f"needs (seed scenario, offers and needs from seed {figures['needs_seed']}, "
        f"{coverable} people with a coverable need, {figures['time_limit']:g} s each)",
        flush=True,
    )
    print(f"{'':<9} {'covered per seed':<28} {'min':>6} {'R per seed':<22} diversity")
    for way in ("with", "without", "random"):
        covered = " ".join(f"{r[way]['needs_covered']:>2}/{coverable}" for r in runs)
        repeats = " ".join(f"{r[way]['repeats']:>3}" for r in runs)
        diversity = statistics.mean(r[way]["diversity"] for r in runs)
        print(
            f"{way:<9} {covered:<28} {figures[f'needs_coverage_{way}_min']:>6.3f} "
            f"{repeats:<22} {diversity:.3f}",
            flush=True,
        )
    print(
        f"every coverable need covered (with): {figures['all_covered_with']}/{len(runs)} seeds; "
        f"R lower bound {runs[0]['with']['repeats_lower_bound']}",
        flush=True,
    )


def needs_markdown(figures: dict[str, Any]) -> list[str]:
    """The README table of the needs figure."""
    runs = figures["runs"]
    coverable = runs[0]["with"]["needs_coverable"]
    lines = [
        "| seed scenario with offers and needs | needs covered per seed (of "
        f"{coverable}) | min coverage | R per seed | mean diversity |",
        "|---|---|---|---|---|",
    ]
    names = {
        "with": "with the needs objective",
        "without": "without (needs weight 0), same time",
        "random": "random groups (rules kept)",
    }
    for way, name in names.items():
        lines.append(
            f"| {name} | "
            + " ".join(str(r[way]["needs_covered"]) for r in runs)
            + f" | {figures[f'needs_coverage_{way}_min']:.3f} | "
            + " ".join(str(r[way]["repeats"]) for r in runs)
            + f" | {statistics.mean(r[way]['diversity'] for r in runs):.3f} |"
        )
    return lines
