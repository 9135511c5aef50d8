"""`companion demo`: a realistic programme to click through, created once per database.

Two groups of solo entrepreneurs from Southwest Finland (invented people and companies),
six sessions every three weeks from next Monday at 9:00 Helsinki time on Jitsi, and a
facilitator account whose password is generated once and kept in the instance folder. The
programme is named after the season most of its sessions fall in, so the name fits whenever
the demo is made.
"""

from __future__ import annotations

import os
import random
import secrets
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, time, timedelta
from pathlib import Path

from flask import Flask
from sqlalchemy import select

from companion.accounts.models import Facilitator, Organisation
from companion.accounts.operations import create_facilitator, create_organisation
from companion.config import Config
from companion.core.db import Db, get_database, utcnow
from companion.core.i18n import zone
from companion.programmes import operations as programme_ops
from companion.programmes.models import Programme
from companion.programmes.schemas import GroupIn, ParticipantIn, ProgrammeIn
from companion.sessions import join_links
from companion.sessions import operations as session_ops
from companion.sessions.models import AgendaKind
from companion.sessions.schedule import next_weekday
from companion.sessions.schemas import ScheduleIn

DEMO_ORGANISATION = "Varsinais-Suomen Yrittäjät (demo)"
DEMO_EMAIL = "fasilitaattori@kollega.example"

#: (first name, last name, company, industry, region, years as entrepreneur); the programme is
#: in Finnish, so the industries are as the participants would have typed them in the survey.
PEOPLE = [
    ("Aino", "Virtanen", "Ainon Leipomo", "Ruoka ja ravintolat", "Turku", 4),
    ("Mikko", "Laine", "Laineen Puutyö", "Rakentaminen ja remontit", "Salo", 12),
    ("Sanna", "Heikkinen", "Sannan Kukka", "Vähittäiskauppa", "Uusikaupunki", 2),
    ("Jukka", "Mäkinen", "Mäkinen Consulting", "Konsultointi", "Kaarina", 8),
    ("Laura", "Koskinen", "Hyvän Olon Hieronta", "Terveys ja hyvinvointi", "Naantali", 6),
    ("Timo", "Järvinen", "Järvisen Kuljetus", "Kuljetus ja logistiikka", "Loimaa", 15),
    ("Elina", "Lehtonen", "Elina Design", "Muotoilu ja markkinointi", "Turku", 3),
    ("Petri", "Saarinen", "Saarisen Sähkö", "Rakentaminen ja remontit", "Raisio", 20),
    ("Kaisa", "Salminen", "Kaisan Kirjanpito", "Kirjanpito ja talous", "Parainen", 9),
    ("Antti", "Heinonen", "Koodipaja Heinonen", "IT ja ohjelmistot", "Turku", 1),
    ("Hanna", "Niemi", "Niemen Tila", "Maatalous", "Somero", 18),
    ("Ville", "Kinnunen", "Kinnusen Kamera", "Valokuvaus ja media", "Salo", 5),
    ("Riikka", "Hämäläinen", "Riikan Ompelimo", "Käsityöt ja tekstiilit", "Laitila", 7),
    ("Olli", "Tuominen", "Tuomisen Autohuolto", "Autoala", "Uusikaupunki", 11),
    ("Minna", "Rantanen", "Rantasen Siivous", "Siivous ja kiinteistöpalvelut", "Kaarina", 2),
    ("Sami", "Karjalainen", "Saaristo Elämys", "Matkailu", "Parainen", 6),
    ("Johanna", "Lindholm", "Lindholm Språk", "Koulutus", "Turku", 10),
    ("Heikki", "Aaltonen", "Aaltosen Metalli", "Teollisuus", "Loimaa", 25),
    ("Tiina", "Peltonen", "Peltosen Kampaamo", "Kauneudenhoito", "Raisio", 14),
    ("Markus", "Lahtinen", "Lahtinen Web", "IT ja ohjelmistot", "Naantali", 3),
    ("Päivi", "Mattila", "Mattilan Puutarha", "Maatalous", "Mynämäki", 9),
    ("Eero", "Valtonen", "Valtonen Rakennus", "Rakentaminen ja remontit", "Salo", 16),
    ("Noora", "Salonen", "Noora Coaching", "Konsultointi", "Turku", 1),
]

#: The demo's schedule: six sessions, one every three weeks.
SESSIONS, EVERY_WEEKS = 6, 3

#: Finnish seasons by month (winter from December to February).
SEASONS = {
    12: "talvi", 1: "talvi", 2: "talvi", 3: "kevät", 4: "kevät", 5: "kevät",
    6: "kesä", 7: "kesä", 8: "kesä", 9: "syksy", 10: "syksy", 11: "syksy",
}  # fmt: skip

INTERESTS = [
    "ajanhallinta, hinnoittelu",
    "markkinointi somessa",
    "jaksaminen yksinyrittäjänä",
    "kasvu ja ensimmäinen työntekijä",
    "verkostot ja yhteistyö",
    "digitalisaatio",
    "asiakashankinta",
    "talouden suunnittelu",
]


@dataclass
class DemoSummary:
    """What the demo command prints."""

    sign_in_url: str
    email: str
    password: str
    programme_url: str
    join_links: list[tuple[str, str]] = field(default_factory=list)
    created: bool = True

    def text(self) -> str:
        """The lines shown in the terminal."""
        lines = [
            "Kollega demo " + ("created." if self.created else "already exists."),
            f"  Sign in:    {self.sign_in_url}",
            f"  Email:      {self.email}",
            f"  Password:   {self.password}",
            f"  Programme:  {self.programme_url}",
            "  Join links of three participants:",
        ]
        lines += [f"    {name}: {url}" for name, url in self.join_links]
        return "\n".join(lines)


