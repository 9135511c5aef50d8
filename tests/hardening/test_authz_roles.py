"""The programme roles over every route of the app (issue 16, part 2): two more columns for
the authorisation matrix of test_authz_matrix.py, walked with its route list and classes.

    observer     a facilitator of the site's organisation holding the observer role
    shared       a facilitator of another organisation holding the co-facilitator role

Their expected class is derived from the matrix's reviewed columns, so that a route added
there is covered here without a second table:

- the observer reads what the site's admin reads: a GET a colleague without a role is
  refused is answered to the observer as to the admin, except the pages of people's contact
  details and the mail sent to them (`CONTACT_DETAILS_ONLY`: F); every other request the
  colleague is refused is refused to the observer too (F or N, or V: the body refused before
  any access check); elsewhere the observer is a colleague (that column);
- the shared co-facilitator does in the site's programme what the admin does (same class)
  where another organisation's facilitator finds nothing (N), except what only owners may
  (`OWNER_ONLY`: F, or V); elsewhere they are another organisation's facilitator.

`EXCEPTIONS` lists the reviewed differences. The GET views that write (`writes` in
companion.core.db) stay reads for the access check (see companion.core.access_mode);
`WRITING_GETS` is their reviewed list: a new one fails until someone looked at it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from companion.accounts.operations import grant_programme
from companion.accounts.roles import Role
from companion.core.db import Db
from companion.programmes.models import Programme
from tests.conftest import _Client
from tests.hardening.conftest import Site
from tests.hardening.test_authz_matrix import (
    EXPECTED,
    ROLES,
    VALID,
    classify,
    destroys,
    people,  # noqa: F401  (the matrix's people: the site's ids for VALID bodies)
    route_key,
    routes,
)

pytestmark = pytest.mark.slow

#: Routes only a programme's owners may use: refused to a co-facilitator.
OWNER_ONLY = frozenset(
    {
        "POST /programmes/<int:programme_id>/team",
        "POST /programmes/<int:programme_id>/team/<int:facilitator_id>",
        "POST /programmes/<int:programme_id>/team/<int:facilitator_id>/remove",
        "POST /programmes/<int:programme_id>/delete",
    }
)
#: Reads of the mail sent to people or of a person's whole data (Capability.CONTACT_DETAILS):
#: refused to an observer (403) where the admin is answered. (Pages that only show people
#: answer the observer without the addresses: tests/accounts/test_contact_details.py.)
CONTACT_DETAILS_ONLY = frozenset(
    {
        "GET /outbox/<int:message_id>",
        "GET /outbox/<int:message_id>.eml",
        "GET /outbox/<int:message_id>/html",
        "GET /participants/<int:participant_id>/data.json",
        "GET /programmes/<int:programme_id>/survey/send",
        "GET /sessions/<int:session_id>/digest",
        "GET /sessions/<int:session_id>/digest/preview.html",
        "GET /sessions/<int:session_id>/digest/send",
    }
)
#: Refusals: 403, 404, or the body refused before the access check (which says nothing).
REFUSED = frozenset("FNV")

#: Reviewed differences from the derived classes: route -> (observer, shared), None: derived.
EXCEPTIONS: dict[str, tuple[frozenset[str] | None, frozenset[str] | None]] = {
    # The organisation's audit log is the admin's page, not a programme's.
    "GET /audit": (frozenset("F"), None),
    # So is the organisation's Team page (accounts, invitations), unlike a programme's team.
    "GET /team": (frozenset("F"), None),
    # Failed sign-ins are rate-limited: the answer depends on the attempts before.
    "POST /sign-in": (frozenset("UA"), frozenset("UA")),
    # The survey's public answer form: the shared co-facilitator closed the survey earlier
    # in the walk (allowed), after which an empty answer is no longer checked.
    "POST /survey/<token>": (frozenset("VA"), frozenset("VA")),
    # The matrix's admin finds the material gone (the expert removed it earlier there).
    "POST /agenda/<int:item_id>/materials/<int:material_id>/remove": (None, frozenset("A")),
}

#: GET views marked as writing, and what they write (none is a change a person asked for).
WRITING_GETS = {
    "digest.digest": "join links made on first need",
    "digest.send_now": "GET shows what goes out; the POST sends",
    "experts.expert_page": "an expert's own link (no facilitator access)",
    "outcomes.export": "the audit entry of the export",
    "outcomes.outcomes": "the audit entry of the view",
    "outcomes.send_survey": "GET shows what goes out; the POST sends",
    "outcomes.survey_editor": "the survey with its default questions on first visit",
    "sessions.join": "a participant's attendance from their join link",
    "sessions.show": "join links made on first need",
    "teams.callback": "the OAuth answer: the signed-in person's own Microsoft link",
    "zoom.app_home": "a participant's join link made on first need (the Zoom panel)",
    "zoom.callback": "the OAuth answer: the signed-in person's own Zoom link",
}


def _column(key: str, role: str) -> str:
    return EXPECTED[key][ROLES.index(role)]


def expected_classes(key: str) -> tuple[frozenset[str], frozenset[str]]:
    """The classes the (observer, shared co-facilitator) may get, derived from the row."""
    method = key.split(" ", 1)[0]
    admin, colleague = _column(key, "admin"), _column(key, "other_facilitator")
    outsider = _column(key, "other_organisation")
    if colleague not in ("F", "N"):
        observer = frozenset(colleague)  # not a programme's page: a colleague's answer
    elif key in CONTACT_DETAILS_ONLY:
        observer = frozenset("F")
    elif method == "GET":
        observer = frozenset(admin)
    else:
        observer = REFUSED
    if outsider != "N":
        shared = frozenset(outsider)  # not a programme's page: another organisation's answer
    elif key in OWNER_ONLY:
        shared = frozenset("FV")
    else:
        shared = frozenset(admin)
    exception = EXCEPTIONS.get(key, (None, None))
    return exception[0] or observer, exception[1] or shared


@pytest.fixture()
def role_browsers(
    app: Flask,
    db: Db,
    site: Site,
    people: dict[str, Any],  # noqa: F811
    make_facilitator: Callable[..., Any],
    sign_in: Callable[..., FlaskClient],
) -> Callable[[str], FlaskClient]:
    """`browser(role)` for "observer" and "shared", each a fresh signed-in client (beside
    the matrix's people, whose fixture sets the ids the valid bodies name)."""
    programme = db.get(Programme, site.ids["programme"])
    assert programme is not None
    observer = make_facilitator(organisation=programme.organisation, name="Otto Observer")
    shared = make_facilitator(name="Paula Partner")
    with app.app_context():
        held = db.get(Programme, programme.id)
        assert held is not None
        grant_programme(db, db.merge(observer), held, Role.OBSERVER)
        grant_programme(db, db.merge(shared), held, Role.CO_FACILITATOR)
        db.commit()
    holders = {"observer": observer, "shared": shared}

    def make(role: str) -> FlaskClient:
        app.test_client_class = _Client
        made = app.test_client()
        made.test_db = db  # type: ignore[attr-defined]
        return sign_in(made, db.merge(holders[role]))

    return make


def test_observer_and_shared_co_facilitator_on_every_route(
    app: Flask, db: Db, site: Site, role_browsers: Callable[[str], FlaskClient]
) -> None:
    """Each route answers the two roles as derived from the matrix (observer first, so a
    shared co-facilitator's allowed delete cannot hide an observer's)."""
    problems: list[str] = []
    deleted = False
    walked = 0
    for rule, method in routes(app):
        key = route_key(rule, method)
        if key not in EXPECTED:
            continue  # test_authz_matrix fails for it already
        wanted = expected_classes(key)
        walked += 1
        path = site.path(rule)
        found: list[str] = []
        for role, allowed in zip(("observer", "shared"), wanted, strict=True):
            kwargs: dict[str, Any] = {}
            if key in VALID:
                kwargs = VALID[key](site.ids)
            elif method in ("POST", "PUT", "PATCH"):
                kwargs = {"json": {}} if path.startswith("/api/") else {"data": {}}
            response = role_browsers(role).open(path, method=method, **kwargs)
            got = classify(response)
            response.close()
            db.rollback()
            if role == "shared" and deleted and got == "N" and "A" in allowed:
                got = "A"  # gone: the shared co-facilitator deleted a row just before
            if destroys(rule, method) and got == "A":
                deleted = True
            found.append(got)
        if any(got not in allowed for got, allowed in zip(found, wanted, strict=True)):
            expected = " ".join("/".join(sorted(allowed)) for allowed in wanted)
            problems.append(f"{key}: expected {expected}, found {' '.join(found)}")
    assert walked == len(EXPECTED)
    assert not problems, "\n".join(["classes: observer shared", *problems])


def test_get_views_that_write_are_reviewed(app: Flask) -> None:
    """Every GET view marked as writing is in WRITING_GETS (and nothing else is)."""
    marked = {
        rule.endpoint
        for rule in app.url_map.iter_rules()
        if "GET" in (rule.methods or set())
        and getattr(app.view_functions[rule.endpoint], "writes_on_get", False)
    }
    assert marked == set(WRITING_GETS)
