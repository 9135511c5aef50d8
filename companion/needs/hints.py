"""Who might talk with whom about what: plain functions over plain data (no Flask, no SQL).

A hint names another person of one's breakout group and the themes where one can help the
other. It is made only when both people chose to show their offers and needs, and only between
people of the same programme; the caller passes the people of one group (`operations.py`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from companion.grouping import Person
from companion.grouping.needs import helps
from companion.needs.themes import Theme, labels

#: Contact kinds (`companion.contacts.models.ContactKind` values) suggested for a pair: help
#: one way is a customer relationship, help both ways a business partnership.
ONE_WAY_KIND = "customer"
BOTH_WAYS_KIND = "business"


@dataclass(frozen=True)
class Profile:
    """One participant's offers and needs as the hints see them."""

    participant_id: int
    name: str
    programme_id: int
    offers: tuple[str, ...] = ()
    needs: tuple[str, ...] = ()
    #: The person agreed that others in their groups may see them.
    shown: bool = False

    def as_person(self) -> Person:
        """The optimiser's view (`companion.grouping.needs.helps` compares themes)."""
        return Person(str(self.participant_id), offers=self.offers, needs=self.needs)


@dataclass(frozen=True)
class TalkHint:
    """ "You might talk with `name` about `themes`": what they offer that I look for, and what
    I offer that they look for (theme names in the reader's language)."""

    participant_id: int
    name: str
    they_offer: tuple[str, ...]
    i_offer: tuple[str, ...]
    #: The contact kind to suggest for the pair.
    kind: str

    @property
    def themes(self) -> tuple[str, ...]:
        """Every theme of the hint, once, theirs first."""
        return tuple(dict.fromkeys(self.they_offer + self.i_offer))


def may_see(viewer: Profile, other: Profile) -> bool:
    """Whether `viewer` may see `other`'s fit: both chose to show theirs, same programme, two
    different people."""
    return (
        viewer.participant_id != other.participant_id
        and viewer.programme_id == other.programme_id
        and viewer.shown
        and other.shown
    )


def suggested_kind(me: Profile, other: Profile) -> str | None:
    """The contact kind to suggest for a pair that may see each other's fit, or None."""
    if not may_see(me, other):
        return None
    one = bool(helps(other.as_person(), me.as_person()))
    two = bool(helps(me.as_person(), other.as_person()))
    if one and two:
        return BOTH_WAYS_KIND
    return ONE_WAY_KIND if one or two else None


def talk_hints(
    me: Profile, others: Iterable[Profile], themes: Sequence[Theme], language: str
) -> list[TalkHint]:
    """Hints for `me` about the `others` of a group, in their order (see the module docstring)."""
    out = []
    for other in others:
        if not may_see(me, other):
            continue
        they_offer = helps(other.as_person(), me.as_person())
        i_offer = helps(me.as_person(), other.as_person())
        if not they_offer and not i_offer:
            continue
        out.append(
            TalkHint(
                participant_id=other.participant_id,
                name=other.name,
                they_offer=tuple(labels(themes, they_offer, language)),
                i_offer=tuple(labels(themes, i_offer, language)),
                kind=BOTH_WAYS_KIND if they_offer and i_offer else ONE_WAY_KIND,
            )
        )
    return out
