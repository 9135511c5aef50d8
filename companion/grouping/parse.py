"""The JSON form of grouping problems (as read by `companion groups solve`), with errors that name
the path of the bad field, and `solve_json` which dispatches on `"kind"`.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

import numpy as np

from companion.grouping.mdgp import solve_weighted
from companion.grouping.problem import (
    DEFAULT_SEED,
    DEFAULT_TIME_LIMIT,
    FACILITATOR_RULES,
    AttributeValue,
    FacilitatorRule,
    GroupSize,
    Person,
    ProblemError,
    ScheduleProblem,
    WeightedProblem,
    Weights,
)
from companion.grouping.schedule import solve_schedule

SCHEDULE_FIELDS = {
    "kind",
    "people",
    "rounds",
    "group_size",
    "groups",
    "history",
    "absent",
    "apart",
    "together",
    "facilitators",
    "fixed",
    "weights",
    "time_limit",
    "seed",
    "iterations",
}
WEIGHTED_FIELDS = {
    "kind",
    "n",
    "weights",
    "groups",
    "group_size",
    "sizes",
    "time_limit",
    "seed",
    "iterations",
}


def _join(path: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else key


def _object(value: object, path: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise ProblemError(path, "must be an object")
    return value


def _list(value: object, path: str) -> list[Any]:
    if not isinstance(value, list):
        raise ProblemError(path, "must be a list")
    return value


def _int(value: object, path: str, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ProblemError(path, "must be an integer")
    if value < minimum:
        raise ProblemError(path, f"must be at least {minimum}")
    return value


def _number(value: object, path: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ProblemError(path, "must be a number")
    return float(value)


def _string(value: object, path: str) -> str:
    if not isinstance(value, str) or not value:
        raise ProblemError(path, "must be a non-empty string")
    return value


def _only(data: Mapping[str, Any], allowed: set[str], path: str) -> None:
    for key in data:
        if key not in allowed:
            raise ProblemError(
                _join(path, str(key)), f"unknown field (expected {', '.join(sorted(allowed))})"
            )


def _round_key(key: object, path: str) -> int:
    text = str(key)
    # ASCII digits only: str.isdigit() also takes "²", which int() refuses.
    if not re.fullmatch(r"-?[0-9]{1,9}", text):
        raise ProblemError(_join(path, text), 'round keys must be integers ("0", "1", ...)')
    return int(text)


def _id_lists(value: object, path: str) -> list[list[str]]:
    out = []
    for k, ids in enumerate(_list(value, path)):
        inner = _join(path, k)
        out.append([_string(p, _join(inner, j)) for j, p in enumerate(_list(ids, inner))])
    return out


def _group_size(value: object, path: str) -> GroupSize:
    data = _object(value, path)
    _only(data, {"min", "max"}, path)
    for key in ("min", "max"):
        if key not in data:
            raise ProblemError(_join(path, key), "is required")
    low = _int(data["min"], _join(path, "min"), 1)
    high = _int(data["max"], _join(path, "max"), 1)
    if high < low:
        raise ProblemError(_join(path, "max"), f"must be at least min ({low})")
    return GroupSize(low, high)


def _person(value: object, path: str) -> Person:
    data = _object(value, path)
    _only(data, {"id", "attributes", "facilitator", "offers", "needs"}, path)
    if "id" not in data:
        raise ProblemError(_join(path, "id"), "is required")
    person_id = _string(data["id"], _join(path, "id"))
    attributes: dict[str, AttributeValue] = {}
    raw = _object(data.get("attributes", {}), _join(path, "attributes"))
    for name, item in raw.items():
        item_path = _join(_join(path, "attributes"), str(name))
        if item is None:
            continue  # unknown, as if not given
        if isinstance(item, str | bool):
            attributes[str(name)] = item
        else:
            _number(item, item_path)
            attributes[str(name)] = item
    facilitator = data.get("facilitator", False)
    if not isinstance(facilitator, bool):
        raise ProblemError(_join(path, "facilitator"), "must be true or false")
    themes = {}
    for name in ("offers", "needs"):
        inner = _join(path, name)
        themes[name] = [
            _string(t, _join(inner, k)) for k, t in enumerate(_list(data.get(name, []), inner))
        ]
    return Person(person_id, attributes, facilitator, themes["offers"], themes["needs"])


def _common(data: Mapping[str, Any]) -> tuple[float, int, int | None]:
    time_limit = DEFAULT_TIME_LIMIT
    if "time_limit" in data:
        time_limit = _number(data["time_limit"], "time_limit")
        if not 0 < time_limit <= 3600:
            raise ProblemError("time_limit", "must be a number of seconds in (0, 3600]")
    seed = _int(data["seed"], "seed", 0) if "seed" in data else DEFAULT_SEED
    iterations = _int(data["iterations"], "iterations", 1) if "iterations" in data else None
    return time_limit, seed, iterations


def parse_schedule(data: Mapping[str, Any]) -> ScheduleProblem:
    """A `ScheduleProblem` from its JSON form; `ProblemError` names the bad field."""
    _only(data, SCHEDULE_FIELDS, "")
    if "people" not in data:
        raise ProblemError("people", "is required")
    people = [_person(p, f"people[{i}]") for i, p in enumerate(_list(data["people"], "people"))]
    if "rounds" not in data:
        raise ProblemError("rounds", "is required")
    rounds = _int(data["rounds"], "rounds", 1)
    if ("group_size" in data) == ("groups" in data):
        raise ProblemError("group_size", "give either group_size or groups (exactly one)")
    group_size = _group_size(data["group_size"], "group_size") if "group_size" in data else None
    groups = _int(data["groups"], "groups", 1) if "groups" in data else None
    history = []
    for r, past in enumerate(_list(data.get("history", []), "history")):
        history.append(_id_lists(past, f"history[{r}]"))
    absent: dict[int, list[str]] = {}
    for key, ids in _object(data.get("absent", {}), "absent").items():
        r = _round_key(key, "absent")
        path = _join("absent", str(key))
        absent[r] = [_string(p, _join(path, j)) for j, p in enumerate(_list(ids, path))]
    apart = _id_lists(data.get("apart", []), "apart")
    together = _id_lists(data.get("together", []), "together")
    rule = data.get("facilitators", "any")
    if rule not in FACILITATOR_RULES:
        raise ProblemError("facilitators", f"must be one of {', '.join(FACILITATOR_RULES)}")
    facilitators: FacilitatorRule = rule
    fixed: dict[int, dict[str, int]] = {}
    for key, assignment in _object(data.get("fixed", {}), "fixed").items():
        r = _round_key(key, "fixed")
        path = _join("fixed", str(key))
        fixed[r] = {
            str(p): _int(g, _join(path, str(p)), 0) for p, g in _object(assignment, path).items()
        }
    raw_weights = _object(data.get("weights", {}), "weights")
    _only(raw_weights, {"repeat", "new_pair", "diversity", "needs"}, "weights")
    defaults = Weights()
    values = {}
    for name in ("repeat", "new_pair", "diversity", "needs"):
        value = _number(raw_weights.get(name, getattr(defaults, name)), f"weights.{name}")
        if value < 0:
            raise ProblemError(f"weights.{name}", "must be at least 0")
        values[name] = value
    time_limit, seed, iterations = _common(data)
    return ScheduleProblem(
        people=people,
        rounds=rounds,
        group_size=group_size,
        groups=groups,
        history=history,
        absent=absent,
        apart=apart,
        together=together,
        facilitators=facilitators,
        fixed=fixed,
        weights=Weights(**values),
        time_limit=time_limit,
        seed=seed,
        iterations=iterations,
    )


def parse_weighted(data: Mapping[str, Any]) -> WeightedProblem:
    """A `WeightedProblem` from its JSON form; `ProblemError` names the bad field."""
    _only(data, WEIGHTED_FIELDS, "")
    for key in ("n", "weights", "groups"):
        if key not in data:
            raise ProblemError(key, "is required")
    n = _int(data["n"], "n", 1)
    rows = _list(data["weights"], "weights")
    if len(rows) != n:
        raise ProblemError("weights", f"must have n = {n} rows, not {len(rows)}")
    matrix = np.zeros((n, n))
    for i, row in enumerate(rows):
        cells = _list(row, f"weights[{i}]")
        if len(cells) != n:
            raise ProblemError(f"weights[{i}]", f"must have n = {n} numbers, not {len(cells)}")
        for j, cell in enumerate(cells):
            matrix[i, j] = _number(cell, f"weights[{i}][{j}]")
    groups = _int(data["groups"], "groups", 1)
    if ("group_size" in data) == ("sizes" in data):
        raise ProblemError("group_size", "give either group_size or sizes (exactly one)")
    if "group_size" in data:
        size = _group_size(data["group_size"], "group_size")
        sizes = [(size.min, size.max)] * groups
    else:
        raw = _list(data["sizes"], "sizes")
        if len(raw) != groups:
            raise ProblemError("sizes", f"must have one [min, max] per group ({groups})")
        sizes = []
        for g, pair in enumerate(raw):
            bounds = _list(pair, f"sizes[{g}]")
            if len(bounds) != 2:
                raise ProblemError(f"sizes[{g}]", "must be [min, max]")
            low = _int(bounds[0], f"sizes[{g}][0]", 1)
            high = _int(bounds[1], f"sizes[{g}][1]", 1)
            if high < low:
                raise ProblemError(f"sizes[{g}][1]", f"must be at least the minimum ({low})")
            sizes.append((low, high))
    time_limit, seed, iterations = _common(data)
    return WeightedProblem(
        weights=matrix, sizes=sizes, time_limit=time_limit, seed=seed, iterations=iterations
    )


def parse_problem(data: object) -> ScheduleProblem | WeightedProblem:
    """Either problem from its JSON form, by `"kind"`."""
    body = _object(data, "")
    kind = body.get("kind")
    if kind == "schedule":
        return parse_schedule(body)
    if kind == "weighted":
        return parse_weighted(body)
    raise ProblemError("kind", 'must be "schedule" or "weighted"')


def solve_json(
    data: object, *, time_limit: float | None = None, seed: int | None = None
) -> dict[str, Any]:
    """Solve a problem in JSON form and return the JSON-ready solution.

    `time_limit` and `seed` override the file's values. Raises `ProblemError` (bad input, with
    the path of the field) or `Infeasible` (the rules cannot all hold).
    """
    problem = parse_problem(data)
    overrides: dict[str, Any] = {}
    if time_limit is not None:
        overrides["time_limit"] = _number(time_limit, "time_limit")
        if not 0 < time_limit <= 3600:
            raise ProblemError("time_limit", "must be a number of seconds in (0, 3600]")
    if seed is not None:
        overrides["seed"] = _int(seed, "seed", 0)
    if isinstance(problem, ScheduleProblem):
        return solve_schedule(replace(problem, **overrides)).as_dict()
    return solve_weighted(replace(problem, **overrides)).as_dict()
