"""The registry of personal data: every package says what it holds about a participant, how it
exports it and how it erases it.

A package registers its share once, at import (beside its views, as jobs are registered):

    register_personal_data(
        "board",
        tables=("board_topic", "board_vote"),
        export_participant=export_topics,     # (db, participant_id) -> list[Section]
        erase_participant=erase_topics,       # (db, participant_id) -> None
        erase_programme=None,                 # (db, programme_id) -> None
    )

- `export_participant` answers the person's right of access: sections of records (plain JSON
  values under machine keys) with translated titles and labels for the readable page.
- `erase_participant` removes or anonymises the person's rows in the package's tables. It runs
  in the caller's transaction, before the participant row itself becomes an anonymous
  tombstone (see `erasure`), so the row still holds the name and email while it runs. Keep
  counts others rely on (votes, presence, contacts): the tombstone's id carries no person.
- `erase_programme` removes personal data tied to a programme but to no participant (an
  expert's name and email on an agenda slot); it runs when the programme's personal data is
  deleted (retention, deletion), after every participant was erased.
- `identifying_texts` gives texts that name the person besides their name and email (a shared
  phone number, a website): stored emails to others have them replaced, live events holding
  them are dropped.
- `took_part` says whether the package holds something of the person that figures count but
  that no foreign key shows (the board's votes are keyed "p:<id>"). A person who took part in
  nothing (no row anywhere refers to them, no package says so) is deleted outright instead of
  being kept as an anonymous stand-in.
- `withdraw_consent` maps a consent purpose the package owns to what stops when the person
  withdraws it, `(db, participant_id) -> None` (contacts: nothing is shared any more).
- `tables` names the tables holding participant references or their text; a test checks that
  every table with a foreign key to `participant` (or an email column) is named by someone.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from companion.core.db import Db

#: A JSON-able record of one thing held about the person (machine keys, plain values).
Record = dict[str, Any]


@dataclass(frozen=True)
class Section:
    """One part of a person's data: e.g. the topics they proposed.

    `key` names it in the JSON download; `title` and `labels` (record key -> label) are the
    readable page's words, already in the reader's language.
    """

    key: str
    title: str
    records: list[Record]
    labels: Mapping[str, str] = field(default_factory=dict)


ExportParticipant = Callable[[Db, int], Sequence[Section]]
EraseParticipant = Callable[[Db, int], None]
EraseProgramme = Callable[[Db, int], None]
IdentifyingTexts = Callable[[Db, int], Sequence[str]]
TookPart = Callable[[Db, int], bool]
WithdrawConsent = Callable[[Db, int], None]


@dataclass(frozen=True)
class PersonalData:
    """One package's share of the personal data."""

    key: str
    tables: tuple[str, ...]
    export_participant: ExportParticipant | None = None
    erase_participant: EraseParticipant | None = None
    erase_programme: EraseProgramme | None = None
    identifying_texts: IdentifyingTexts | None = None
    took_part: TookPart | None = None
    withdraw_consent: Mapping[str, WithdrawConsent] = field(default_factory=dict)


_REGISTRY: dict[str, PersonalData] = {}


def register_personal_data(
    key: str,
    *,
    tables: Sequence[str],
    export_participant: ExportParticipant | None = None,
    erase_participant: EraseParticipant | None = None,
    erase_programme: EraseProgramme | None = None,
    identifying_texts: IdentifyingTexts | None = None,
    took_part: TookPart | None = None,
    withdraw_consent: Mapping[str, WithdrawConsent] | None = None,
) -> PersonalData:
    """Register (or replace, on re-import) a package's share of the personal data."""
    entry = PersonalData(
        key=key,
        tables=tuple(tables),
        export_participant=export_participant,
        erase_participant=erase_participant,
        erase_programme=erase_programme,
        identifying_texts=identifying_texts,
        took_part=took_part,
        withdraw_consent=dict(withdraw_consent or {}),
    )
    _REGISTRY[key] = entry
    return entry


def contributions() -> list[PersonalData]:
    """Every registered share, in registration order."""
    return list(_REGISTRY.values())


def covered_tables() -> set[str]:
    """The tables some package has declared it exports and erases."""
    return {table for entry in _REGISTRY.values() for table in entry.tables}


def consent_withdrawals() -> dict[str, WithdrawConsent]:
    """Consent purposes a person may withdraw on their own page, and what each one stops."""
    return {
        purpose: stop
        for entry in _REGISTRY.values()
        for purpose, stop in entry.withdraw_consent.items()
    }
