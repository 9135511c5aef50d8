"""Pair rules of a programme: two participants kept apart, or together, in every round planned."""

from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import select

from companion.breakouts.access import possible_id
from companion.breakouts.models import BreakoutRule, RuleKind
from companion.breakouts.schemas import RuleIn
from companion.core.db import Db
from companion.core.errors import Invalid, NotFound
from companion.programmes.models import Programme


def rules_of(db: Db, programme: Programme) -> list[BreakoutRule]:
    """The programme's keep-apart and keep-together pairs."""
    return list(
        db.scalars(
            select(BreakoutRule)
            .where(BreakoutRule.programme_id == programme.id)
            .order_by(BreakoutRule.id)
        )
    )


def rule_pairs(db: Db, programme: Programme) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """The programme's keep-apart and keep-together pairs as the planner's keys."""
    apart: list[tuple[str, str]] = []
    together: list[tuple[str, str]] = []
    for rule in rules_of(db, programme):
        pair = (f"p:{rule.first_id}", f"p:{rule.second_id}")
        (apart if rule.kind == RuleKind.APART else together).append(pair)
    return apart, together


def add_rule(db: Db, programme: Programme, data: RuleIn) -> BreakoutRule:
    """Keep two participants apart (or together) in every round; a pair has one rule."""
    ids = {p.id for p in programme.participants}
    for name in ("first_id", "second_id"):
        if getattr(data, name) not in ids:
            raise Invalid(errors={name: _("Choose a participant of this programme.")})
    first, second = sorted((data.first_id, data.second_id))
    rule = db.scalar(
        select(BreakoutRule).where(
            BreakoutRule.programme_id == programme.id,
            BreakoutRule.first_id == first,
            BreakoutRule.second_id == second,
        )
    )
    if rule is None:
        rule = BreakoutRule(programme_id=programme.id, first_id=first, second_id=second)
        db.add(rule)
    rule.kind = data.kind
    db.flush()
    return rule


def remove_rule(db: Db, programme: Programme, rule_id: int) -> None:
    """Drop a pair rule of the programme."""
    rule = db.get(BreakoutRule, rule_id) if possible_id(rule_id) else None
    if rule is None or rule.programme_id != programme.id:
        raise NotFound(_("No such rule."))
    db.delete(rule)
    db.flush()
