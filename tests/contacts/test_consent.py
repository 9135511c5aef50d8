"""Follow-up contacts: details are hidden until both accept, and only what each shares;
a withdrawn contact disappears; facilitators see counts, never private notes."""

from __future__ import annotations

from typing import Any

from tests.contacts.conftest import World


def _share(world: World, name: str, **choices: Any) -> None:
    body = {
        "share_email": False,
        "phone": "",
        "share_phone": False,
        "website": "",
        "share_website": False,
        "linkedin": "",
        "share_linkedin": False,
        "reminders": True,
        **choices,
    }
    response = world.client(name).put("/api/v1/me/preferences", json=body)
    assert response.status_code == 200, response.get_json()


def _ask(world: World, who: str, whom: Any, kind: str = "lunch", note: str = "") -> dict:
    response = world.client(who).post(
        "/api/v1/contacts", json={"person_id": whom.id, "kind": kind, "note": note}
    )
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def test_details_are_hidden_until_both_accept_and_then_only_what_each_shares(world: World) -> None:
    _share(world, "alice", share_email=True, phone="040 123 4567", share_phone=False)
    _share(
        world,
        "bob",
        share_phone=True,
        phone="050 765 4321",
        website="https://berg.example",
        share_website=True,
        linkedin="https://www.linkedin.com/in/bob",
        share_linkedin=False,
    )

    asked = _ask(world, "alice", world.bob, "sparring", note="Good at pricing")
    assert asked["status"] == "pending"
    assert asked["details"] == {"email": None, "phone": None, "website": None, "linkedin": None}
    assert asked["session_id"] == world.session.id

    waiting = world.client("bob").get("/api/v1/me/contacts").get_json()["waiting"]
    assert [(c["person"]["name"], c["kind"]) for c in waiting] == [("Alice Aho", "sparring")]
    assert waiting[0]["my_note"] == ""  # Alice's note is hers alone
    assert "Good at pricing" not in world.client("bob").get("/me/contacts").get_data(as_text=True)
    assert waiting[0]["details"]["email"] is None

    accepted = (
        world.client("bob")
        .post(f"/api/v1/contacts/{asked['id']}/accept", json={"note": "Met at session 1"})
        .get_json()
    )
    assert accepted["status"] == "accepted"
    # Bob sees Alice's email (shared), not her phone (not ticked).
    assert accepted["details"] == {
        "email": world.alice.email,
        "phone": None,
        "website": None,
        "linkedin": None,
    }
    alice_view = world.client("alice").get("/api/v1/me/contacts").get_json()["mutual"][0]
    assert alice_view["details"] == {
        "email": None,
        "phone": "050 765 4321",
        "website": "https://berg.example",
        "linkedin": None,
    }
    assert alice_view["my_note"] == "Good at pricing"
    page = world.client("alice").get("/me/contacts").get_data(as_text=True)
    assert "050 765 4321" in page and "linkedin.com/in/bob" not in page
    assert "Met at session 1" not in page


def test_declined_requests_share_nothing(world: World) -> None:
    _share(world, "bob", share_email=True)
    asked = _ask(world, "alice", world.bob)
    declined = world.client("bob").post(f"/api/v1/contacts/{asked['id']}/decline").get_json()
    assert declined["status"] == "declined"
    sent = world.client("alice").get("/api/v1/me/contacts").get_json()
    assert sent["mutual"] == [] and sent["sent"][0]["status"] == "declined"
    assert sent["sent"][0]["details"]["email"] is None
    assert world.client("bob").get("/api/v1/me/contacts").get_json()["waiting"] == []


def test_asking_back_for_the_same_is_consent(world: World) -> None:
    _share(world, "alice", share_email=True)
    first = _ask(world, "alice", world.bob, "customer")
    second = (
        world.client("bob")
        .post("/api/v1/contacts", json={"person_id": world.alice.id, "kind": "customer"})
        .get_json()
    )
    assert second["id"] == first["id"] and second["status"] == "accepted"
    assert second["details"]["email"] == world.alice.email


def test_a_withdrawn_contact_disappears_for_both(world: World) -> None:
    _share(world, "alice", share_email=True)
    _share(world, "bob", share_email=True)
    asked = _ask(world, "alice", world.bob, note="private")
    world.client("bob").post(f"/api/v1/contacts/{asked['id']}/accept", json={})
    assert world.client("bob").delete(f"/api/v1/contacts/{asked['id']}").status_code == 204
    for name in ("alice", "bob"):
        contacts = world.client(name).get("/api/v1/me/contacts").get_json()
        assert contacts == {"waiting": [], "sent": [], "mutual": []}
    assert world.alice.email not in world.client("bob").get("/me/contacts").get_data(as_text=True)
    # Withdrawn, it can be asked again.
    assert _ask(world, "alice", world.bob)["status"] == "pending"


