"""The round editor in Chromium: a person is moved by drag and drop and by the keyboard (arrow
keys and the "Move to" list), each move is announced and saved (seen again after a reload);
a participant's phone shows the group when the round starts.

Set BREAKOUTS_SCREENSHOTS=<folder> to keep screenshots of the pages at 1280 and 390 px."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from companion.core.live import LiveServer
from tests.breakouts.conftest import World, key_of
from tests.services import signed_in_context, wait_until

pytestmark = pytest.mark.browser

SHOTS = os.environ.get("BREAKOUTS_SCREENSHOTS", "")


def _context(app: Flask, browser: Any, client: FlaskClient, width: int) -> Any:
    return signed_in_context(app, browser, client, width, 900)


def _shot(page: Any, name: str) -> None:
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(SHOTS) / f"{name}.png"), full_page=True)


def _fits(page: Any, width: int) -> None:
    """The page is no wider than the window (no sideways scrolling of the whole page)."""
    assert page.evaluate("document.documentElement.scrollWidth") <= width, page.url


def _group_of(page: Any, key: str) -> str:
    """The data-group-id of the column holding the person's card."""
    selector = f".person[data-key='{key}']"
    return str(page.eval_on_selector(selector, "el => el.closest('.bgroup').dataset.groupId"))


def test_moves_by_drag_and_drop_and_keyboard_are_saved(
    app: Flask, world: World, live: LiveServer, live_server: str, browser: Any
) -> None:
    aino, bertta, cecilia = world.people[:3]
    planned = world.plan(sizing="count", groups=3)[0]
    round_url = f"{live_server}/breakouts/rounds/{planned['id']}?lang=en"
    context = _context(app, browser, world.client("facilitator"), 1280)
    try:
        page = context.new_page()
        page.goto(round_url)
        page.wait_for_selector("[data-live-state][data-state='live']")
        _shot(page, "round-1280")
        columns = [str(g["id"]) for g in planned["groups"]]

        # Drag and drop: Aino into another group.
        start = _group_of(page, key_of(aino))
        target = next(c for c in columns if c != start)
        page.drag_and_drop(
            f".person[data-key='{key_of(aino)}']",
            f".bgroup[data-group-id='{target}'] ul.people",
        )
        wait_until(
            page,
            "([key, target]) => document.querySelector(`.person[data-key='${key}']`)"
            "?.closest('.bgroup').dataset.groupId === target",
            arg=[key_of(aino), target],
        )
        page.wait_for_selector("[data-announce]:has-text('Aino Aalto moved to')")
        page.reload()
        assert _group_of(page, key_of(aino)) == target
        assert page.is_visible(f".person[data-key='{key_of(aino)}'] .badge.pin")

        # Keyboard: Bertta's card focused, → moves her one group to the right (or ← at the end).
        before = _group_of(page, key_of(bertta))
        index = columns.index(before)
        key, expected = ("ArrowRight", columns[index + 1]) if index < 2 else (
            "ArrowLeft", columns[index - 1]
        )  # fmt: skip
        page.focus(f".person[data-key='{key_of(bertta)}']")
        page.keyboard.press(key)
        wait_until(
            page,
            "([key, target]) => document.querySelector(`.person[data-key='${key}']`)"
            "?.closest('.bgroup').dataset.groupId === target",
            arg=[key_of(bertta), expected],
        )
        page.wait_for_selector("[data-announce]:has-text('Bertta Berg moved to')")
        focused = page.evaluate("document.activeElement.dataset.key")
        assert focused == key_of(bertta), "focus stays on the moved person"

        # Keyboard with the "Move to" list: Cecilia out of every group.
        select = f"#move-person-{key_of(cecilia).replace(':', '-')}"
        page.focus(select)
        page.select_option(select, "")
        page.keyboard.press("Tab")
        page.keyboard.press("Enter")
        wait_until(
            page,
            "key => document.querySelector(`.person[data-key='${key}']`)"
            "?.closest('.bgroup').dataset.groupId === ''",
            arg=key_of(cecilia),
        )
        # The announcement comes once the server has saved the move.
        page.wait_for_selector("[data-announce]:has-text('Cecilia Carlsson is no longer')")
        _shot(page, "round-after-moves-1280")

        page.reload()
        assert _group_of(page, key_of(bertta)) == expected
        assert _group_of(page, key_of(cecilia)) == ""
    finally:
        context.close()
    saved = world.round(planned["id"])
    where = {m["key"]: g["id"] for g in saved["groups"] for m in g["members"]}
    assert str(where[key_of(aino)]) == target
    assert str(where[key_of(bertta)]) == expected
    assert key_of(cecilia) in {p["key"] for p in saved["unplaced"]}


