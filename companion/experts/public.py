"""The agenda as the session's people see it: each slot's time, the speaker and the material.

The same lines feed the waiting page, the participant's own page, the side panel, the
reminder and the summary email; only the material's addresses differ. On pages opened with
the join-link cookie they lead straight to the file; in emails and in the side panel (no
cookie inside Zoom or Teams) they go through the participant's personal link, which opens
the file on whatever browser follows it and stops working when the join link is renewed.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from flask import url_for
from flask_babel import gettext as _
from sqlalchemy import select

from companion.accounts.identity import Actor
from companion.config import Config
from companion.core.db import Db
from companion.digest.links import personal_urls
from companion.experts.materials import materials_of
from companion.experts.models import Expert, Material
from companion.sessions.agenda import slots
from companion.sessions.join_links import join_link_for
from companion.sessions.models import AgendaKind, JoinLink, Session


@dataclass(frozen=True)
class MaterialLink:
    """A file or a link of a talk's material, with the address this reader opens it at."""

    label: str
    url: str
    #: "file" (uploaded here) or "link" (an address the speaker gave).
    kind: str
    #: The file's kind ("PDF", "PNG", ...) or the link's host.
    detail: str = ""
    #: Files: their id, sniffed media type and size in bytes.
    material_id: int | None = None
    content_type: str = ""
    size: int = 0


@dataclass(frozen=True)
class AgendaLine:
    """One slot of the agenda as people see it."""

    number: int
    kind: str
    title: str
    duration_minutes: int
    starts_at: datetime
    ends_at: datetime
    speaker_name: str
    description: str
    materials: tuple[MaterialLink, ...] = ()
    #: What the speaker tells about themselves (experts who have not declined).
    speaker_bio: str = ""

    @property
    def is_talk(self) -> bool:
        """Whether it is an expert talk."""
        return self.kind == AgendaKind.EXPERT_TALK


def kind_label(kind: str) -> str:
    """The name of a kind of slot, for slots without a title of their own."""
    labels = {
        AgendaKind.WELCOME: _("Welcome"),
        AgendaKind.TOPIC_BOARD: _("Topic board"),
        AgendaKind.BREAKOUTS: _("Small groups"),
        AgendaKind.EXPERT_TALK: _("Expert talk"),
        AgendaKind.CLOSING: _("Closing"),
    }
    return next((label for key, label in labels.items() if key == kind), _("Other"))


_KIND_NAMES = {
    "application/pdf": "PDF",
    "image/png": "PNG",
    "image/jpeg": "JPEG",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation": "PowerPoint",
    "application/vnd.oasis.opendocument.presentation": "OpenDocument",
    "application/vnd.apple.keynote": "Keynote",
}


def file_kind(material: Material) -> str:
    """A short name of the file's kind ("PDF", "PowerPoint", ...)."""
    return _KIND_NAMES.get(material.content_type, material.content_type)


def _host(url: str) -> str:
    return url.split("://", 1)[-1].split("/", 1)[0]


def _bios(db: Db, session: Session) -> dict[int, str]:
    """Each talk slot's expert's bio, for experts whose link works and who have not declined."""
    ids = [item.id for item in session.agenda if item.kind == AgendaKind.EXPERT_TALK]
    if not ids:
        return {}
    rows = db.execute(
        select(Expert.agenda_item_id, Expert.bio).where(
            Expert.agenda_item_id.in_(ids),
            Expert.revoked_at.is_(None),
            Expert.status != "declined",
            Expert.bio != "",
        )
    )
    return {item_id: bio for item_id, bio in rows}


def agenda_lines(
    db: Db,
    session: Session,
    material_url: Callable[[Material], str],
    files: Sequence[Material] | None = None,
) -> list[AgendaLine]:
    """The session's slots with their times, speakers and material (files first, then the
    speaker's link), each file at the address `material_url` gives (`files`: the session's
    files if already read)."""
    files = materials_of(db, session.agenda) if files is None else files
    by_item: dict[int, list[Material]] = {}
    for material in files:
        by_item.setdefault(material.agenda_item_id, []).append(material)
    bios = _bios(db, session)
    lines = []
    for slot in slots(session):
        item = slot.item
        links = [
            MaterialLink(
                m.filename, material_url(m), "file", file_kind(m), m.id, m.content_type, m.size
            )
            for m in by_item.get(item.id, [])
        ]
        if item.material_url:
            links.append(
                MaterialLink(
                    _("Material link"), item.material_url, "link", _host(item.material_url)
                )
            )
        lines.append(
            AgendaLine(
                number=slot.number,
                kind=item.kind,
                title=item.title or kind_label(item.kind),
                duration_minutes=item.duration_minutes,
                starts_at=slot.starts_at,
                ends_at=slot.ends_at,
                speaker_name=item.speaker_name,
                description=item.description,
                materials=tuple(links),
                speaker_bio=bios.get(item.id, ""),
            )
        )
    return lines


def page_url(material: Material) -> str:
    """A file's address on pages opened with a cookie (the reader's identity comes along)."""
    return url_for("experts.material", material_id=material.id)


def material_target(material: Material) -> str:
    """The personal link's `next` that opens a file."""
    return f"material-{material.id}"


def personal_material_urls(
    config: Config, link: JoinLink, materials: Sequence[Material]
) -> dict[int, str]:
    """Each file's address through the participant's personal link (signed once)."""
    if not materials:
        return {}
    urls = personal_urls(config, link, *(material_target(m) for m in materials))
    return {m.id: url for m, url in zip(materials, urls, strict=True)}


def emailed_agenda(db: Db, config: Config, session: Session, link: JoinLink) -> list[AgendaLine]:
    """The agenda with material addresses that work from the participant's email."""
    files = materials_of(db, session.agenda)
    urls = personal_material_urls(config, link, files)
    return agenda_lines(db, session, lambda m: urls[m.id], files)


def lines_for_actor(db: Db, config: Config, actor: Actor, session: Session) -> list[AgendaLine]:
    """The agenda for whoever asks without a cookie (side panel, API): a participant's files
    open through their personal link, a facilitator's at the plain address."""
    if actor.participant is None:
        return agenda_lines(db, session, page_url)
    return emailed_agenda(db, config, session, join_link_for(db, actor.participant))
