"""Reading and writing themes and offers and needs, and the hints people may see.

Operations never commit. Access is the caller's: a facilitator's programme through
`programmes.operations.get_programme`, a participant's own record through their identity.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Mapping, Sequence
from typing import Protocol

from flask_babel import get_locale
from flask_babel import gettext as _
from sqlalchemy import select

from companion.core.db import Db
from companion.core.errors import Invalid
from companion.grouping.needs import NeedMatch
from companion.needs.hints import Profile, TalkHint, suggested_kind, talk_hints
from companion.needs.models import ParticipantNeeds, ProgrammeTheme
from companion.needs.schemas import NeedsFields, ThemesIn
from companion.needs.themes import DEFAULT_THEMES, MAX_THEMES, Theme, known_keys
from companion.programmes.models import Participant, Programme


class HasName(Protocol):
    """Anything with a display name (a planner's seat)."""

    @property
    def name(self) -> str: ...


def themes_of(db: Db, programme: Programme | int) -> list[Theme]:
    """The programme's themes in order: its own list once edited, else the default set."""
    programme_id = programme if isinstance(programme, int) else programme.id
    rows = db.scalars(
        select(ProgrammeTheme)
        .where(ProgrammeTheme.programme_id == programme_id)
        .order_by(ProgrammeTheme.position, ProgrammeTheme.id)
    ).all()
    if not rows:
        return list(DEFAULT_THEMES)
    return [Theme(row.key, row.name_fi, row.name_en) for row in rows]


def save_themes(db: Db, programme: Programme, data: ThemesIn) -> list[Theme]:
    """Replace the programme's theme list (kept keys keep their choices; a removed theme is
    also removed from everyone's offers and needs)."""
    current = {theme.key for theme in themes_of(db, programme)}
    kept: list[Theme] = []
    errors: dict[str, str] = {}
    for i, row in enumerate(data.themes):
        if row.remove or not (row.name_fi or row.name_en):
            continue
        key = row.key if row.key in current else f"t{secrets.token_hex(4)}"
        if any(theme.key == key for theme in kept):
            errors[f"themes.{i}.name_fi"] = _("This theme is listed twice.")
            continue
        kept.append(Theme(key, row.name_fi, row.name_en))
    if len(kept) > MAX_THEMES:
        errors["themes"] = _("Use at most %(n)s themes.", n=MAX_THEMES)
    if errors:
        raise Invalid(_("Please correct the marked fields."), errors=errors)
    for old in db.scalars(
        select(ProgrammeTheme).where(ProgrammeTheme.programme_id == programme.id)
    ):
        db.delete(old)
    db.flush()
    for position, theme in enumerate(kept):
        db.add(
            ProgrammeTheme(
                programme_id=programme.id,
                key=theme.key,
                name_fi=theme.name_fi,
                name_en=theme.name_en,
                position=position,
            )
        )
    keys = {theme.key for theme in kept}
    for entry in _entries_of_programme(db, programme.id):
        entry.offers = [k for k in entry.offers if k in keys]
        entry.needs = [k for k in entry.needs if k in keys]
    db.flush()
    return kept


def _entries_of_programme(db: Db, programme_id: int) -> list[ParticipantNeeds]:
    return list(
        db.scalars(
            select(ParticipantNeeds)
            .join(Participant, Participant.id == ParticipantNeeds.participant_id)
            .where(Participant.programme_id == programme_id)
        )
    )


def needs_of(participant: Participant) -> ParticipantNeeds | None:
    """The participant's offers and needs, if they gave any."""
    entry = getattr(participant, "offers_needs", None)
    return entry if isinstance(entry, ParticipantNeeds) else None


def planning_themes(participant: Participant) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(offers, needs) as theme keys, for the optimiser (whatever the person shows others:
    forming groups is what they gave them for)."""
    entry = needs_of(participant)
    if entry is None:
        return (), ()
    return tuple(entry.offers), tuple(entry.needs)


def form_values(participant: Participant | None) -> dict[str, object]:
    """The offers-and-needs fields of a form, as stored."""
    entry = needs_of(participant) if participant is not None else None
    if entry is None:
        return {"offers": [], "needs": [], "offer_text": "", "need_text": "", "show_needs": False}
    return {
        "offers": list(entry.offers),
        "needs": list(entry.needs),
        "offer_text": entry.offer_text,
        "need_text": entry.need_text,
        "show_needs": entry.shown,
    }


def set_needs(
    db: Db, participant: Participant, data: NeedsFields, *, by_person: bool = True
) -> ParticipantNeeds:
    """Store what the participant offers and looks for (theme keys the programme does not have
    are left out) and, when the person gives it themselves (`by_person`), whether others in
    their groups may see it; a facilitator's change keeps the person's own choice."""
    themes = themes_of(db, participant.programme_id)
    entry = needs_of(participant)
    if entry is None:
        entry = ParticipantNeeds(participant_id=participant.id)
        db.add(entry)
        participant.offers_needs = entry  # type: ignore[attr-defined]
    entry.offers = known_keys(themes, data.offers)
    entry.needs = known_keys(themes, data.needs)
    entry.offer_text = data.offer_text
    entry.need_text = data.need_text
    if by_person:
        entry.shown = data.show_needs
    elif entry.shown is None:
        entry.shown = False
    db.flush()
    return entry


def has_needs(data: NeedsFields) -> bool:
    """Whether a form gave anything about offers and needs."""
    return bool(data.offers or data.needs or data.offer_text or data.need_text or data.show_needs)


# --- what others may see -----------------------------------------------------------------


def profile_of(participant: Participant) -> Profile:
    """The participant as the hints see them."""
    entry = needs_of(participant)
    return Profile(
        participant_id=participant.id,
        name=participant.name,
        programme_id=participant.programme_id,
        offers=tuple(entry.offers) if entry else (),
        needs=tuple(entry.needs) if entry else (),
        shown=bool(entry and entry.shown),
    )


def showing(db: Db, participant_ids: Iterable[int]) -> set[int]:
    """Of `participant_ids`, those who chose to show their offers and needs (one query, for
    the digest's many recipients)."""
    ids = list(participant_ids)
    if not ids:
        return set()
    return set(
        db.scalars(
            select(ParticipantNeeds.participant_id).where(
                ParticipantNeeds.participant_id.in_(ids), ParticipantNeeds.shown.is_(True)
            )
        )
    )


def hints_for(
    db: Db, participant: Participant, others: Iterable[Participant], language: str | None = None
) -> list[TalkHint]:
    """What `participant` may read about the `others` of one of their breakout groups: only
    pairs where both chose to show their offers and needs, of the same programme."""
    me = profile_of(participant)
    if not me.shown:
        return []
    return talk_hints(
        me,
        [profile_of(other) for other in others],
        themes_of(db, participant.programme_id),
        language or participant.effective_language,
    )


def contact_suggestions(
    participant: Participant, candidates: Iterable[Participant]
) -> dict[int, str]:
    """Candidate id -> the contact kind to suggest when `participant` marks them: customer
    (one can help the other) or business partner (both ways), only where both chose to show
    their offers and needs."""
    me = profile_of(participant)
    if not me.shown:
        return {}
    out = {}
    for other in candidates:
        kind = suggested_kind(me, profile_of(other))
        if kind is not None:
            out[other.id] = kind
    return out


def labelled(themes: Sequence[Theme], language: str) -> dict[str, str]:
    """Theme key -> name in `language`."""
    return {theme.key: theme.label(language) for theme in themes}


def ui_language() -> str:
    """The language of the page being made ("fi" or "en")."""
    locale = get_locale()
    return locale.language if locale is not None and locale.language == "en" else "fi"


def needs_fit(
    matches: Iterable[NeedMatch], seats: Mapping[str, HasName], names: Mapping[str, str]
) -> list[dict[str, object]]:
    """A planned group's fit for the facilitator: helper and helped by name, themes named
    (`names`: theme key -> name), from the optimiser's matches of seat keys."""
    return [
        {
            "helper": seats[m.helper].name,
            "helped": seats[m.helped].name,
            "themes": [names.get(key, key) for key in m.themes],
        }
        for m in matches
        if m.helper in seats and m.helped in seats
    ]
