"""Who may do what: every route of the app, every method, as every role (issue 13).

The site of `conftest.site` (one of everything in a programme of organisation A) is the
target; each role sends each route once with that site's ids, from a fresh browser. A JSON operation
whose body (or query) the API checks before it looks the row up is sent a valid one, from
`VALID`, so that the row's access is what decides; other routes get an empty body. The answer
is put in a class:

    A  allowed: past the access checks (2xx, 3xx elsewhere, 405, 409, 429)
    V  400 or 422: the empty body of a form (checked after access), or a valid body that
       the operation refuses for what it says (merging a topic into itself), or a request
       that cannot be valid (an OAuth callback without its parameters)
    U  401, or a page's redirect to the sign-in
    F  403
    N  404
    S  503: an integration this installation has not set up (Zoom's app and webhook)

and compared with `EXPECTED`, one string of classes per route in the order of `ROLES`. A
route without a row fails the test, so a new route must be placed here by someone who
thought about who may use it. Record the current answers (to review, never to copy blindly)
with `KOLLEGA_AUTHZ_RECORD=/tmp/table.py pytest tests/hardening/test_authz_matrix.py`.

Requests run in this order: routes that delete last, and within one route
the roles the table refuses before those it allows; so a row deleted by an allowed role
cannot hide a leak (an allowed role after a successful delete may find it gone: 404).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from werkzeug.routing import Rule

from companion.core.db import Db
from companion.programmes.models import Participant, Programme
from tests.conftest import _Client
from tests.hardening.conftest import Site
from tests.notes.conftest import enter_as

pytestmark = pytest.mark.slow

#: nobody; a participant of the site's group; of the programme's other group; of another
#: programme of the same organisation; the facilitator of that other programme; a
#: facilitator of another organisation; the administrator of the site's organisation.
ROLES = (
    "nobody",
    "member",
    "other_group",
    "other_programme",
    "other_facilitator",
    "other_organisation",
    "admin",
)

# fmt: off
EXPECTED: dict[str, str] = {
    # route: nobody, member, other group, other programme, other facilitator, other
    # organisation, admin. Reviewed by hand (issue 13): every A of another side is a page
    # without rows of the site (own pages, token links, the side panel's empty shell).
    "DELETE /api/v1/actions/<int:action_id>": "UANNFNA",
    "DELETE /api/v1/agenda/<int:item_id>": "UUUUFNA",
    "DELETE /api/v1/agenda/<int:item_id>/expert": "UUUUFNA",
    "DELETE /api/v1/breakouts/groups/<int:group_id>": "UUUUNNA",
    "DELETE /api/v1/breakouts/groups/<int:group_id>/pick": "UANNNNN",
    "DELETE /api/v1/breakouts/rounds/<int:round_id>": "UUUUNNA",
    "DELETE /api/v1/contacts/<int:contact_id>": "UANNFFF",
    "DELETE /api/v1/notes/items/<int:item_id>": "UANNFNA",
    "DELETE /api/v1/participants/<int:participant_id>": "UUUUFNA",
    "DELETE /api/v1/programmes/<int:programme_id>/breakouts/rules/<int:rule_id>": "UUUUFNA",
    "DELETE /api/v1/topics/<int:topic_id>": "UANNFNA",
    "DELETE /api/v1/topics/<int:topic_id>/vote": "UANNFNA",
    "GET /": "AAAAAAA",
    "GET /account/password": "UUUUAAA",
    "GET /agenda/<int:item_id>/edit": "UUUUFNA",
    "GET /agenda/<int:item_id>/expert": "UUUUFNA",
    "GET /api/openapi.json": "AAAAAAA",
    "GET /api/v1/agenda/<int:item_id>/expert": "UUUUFNN",
    "GET /api/v1/agenda/<int:item_id>/materials": "UUUUFNA",
    "GET /api/v1/boards/<int:board_id>": "UANNFNA",
    "GET /api/v1/breakouts/rounds/<int:round_id>": "UUUUNNA",
    "GET /api/v1/groups/<int:group_id>": "UUUUFNA",
    "GET /api/v1/live/token": "UANNNNA",
    "GET /api/v1/me/actions": "UAAAFFF",
    "GET /api/v1/me/contacts": "UAAAFFF",
    "GET /api/v1/me/contacts/candidates": "UAAAFFF",
    "GET /api/v1/me/preferences": "UAAAFFF",
    "GET /api/v1/notes/<int:space_id>": "UANNFNA",
    "GET /api/v1/notes/<int:space_id>/events": "UANNFNA",
    "GET /api/v1/notes/<int:space_id>/summary/revisions": "UANNFNA",
    "GET /api/v1/participants/<int:participant_id>": "UUUUFNA",
    "GET /api/v1/programmes": "UUUUAAA",
    "GET /api/v1/programmes/<int:programme_id>": "UUUUFNA",
    "GET /api/v1/programmes/<int:programme_id>/breakouts/met": "UUUUFNA",
    "GET /api/v1/programmes/<int:programme_id>/contacts/summary": "UUUUFNA",
    "GET /api/v1/programmes/<int:programme_id>/groups": "UUUUFNA",
    "GET /api/v1/programmes/<int:programme_id>/outcomes": "UUUUFNA",
    "GET /api/v1/programmes/<int:programme_id>/participants": "UUUUFNA",
    "GET /api/v1/programmes/<int:programme_id>/sessions": "UUUUFNA",
    "GET /api/v1/sessions/<int:session_id>": "UUUUFNA",
    "GET /api/v1/sessions/<int:session_id>/agenda": "UANNFNA",
    "GET /api/v1/sessions/<int:session_id>/attendance": "UUUUFNA",
    "GET /api/v1/sessions/<int:session_id>/board": "UANNFNA",
    "GET /api/v1/sessions/<int:session_id>/breakouts": "UUUUFNA",
    "GET /api/v1/sessions/<int:session_id>/feedback": "UANNNNN",
    "GET /api/v1/sessions/<int:session_id>/my-group": "UANNFNN",
    "GET /api/v1/sessions/<int:session_id>/notes": "UANNFNA",
    "GET /audit": "UUUUFFA",
    "GET /breakouts/rounds/<int:round_id>": "UUUUNNA",
    "GET /forgot-password": "AAAAAAA",
    "GET /groups/<int:group_id>": "UUUUFNA",
    "GET /healthz": "AAAAAAA",
    "GET /imports/<token>": "UUUUNNN",
    "GET /intake/<token>": "AAAAAAA",
    "GET /integrations/teams/callback": "NNNNNNN",
    "GET /integrations/teams/config": "NNNNNNN",
    "GET /integrations/teams/connection": "UUUUAAA",
    "GET /integrations/teams/sessions/<int:session_id>": "UUUUFNN",
    "GET /integrations/teams/sign-in": "NNNNNNN",
    "GET /integrations/teams/tab": "NNNNNNN",
    "GET /integrations/zoom/app": "SSSSSSS",
    "GET /integrations/zoom/callback": "VVVVVVV",
    "GET /integrations/zoom/connection": "UUUUAAA",
    "GET /integrations/zoom/sessions/<int:session_id>": "UUUUFNN",
    "GET /integrations/zoom/sessions/<int:session_id>/start": "UUUUFNN",
    "GET /integrations/zoom/sign-in": "NNNNNNN",
    "GET /interest": "UUUUAAA",
    "GET /interest/<token>": "AAAAAAA",
    "GET /interest/invite": "UUUUAAA",
    "GET /invitation/<token>": "AAAAAFA",
    "GET /j/<token>": "AAAAAAA",
    "GET /j/<token>/sessions.ics": "AAAAAAA",
    "GET /materials/<int:material_id>": "UANNFNA",
    "GET /me": "UAAAAAA",
    "GET /me/actions": "UAAAAAA",
    "GET /me/contacts": "UAAAAAA",
    "GET /me/data": "UAAAUUU",
    "GET /me/data.json": "UAAAUUU",
    "GET /me/data/erase": "UAAAUUU",
    "GET /me/group": "UANNAAA",
    "GET /me/offers-needs": "UAAAAAA",
    "GET /me/preferences": "UAAAAAA",
    "GET /me/reminders": "UAAAAAA",
    "GET /me/t/<token>": "AAAAAAA",
    "GET /metrics": "AAAAAAA",
    "GET /notes/<int:space_id>/revisions": "UANNFNA",
    "GET /notes/items/<int:item_id>/edit": "UANNFNA",
    "GET /outbox": "UUUUAAA",
    "GET /outbox/<int:message_id>": "UUUUNNA",
    "GET /outbox/<int:message_id>.eml": "UUUUNNA",
    "GET /outbox/<int:message_id>/html": "UUUUNNA",
    "GET /panel/sessions/<int:session_id>": "AAAAAAA",
    "GET /panel/sessions/<int:session_id>/agenda": "AAAAAAA",
    "GET /panel/sessions/<int:session_id>/group": "AAAAAAA",
    "GET /panel/sessions/<int:session_id>/notes": "AAAAAAA",
    "GET /participants/<int:participant_id>/data.json": "UUUUFNA",
    "GET /participants/<int:participant_id>/edit": "UUUUFNA",
    "GET /participants/<int:participant_id>/offers-needs": "UUUUFNA",
    "GET /programmes": "UUUUAAA",
    "GET /programmes/<int:programme_id>": "UUUUFNA",
    "GET /programmes/<int:programme_id>/breakouts": "UUUUFNA",
    "GET /programmes/<int:programme_id>/contacts": "UUUUFNA",
    "GET /programmes/<int:programme_id>/copy": "UUUUFNA",
    "GET /programmes/<int:programme_id>/delete": "UUUUFNA",
    "GET /programmes/<int:programme_id>/edit": "UUUUFNA",
    "GET /programmes/<int:programme_id>/import": "UUUUFNA",
    "GET /programmes/<int:programme_id>/outcomes": "UNNNFNA",
    "GET /programmes/<int:programme_id>/outcomes/<kind>.<fmt>": "UNNNFNA",
    "GET /programmes/<int:programme_id>/participants": "UUUUFNA",
    "GET /programmes/<int:programme_id>/participants/new": "UUUUFNA",
    "GET /programmes/<int:programme_id>/sessions": "UUUUFNA",
    "GET /programmes/<int:programme_id>/sessions/new": "UUUUFNA",
    "GET /programmes/<int:programme_id>/survey": "UNNNFNA",
    "GET /programmes/<int:programme_id>/survey/send": "UNNNFNA",
    "GET /programmes/<int:programme_id>/themes": "UUUUFNA",
    "GET /programmes/new": "UUUUAAA",
    "GET /readyz": "AAAAAAA",
    "GET /reset-password/<token>": "AAAAAAA",
    "GET /sessions/<int:session_id>": "UUUUFNA",
    "GET /sessions/<int:session_id>/agenda/part": "UANNFNA",
    "GET /sessions/<int:session_id>/board": "UANNFNA",
    "GET /sessions/<int:session_id>/breakouts": "UUUUFNA",
    "GET /sessions/<int:session_id>/cancel": "UUUUFNA",
    "GET /sessions/<int:session_id>/digest": "UUUUFNA",
    "GET /sessions/<int:session_id>/digest/preview.html": "UUUUFNA",
    "GET /sessions/<int:session_id>/digest/send": "UUUUFNA",
    "GET /sessions/<int:session_id>/edit": "UUUUFNA",
    "GET /sessions/<int:session_id>/end": "UUUUFNA",
    "GET /sessions/<int:session_id>/feedback": "UANNNNN",
    "GET /sessions/<int:session_id>/my-group": "UANNFNA",
    "GET /sessions/<int:session_id>/notes": "UANNFNA",
    "GET /sessions/<int:session_id>/notes/groups/<int:group_id>": "UANNFNA",
    "GET /sessions/<int:session_id>/restore": "UUUUFNA",
    "GET /sign-in": "AAAAAAA",
    "GET /static/<path:filename>": "AAAAAAA",
    "GET /survey/<token>": "AAAAAAA",
    "GET /team": "UUUUFFA",
    "GET /x/<token>": "AAAAAAA",
    "GET /x/<token>/calendar.ics": "AAAAAAA",
    "GET /x/<token>/join": "AAAAAAA",
    "GET /x/<token>/materials/<int:material_id>": "AAAAAAA",
    "PATCH /api/v1/actions/<int:action_id>": "UANNFNA",
    "PATCH /api/v1/agenda/<int:item_id>": "UUUUFNA",
    "PATCH /api/v1/boards/<int:board_id>": "UFNNFNA",
    "PATCH /api/v1/breakouts/groups/<int:group_id>": "UUUUNNA",
    "PATCH /api/v1/groups/<int:group_id>": "UUUUFNA",
    "PATCH /api/v1/notes/items/<int:item_id>": "UANNFNA",
    "PATCH /api/v1/participants/<int:participant_id>": "UUUUFNA",
    "PATCH /api/v1/programmes/<int:programme_id>": "UUUUFNA",
    "PATCH /api/v1/sessions/<int:session_id>": "UUUUFNA",
    "PATCH /api/v1/topics/<int:topic_id>": "UANNFNA",
    "POST /account/password": "UUUUVVV",
    "POST /actions/<int:action_id>/delete": "UANNFNA",
    "POST /actions/<int:action_id>/done": "UANNFNA",
    "POST /agenda/<int:item_id>/edit": "UUUUFNA",
    "POST /agenda/<int:item_id>/expert": "UUUUFNV",
    "POST /agenda/<int:item_id>/expert/link": "UUUUFNA",
    "POST /agenda/<int:item_id>/material-link": "UUUUFNA",
    "POST /agenda/<int:item_id>/materials": "UUUUFNV",
    "POST /agenda/<int:item_id>/materials/<int:material_id>/remove": "UUUUFNN",
    "POST /agenda/<int:item_id>/move/<direction>": "UUUUFNA",
    "POST /agenda/<int:item_id>/remove": "UUUUFNA",
    "POST /api/v1/agenda/<int:item_id>/expert": "UUUUFNA",
    "POST /api/v1/boards/<int:board_id>/poll": "UANNFNA",
    "POST /api/v1/boards/<int:board_id>/timer": "UFNNFNA",
    "POST /api/v1/boards/<int:board_id>/topics": "UANNFNA",
    "POST /api/v1/breakouts/groups/<int:group_id>/pick": "UANNNNN",
    "POST /api/v1/breakouts/rounds/<int:round_id>/actions": "UUUUNNA",
    "POST /api/v1/breakouts/rounds/<int:round_id>/broadcasts": "UUUUNNA",
    "POST /api/v1/breakouts/rounds/<int:round_id>/groups": "UUUUNNA",
    "POST /api/v1/breakouts/rounds/<int:round_id>/moves": "UUUUNNA",
    "POST /api/v1/contacts": "UAVVFFF",
    "POST /api/v1/contacts/<int:contact_id>/accept": "UNNNFFF",
    "POST /api/v1/contacts/<int:contact_id>/decline": "UNNNFFF",
    "POST /api/v1/notes/<int:space_id>/actions": "UANNFNA",
    "POST /api/v1/notes/<int:space_id>/items": "UANNFNA",
    "POST /api/v1/programmes": "UUUUAAA",
    "POST /api/v1/programmes/<int:programme_id>/breakouts/rules": "UUUUFNA",
    "POST /api/v1/programmes/<int:programme_id>/groups": "UUUUFNA",
    "POST /api/v1/programmes/<int:programme_id>/participants": "UUUUFNA",
    "POST /api/v1/programmes/<int:programme_id>/schedule": "UUUUFNA",
    "POST /api/v1/programmes/<int:programme_id>/sessions": "UUUUFNA",
    "POST /api/v1/sessions/<int:session_id>/agenda": "UUUUFNA",
    "POST /api/v1/sessions/<int:session_id>/breakouts": "UUUUFNV",
    "POST /api/v1/sessions/<int:session_id>/cancel": "UUUUFNA",
    "POST /api/v1/sessions/<int:session_id>/end": "UUUUFNA",
    "POST /api/v1/sessions/<int:session_id>/reopen": "UUUUFNA",
    "POST /api/v1/topics/<int:topic_id>/merge": "UFNNFNA",
    "POST /api/v1/topics/<int:topic_id>/move": "UFNNFNA",
    "POST /api/v1/topics/<int:topic_id>/vote": "UANNFNA",
    "POST /breakouts/rounds/<int:round_id>": "UUUUNNV",
    "POST /contacts/<int:contact_id>/accept": "UNNNFFF",
    "POST /contacts/<int:contact_id>/decline": "UNNNFFF",
    "POST /contacts/<int:contact_id>/note": "UANNFFF",
    "POST /contacts/<int:contact_id>/withdraw": "UANNFFF",
    "POST /forgot-password": "VVVVVVV",
    "POST /groups/<int:group_id>": "UUUUFNV",
    "POST /imports/<token>": "UUUUNNN",
    "POST /intake/<token>": "VVVVVVV",
    "POST /integrations/teams/connect": "UUUUNNN",
    "POST /integrations/teams/disconnect": "UUUUAAA",
    "POST /integrations/teams/lifecycle": "VVVVVVV",
    "POST /integrations/teams/notifications": "VVVVVVV",
    "POST /integrations/teams/programmes/<int:programme_id>/invitations": "UUUUFNA",
    "POST /integrations/teams/sessions/<int:session_id>/attendance": "UUUUFNN",
    "POST /integrations/teams/sessions/<int:session_id>/recreate": "UUUUFNN",
    "POST /integrations/teams/tab/open": "VVVVVVV",
    "POST /integrations/zoom/app/authorize": "VVVVVVV",
    "POST /integrations/zoom/app/authorized": "VVVVVVV",
    "POST /integrations/zoom/connect": "UUUUAAA",
    "POST /integrations/zoom/disconnect": "UUUUAAA",
    "POST /integrations/zoom/sessions/<int:session_id>": "UUUUFNN",
    "POST /integrations/zoom/sessions/<int:session_id>/attendance": "UUUUFNN",
    "POST /integrations/zoom/sessions/<int:session_id>/recreate": "UUUUFNN",
    "POST /integrations/zoom/webhook": "SSSSSSS",
    "POST /interest/<token>": "VVVVVVV",
    "POST /interest/invite": "UUUUAAA",
    "POST /invitation/<token>": "VVVVVFV",
    "POST /me/contacts": "UVVVAAA",
    "POST /me/data/consents/<int:consent_id>/withdraw": "UANNUUU",
    "POST /me/data/erase": "UVVVUUU",
    "POST /me/data/summary-email": "UAAAUUU",
    "POST /me/offers-needs": "UAAAAAA",
    "POST /me/preferences": "UAAAAAA",
    "POST /me/reminders": "UAAAAAA",
    "POST /notes/items/<int:item_id>/delete": "UANNFNA",
    "POST /notes/items/<int:item_id>/edit": "UVNNFNV",
    "POST /participants/<int:participant_id>/edit": "UUUUFNV",
    "POST /participants/<int:participant_id>/join-link": "UUUUFNA",
    "POST /participants/<int:participant_id>/offers-needs": "UUUUFNA",
    "POST /participants/<int:participant_id>/remove": "UUUUFNA",
    "POST /programmes/<int:programme_id>/archive": "UUUUFNA",
    "POST /programmes/<int:programme_id>/breakouts": "UUUUFNV",
    "POST /programmes/<int:programme_id>/copy": "UUUUFNV",
    "POST /programmes/<int:programme_id>/delete": "UUUUFNV",
    "POST /programmes/<int:programme_id>/edit": "UUUUFNV",
    "POST /programmes/<int:programme_id>/groups": "UUUUFNV",
    "POST /programmes/<int:programme_id>/import": "UUUUFNV",
    "POST /programmes/<int:programme_id>/invitations": "UUUUFNA",
    "POST /programmes/<int:programme_id>/participants/new": "UUUUFNV",
    "POST /programmes/<int:programme_id>/sessions": "UUUUFNV",
    "POST /programmes/<int:programme_id>/sessions/new": "UUUUFNV",
    "POST /programmes/<int:programme_id>/survey": "UNNNFNV",
    "POST /programmes/<int:programme_id>/survey/close": "UNNNFNA",
    "POST /programmes/<int:programme_id>/survey/questions": "UNNNFNV",
    "POST /programmes/<int:programme_id>/survey/questions/<int:question_id>": "UNNNFNV",
    "POST /programmes/<int:programme_id>/survey/questions/<int:question_id>/<action>": "UNNNFNN",
    "POST /programmes/<int:programme_id>/survey/send": "UNNNFNA",
    "POST /programmes/<int:programme_id>/themes": "UUUUFNA",
    "POST /programmes/<int:programme_id>/unarchive": "UUUUFNA",
    "POST /programmes/new": "UUUUVVV",
    "POST /reset-password/<token>": "VVVVVVV",
    "POST /sessions/<int:session_id>/agenda": "UUUUFNA",
    "POST /sessions/<int:session_id>/breakouts": "UUUUFNA",
    "POST /sessions/<int:session_id>/breakouts/attendance": "UUUUFNA",
    "POST /sessions/<int:session_id>/breakouts/platform": "UUUUFNA",
    "POST /sessions/<int:session_id>/cancel": "UUUUFNA",
    "POST /sessions/<int:session_id>/digest/resend": "UUUUFNA",
    "POST /sessions/<int:session_id>/digest/send": "UUUUFNA",
    "POST /sessions/<int:session_id>/edit": "UUUUFNA",
    "POST /sessions/<int:session_id>/end": "UUUUFNA",
    "POST /sessions/<int:session_id>/feedback": "UVNNNNN",
    "POST /sessions/<int:session_id>/my-group": "UVNNFNA",
    "POST /sessions/<int:session_id>/notes": "UNNNFNN",
    "POST /sessions/<int:session_id>/notes/groups/<int:group_id>": "UNNNFNN",
    "POST /sessions/<int:session_id>/presence": "UUUUFNV",
    "POST /sessions/<int:session_id>/reopen": "UUUUFNA",
    "POST /sessions/<int:session_id>/restore": "UUUUFNA",
    "POST /sessions/<int:session_id>/room": "UUUUFNA",
    "POST /sign-in": "UUUUUAA",
    "POST /sign-out": "UUUUUUU",
    "POST /survey/<token>": "VVVVVVV",
    "POST /team/<int:facilitator_id>/deactivate": "UUUUFFA",
    "POST /team/<int:facilitator_id>/reactivate": "UUUUFFA",
    "POST /team/invitations": "UUUUFFV",
    "POST /team/invitations/<int:invitation_id>/resend": "UUUUFFA",
    "POST /team/invitations/<int:invitation_id>/revoke": "UUUUFFA",
    "POST /x/<token>/answer": "VVVVVVV",
    "POST /x/<token>/link": "AAAAAAA",
    "POST /x/<token>/materials": "VVVVVVV",
    "POST /x/<token>/materials/<int:material_id>/remove": "AAAAAAA",
    "POST /x/<token>/reminders": "AAAAAAA",
    "POST /x/<token>/talk": "VVVVVVV",
    "POST /x/<token>/timezone": "VVVVVVV",
    "PUT /api/v1/contacts/<int:contact_id>/note": "UANNFFF",
    "PUT /api/v1/me/preferences": "UAAAFFF",
    "PUT /api/v1/notes/<int:space_id>/shared": "UVNNFNV",
    "PUT /api/v1/notes/<int:space_id>/summary": "UVVVVVV",
    "PUT /api/v1/sessions/<int:session_id>/absences/<int:participant_id>": "UUUUVVV",
    "PUT /api/v1/sessions/<int:session_id>/agenda/order": "UVVVVVV",
    "PUT /api/v1/sessions/<int:session_id>/attendance": "UUUUVVV",
    "PUT /api/v1/sessions/<int:session_id>/feedback": "UVVVVVV",
}
# fmt: on

# Issue 16 (programme roles): the Team page of a programme. The observer and the shared
# co-facilitator are walked over every route in test_authz_roles.py.
EXPECTED.update(
    {
        "GET /programmes/<int:programme_id>/team": "UUUUFNA",
        "POST /programmes/<int:programme_id>/team": "UUUUFNV",
        "POST /programmes/<int:programme_id>/team/<int:facilitator_id>": "UUUUFNV",
        "POST /programmes/<int:programme_id>/team/<int:facilitator_id>/remove": "UUUUFNA",
    }
)


#: Valid input for the JSON operations that check it before the row: `VALID[key](ids)`, where
#: `ids` are the site's (see `conftest.site`) plus `member` and `other` (two of the site's
#: participants), gives the request's keyword arguments (`json` or `query_string`).
Ids = dict[str, int]
VALID: dict[str, Callable[[Ids], dict[str, Any]]] = {
    "GET /api/v1/live/token": lambda i: {"query_string": {"channel": f"board:{i['board']}"}},
    "GET /api/v1/programmes/<int:programme_id>/breakouts/met": lambda i: {
        "query_string": {"group": i["group"]}
    },
    "PATCH /api/v1/breakouts/groups/<int:group_id>": lambda i: {"json": {"name": "Ryhmä X"}},
    "PATCH /api/v1/notes/items/<int:item_id>": lambda i: {"json": {"body": "Muokattu"}},
    "PATCH /api/v1/sessions/<int:session_id>": lambda i: {
        "json": {"date": "2027-03-01", "start_time": "10:00", "outside_dates_ok": True}
    },
    "POST /api/v1/agenda/<int:item_id>/expert": lambda i: {
        "json": {"name": "Eeva Expert", "email": "eeva2@example.fi"}
    },
    "POST /api/v1/boards/<int:board_id>/poll": lambda i: {"json": {"answer": "up"}},
    "POST /api/v1/boards/<int:board_id>/timer": lambda i: {"json": {"action": "start"}},
    "POST /api/v1/boards/<int:board_id>/topics": lambda i: {"json": {"title": "Uusi aihe"}},
    "POST /api/v1/breakouts/rounds/<int:round_id>/actions": lambda i: {"json": {"action": "lock"}},
    "POST /api/v1/breakouts/rounds/<int:round_id>/moves": lambda i: {
        "json": {"person": f"p:{i['other']}", "group_id": i["breakout_group"]}
    },
    "POST /api/v1/contacts": lambda i: {"json": {"person_id": i["other"], "kind": "lunch"}},
    "POST /api/v1/notes/<int:space_id>/actions": lambda i: {
        "json": {"text": "Soita", "owner_id": i["member"]}
    },
    "POST /api/v1/notes/<int:space_id>/items": lambda i: {"json": {"body": "Uusi"}},
    "POST /api/v1/programmes": lambda i: {"json": {"name": "Uusi ohjelma"}},
    "POST /api/v1/programmes/<int:programme_id>/breakouts/rules": lambda i: {
        "json": {"kind": "together", "first_id": i["member"], "second_id": i["other"]}
    },
    "POST /api/v1/programmes/<int:programme_id>/groups": lambda i: {"json": {"name": "Uusi"}},
    "POST /api/v1/programmes/<int:programme_id>/participants": lambda i: {
        "json": {"name": "Uusi Ihminen", "email": "uusi@example.fi"}
    },
    "POST /api/v1/programmes/<int:programme_id>/schedule": lambda i: {
        "json": {"group_id": i["group"], "first_date": "2027-03-01", "outside_dates_ok": True}
    },
    "POST /api/v1/programmes/<int:programme_id>/sessions": lambda i: {
        "json": {
            "group_id": i["group"],
            "title": "Tapaaminen",
            "date": "2027-03-01",
            "start_time": "10:00",
            "outside_dates_ok": True,
        }
    },
    "POST /api/v1/sessions/<int:session_id>/breakouts": lambda i: {"json": {"kind": "random"}},
    "POST /api/v1/topics/<int:topic_id>/merge": lambda i: {"json": {"into": i["topic"]}},
    "POST /api/v1/topics/<int:topic_id>/move": lambda i: {"json": {"column": "discussing"}},
}


def classify(response: Any) -> str:
    """The class of an answer (see the module's docstring); E for a server error."""
    status = response.status_code
    if status == 503:
        return "S"
    if status >= 500:
        return "E"
    if status in (400, 422):
        return "V"
    if status == 401:
        return "U"
    if status in (301, 302, 303, 307, 308) and "/sign-in" in response.headers.get("Location", ""):
        return "U"
    if status == 403:
        return "F"
    if status == 404:
        return "N"
    return "A"


def route_key(rule: Rule, method: str) -> str:
    """`METHOD /rule` as written in EXPECTED."""
    return f"{method} {rule.rule}"


def destroys(rule: Rule, method: str) -> bool:
    """Whether the route deletes what it names (DELETE, or a form posted to .../delete)."""
    return method == "DELETE" or (
        method == "POST" and rule.rule.endswith(("/delete", "/remove", "/withdraw"))
    )


def routes(app: Flask) -> list[tuple[Rule, str]]:
    """Every (rule, method) of the app."""
    pairs = [
        (rule, method)
        for rule in app.url_map.iter_rules()
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"})
    ]
    return sorted(pairs, key=lambda pair: (destroys(*pair), pair[0].rule, pair[1]))


@pytest.fixture()
def people(
    app: Flask,
    db: Db,
    site: Site,
    make_facilitator: Callable[..., Any],
    make_programme: Callable[..., Any],
    make_participant: Callable[..., Any],
) -> dict[str, Any]:
    """The people of each role (None for nobody) beside the site."""
    programme = db.get(Programme, site.ids["programme"])
    assert programme is not None
    member = db.get(Participant, site.ids["participant"])
    organisation = programme.organisation
    other_facilitator = make_facilitator(organisation=organisation, name="Olga Other")
    other_programme = make_programme(facilitator=other_facilitator, name="Another programme")
    # Rows named by id are someone else's than the member's, so removing one leaves the
    # member signed in.
    victim = db.scalars(
        select(Participant).where(
            Participant.programme_id == programme.id, Participant.id != member.id
        )
    ).first()
    assert victim is not None
    site.ids["participant"] = victim.id
    site.ids["member"], site.ids["other"] = member.id, victim.id
    return {
        "nobody": None,
        "member": member,
        "other_group": make_participant(programme, group=programme.groups[1], name="Gus Group"),
        "other_programme": make_participant(other_programme, name="Pia Programme"),
        "other_facilitator": other_facilitator,
        "other_organisation": make_facilitator(name="Oscar Outside"),
        "admin": make_facilitator(organisation=organisation, admin=True, name="Ada Admin"),
    }


@pytest.fixture()
def browser(
    app: Flask, db: Db, people: dict[str, Any], sign_in: Callable[..., FlaskClient]
) -> Callable[[str], FlaskClient]:
    """`browser(role)`: a fresh test client signed in as that role's person."""

    def make(role: str) -> FlaskClient:
        app.test_client_class = _Client
        made = app.test_client()
        made.test_db = db  # type: ignore[attr-defined]
        person = people[role]
        if person is None:
            return made
        if isinstance(person, Participant):
            return enter_as(app, db, made, db.merge(person))
        db.refresh(person)
        return sign_in(made, person)

    return make


def check_route(
    db: Db, site: Site, browser: Callable[[str], FlaskClient], rule: Rule, method: str
) -> tuple[str, str | None]:
    """Send the route as every role; (the classes found, a problem or None)."""
    key = route_key(rule, method)
    expected = EXPECTED.get(key)
    if expected is not None and len(expected) != len(ROLES):
        return "", f"{key}: the row has {len(expected)} classes, not {len(ROLES)}"
    order = list(range(len(ROLES)))
    if expected is not None:
        order.sort(key=lambda index: expected[index] == "A")
    path = site.path(rule)
    row = ["?"] * len(ROLES)
    deleted = False
    for index in order:
        kwargs: dict[str, Any] = {}
        if key in VALID:
            kwargs = VALID[key](site.ids)
        elif method in ("POST", "PUT", "PATCH"):
            kwargs = {"json": {}} if path.startswith("/api/") else {"data": {}}
        response = browser(ROLES[index]).open(path, method=method, **kwargs)
        found = classify(response)
        response.close()
        if deleted and found == "N" and expected is not None and expected[index] == "A":
            found = "A"  # gone: an allowed role deleted it just before
        if destroys(rule, method) and found == "A":
            deleted = True
        row[index] = found
        db.rollback()
    observed = "".join(row)
    if expected is None:
        return observed, f"{key}: no row in EXPECTED (found {observed})"
    if observed != expected:
        return observed, f"{key}: expected {expected}, found {observed}"
    return observed, None


def _record(observed: dict[str, str]) -> None:
    record = os.environ.get("KOLLEGA_AUTHZ_RECORD")
    if record:
        with open(record, "a") as out:
            for key, value in sorted(observed.items()):
                out.write(f'    "{key}": "{value}",\n')


def test_every_route_as_every_role(
    app: Flask, db: Db, site: Site, browser: Callable[[str], FlaskClient]
) -> None:
    """Each route answers each role as the table says; no route is left out. Routes that
    delete are sent by the test below, each on a site of its own."""
    observed: dict[str, str] = {}
    problems: list[str] = []
    for rule, method in routes(app):
        key = route_key(rule, method)
        if destroys(rule, method):
            observed[key] = EXPECTED.get(key, "")
            if key not in EXPECTED:
                problems.append(f"{key}: no row in EXPECTED")
            continue
        observed[key], problem = check_route(db, site, browser, rule, method)
        if problem:
            problems.append(problem)
    _record({k: v for k, v in observed.items() if k.split()[0] != "DELETE" and v})
    stale = sorted(set(EXPECTED) - set(observed))
    problems.extend(f"{key}: a row for a route that no longer exists" for key in stale)
    assert not problems, "\n".join([f"roles: {' '.join(ROLES)}", *problems])


DESTROYING = sorted(
    key
    for key in EXPECTED
    if key.startswith("DELETE ") or key.endswith(("/delete", "/remove", "/withdraw"))
)


@pytest.mark.parametrize("key", DESTROYING)
def test_each_route_that_deletes_as_every_role(
    app: Flask, db: Db, site: Site, browser: Callable[[str], FlaskClient], key: str
) -> None:
    """A route that deletes, on a fresh site: the refused roles first, then the allowed."""
    method, path = key.split(" ", 1)
    (rule,) = [r for r in app.url_map.iter_rules() if r.rule == path and method in r.methods]
    observed, problem = check_route(db, site, browser, rule, method)
    _record({key: observed})
    assert problem is None, f"roles: {' '.join(ROLES)}\n{problem}"