def programme_name(days: Sequence[date]) -> str:
    """The name for a programme meeting on `days`, e.g. "eKollega, kevät 2027".

    The season most of the days fall in (the earlier one on a tie: `max` keeps the first of
    equals, and a Counter counts in order of first appearance); a winter across the new year is
    named by both years ("eKollega, talvi 2026–2027").
    """
    counts = Counter(SEASONS[day.month] for day in days)
    season = max(counts, key=counts.__getitem__)
    in_season = [day for day in days if SEASONS[day.month] == season]
    if season == "talvi":
        first = min(day.year if day.month == 12 else day.year - 1 for day in in_season)
        return f"eKollega, talvi {first}–{first + 1}"
    return f"eKollega, {season} {in_season[0].year}"


def _demo_password(config: Config) -> str:
    path: Path = config.instance_path / "demo_password"
    if not path.exists():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_urlsafe(10))
    return path.read_text().strip()


def create_demo(app: Flask) -> DemoSummary:
    """Create the demo programme unless it exists; return how to use it."""
    config: Config = app.extensions["companion.config"]
    password = _demo_password(config)
    with get_database(app).session() as db:
        organisation = db.scalar(select(Organisation).where(Organisation.name == DEMO_ORGANISATION))
        created = organisation is None
        if organisation is None:
            organisation = create_organisation(db, DEMO_ORGANISATION)
            facilitator = create_facilitator(
                db,
                organisation,
                email=DEMO_EMAIL,
                name="Demo Fasilitaattori",
                password=password,
                is_admin=True,
                language="fi",
            )
            _build_programme(db, config, facilitator)
            db.commit()
        programme = db.scalar(
            select(Programme)
            .where(Programme.organisation_id == organisation.id)
            .order_by(Programme.id)
        )
        assert programme is not None
        links: list[tuple[str, str]] = []
        for participant in programme.participants[:3]:
            link = join_links.join_link_for(db, participant)
            links.append((participant.name, join_links.join_url(config, link)))
        db.commit()
        return DemoSummary(
            sign_in_url=config.external_url("/sign-in"),
            email=DEMO_EMAIL,
            password=password,
            programme_url=config.external_url(f"/programmes/{programme.id}"),
            join_links=links,
            created=created,
        )


def _build_programme(db: Db, config: Config, facilitator: Facilitator) -> None:
    rng = random.Random(2026)  # noqa: S311 - invented demo data, not security
    today = utcnow().astimezone(zone("Europe/Helsinki")).date()
    first_monday = next_weekday(today, 0)
    days = [first_monday + timedelta(weeks=EVERY_WEEKS * n) for n in range(SESSIONS)]
    programme = programme_ops.create_programme(
        db,
        facilitator,
        ProgrammeIn(
            name=programme_name(days),
            description="Vertaismentorointia yksinyrittäjille: teemoja, asiantuntijatietoiskuja "
            "ja uusia tuttavuuksia joka kolmas viikko.",
            language="fi",
            timezone="Europe/Helsinki",
            starts_on=first_monday,
            platform="jitsi",
        ),
    )
    groups = [
        programme_ops.create_group(db, programme, GroupIn(name="Ryhmä 1")),
        programme_ops.create_group(db, programme, GroupIn(name="Ryhmä 2")),
    ]
    for index, (first, last, company, industry, region, years) in enumerate(PEOPLE):
        email = f"{first}.{last}".lower().translate(str.maketrans("äöå", "aoa")) + "@example.fi"
        participant = programme_ops.add_participant(
            db,
            programme,
            ParticipantIn(
                name=f"{first} {last}",
                email=email,
                company=company,
                industry=industry,
                region=region,
                years_as_entrepreneur=years,
                interests=rng.choice(INTERESTS),
                goals="Uusia kontakteja ja vertaistukea arkeen.",
                language="fi",
                group_ids=[groups[0 if index < 12 else 1].id],
            ),
            source="import",
        )
        programme_ops.record_consent(
            db, participant, "programme", source="import", text_version="demo"
        )
    sessions = []
    for group in groups:
        sessions += session_ops.create_schedule(
            db,
            programme,
            ScheduleIn(
                group_id=group.id,
                first_date=first_monday,
                start_time=time(9, 0),
                count=SESSIONS,
                every_weeks=EVERY_WEEKS,
                duration_minutes=120,
            ),
            host=facilitator,
        )
    programme.ends_on = (
        max(s.starts_at for s in sessions).astimezone(zone(programme.timezone)).date()
    )
    talks = [
        ("Oman työn organisointi", "Leena Asiantuntija"),
        ("Ajanhallinta yksinyrittäjälle", "Leena Asiantuntija"),
        ("Tavoitteiden asettaminen", "Jari Valmentaja"),
    ]
    for session in sessions:
        for item in session.agenda:
            if item.kind == AgendaKind.EXPERT_TALK:
                title, speaker = talks[(session.starts_at.toordinal() // 21) % len(talks)]
                item.title = f"Asiantuntijatietoisku: {title}"
                item.speaker_name = speaker
                item.material_url = "https://example.org/materiaali.pdf"
    db.flush()
