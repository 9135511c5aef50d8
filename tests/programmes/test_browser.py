"""The programme pages in Chromium at desktop and phone width: layout, labels, focus.

Screenshots go to a temporary folder, or to `$KOLLEGA_SCREENSHOTS` when it is set, so a
person can look at them.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from companion.accounts.models import Facilitator
from companion.core.db import Db
from companion.programmes.models import Participant, Programme
from companion.programmes.operations import create_group
from companion.programmes.schemas import GroupIn
from tests.factories import PASSWORD

pytestmark = pytest.mark.browser

WIDTHS = {"desktop": 1280, "phone": 390}

#: Form controls a person can fill in that have no label a screen reader would read.
UNLABELLED = """
() => [...document.querySelectorAll('input, select, textarea')]
  .filter(el => el.type !== 'hidden' && el.offsetParent !== null)
  .filter(el => !(el.labels && el.labels.length) && !el.getAttribute('aria-label')
                && !el.getAttribute('aria-labelledby'))
  .map(el => el.name || el.id)
"""

#: Elements wider than the viewport (what makes a phone page scroll sideways).
OVERFLOWING = """
() => [...document.querySelectorAll('body *')]
  .filter(el => el.getBoundingClientRect().right > window.innerWidth + 1
                && !el.closest('.table-wrap'))
  .slice(0, 5).map(el => el.tagName + '.' + el.className)
"""


@pytest.fixture()
def shots(tmp_path: Path) -> Path:
    folder = Path(os.environ.get("KOLLEGA_SCREENSHOTS", "") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture()
def scene(
    app: Flask,
    db: Db,
    make_facilitator: Callable[..., Facilitator],
    make_programme: Callable[..., Programme],
    make_participant: Callable[..., Participant],
    make_session: Callable[..., Any],
) -> dict[str, Any]:
    """A programme as it looks a few weeks in: two groups, people, sessions."""
    facilitator = make_facilitator(email="fia@example.org", name="Fia Fasilitaattori")
    programme = make_programme(
        facilitator=facilitator,
        name="eKollega – yrittäjien vertaismentorointi, kevät 2027",
        groups=0,
        description="Kaksi ryhmää tapaa kolmen viikon välein verkossa.",
        language="fi",
    )
    with app.app_context():
        create_group(db, programme, GroupIn(name="Ryhmä A"))
        create_group(db, programme, GroupIn(name="Ryhmä B"))
    db.commit()
    group_a, group_b = programme.groups
    people = [
        ("Aino Virtanen", "Virtasen Puutyö Oy", "Rakentaminen", "Turku", group_a),
        ("Eero Mäkelä", "Mäkelän Konsultointi", "Konsultointi", "Salo", group_a),
        ("Sanna Järvinen", "Hyvinvointi Järvinen Tmi", "Hyvinvointi", "Uusikaupunki", group_b),
    ]
    for name, company, industry, region, group in people:
        make_participant(
            programme,
            group=group,
            name=name,
            email=name.lower().replace(" ", ".").replace("ä", "a") + "@example.fi",
            company=company,
            industry=industry,
            region=region,
            years_as_entrepreneur=7,
            interests="Ajanhallinta, hinnoittelu ja asiakashankinta verkossa",
            goals="Lounasseuralainen ja sparrauskaveri",
            source="survey",
        )
    make_session(group_a, title="Aloitustapaaminen: tavoitteet ja teemat")
    return {"facilitator": facilitator, "programme": programme, "group": group_a}


@pytest.fixture()
def pages(browser: Any, live_server: str) -> Iterator[Callable[[int], Any]]:
    contexts: list[Any] = []

    def open_page(width: int) -> Any:
        context = browser.new_context(viewport={"width": width, "height": 900}, locale="fi-FI")
        contexts.append(context)
        return context.new_page()

    yield open_page
    for context in contexts:
        context.close()


def label(text: str) -> re.Pattern[str]:
    """A field's label as a person reads it: the text, maybe followed by the required mark."""
    return re.compile(rf"^{re.escape(text)}(\s*\*)?$")


def sign_in(page: Any, live_server: str) -> None:
    page.goto(f"{live_server}/sign-in")
    page.get_by_label(label("Sähköposti")).fill("fia@example.org")
    page.get_by_label(label("Salasana")).fill(PASSWORD)
    page.get_by_role("button", name="Kirjaudu sisään").click()
    page.wait_for_url(f"{live_server}/programmes")


