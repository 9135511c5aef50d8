"""Issue 19, part 4: the outcomes page's offers and needs over the season, from the figures
world of `conftest.py` with these offers and needs added (worked out by hand):

- Cecilia needs pricing, Aino offers it: they shared S1's room, so Cecilia is covered; the two
  recorded no contact.
- Dan needs sales, Aino offers it: they shared S3's room A+D, and Dan asked Aino for a
  business contact (pending): covered, with a contact.
- Bertta needs recruiting, Dan offers it: they never shared a room (S3 put Bertta alone).
- Eero needs exporting, which nobody offers: not coverable.

So 2 of 3 coverable people were covered, and 1 of the 2 helper-helped pairs that met recorded
a contact.
"""

from __future__ import annotations

from typing import Any

from flask import Flask

from companion.core.db import Db
from companion.needs.operations import set_needs
from companion.needs.schemas import NeedsFields
from companion.outcomes.figures import NeedsFigures, figures
from companion.outcomes.gather import programme_facts
from tests.outcomes.conftest import Outcomes


def _with_needs(app: Flask, db: Db, world: Outcomes) -> None:
    people = world.people
    with app.app_context():
        for key, offers, needs in (
            ("A", ["pricing", "sales"], []),
            ("B", [], ["recruiting"]),
            ("C", [], ["pricing"]),
            ("D", ["recruiting"], ["sales"]),
            ("E", [], ["exporting"]),
        ):
            set_needs(
                db, db.merge(people[key]), NeedsFields(offers=offers, needs=needs), by_person=False
            )
        db.commit()


def test_needs_covered_and_the_pairs_that_recorded_a_contact(
    app: Flask, db: Db, outcomes_world: Outcomes
) -> None:
    _with_needs(app, db, outcomes_world)
    with app.app_context():
        programme = db.merge(outcomes_world.programme)
        result = figures(programme_facts(db, programme))
    assert result.needs == NeedsFigures(coverable=3, covered=2, pairs_met=2, pairs_with_contact=1)


def test_without_offers_and_needs_the_figure_is_empty(
    app: Flask, db: Db, outcomes_world: Outcomes
) -> None:
    with app.app_context():
        programme = db.merge(outcomes_world.programme)
        result = figures(programme_facts(db, programme))
    assert result.needs == NeedsFigures(0, 0, 0, 0)


def test_the_outcomes_page_shows_them(
    app: Flask, db: Db, outcomes_world: Outcomes, sign_in: Any
) -> None:
    _with_needs(app, db, outcomes_world)
    client = app.test_client()
    sign_in(client, outcomes_world.facilitator)
    page = client.get(f"/programmes/{outcomes_world.programme.id}/outcomes?lang=en")
    text = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "2 of 3 people shared a small group with someone who offers what they look for" in text
    assert "1 of 2 pairs" in text
