"""Repeat-free schedules from finite geometry, for the shapes that have one.

When k groups of s people meet for several rounds, everyone present every time, and k is a
prime power q with s <= q, a resolvable transversal design gives up to q rounds (q + 1 when
s = q) in which no pair meets twice: take the s * q points (x, y) with x among s distinct
elements of the field GF(q) and y any element; round m (a slope in GF(q)) has the q groups
{(x, m * x + b)} for b in GF(q), each holding one point per x. Two points with different x
lie on exactly one line of a given slope-set (slope (y2 - y1) / (x2 - x1)), so they share a
group in one round only; points with the same x never share a sloped line. When s = q the
vertical lines x = c (groups of q) add one more round: the affine plane AG(2, q).

This is the classical construction behind many social golfer solutions (for example 32 golfers
in 8 groups of 4 for 8 weeks); the schedule search uses it as its start where it applies and
keeps to its own constructions elsewhere.
"""

from __future__ import annotations

from itertools import product as cartesian


def prime_power(q: int) -> tuple[int, int] | None:
    """(p, e) with q = p**e for a prime p, or None."""
    if q < 2:
        return None
    p = next(d for d in range(2, q + 1) if q % d == 0)
    e, rest = 0, q
    while rest % p == 0:
        rest //= p
        e += 1
    return (p, e) if rest == 1 else None


def _poly_mod(a: list[int], m: list[int], p: int) -> list[int]:
    """a mod m over GF(p); coefficient lists, lowest degree first, m monic."""
    a = a[:]
    while len(a) >= len(m):
        lead = a[-1] % p
        if lead:
            shift = len(a) - len(m)
            for i, c in enumerate(m):
                a[shift + i] = (a[shift + i] - lead * c) % p
        a.pop()
    return a


def _irreducible(p: int, e: int) -> list[int]:
    """The first monic irreducible polynomial of degree e over GF(p) (lowest degree first)."""
    if e == 1:
        return [0, 1]
    for tail in cartesian(range(p), repeat=e):
        candidate = [*tail, 1]
        if candidate[0] == 0:
            continue  # divisible by x
        irreducible = True
        for degree in range(1, e // 2 + 1):
            for lower in cartesian(range(p), repeat=degree):
                divisor = [*lower, 1]
                if not any(_poly_mod(candidate, divisor, p)):
                    irreducible = False
                    break
            if not irreducible:
                break
        if irreducible:
            return candidate
    raise ValueError(f"no irreducible polynomial of degree {e} over GF({p})")


class GaloisField:
    """GF(q) for a prime power q, elements 0..q-1 (base-p digits are polynomial coefficients),
    with full addition and multiplication tables (q is small here)."""

    def __init__(self, q: int) -> None:
        found = prime_power(q)
        if found is None:
            raise ValueError(f"{q} is not a prime power")
        p, e = found
        self.q = q
        modulus = _irreducible(p, e)

        def digits(a: int) -> list[int]:
            return [(a // p**i) % p for i in range(e)]

        def number(coefficients: list[int]) -> int:
            return sum((c % p) * p**i for i, c in enumerate(coefficients[:e]))

        def multiply(a: int, b: int) -> int:
            x, y = digits(a), digits(b)
            full = [0] * (2 * e - 1)
            for i, c in enumerate(x):
                for j, d in enumerate(y):
                    full[i + j] = (full[i + j] + c * d) % p
            return number(_poly_mod(full, modulus, p) if e > 1 else full)

        self.add = [
            [number([c + d for c, d in zip(digits(a), digits(b), strict=True)]) for b in range(q)]
            for a in range(q)
        ]
        self.mul = [[multiply(a, b) for b in range(q)] for a in range(q)]


def design_rounds(groups: int, size: int) -> int:
    """How many repeat-free rounds `design` gives for k groups of s (0 if it does not apply)."""
    if size < 1 or size > groups or prime_power(groups) is None:
        return 0
    return groups + (1 if size == groups else 0)


def design(groups: int, size: int, rounds: int) -> list[list[list[int]]]:
    """`rounds` rounds of `groups` groups of `size` people 0..groups*size-1, no pair twice.

    Person x * q + y is the point (x, y), x < size. Raises ValueError when the shape has no
    such design here (see `design_rounds`).
    """
    q = groups
    if rounds > design_rounds(groups, size):
        raise ValueError(f"no transversal design for {rounds} rounds of {groups} x {size}")
    field = GaloisField(q)
    out: list[list[list[int]]] = []
    for slope in range(min(rounds, q)):
        out.append(
            [[x * q + field.add[field.mul[slope][x]][b] for x in range(size)] for b in range(q)]
        )
    if rounds > q:  # size == q: the vertical lines
        out.append([[x * q + y for y in range(q)] for x in range(size)])
    return out
