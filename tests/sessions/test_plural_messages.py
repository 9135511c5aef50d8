"""Counts in the facilitator's messages come in the right plural form ("1 session", not
"1 sessions"), in English and Finnish."""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient


@pytest.mark.parametrize(
    ("lang", "one", "six", "invited"),
    [
        (
            "en",
            "1 session scheduled.",
            "6 sessions scheduled.",
            "1 invitation is on its way.",
        ),
        (
            "fi",
            "1 tapaaminen aikataulutettu.",
            "6 tapaamista aikataulutettu.",
            "1 kutsu on matkalla.",
        ),
    ],
)
def test_schedule_and_invitation_counts(
    client: FlaskClient,
    make_programme: Any,
    make_participant: Any,
    sign_in: Any,
    lang: str,
    one: str,
    six: str,
    invited: str,
) -> None:
    programme = make_programme()
    sign_in(client, programme.roles[0].facilitator)
    group = programme.groups[0]
    person = make_participant(programme, group=group)
    form = {
        "group_id": group.id,
        "first_date": "2027-02-15",
        "start_time": "09:00",
        "every_weeks": "3",
        "duration_minutes": "120",
    }
    for count, expected in (("1", one), ("6", six)):
        posted = client.post(
            f"/programmes/{programme.id}/sessions?lang={lang}",
            data={**form, "count": count},
            follow_redirects=True,
        )
        assert expected in posted.get_data(as_text=True)
    sent = client.post(
        f"/programmes/{programme.id}/invitations?lang={lang}",
        data={"participant_id": str(person.id)},
        follow_redirects=True,
    )
    assert invited in sent.get_data(as_text=True)
