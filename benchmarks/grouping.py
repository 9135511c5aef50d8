"""Benchmark of the breakout optimiser (`companion.grouping`) against a naive baseline.

    python benchmarks/grouping.py               # full run (a few minutes)
    python benchmarks/grouping.py --quick       # smoke run: 2 seeds, short limits, no 30 s runs
    python benchmarks/grouping.py --markdown    # also print the tables of benchmarks/README.md
    python benchmarks/grouping.py --seed-scenario   # only the seed scenario and its needs figure

Schedules: n people, group sizes, S sessions, everyone present. R = sum over pairs of
C(m, 2), m = how often the pair met (R = 0: nobody met twice). Each run gets the time limit of
its class; "time" is the time until the returned schedule was first reached. The baseline is
the best of random groupings (same sizes) drawn for as long as the optimiser ran on that seed.
"Optimal" means R equals a proven optimum where one is known, else the cheap lower bound.

Maximally Diverse Grouping: RanReal instances of /work/shared/benchmarks/mdgp (see its
SOURCE.md); gap = (best known - value) / best known. The baseline is the best of repeated
random-order greedy constructions in the same time (seed 0).

The seed scenario: 23 participants (industry, region, years) and two facilitators (at most one
per group), six sessions, groups of 4-5, 0-3 participants absent each session, one keep-apart
and one keep-together pair.

Needs (`_grouping_needs.py`): the seed scenario with offers and needs drawn from a fixed seed,
every need coverable; needs_covered / needs_coverable with the needs objective, without it in
the same time, and for random groups, with R for each.

The last line printed is one JSON object holding every figure.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks._grouping_needs import needs_markdown, run_needs
from companion.grouping import (
    GroupSize,
    Person,
    ScheduleProblem,
    WeightedProblem,
    evaluate_groups,
    schedule_violations,
    solve_schedule,
    solve_weighted,
)
from companion.grouping.mdgp import objective
from companion.grouping.warmup import warm_up

MDGP_DIR = Path("/work/shared/benchmarks/mdgp")

# name, people, groups per session, sessions, class, time limit (s), proven optimum of R
SCHEDULES: list[tuple[str, int, int, int, str, float, int | None]] = [
    ("15 in 5x3 x7 (Kirkman)", 15, 5, 7, "must", 1.0, 0),
    ("16 in 4x4 x5", 16, 4, 5, "must", 1.0, 0),
    ("25 in 5x5 x6", 25, 5, 6, "must", 1.0, 0),
    ("32 in 8x4 x7", 32, 8, 7, "must", 1.0, 0),
    ("23 in 5,5,5,4,4 x4", 23, 5, 4, "must", 1.0, 0),
    ("24 in 6x4 x6", 24, 6, 6, "should", 2.0, 0),
    ("32 in 8x4 x8", 32, 8, 8, "should", 2.0, 0),
    ("23 in 5,5,5,4,4 x5", 23, 5, 5, "should", 2.0, 0),
    ("12 in 4,4,4 x6", 12, 3, 6, "forced", 2.0, 45),
    ("11 in 4,4,3 x6", 11, 3, 6, "forced", 2.0, 35),
    ("23 in 5,5,5,4,4 x8", 23, 5, 8, "forced", 2.0, 83),
]
MDGP = [
    "RanReal_n120_ss_01",
    "RanReal_n120_ss_02",
    "RanReal_n120_ds_01",
    "RanReal_n120_ds_02",
    "RanReal_n120_ds_03",
    "RanReal_n240_ss_01",
    "RanReal_n240_ds_01",
]
MDGP_LONG = ["RanReal_n120_ss_01", "RanReal_n120_ds_01", "RanReal_n240_ss_01", "RanReal_n240_ds_01"]
MDGP_TARGET = {120: 1.0, 240: 1.5}


def random_baseline(n: int, groups: int, sessions: int, seconds: float, seed: int) -> int:
    """Best R of random schedules (sizes as the optimiser's) drawn for `seconds`."""
    rng = np.random.default_rng(seed)
    base, extra = divmod(n, groups)
    labels = np.repeat(np.arange(groups), [base + 1] * extra + [base] * (groups - extra))
    best = None
    deadline = time.perf_counter() + max(seconds, 0.01)
    while best is None or time.perf_counter() < deadline:
        counts = np.zeros((n, n))
        for _ in range(sessions):
            g = rng.permutation(labels)
            counts += g[:, None] == g[None, :]
        np.fill_diagonal(counts, 0)
        r = int((counts * (counts - 1) / 2).sum() / 2)
        best = r if best is None else min(best, r)
    return best


def run_schedules(seeds: int, quick: bool) -> list[dict[str, Any]]:
    rows = []
    for name, n, groups, sessions, cls, limit, optimum in SCHEDULES:
        limit = min(limit, 0.5) if quick else limit
        people = [Person(f"p{i}") for i in range(n)]
        runs = []
        for seed in range(seeds):
            problem = ScheduleProblem(
                people=people, rounds=sessions, groups=groups, time_limit=limit, seed=seed
            )
            solution = solve_schedule(problem)
            m = solution.metrics
            target = optimum if optimum is not None else m.repeats_lower_bound
            runs.append(
                {
                    "seed": seed,
                    "repeats": m.repeats,
                    "lower_bound": m.repeats_lower_bound,
                    "seconds_to_best": solution.seconds_to_best,
                    "seconds": m.seconds,
                    "reached": m.repeats <= target and solution.seconds_to_best <= limit,
                    "baseline_repeats": random_baseline(n, groups, sessions, m.seconds, seed),
                }
            )
        reached = sum(r["reached"] for r in runs)
        need = seeds if cls in ("must", "forced") else max(1, seeds - 1)
        rows.append(
            {
                "instance": name,
                "class": cls,
                "time_limit": limit,
                "optimum": optimum,
                "lower_bound": runs[0]["lower_bound"],
                "runs": runs,
                "reached": reached,
                "target_met": reached >= need,
            }
        )
        print_schedule_row(rows[-1], seeds)
    return rows


def print_schedule_row(row: dict[str, Any], seeds: int) -> None:
    runs = row["runs"]
    target = row["optimum"] if row["optimum"] is not None else row["lower_bound"]
    rs = " ".join(f"{r['repeats']:>3}" for r in runs)
    times = [r["seconds_to_best"] for r in runs]
    base = statistics.median(r["baseline_repeats"] for r in runs)
    best = min(r["repeats"] for r in runs)
    optimal = "optimal" if best <= target else ""
    verdict = "met" if row["target_met"] else "NOT met"
    print(
        f"{row['instance']:<22} {row['class']:<6} {row['time_limit']:>4.1f}s "
        f"R* {target:>3} lb {row['lower_bound']:>3} | R {rs} | "
        f"t med {statistics.median(times):5.2f}s max {max(times):5.2f}s | "
        f"{row['reached']}/{seeds} {optimal:<7} {verdict:<7} | random R {base:>5.0f}",
        flush=True,
    )


def load_mdgp(name: str) -> tuple[np.ndarray, list[tuple[int, int]]]:
    with open(MDGP_DIR / f"{name}.txt") as f:
        head = f.readline().split()
        n, m = int(head[0]), int(head[1])
        bounds = list(map(int, head[3 : 3 + 2 * m]))
        data = np.loadtxt(f)
    weights = np.zeros((n, n))
    i, j = data[:, 0].astype(int), data[:, 1].astype(int)
    weights[i, j] = data[:, 2]
    weights[j, i] = data[:, 2]
    return weights, list(zip(bounds[0::2], bounds[1::2], strict=True))


def best_known() -> dict[str, float]:
    out = {}
    for line in (MDGP_DIR / "best_known_RanReal.csv").read_text().splitlines()[1:]:
        parts = line.split(",")
        out[parts[0]] = float(parts[4])
    return out


def greedy_baseline(weights: np.ndarray, sizes: list[tuple[int, int]], seconds: float) -> float:
    """Best of random-order greedy constructions (each element to its heaviest open group)."""
    rng = np.random.default_rng(0)
    n, m = len(weights), len(sizes)
    low = np.array([a for a, _ in sizes])
    high = np.array([b for _, b in sizes])
    best = -np.inf
    deadline = time.perf_counter() + seconds
    while best == -np.inf or time.perf_counter() < deadline:
        cap = low.copy()
        for g in rng.permutation(m):  # spread the spare places at random
            cap[g] += min(high[g] - low[g], n - cap.sum())
        group = np.full(n, -1)
        count = np.zeros(m, dtype=int)
        sums = np.zeros((n, m))
        for k, i in enumerate(rng.permutation(n)):
            b = k if k < m else int(np.argmax(np.where(count < cap, sums[i], -np.inf)))
            group[i] = b
            count[b] += 1
            sums[:, b] += weights[:, i]
        best = max(best, objective(weights, group))
    return best


def run_mdgp(seeds: int, quick: bool) -> dict[str, Any]:
    known = best_known()
    limit = 0.5 if quick else 2.0
    rows = []
    for name in MDGP:
        weights, sizes = load_mdgp(name)
        n = len(weights)
        runs = []
        for seed in range(seeds):
            sol = solve_weighted(WeightedProblem(weights, sizes, time_limit=limit, seed=seed))
            gap = 100 * (known[name] - sol.objective) / known[name]
            runs.append(
                {
                    "seed": seed,
                    "objective": sol.objective,
                    "gap_percent": round(gap, 3),
                    "seconds": sol.seconds,
                }
            )
        base = greedy_baseline(weights, sizes, limit)
        base_gap = 100 * (known[name] - base) / known[name]
        gaps = [r["gap_percent"] for r in runs]
        row = {
            "instance": name,
            "n": n,
            "best_known": known[name],
            "time_limit": limit,
            "runs": runs,
            "gap_mean": round(statistics.mean(gaps), 3),
            "gap_max": round(max(gaps), 3),
            "target_percent": MDGP_TARGET[n],
            "target_met": max(gaps) <= MDGP_TARGET[n],
            "baseline_gap_percent": round(base_gap, 3),
        }
        rows.append(row)
        print(
            f"{name:<20} n={n:<3} {limit:>4.1f}s gap % "
            + " ".join(f"{g:5.2f}" for g in gaps)
            + f" | mean {row['gap_mean']:5.2f} max {row['gap_max']:5.2f} "
            f"(target <= {MDGP_TARGET[n]}) {'met' if row['target_met'] else 'NOT met':<7}"
            f" | greedy {base_gap:5.2f}",
            flush=True,
        )
    long_rows = []
    if not quick:
        for name in MDGP_LONG:
            weights, sizes = load_mdgp(name)
            sol = solve_weighted(WeightedProblem(weights, sizes, time_limit=30.0, seed=0))
            gap = 100 * (known[name] - sol.objective) / known[name]
            long_rows.append(
                {
                    "instance": name,
                    "time_limit": 30.0,
                    "gap_percent": round(gap, 3),
                    "seconds": sol.seconds,
                }
            )
            print(f"{name:<20} 30 s gap {gap:5.2f} % (seed 0)", flush=True)
    return {"two_seconds": rows, "thirty_seconds": long_rows}


def seed_scenario() -> dict[str, Any]:
    rnd = random.Random(2024)
    industries = ["retail", "it", "food", "construction", "wellbeing", "consulting", "crafts"]
    regions = ["Turku", "Salo", "Uusikaupunki", "Loimaa", "Parainen", "Kaarina"]
    people = [
        Person(
            f"f{i}", {"industry": "facilitation", "region": "Turku", "years": 12}, facilitator=True
        )
        for i in range(2)
    ]
    people += [
        Person(
            f"p{i}",
            {
                "industry": rnd.choice(industries),
                "region": rnd.choice(regions),
                "years": rnd.randint(0, 25),
            },
        )
        for i in range(23)
    ]
    participants = [f"p{i}" for i in range(23)]
    absent = {r: rnd.sample(participants, rnd.randint(0, 3)) for r in range(6)}
    return {
        "people": people,
        "rounds": 6,
        "group_size": GroupSize(4, 5),
        "absent": absent,
        "apart": [["p1", "p9"]],
        "together": [["p2", "p3"]],
        "facilitators": "at_most_one",
    }


def run_seed_scenario(seeds: int, quick: bool) -> dict[str, Any]:
    spec = seed_scenario()
    limit = 0.5 if quick else 2.0
    runs = []
    first = None
    for seed in range(seeds):
        problem = ScheduleProblem(time_limit=limit, seed=seed, **spec)
        solution = solve_schedule(problem)
        broken = schedule_violations(problem, solution.rounds)
        m = solution.metrics
        within = m.repeats <= 1.1 * m.repeats_lower_bound + 1e-9
        runs.append(
            {
                "seed": seed,
                **m.as_dict(),
                "hard_rules_hold": not broken,
                "within_10_percent": within,
                "seconds_to_best": solution.seconds_to_best,
            }
        )
        if first is None:
            first = (problem, solution)
    assert first is not None
    problem, solution = first
    history: list[list[list[str]]] = []
    per_round = []
    for groups in solution.rounds:
        reports = evaluate_groups(problem.people, history, groups)
        per_round.append([round(r.diversity, 3) for r in reports])
        history.append(groups)
    n = len(problem.people)
    sessions = problem.rounds
    base = random_baseline(n, 5, sessions, limit, 0)
    print(
        "seed scenario (25 people, 6 sessions, groups 4-5): R "
        + " ".join(str(r["repeats"]) for r in runs)
        + f" | lower bound {runs[0]['repeats_lower_bound']} | within 10%: "
        + f"{sum(r['within_10_percent'] for r in runs)}/{seeds}"
        + f" | hard rules hold: {sum(r['hard_rules_hold'] for r in runs)}/{seeds}"
        + f" | diversity {statistics.mean(r['diversity'] for r in runs):.3f}"
        + f" | random R {base} (no rules kept)",
        flush=True,
    )
    for r, values in enumerate(per_round):
        print(f"  seed 0, session {r}: diversity per group {values}", flush=True)
    return {"runs": runs, "diversity_per_group_seed0": per_round, "baseline_random_repeats": base}


def markdown(summary: dict[str, Any]) -> str:
    """The README tables for a run's figures."""
    lines = [
        "| instance | class, limit | R per seed | R* (lower bound) | time to best, median / max "
        "| reached | target | random, same time (median R) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for row in summary["schedules"]:
        runs = row["runs"]
        target = row["optimum"] if row["optimum"] is not None else row["lower_bound"]
        times = [r["seconds_to_best"] for r in runs]
        hits = sum(r["repeats"] <= target for r in runs)
        optimal = " (optimal)" if hits == len(runs) else f" (optimal on {hits})" if hits else ""
        lines.append(
            f"| {row['instance']} | {row['class']}, {row['time_limit']:g} s | "
            + " ".join(str(r["repeats"]) for r in runs)
            + f"{optimal} | {target} ({row['lower_bound']}) | "
            f"{statistics.median(times):.2f} / {max(times):.2f} s | "
            f"{row['reached']}/{len(runs)} | {'met' if row['target_met'] else '**not met**'} | "
            f"{statistics.median(r['baseline_repeats'] for r in runs):.0f} |"
        )
    lines += [
        "",
        "| instance | gap % per seed, 2 s | mean | max | target | greedy, same time | 30 s |",
        "|---|---|---|---|---|---|---|",
    ]
    long = {r["instance"]: r["gap_percent"] for r in summary["mdgp"]["thirty_seconds"]}
    for row in summary["mdgp"]["two_seconds"]:
        gaps = " ".join(f"{r['gap_percent']:.2f}" for r in row["runs"])
        thirty = f"{long[row['instance']]:.2f}" if row["instance"] in long else "-"
        lines.append(
            f"| {row['instance']} | {gaps} | {row['gap_mean']:.2f} | {row['gap_max']:.2f} | "
            f"<= {row['target_percent']} {'met' if row['target_met'] else '**not met**'} | "
            f"{row['baseline_gap_percent']:.1f} | {thirty} |"
        )
    runs = summary["seed_scenario"]["runs"]
    lines += [
        "",
        "| seed scenario | R per seed | lower bound | within 10 % | hard rules hold "
        "| mean diversity | random, same time (R, rules not kept) |",
        "|---|---|---|---|---|---|---|",
        "| 25 people, 6 sessions, groups 4-5 | "
        + " ".join(str(r["repeats"]) for r in runs)
        + f" | {runs[0]['repeats_lower_bound']} | "
        f"{sum(r['within_10_percent'] for r in runs)}/{len(runs)} | "
        f"{sum(r['hard_rules_hold'] for r in runs)}/{len(runs)} | "
        f"{statistics.mean(r['diversity'] for r in runs):.3f} | "
        f"{summary['seed_scenario']['baseline_random_repeats']} |",
        "",
        *needs_markdown(summary["needs"]),
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smoke run: 2 seeds, short limits")
    parser.add_argument("--seeds", type=int, default=None, help="seeds per instance (default 5)")
    parser.add_argument("--markdown", action="store_true", help="also print the README tables")
    parser.add_argument(
        "--seed-scenario", action="store_true", help="only the seed scenario and its needs figure"
    )
    args = parser.parse_args()
    seeds = args.seeds or (2 if args.quick else 5)
    # The schedule search's compiled loop is built (or loaded from numba's cache) before any
    # timing, as `companion serve` does at start; the one-off cost is reported on its own.
    warm = time.perf_counter()
    warm_up()
    warm_up_seconds = round(time.perf_counter() - warm, 2)
    print(f"compiled loop ready in {warm_up_seconds} s (before timing)")
    started = time.perf_counter()
    schedules: list[dict[str, Any]] = []
    mdgp: dict[str, Any] = {"two_seconds": [], "thirty_seconds": []}
    if not args.seed_scenario:
        print("## schedules (R per seed; time = until the returned schedule was reached)")
        schedules = run_schedules(seeds, args.quick)
        print("## maximally diverse grouping (gap to best known, %)")
        mdgp = run_mdgp(seeds, args.quick)
    print("## seed scenario")
    scenario = run_seed_scenario(seeds, args.quick)
    print("## needs met (seed scenario with offers and needs)")
    needs = run_needs(seed_scenario(), seeds, 0.5 if args.quick else 2.0)
    summary = {
        "schedules": schedules,
        "mdgp": mdgp,
        "seed_scenario": scenario,
        "needs": needs,
        "needs_coverage_with": needs["needs_coverage_with"],
        "needs_coverage_without": needs["needs_coverage_without"],
        "needs_coverage_random": needs["needs_coverage_random"],
        "needs_coverage_with_min": needs["needs_coverage_with_min"],
        "needs_coverage_without_min": needs["needs_coverage_without_min"],
        "needs_coverage_random_min": needs["needs_coverage_random_min"],
        "seeds": seeds,
        "quick": args.quick,
        "warm_up_seconds": warm_up_seconds,
        "seconds": round(time.perf_counter() - started, 1),
    }
    if args.markdown:
        print(markdown(summary))
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