def check(page: Any, shots: Path, name: str, width: int) -> None:
    """Save a screenshot and check what a person relies on at this width."""
    page.screenshot(path=str(shots / f"{name}-{width}.png"), full_page=True)
    assert page.evaluate(UNLABELLED) == [], name
    if width <= 390:
        overflowing = page.evaluate(OVERFLOWING)
        scroll_width = page.evaluate("document.documentElement.scrollWidth")
        assert scroll_width <= width, (name, overflowing)
    assert page.locator("h1").count() == 1, name
    assert page.evaluate("document.documentElement.lang") == "fi"


@pytest.mark.parametrize("size", sorted(WIDTHS))
def test_facilitator_pages(
    scene: dict[str, Any],
    pages: Callable[[int], Any],
    live_server: str,
    shots: Path,
    fixtures_dir: Path,
    size: str,
) -> None:
    width = WIDTHS[size]
    page = pages(width)
    sign_in(page, live_server)
    programme, group = scene["programme"], scene["group"]
    participant = programme.participants[0]
    for name, path in (
        ("programmes", "/programmes"),
        ("programme", f"/programmes/{programme.id}"),
        ("programme-edit", f"/programmes/{programme.id}/edit"),
        ("group", f"/groups/{group.id}"),
        ("participants", f"/programmes/{programme.id}/participants"),
        ("participant-new", f"/programmes/{programme.id}/participants/new"),
        ("participant-edit", f"/participants/{participant.id}/edit"),
        ("import-upload", f"/programmes/{programme.id}/import"),
        ("interest-list", "/interest"),
        ("not-found", "/programmes/999999"),
    ):
        page.goto(live_server + path)
        check(page, shots, name, width)

    # The keyboard reaches the skip link first, and it leads to the content.
    page.goto(f"{live_server}/programmes/{programme.id}")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className") == "skip-link"

    # The import preview of a file with problems.
    page.goto(f"{live_server}/programmes/{programme.id}/import")
    page.get_by_label(label("Tiedosto")).set_input_files(str(fixtures_dir / "bad_rows.csv"))
    page.get_by_role("button", name="Lähetä ja esikatsele").click()
    page.wait_for_url(f"{live_server}/imports/*")
    check(page, shots, "import-preview", width)
    # Every bad row is listed with its reason; the good ones can be imported.
    fix_list = page.locator("section[aria-labelledby=fix-h]")
    assert fix_list.locator("h2").inner_text() == "5 riviä jää tuomatta"
    assert "Ryhmä: Tuntematon ryhmä ”Ryhmä Z”." in fix_list.inner_text()
    page.locator("#consent").check()
    page.get_by_role("button", name="Tuo 3 osallistujaa").click()
    # Then the rows left out, to fix.
    page.wait_for_selector("text=Tuomatta jääneet rivit")
    check(page, shots, "import-result", width)
    assert page.locator("h2#left-h").inner_text() == "5 riviä jäi tuomatta"
    assert page.get_by_role("link", name="Lataa nämä rivit (CSV)").count() == 1


@pytest.mark.parametrize("size", sorted(WIDTHS))
def test_intake_survey_and_interest_form(
    scene: dict[str, Any],
    pages: Callable[[int], Any],
    live_server: str,
    shots: Path,
    size: str,
) -> None:
    width = WIDTHS[size]
    page = pages(width)
    group = scene["group"]
    page.goto(f"{live_server}/intake/{group.intake_token}")
    check(page, shots, "intake", width)

    page.get_by_label(label("Nimesi")).fill("Päivi Östman")
    page.get_by_label(label("Sähköposti")).fill("paivi@example.fi")
    page.get_by_label(label("Toimiala")).fill("Media")
    page.get_by_label(label("Kunta tai alue")).fill("Turku")
    page.get_by_role("button", name="Lähetä").click()
    check(page, shots, "intake-error", width)
    consent = page.locator("#f-consent")
    assert consent.get_attribute("aria-invalid") == "true"
    assert "suostumuksesi" in page.locator("#f-consent-error").inner_text()
    # What was typed is still there.
    assert page.get_by_label(label("Nimesi")).input_value() == "Päivi Östman"

    consent.check()
    page.get_by_role("button", name="Lähetä").click()
    assert "Kiitos, Päivi Östman!" in page.locator("h1").inner_text()
    check(page, shots, "intake-done", width)

    organisation = scene["facilitator"].organisation
    page.goto(f"{live_server}/interest/{organisation.interest_token}")
    check(page, shots, "interest", width)

    page.goto(f"{live_server}/sign-in")
    check(page, shots, "sign-in", width)
