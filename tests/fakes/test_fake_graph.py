"""The fake Graph refuses what Graph refuses: every request is checked against
graph-openapi.json with closed schemas, plus the service's own rules (NOTES §8)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.fakes.graph import FakeGraph
from tests.fakes.graph.fixture import shared_fake_graph
from tests.fakes.graph.validation import SPEC_PATH, SPEC_SHA256

#: Where the shared specs may sit: beside the repository (CI) or the workplace's copy.
SHARED = [
    Path(__file__).resolve().parents[3] / "shared/specs/teams/graph-openapi.json",
    Path("/work/shared/specs/teams/graph-openapi.json"),
]
EVENT = {
    "subject": "Tapaaminen",
    "start": {"dateTime": "2027-02-01T09:00:00", "timeZone": "FLE Standard Time"},
    "end": {"dateTime": "2027-02-01T11:00:00", "timeZone": "FLE Standard Time"},
    "isOnlineMeeting": True,
    "onlineMeetingProvider": "teamsForBusiness",
    "body": {"contentType": "HTML", "content": "<p>Hei</p>"},
}


@pytest.fixture()
def graph() -> Iterator[Any]:
    fake = shared_fake_graph()
    fake.reset()
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {fake.issue_token()}"
    session.fake = fake  # type: ignore[attr-defined]
    session.url = fake.graph_url  # type: ignore[attr-defined]
    yield session
    fake.reset()


def _fake(graph: Any) -> FakeGraph:
    fake: FakeGraph = graph.fake
    return fake


def test_the_description_is_the_shared_one() -> None:
    digest = hashlib.sha256(SPEC_PATH.read_bytes()).hexdigest()
    assert digest == SPEC_SHA256
    for shared in SHARED:
        if shared.exists():
            assert shared.read_bytes() == SPEC_PATH.read_bytes()


def test_a_good_event_is_made_with_graphs_ids(graph: Any) -> None:
    answer = graph.post(f"{graph.url}/me/events", json=EVENT)
    assert answer.status_code == 201, answer.text
    event = answer.json()
    assert event["id"].startswith("AAMkAD") and event["id"].endswith("=")
    assert event["start"] == {"dateTime": "2027-02-01T07:00:00.0000000", "timeZone": "UTC"}
    assert event["body"]["contentType"] == "html"  # enum members match in any case
    assert answer.headers["request-id"]
    assert _fake(graph).violations == [] and _fake(graph).self_violations == []


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        ({**EVENT, "subjekt": "typo"}, "body.subjekt: property is not declared"),
        ({**EVENT, "isOnlineMeeting": "yes"}, "is not a boolean"),
        ({**EVENT, "attendees": [{"emailAddress": {"adress": "a@x.fi"}}]}, "adress"),
        ({**EVENT, "showAs": "away"}, "is not one of"),
        ({k: v for k, v in EVENT.items() if k != "end"}, "needs start and end"),
        ({**EVENT, "start": {"dateTime": "2027-02-01T09:00:00", "timeZone": "Mars"}}, "Mars"),
    ],
)
def test_bodies_graph_would_refuse_are_violations(graph: Any, body: Any, problem: str) -> None:
    answer = graph.post(f"{graph.url}/me/events", json=body)
    assert answer.status_code == 400
    error = answer.json()["error"]
    assert error["code"] and error["message"] and error["innerError"]["request-id"]
    [violation] = _fake(graph).take_violations()
    assert problem in violation


def test_required_fields_and_queries_are_checked(graph: Any) -> None:
    fake = _fake(graph)
    assert graph.post(f"{graph.url}/me/onlineMeetings/createOrGet", json={}).status_code == 400
    assert "externalId: required property is missing" in fake.take_violations()[0]
    assert graph.get(f"{graph.url}/me/onlineMeetings", params={"top": 1}).status_code == 400
    assert "'top' is not declared" in fake.take_violations()[0]
    # NOTES §8: the list needs $filter; the fake says so as Graph does.
    answer = graph.get(f"{graph.url}/me/onlineMeetings")
    assert answer.status_code == 400 and "Filter expression" in answer.json()["error"]["message"]
    assert graph.get(f"{graph.url}/subscriptions", params={"$select": "nope"}).status_code == 400
    assert "'nope' is not a property" in fake.take_violations()[0]
    assert graph.get(f"{graph.url}/me/nothing").status_code == 400
    assert "not in graph-openapi.json" in fake.take_violations()[0]


def test_action_parameters_match_in_any_case(graph: Any) -> None:
    fake = _fake(graph)
    for spelling in ("Comment", "comment"):
        event = graph.post(f"{graph.url}/me/events", json=EVENT).json()
        answer = graph.post(f"{graph.url}/me/events/{event['id']}/cancel", json={spelling: "Pois"})
        assert answer.status_code == 202  # NOTES §8: 202 where 204 is declared
    assert fake.violations == [] and fake.self_violations == []


def test_abstract_types_need_odata_type(graph: Any) -> None:
    message = {
        "subject": "Muistiinpanot",
        "toRecipients": [{"emailAddress": {"address": "a@x.fi"}}],
        "attachments": [{"name": "notes.txt", "contentBytes": "SGVp"}],
    }
    assert graph.post(f"{graph.url}/me/sendMail", json={"message": message}).status_code == 400
    assert "attachment is abstract" in _fake(graph).take_violations()[0]
    message["attachments"][0]["@odata.type"] = "#microsoft.graph.fileAttachment"  # type: ignore[index]
    assert graph.post(f"{graph.url}/me/sendMail", json={"message": message}).status_code == 202


def test_an_expired_token_gets_401(graph: Any) -> None:
    _fake(graph).expire_tokens()
    answer = graph.get(f"{graph.url}/subscriptions")
    assert answer.status_code == 401
    assert answer.json()["error"]["code"] == "InvalidAuthenticationToken"
    missing = requests.get(f"{graph.url}/subscriptions")
    assert missing.status_code == 401
    assert "no bearer token" in _fake(graph).take_violations()[0]


def test_a_subscription_needs_a_working_endpoint_and_a_short_life(graph: Any) -> None:
    fake = _fake(graph)
    body = {
        "changeType": "updated,deleted",
        "notificationUrl": "http://127.0.0.1:9/nothing-listens",
        "resource": "me/events",
        "expirationDateTime": "2999-01-01T00:00:00Z",
        "clientState": "s",
    }
    assert graph.post(f"{graph.url}/subscriptions", json=body).status_code == 400
    assert "4230 minutes" in fake.take_violations()[0]
    body["notificationUrl"] = "http://kollega.example/hook"
    assert graph.post(f"{graph.url}/subscriptions", json=body).status_code == 400
    assert "must be an https URL" in fake.take_violations()[0]
