"""Notes per breakout group work with real groups: `notes.membership.group_members_of` reads
the announced groups, so members write their group's notes and others cannot."""

from __future__ import annotations

from typing import Any

from flask import Flask

from companion.core.db import Db
from companion.notes import membership
from tests.breakouts.conftest import World, key_of


def test_group_members_of_follows_announced_groups(app: Flask, db: Db, world: World) -> None:
    planned = world.plan(sizing="count", groups=2)[0]
    group = planned["groups"][0]
    members = {m["key"] for m in group["members"]}
    with app.app_context():
        # A draft is not announced yet: nobody is a member.
        assert membership.group_members_of(db, world.session, group["id"]) == set()
    world.act(planned["id"], "lock")
    db.rollback()
    with app.app_context():
        found = membership.group_members_of(db, world.session, group["id"])
        assert {f"p:{i}" for i in found} == members
        # Another session's id, an unknown id or an impossible one: nobody.
        assert membership.group_members_of(db, world.later, group["id"]) == set()
        assert membership.group_members_of(db, world.session, 987654) == set()
        assert membership.group_members_of(db, world.session, 2**40) == set()


def test_group_notes_are_written_by_their_members_only(world: World) -> None:
    planned = world.plan(sizing="count", groups=2)[0]
    world.act(planned["id"], "lock")
    world.act(planned["id"], "start")
    group = planned["groups"][0]
    inside = next(p for p in world.people if key_of(p) in {m["key"] for m in group["members"]})
    outside = next(p for p in world.people if key_of(p) not in {m["key"] for m in group["members"]})
    url = f"/sessions/{world.session.id}/notes/groups/{group['id']}"
    member: Any = world.client(inside.name.split()[0].lower())
    stranger: Any = world.client(outside.name.split()[0].lower())
    assert member.get(url).status_code == 200
    assert stranger.get(url).status_code == 404
    # The participant's page links to the group's notes.
    page = member.get(f"/sessions/{world.session.id}/my-group").get_data(as_text=True)
    assert url in page


def test_the_notes_page_offers_the_own_group_once_the_round_is_announced(world: World) -> None:
    planned = world.plan(sizing="count", groups=2)[0]
    first, second = planned["groups"]
    inside = next(p for p in world.people if key_of(p) in {m["key"] for m in first["members"]})
    client: Any = world.client(inside.name.split()[0].lower())
    page_url = f"/sessions/{world.session.id}/notes"
    own_url = f"/sessions/{world.session.id}/notes/groups/{first['id']}"
    other_url = f"/sessions/{world.session.id}/notes/groups/{second['id']}"
    # A draft is not announced: no small group's notes yet.
    assert own_url not in client.get(page_url).get_data(as_text=True)
    world.act(planned["id"], "lock")
    page = client.get(page_url).get_data(as_text=True)
    # Before anyone has written there, the member is offered their own group's notes, by name,
    # and not the other group's.
    assert own_url in page and first["name"] in page
    assert other_url not in page
    assert client.get(own_url).status_code == 200


def test_the_side_panel_opens_the_running_groups_notes(world: World) -> None:
    planned = world.plan(sizing="count", groups=2)[0]
    group = planned["groups"][0]
    inside = next(p for p in world.people if key_of(p) in {m["key"] for m in group["members"]})
    member: Any = world.client(inside.name.split()[0].lower())
    mine = f"/api/v1/sessions/{world.session.id}/notes?mine=true"

    def opened(client: Any) -> int | None:
        response = client.get(mine)
        assert response.status_code == 200, response.get_json()
        found: int | None = response.get_json()["breakout_group_id"]
        return found

    panel = member.get(f"/panel/sessions/{world.session.id}/notes").get_data(as_text=True)
    assert "mine=true" in panel
    # A draft or a locked round is not running: the whole group's notes.
    assert opened(member) is None
    world.act(planned["id"], "lock")
    assert opened(member) is None
    world.act(planned["id"], "start")
    assert opened(member) == group["id"]
    # An explicit group wins, the facilitator has no group of their own, and a closed round
    # sends everyone back to the whole group's notes.
    facilitator: Any = world.client("facilitator")
    other = planned["groups"][1]["id"]
    explicit = facilitator.get(f"{mine}&group={other}")
    assert explicit.get_json()["breakout_group_id"] == other
    assert opened(facilitator) is None
    world.act(planned["id"], "close")
    assert opened(member) is None


def test_the_notes_page_opens_on_the_running_group_like_the_panel(world: World) -> None:
    planned = world.plan(sizing="count", groups=2)[0]
    group = planned["groups"][0]
    inside = next(p for p in world.people if key_of(p) in {m["key"] for m in group["members"]})
    member: Any = world.client(inside.name.split()[0].lower())
    page_url = f"/sessions/{world.session.id}/notes"
    own_url = f"/sessions/{world.session.id}/notes/groups/{group['id']}"
    # Before the round runs: the whole group's notes.
    assert member.get(page_url).status_code == 200
    world.act(planned["id"], "lock")
    world.act(planned["id"], "start")
    opened = member.get(page_url)
    assert opened.status_code == 302 and opened.location.endswith(own_url)
    # The tabs still lead to the whole group's notes, which stay there.
    page = member.get(own_url).get_data(as_text=True)
    whole = f"/sessions/{world.session.id}/notes?whole=1"
    assert whole in page
    plenary = member.get(whole)
    assert plenary.status_code == 200 and 'aria-current="page"' in plenary.get_data(as_text=True)
    # Writing there comes back to the whole group's notes, not to the small group's.
    added = member.post(whole, data={"action": "add_item", "body": "for everyone"})
    assert added.status_code == 303 and "whole=1" in added.location
    # Facilitators have no group of their own; a closed round sends everyone back.
    assert world.client("facilitator").get(page_url).status_code == 200
    world.act(planned["id"], "close")
    assert member.get(page_url).status_code == 200