def test_participant_phone_shows_the_group_when_it_starts(
    app: Flask, world: World, live: LiveServer, live_server: str, browser: Any
) -> None:
    planned = world.plan(sizing="count", groups=2)[0]
    context = _context(app, browser, world.client("aino"), 390)
    try:
        page = context.new_page()
        page.goto(f"{live_server}/sessions/{world.session.id}/my-group?lang=en")
        page.wait_for_selector("[data-live-state][data-state='live']")
        assert "not ready yet" in page.inner_text("[data-my-group]")
        world.act(planned["id"], "lock")
        world.act(planned["id"], "start")
        page.wait_for_selector(".group-title", timeout=5000)
        assert page.is_visible("a.room-button")
        assert "Aino Aalto" in page.inner_text(".members")
        _shot(page, "my-group-390")
    finally:
        context.close()


def test_pages_at_both_widths(
    app: Flask, world: World, live: LiveServer, live_server: str, browser: Any
) -> None:
    """The planner, the matrix and a round render at 1280 and 390 px (screenshots), and on a
    phone the page never scrolls sideways (wide tables scroll inside their own box)."""
    held = world.plan(world.past, sizing="count", groups=2)[0]
    world.act(held["id"], "lock")
    world.act(held["id"], "start")
    world.act(held["id"], "close")
    world.plan(sizing="count", groups=2)
    for width in (1280, 390):
        context = _context(app, browser, world.client("facilitator"), width)
        try:
            page = context.new_page()
            page.goto(f"{live_server}/sessions/{world.session.id}/breakouts?lang=en")
            assert page.is_visible("text=Plan a round")
            _shot(page, f"planner-{width}")
            _fits(page, width)
            page.goto(
                f"{live_server}/programmes/{world.programme.id}/breakouts"
                f"?group={world.group.id}&lang=en"
            )
            assert page.locator("table.met-matrix td.met-1").count() > 0
            _shot(page, f"matrix-{width}")
            _fits(page, width)
            rounds = (
                world.client("facilitator")
                .get(f"/api/v1/sessions/{world.session.id}/breakouts")
                .get_json()
            )
            page.goto(f"{live_server}/breakouts/rounds/{rounds[-1]['id']}?lang=en")
            page.wait_for_selector(".bgroup")
            _shot(page, f"round-met-{width}")
            _fits(page, width)
        finally:
            context.close()


def _propose_two_topics(world: World) -> None:
    """Aino proposes "Pricing" and "Marketing" on the session's topic board."""
    board = world.client("aino").get(f"/api/v1/sessions/{world.session.id}/board").get_json()
    for title in ("Pricing", "Marketing"):
        made = world.client("aino").post(
            f"/api/v1/boards/{board['board']['id']}/topics", json={"title": title}
        )
        assert made.status_code == 201


def test_topic_places_update_live_and_a_pick_is_saved_on_the_phone(
    app: Flask, world: World, live: LiveServer, live_server: str, browser: Any
) -> None:
    _propose_two_topics(world)
    planned = world.plan(kind="topics", topics=2)[0]
    context = _context(app, browser, world.client("aino"), 390)
    try:
        page = context.new_page()
        page.goto(f"{live_server}/sessions/{world.session.id}/my-group?lang=en")
        page.wait_for_selector("[data-live-state][data-state='live']")
        first = planned["groups"][0]
        # Bertta chooses on her own phone; Aino sees the place taken without reloading.
        picked = world.client("bertta").post(f"/api/v1/breakouts/groups/{first['id']}/pick")
        assert picked.status_code == 200
        page.wait_for_selector("text=1 of 4 places taken", timeout=5000)
        page.click(f"form[data-pick-form]:has(input[value='{first['id']}']) button")
        page.wait_for_selector(".choice-row.mine", timeout=5000)
        assert "2 of 4 places taken" in page.inner_text(".choice-row.mine")
        _shot(page, "topics-390")
    finally:
        context.close()
    mine = world.client("aino").get(f"/api/v1/sessions/{world.session.id}/my-group").get_json()
    assert next(c for c in mine["choices"] if c["group_id"] == first["id"])["mine"] is True


