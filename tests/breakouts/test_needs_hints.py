"""Offers and needs in a real round: the "my group" hint and the summary email line (both
languages), only where both people chose to show theirs, and the fit on the facilitator's
round."""

from __future__ import annotations

from typing import Any

from flask import Flask

from companion.core.db import Db
from companion.digest.operations import preview_digest
from companion.needs.operations import set_needs
from companion.needs.schemas import NeedsFields
from tests.breakouts.conftest import World, key_of


def _set(
    app: Flask, db: Db, person: Any, *, offers: tuple[str, ...] = (), needs: tuple[str, ...] = (),
    shown: bool = True, language: str | None = None,
) -> None:  # fmt: skip
    with app.app_context():
        set_needs(db, person, NeedsFields(offers=list(offers), needs=list(needs), show_needs=shown))
        if language is not None:
            person.language = language
        db.commit()


def _locked_round(world: World) -> tuple[Any, Any, Any]:
    """A locked round of two groups; Aino, another participant of her group, and the round."""
    planned = world.plan(sizing="count", groups=2)[0]
    world.act(planned["id"], "lock")
    aino = world.person("aino")
    group = next(g for g in planned["groups"] if key_of(aino) in {m["key"] for m in g["members"]})
    keys = {m["key"] for m in group["members"]}
    other = next(p for p in world.people if p is not aino and key_of(p) in keys)
    return aino, other, planned


def _hints(world: World) -> list[dict[str, Any]]:
    url = f"/api/v1/sessions/{world.session.id}/my-group"
    response = world.client("aino").get(url)
    assert response.status_code == 200, response.get_json()
    hints: list[dict[str, Any]] = response.get_json()["hints"]
    return hints


def test_my_group_says_whom_to_talk_with_in_both_languages(
    app: Flask, db: Db, world: World
) -> None:
    aino, other, planned = _locked_round(world)
    _set(app, db, aino, needs=("pricing",), offers=("it",), language="en")
    _set(app, db, other, offers=("pricing",), language="fi")
    hints = _hints(world)
    assert [(h["name"], h["themes"], h["kind"]) for h in hints] == [
        (other.name, ["Pricing"], "customer")
    ]
    page_url = f"/sessions/{world.session.id}/my-group"
    page = world.client("aino").get(page_url).get_data(as_text=True)
    assert f"You might talk with {other.name} about Pricing." in page
    # Her choice of language: Finnish, theme names too.
    _set(app, db, aino, needs=("pricing",), offers=("it",), language="fi")
    page = world.client("aino").get(page_url).get_data(as_text=True)
    assert f"Voisit jutella henkilön {other.name} kanssa aiheesta Hinnoittelu." in page
    # The other person sees it from their side (she offers what Aino looks for).
    first = other.name.split()[0].lower()
    theirs = world.client(first).get(f"/api/v1/sessions/{world.session.id}/my-group")
    assert [h["name"] for h in theirs.get_json()["hints"]] == [aino.name]
    # The facilitator sees the fit of the planned group.
    fits = [f for g in world.round(planned["id"])["groups"] for f in g["needs_met"]]
    assert fits == [{"helper": other.name, "helped": aino.name, "themes": ["Pricing"]}]


def test_no_hint_unless_both_chose_to_show(app: Flask, db: Db, world: World) -> None:
    aino, other, _planned = _locked_round(world)
    _set(app, db, aino, needs=("pricing",))
    _set(app, db, other, offers=("pricing",), shown=False)
    assert _hints(world) == []
    _set(app, db, other, offers=("pricing",))
    _set(app, db, aino, needs=("pricing",), shown=False)
    assert _hints(world) == []
    # The other person does not learn Aino's needs either.
    first = other.name.split()[0].lower()
    theirs = world.client(first).get(f"/api/v1/sessions/{world.session.id}/my-group")
    assert theirs.get_json()["hints"] == []
    page = world.client(first).get(f"/sessions/{world.session.id}/my-group")
    assert "Pricing" not in page.get_data(as_text=True)


def test_summary_email_line_in_both_languages(app: Flask, db: Db, world: World) -> None:
    aino, other, _planned = _locked_round(world)
    _set(app, db, aino, needs=("pricing", "legal"), language="en")
    _set(app, db, other, offers=("legal", "pricing"))
    config = app.extensions["companion.config"]
    with app.test_request_context():
        content, email = preview_digest(db, config, world.session, aino, missed=False)
    assert [(t.name, t.themes) for t in content.talk_hints] == [(other.name, ("Pricing", "Legal"))]
    line = f"You might talk with {other.name} about Pricing, Legal."
    assert line in email.text and line in email.html
    _set(app, db, aino, needs=("pricing", "legal"), language="fi")
    with app.test_request_context():
        _content, email = preview_digest(db, config, world.session, aino, missed=False)
    line = f"Voisit jutella henkilön {other.name} kanssa aiheesta Hinnoittelu, Juridiikka."
    assert line in email.text and line in email.html
    # Once the other no longer shows theirs, the line is gone.
    _set(app, db, other, offers=("legal", "pricing"), shown=False)
    with app.test_request_context():
        content, email = preview_digest(db, config, world.session, aino, missed=False)
    assert content.talk_hints == () and "Voisit jutella" not in email.text


def test_a_contact_with_someone_who_fits_suggests_the_kind(
    app: Flask, db: Db, world: World
) -> None:
    aino, bertta, cecilia = world.person("aino"), world.person("bertta"), world.person("cecilia")
    _set(app, db, aino, needs=("pricing",), offers=("it",))
    _set(app, db, bertta, offers=("pricing",))  # helps Aino: a customer relationship
    _set(app, db, cecilia, offers=("pricing",), needs=("it",))  # both ways: business partners
    client = world.client("aino")
    page = client.get(f"/me/contacts?person_id={bertta.id}").get_data(as_text=True)
    assert f'<option value="{bertta.id}" selected>' in page
    assert '<input type="radio" name="kind" value="customer" checked>' in page
    assert "data-suggested-kinds" in page
    page = client.get(f"/me/contacts?person_id={cecilia.id}").get_data(as_text=True)
    assert '<input type="radio" name="kind" value="business" checked>' in page
    # Nothing suggested for someone who does not show theirs, or who is not a candidate.
    _set(app, db, bertta, offers=("pricing",), shown=False)
    page = client.get(f"/me/contacts?person_id={bertta.id}").get_data(as_text=True)
    assert '<input type="radio" name="kind" value="customer" checked>' not in page
    page = client.get(f"/me/contacts?person_id={world.olli.id}").get_data(as_text=True)
    assert f'value="{world.olli.id}"' not in page