def test_only_people_of_ones_own_group_can_be_marked(world: World) -> None:
    for person in (world.dave, world.olli, world.alice):  # other group, other programme, self
        response = world.client("alice").post(
            "/api/v1/contacts", json={"person_id": person.id, "kind": "lunch"}
        )
        assert response.status_code == 422
    _ask(world, "alice", world.bob)
    again = world.client("alice").post(
        "/api/v1/contacts", json={"person_id": world.bob.id, "kind": "lunch"}
    )
    assert again.status_code == 409
    bad_kind = world.client("alice").post(
        "/api/v1/contacts", json={"person_id": world.bob.id, "kind": "friend"}
    )
    assert bad_kind.status_code == 422
    candidates = world.client("alice").get("/api/v1/me/contacts/candidates").get_json()
    assert {c["name"] for c in candidates} == {"Bob Berg", "Carol Cedar"}


def test_others_cannot_touch_a_contact(world: World) -> None:
    asked = _ask(world, "alice", world.bob)
    for name in ("carol", "olli"):
        assert (
            world.client(name).post(f"/api/v1/contacts/{asked['id']}/accept", json={}).status_code
            == 404
        )
        assert world.client(name).delete(f"/api/v1/contacts/{asked['id']}").status_code == 404
    # The requester cannot accept on the other's behalf.
    assert (
        world.client("alice").post(f"/api/v1/contacts/{asked['id']}/accept", json={}).status_code
        == 404
    )
    assert world.client("facilitator").get("/api/v1/me/contacts").status_code == 403


def test_facilitators_see_counts_by_kind_never_private_notes(world: World) -> None:
    first = _ask(world, "alice", world.bob, "lunch", note="SECRET-NOTE-1")
    world.client("bob").post(
        f"/api/v1/contacts/{first['id']}/accept", json={"note": "SECRET-NOTE-2"}
    )
    _ask(world, "carol", world.alice, "customer", note="SECRET-NOTE-3")

    summary = world.client("facilitator").get(
        f"/api/v1/programmes/{world.programme.id}/contacts/summary"
    )
    counts = {k["kind"]: (k["mutual"], k["pending"]) for k in summary.get_json()["by_kind"]}
    assert counts == {
        "lunch": (1, 0),
        "sparring": (0, 0),
        "business": (0, 0),
        "customer": (0, 1),
        "other": (0, 0),
    }
    assert summary.get_json()["with_mutual_contact"] == 2
    assert summary.get_json()["participants"] == 4
    page = (
        world.client("facilitator")
        .get(f"/programmes/{world.programme.id}/contacts?session={world.session.id}")
        .get_data(as_text=True)
    )
    for text in (summary.get_data(as_text=True), page):
        assert "SECRET-NOTE" not in text
        assert "Alice" not in text and "Bob" not in text
    assert (
        world.client("alice")
        .get(f"/api/v1/programmes/{world.programme.id}/contacts/summary")
        .status_code
        == 401
    )


def test_the_contacts_page_flow_without_javascript(world: World) -> None:
    alice, bob = world.client("alice"), world.client("bob")
    assert alice.get("/me/contacts").status_code == 200
    made = alice.post(
        "/me/contacts", data={"person_id": world.bob.id, "kind": "business", "note": "n"}
    )
    assert made.status_code == 303
    page = bob.get("/me/contacts").get_data(as_text=True)
    assert "Alice Aho would like to keep in touch" in page
    contact_id = bob.get("/api/v1/me/contacts").get_json()["waiting"][0]["id"]
    assert bob.post(f"/contacts/{contact_id}/accept", data={"note": ""}).status_code == 303
    assert bob.post(f"/contacts/{contact_id}/note", data={"note": "Call in May"}).status_code == 303
    assert "Call in May" in bob.get("/me/contacts").get_data(as_text=True)
    assert "Call in May" not in alice.get("/me/contacts").get_data(as_text=True)
    invalid = alice.post("/me/contacts", data={"person_id": "", "kind": "lunch"})
    assert invalid.status_code == 422
    duplicate = alice.post("/me/contacts", data={"person_id": world.bob.id, "kind": "business"})
    assert duplicate.status_code == 409
    assert alice.post(f"/contacts/{contact_id}/withdraw").status_code == 303
    assert bob.get("/api/v1/me/contacts").get_json()["mutual"] == []