def test_side_panel_shows_my_group_with_a_bearer_token_only(
    app: Flask, db: Any, world: World, live: LiveServer, live_server: str, browser: Any
) -> None:
    """Inside Zoom or Teams there are no cookies: the panel's "My group" tab works from the
    token in the address fragment, follows the round live and keeps the token across tabs."""
    from tests.board.conftest import token_for

    aino = world.person("aino")
    token = token_for(app, db, aino)
    planned = world.plan(sizing="count", groups=2)[0]
    context = browser.new_context(viewport={"width": 320, "height": 640})
    context.set_default_timeout(5000)
    try:
        page = context.new_page()
        panel = f"{live_server}/panel/sessions/{world.session.id}/group?lang=en"
        page.goto(f"{panel}#token={token}")
        page.wait_for_selector("[data-live-state][data-state='live']")
        assert "not ready yet" in page.inner_text("[data-my-group]")
        assert "#token" not in page.url, "the token is taken out of the address"
        world.act(planned["id"], "lock")
        world.act(planned["id"], "start")
        page.wait_for_selector(".group-title")
        assert "Aino Aalto" in page.inner_text(".members")
        assert page.is_visible("a.room-button")
        notes = page.get_by_role("link", name="Our shared notes")
        assert f"/panel/sessions/{world.session.id}/notes?group=" in notes.get_attribute("href")
        assert page.evaluate("document.documentElement.scrollWidth") <= 320
        _shot(page, "panel-my-group-320")
        # Another tab of the panel, and back: the tab's token goes along.
        page.get_by_role("link", name="Topic board").click()
        page.wait_for_selector("[data-live-state][data-state='live']")
        page.get_by_role("link", name="My group").click()
        page.wait_for_selector(".group-title")
    finally:
        context.close()

    stranger = browser.new_context(viewport={"width": 320, "height": 640})
    try:
        page = stranger.new_page()
        page.goto(f"{live_server}/panel/sessions/{world.session.id}/group?lang=en")
        page.wait_for_selector("[data-denied]:visible")
        assert page.locator("[data-my-group]").count() == 0
    finally:
        stranger.close()


def test_a_topic_is_chosen_and_taken_back_in_the_side_panel(
    app: Flask, db: Any, world: World, live: LiveServer, live_server: str, browser: Any
) -> None:
    from tests.board.conftest import token_for

    _propose_two_topics(world)
    first = world.plan(kind="topics", topics=2)[0]["groups"][0]
    token = token_for(app, db, world.person("aino"))
    context = browser.new_context(viewport={"width": 320, "height": 640})
    context.set_default_timeout(5000)
    my_group = f"/api/v1/sessions/{world.session.id}/my-group"
    try:
        page = context.new_page()
        page.goto(f"{live_server}/panel/sessions/{world.session.id}/group?lang=en#token={token}")
        chosen = f"form[data-pick-form]:has(input[value='{first['id']}'])"
        page.click(f"{chosen} button:has-text('Choose')")
        page.wait_for_selector(".choice-row.mine")
        choices = world.client("aino").get(my_group).get_json()["choices"]
        assert next(c for c in choices if c["group_id"] == first["id"])["mine"] is True
        page.click(f"{chosen} button:has-text('Take back')")
        page.wait_for_selector(".choice-row.mine", state="detached")
        choices = world.client("aino").get(my_group).get_json()["choices"]
        assert not any(c["mine"] for c in choices)
    finally:
        context.close()
