"""A running round in Chromium: a participant's "my small group" (phone page and side panel)
switches to the new group when the facilitator moves them, and shows the facilitator's message
and "2 minutes left", all without reloading; on the round page the facilitator places a
latecomer and sends a message to every group.

Set BREAKOUTS_SCREENSHOTS=<folder> to keep screenshots."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from companion.core.live import LiveServer
from tests.breakouts.conftest import World, key_of
from tests.services import signed_in_context, wait_until

pytestmark = pytest.mark.browser

SHOTS = os.environ.get("BREAKOUTS_SCREENSHOTS", "")


def _shot(page: Any, name: str) -> None:
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(SHOTS) / f"{name}.png"), full_page=True)


def _group_of(round_json: dict[str, Any], key: str) -> dict[str, Any]:
    return next(g for g in round_json["groups"] if key in {m["key"] for m in g["members"]})


def _running(world: World) -> dict[str, Any]:
    planned = world.plan(sizing="count", groups=2)[0]
    world.act(planned["id"], "lock")
    return world.act(planned["id"], "start")


def test_my_group_follows_a_move_and_shows_the_facilitators_messages(
    app: Flask, db: Any, world: World, live: LiveServer, live_server: str, browser: Any
) -> None:
    from tests.board.conftest import token_for

    running = _running(world)
    aino = world.person("aino")
    before = _group_of(running, key_of(aino))
    after = next(g for g in running["groups"] if g["id"] != before["id"])
    phone_context = signed_in_context(app, browser, world.client("aino"), 390, 844)
    panel_context = browser.new_context(viewport={"width": 320, "height": 640})
    panel_context.set_default_timeout(5000)
    try:
        phone = phone_context.new_page()
        phone.goto(f"{live_server}/sessions/{world.session.id}/my-group?lang=en")
        phone.wait_for_selector("[data-live-state][data-state='live']")
        assert phone.inner_text(".group-title") == before["name"]
        panel = panel_context.new_page()
        token = token_for(app, db, aino)
        panel.goto(f"{live_server}/panel/sessions/{world.session.id}/group?lang=en#token={token}")
        panel.wait_for_selector("[data-live-state][data-state='live']")
        panel.wait_for_selector(".group-title")
        # Marks that a reload would wipe out.
        for page in (phone, panel):
            page.evaluate("window.kollegaNotReloaded = true")

        moved = world.client("facilitator").post(
            f"/api/v1/breakouts/rounds/{running['id']}/moves",
            json={"person": key_of(aino), "group_id": after["id"]},
        )
        assert moved.status_code == 200, moved.get_json()
        for page in (phone, panel):
            page.wait_for_selector(f".group-title:text-is('{after['name']}')")
        notes = phone.get_by_role("link", name="Our shared notes")
        assert notes.get_attribute("href").endswith(f"/notes/groups/{after['id']}")
        in_panel = panel.get_by_role("link", name="Our shared notes")
        assert in_panel.get_attribute("href").endswith(f"/notes?group={after['id']}")
        members = phone.inner_text(".members")
        assert all(m["name"] in members for m in after["members"])
        assert not any(m["name"] in members for m in before["members"] if m["key"] != key_of(aino))
        wait_until(phone, "document.querySelector('[data-announce]').textContent.length > 0")

        sent = world.client("facilitator").post(
            f"/api/v1/breakouts/rounds/{running['id']}/broadcasts",
            json={"text": "Back to the main room at 10:30"},
        )
        assert sent.status_code == 201, sent.get_json()
        for page in (phone, panel):
            page.wait_for_selector("[data-broadcast] >> text=Back to the main room at 10:30")
        wait_until(
            phone,
            "document.querySelector('[data-announce]').textContent.includes('10:30')",
        )
        _shot(phone, "running-message-390")
        assert phone.evaluate("document.documentElement.scrollWidth") <= 390
        assert panel.evaluate("document.documentElement.scrollWidth") <= 320
        for page in (phone, panel):
            assert page.evaluate("window.kollegaNotReloaded") is True
    finally:
        phone_context.close()
        panel_context.close()


def test_the_facilitator_places_a_latecomer_and_messages_every_group(
    app: Flask,
    world: World,
    live: LiveServer,
    live_server: str,
    browser: Any,
    make_participant: Any,
) -> None:
    running = _running(world)
    late = make_participant(world.programme, group=world.group, name="Leena Myöhä")
    context = signed_in_context(app, browser, world.client("facilitator"), 1280, 900)
    try:
        page = context.new_page()
        page.goto(f"{live_server}/breakouts/rounds/{running['id']}?lang=en")
        page.wait_for_selector("[data-live-state][data-state='live']")
        card = f".person[data-key='{key_of(late)}']"
        assert page.eval_on_selector(card, "el => el.closest('.bgroup').dataset.groupId") == ""
        target = str(running["groups"][1]["id"])
        page.select_option(f"{card} select[name='group_id']", target)
        page.click(f"{card} .move-form button")
        wait_until(
            page,
            "([card, target]) => document.querySelector(card)?.closest('.bgroup')"
            ".dataset.groupId === target",
            arg=[card, target],
        )
        page.wait_for_selector("[data-announce]:has-text('Leena Myöhä moved to')")
        # In a running round, people go to another group but not out of every group.
        options = page.eval_on_selector_all(
            f"{card} select[name='group_id'] option", "els => els.map(o => o.value)"
        )
        assert "" not in options and target in options

        page.fill("#broadcast-text", "Five more minutes, then back to the main room")
        page.click("[data-broadcast-form] button[value='broadcast']")
        page.wait_for_selector(
            "[data-broadcast-last] >> text=Five more minutes, then back to the main room"
        )
        assert page.input_value("#broadcast-text") == ""
        # A second message within seconds is refused, and the page says why.
        page.click("[data-broadcast-form] button[value='time_left']")
        page.wait_for_selector("[data-broadcast-error]")
        assert "moment ago" in page.inner_text("[data-broadcast-error]")
        _shot(page, "running-round-1280")
    finally:
        context.close()
    mine = world.client("aino").get(f"/api/v1/sessions/{world.session.id}/my-group").get_json()
    assert mine["broadcast"]["text"] == "Five more minutes, then back to the main room"
    assert key_of(late) in {m["key"] for m in world.round(running["id"])["groups"][1]["members"]}


def test_the_notes_panel_opens_on_the_running_group_and_shows_messages(
    app: Flask, db: Any, world: World, live: LiveServer, live_server: str, browser: Any
) -> None:
    from tests.board.conftest import token_for

    running = _running(world)
    bertta = world.person("bertta")
    group = _group_of(running, key_of(bertta))
    token = token_for(app, db, bertta)
    context = browser.new_context(viewport={"width": 320, "height": 640}, locale="fi-FI")
    context.set_default_timeout(5000)
    try:
        panel = context.new_page()
        panel.goto(f"{live_server}/panel/sessions/{world.session.id}/notes?lang=fi#token={token}")
        panel.wait_for_selector("[data-live-status][data-state='live']")
        assert panel.inner_text("[data-space-label]") == group["name"]
        assert panel.is_hidden("[data-broadcast-banner]")
        sent = world.client("facilitator").post(
            f"/api/v1/breakouts/rounds/{running['id']}/broadcasts", json={"kind": "time_left"}
        )
        assert sent.status_code == 201
        panel.wait_for_selector("[data-broadcast-banner] >> text=2 minuuttia jäljellä")
        assert "Fasilitaattorilta" in panel.inner_text("[data-broadcast-banner]")
        # Writing goes on in the group's notes while the message shows.
        panel.fill("#note-body", "Hinnoittelu: kolme vaihtoehtoa")
        panel.click("[data-add-item] button[type=submit]")
        panel.wait_for_selector("[data-items] >> text=Hinnoittelu: kolme vaihtoehtoa")
        # When the round closes, the message goes.
        world.act(running["id"], "close")
        panel.wait_for_selector("[data-broadcast-banner]", state="hidden")
    finally:
        context.close()
    notes = (
        world.client("facilitator")
        .get(f"/api/v1/sessions/{world.session.id}/notes?group={group['id']}")
        .get_json()
    )
    assert [i["body"] for i in notes["items"]] == ["Hinnoittelu: kolme vaihtoehtoa"]
