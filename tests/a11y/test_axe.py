"""An accessibility audit of every page with axe-core, in Finnish and English, on a phone (390 px)
and at a desk (1280 px), and in the dark colour scheme; any violation fails, and all of them
are listed.

The pages come from the app's URL map: every GET route is in `PAGES`, either with how to open
it with the audit's data (who opens it, and the address), or with the reason it is not a page
(JSON, a file, a redirect). A new route without a row fails `test_every_route_is_in_the_table`.
JSON API routes (`@api_view`) are recognised by themselves.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from companion.core.db import Db
from companion.core.live import LiveServer
from tests.a11y.site import Site, build_site
from tests.board.conftest import live  # noqa: F401 - the live server for the live pages
from tests.breakouts.conftest import World, _fast_plans, world  # noqa: F401
from tests.integrations.zoom.conftest import (  # noqa: F401
    connect_zoom,
    zoom,
    zoom_config,
    zoom_session,
)
from tests.services import CHROMIUM

AXE = Path(__file__).parent.parent / "vendor" / "axe-core" / "axe.min.js"
WIDTHS = (390, 1280)
#: The rules the dark colour scheme can change the outcome of.
DARK = ["color-contrast", "link-in-text-block"]
LANGUAGES = ("fi", "en")

FACILITATOR, PARTICIPANT, NOBODY, NEWCOMER = "facilitator", "participant", "nobody", "newcomer"


@dataclass(frozen=True)
class Visit:
    """Who opens a page (a browser of that role) and where; `status` is what it answers."""

    role: str
    path: Callable[[Site], str]
    status: int = 200


@dataclass(frozen=True)
class NotAPage:
    """A GET route that shows no page of its own, and why."""

    reason: str


REDIRECT = NotAPage("a redirect to another page or site")

#: Every GET route of the app that is not a JSON API route.
PAGES: dict[str, list[Visit] | NotAPage] = {
    "accounts.home": [Visit(FACILITATOR, lambda s: "/"), Visit(NOBODY, lambda s: "/")],
    "accounts.sign_in": [Visit(NOBODY, lambda s: "/sign-in")],
    "accounts.outbox": [Visit(FACILITATOR, lambda s: "/outbox")],
    "accounts.outbox_message": [Visit(FACILITATOR, lambda s: f"/outbox/{s.outbox_message}")],
    "accounts.outbox_eml": NotAPage("a stored email as an .eml file"),
    "accounts.outbox_html": NotAPage("a stored email's HTML part, exactly as it was sent"),
    "passwords.change_password": [Visit(FACILITATOR, lambda s: "/account/password")],
    "passwords.forgot_password": [Visit(NOBODY, lambda s: "/forgot-password")],
    "passwords.reset_password": [
        Visit(NOBODY, lambda s: f"/reset-password/{s.tokens['reset']}"),
        Visit(NOBODY, lambda s: "/reset-password/no-such-link", status=404),
    ],
    "team.team_page": [Visit(FACILITATOR, lambda s: "/team")],
    "programmes.team_page": [Visit(FACILITATOR, lambda s: f"/programmes/{s.programme}/team")],
    "team.accept": [Visit(NOBODY, lambda s: f"/invitation/{s.tokens['invitation']}")],
    "core.openapi": NotAPage("the OpenAPI description (JSON)"),
    "health.healthz": NotAPage("a liveness check for the load balancer (JSON)"),
    "health.readyz": NotAPage("a readiness check for the load balancer (JSON)"),
    "health.metrics": NotAPage("Prometheus metrics (text)"),
    "static": NotAPage("static files"),
    "programmes.index": [Visit(FACILITATOR, lambda s: "/programmes")],
    "programmes.new_programme": [Visit(FACILITATOR, lambda s: "/programmes/new")],
    "programmes.show": [Visit(FACILITATOR, lambda s: f"/programmes/{s.programme}")],
    "programmes.edit_programme": [Visit(FACILITATOR, lambda s: f"/programmes/{s.programme}/edit")],
    "programmes.group": [Visit(FACILITATOR, lambda s: f"/groups/{s.group}")],
    "programmes.participants": [
        Visit(FACILITATOR, lambda s: f"/programmes/{s.programme}/participants")
    ],
    "programmes.new_participant": [
        Visit(FACILITATOR, lambda s: f"/programmes/{s.programme}/participants/new")
    ],
    "programmes.edit_participant": [
        Visit(FACILITATOR, lambda s: f"/participants/{s.participant}/edit")
    ],
    "programmes.import_upload": [Visit(FACILITATOR, lambda s: f"/programmes/{s.programme}/import")],
    "programmes.import_preview": [Visit(FACILITATOR, lambda s: f"/imports/{s.import_token}")],
    "programmes.interest_list": [Visit(FACILITATOR, lambda s: "/interest")],
    "programmes.interest": [Visit(NOBODY, lambda s: f"/interest/{s.tokens['interest']}")],
    "programmes.intake": [Visit(NOBODY, lambda s: f"/intake/{s.tokens['intake']}")],
    "programmes.copy_programme": [Visit(FACILITATOR, lambda s: f"/programmes/{s.programme}/copy")],
    "programmes.delete_programme": [
        Visit(FACILITATOR, lambda s: f"/programmes/{s.programme}/delete")
    ],
    "programmes.invite_interested": [
        Visit(
            FACILITATOR,
            lambda s: f"/interest/invite?group_id={s.group}&submission={s.interest_id}",
        )
    ],
    "privacy.my_data": [Visit(PARTICIPANT, lambda s: "/me/data")],
    "programmes.participant_data": NotAPage("a participant's data as a JSON download"),
    "privacy.my_data_json": NotAPage("the participant's own data as a JSON download"),
    "privacy.erase": [Visit(PARTICIPANT, lambda s: "/me/data/erase")],
    "privacy.audit_log": [Visit(FACILITATOR, lambda s: "/audit")],
    "sessions.schedule": [Visit(FACILITATOR, lambda s: f"/programmes/{s.programme}/sessions")],
    "sessions.new_session": [
        Visit(FACILITATOR, lambda s: f"/programmes/{s.programme}/sessions/new")
    ],
    "sessions.show": [
        Visit(FACILITATOR, lambda s: f"/sessions/{s.session}"),
        Visit(FACILITATOR, lambda s: f"/sessions/{s.past}"),
        Visit(FACILITATOR, lambda s: f"/sessions/{s.cancelled}"),
    ],
    "sessions.edit_session": [Visit(FACILITATOR, lambda s: f"/sessions/{s.later}/edit")],
    "sessions.end": [Visit(FACILITATOR, lambda s: f"/sessions/{s.session}/end")],
    "sessions.cancel": [Visit(FACILITATOR, lambda s: f"/sessions/{s.later}/cancel")],
    "sessions.restore": [Visit(FACILITATOR, lambda s: f"/sessions/{s.cancelled}/restore")],
    "sessions.join": [
        Visit(NEWCOMER, lambda s: f"/j/{s.waiting_token}"),
        Visit(NEWCOMER, lambda s: f"/j/{s.over_token}"),
        Visit(NEWCOMER, lambda s: "/j/not-a-real-link", status=404),
    ],
    "sessions.join_calendar": NotAPage("a calendar file (.ics)"),
    "board.board_page": [
        Visit(FACILITATOR, lambda s: f"/sessions/{s.session}/board"),
        Visit(PARTICIPANT, lambda s: f"/sessions/{s.session}/board"),
    ],
    "board.panel_page": [
        Visit(PARTICIPANT, lambda s: f"/panel/sessions/{s.session}"),
        Visit(FACILITATOR, lambda s: f"/panel/sessions/{s.session}"),
    ],
    "notes.panel_notes": [Visit(PARTICIPANT, lambda s: f"/panel/sessions/{s.session}/notes")],
    "breakouts.panel_group": [Visit(PARTICIPANT, lambda s: f"/panel/sessions/{s.session}/group")],
    "notes.session_notes": [
        Visit(FACILITATOR, lambda s: f"/sessions/{s.session}/notes"),
        Visit(PARTICIPANT, lambda s: f"/sessions/{s.session}/notes"),
    ],
    "notes.group_notes": [
        Visit(PARTICIPANT, lambda s: f"/sessions/{s.session}/notes/groups/{s.breakout_group_id}")
    ],
    "notes.edit_item": [Visit(PARTICIPANT, lambda s: f"/notes/items/{s.item_id}/edit")],
    "notes.revisions": [Visit(PARTICIPANT, lambda s: f"/notes/{s.group_space}/revisions")],
    "notes.my_actions": [Visit(PARTICIPANT, lambda s: "/me/actions")],
    "breakouts.session_page": [Visit(FACILITATOR, lambda s: f"/sessions/{s.session}/breakouts")],
    "breakouts.round_page": [Visit(FACILITATOR, lambda s: f"/breakouts/rounds/{s.round_id}")],
    "breakouts.met_page": [Visit(FACILITATOR, lambda s: f"/programmes/{s.programme}/breakouts")],
    "breakouts.my_group": [Visit(PARTICIPANT, lambda s: f"/sessions/{s.session}/my-group")],
    "breakouts.my_current_group": [Visit(PARTICIPANT, lambda s: "/me/group")],
    "contacts.my_contacts": [Visit(PARTICIPANT, lambda s: "/me/contacts")],
    "contacts.my_preferences": [Visit(PARTICIPANT, lambda s: "/me/preferences")],
    "contacts.reminders": [Visit(PARTICIPANT, lambda s: "/me/reminders")],
    "contacts.programme_contacts": [
        Visit(FACILITATOR, lambda s: f"/programmes/{s.programme}/contacts")
    ],
    "digest.me": [Visit(PARTICIPANT, lambda s: "/me")],
    "needs.my_needs": [Visit(PARTICIPANT, lambda s: "/me/offers-needs")],
    "needs.themes": [Visit(FACILITATOR, lambda s: f"/programmes/{s.programme}/themes")],
    "needs.participant_needs": [
        Visit(FACILITATOR, lambda s: f"/participants/{s.participant}/offers-needs")
    ],
    "digest.personal_link": REDIRECT,
    "digest.digest": [Visit(FACILITATOR, lambda s: f"/sessions/{s.past}/digest")],
    "digest.preview_html": NotAPage("an email's HTML part, shown as it will be sent"),
    "digest.send_now": [Visit(FACILITATOR, lambda s: f"/sessions/{s.past}/digest/send")],
    "sessions.edit_agenda": [Visit(FACILITATOR, lambda s: f"/agenda/{s.talk_item}/edit")],
    "experts.talk_page": [Visit(FACILITATOR, lambda s: f"/agenda/{s.talk_item}/expert")],
    "experts.expert_page": [
        Visit(NEWCOMER, lambda s: f"/x/{s.expert_token}"),
        Visit(NEWCOMER, lambda s: "/x/not-a-real-link", status=404),
    ],
    "experts.panel_agenda": [Visit(PARTICIPANT, lambda s: f"/panel/sessions/{s.session}/agenda")],
    "experts.agenda_part": NotAPage("a part of the side panel's agenda, fetched by its script"),
    "experts.expert_calendar_file": NotAPage("a calendar file (.ics)"),
    "experts.expert_join": REDIRECT,
    "experts.expert_material": NotAPage("a talk's material file"),
    "experts.material": NotAPage("a talk's material file"),
    "outcomes.outcomes": [Visit(FACILITATOR, lambda s: f"/programmes/{s.programme}/outcomes")],
    "outcomes.export": NotAPage("a CSV or XLSX file"),
    "outcomes.survey_editor": [
        Visit(FACILITATOR, lambda s: f"/programmes/{s.programme}/survey"),
        Visit(FACILITATOR, lambda s: f"/programmes/{s.tokens['draft_programme']}/survey"),
    ],
    "outcomes.send_survey": [
        Visit(FACILITATOR, lambda s: f"/programmes/{s.tokens['draft_programme']}/survey/send")
    ],
    "outcomes.session_feedback": [Visit(PARTICIPANT, lambda s: f"/sessions/{s.past}/feedback")],
    "outcomes.answer_survey": [Visit(NOBODY, lambda s: f"/survey/{s.tokens['survey']}")],
    "zoom.connection": [Visit(FACILITATOR, lambda s: "/integrations/zoom/connection")],
    "zoom.meeting": [Visit(FACILITATOR, lambda s: f"/integrations/zoom/sessions/{s.zoom_session}")],
    "zoom.app_home": [
        # Outside a Zoom meeting it says where to open it (the page a lost visitor sees).
        Visit(NOBODY, lambda s: "/integrations/zoom/app", status=422)
    ],
    "teams.connection": [Visit(FACILITATOR, lambda s: "/integrations/teams/connection")],
    "teams_meetings.meeting": [
        Visit(FACILITATOR, lambda s: f"/integrations/teams/sessions/{s.teams_session}")
    ],
    # The meeting tab's pages outside Teams (they say to open them in a Teams meeting).
    "teams.tab": [Visit(NOBODY, lambda s: "/integrations/teams/tab")],
    "teams.tab_config": [Visit(NOBODY, lambda s: "/integrations/teams/config")],
    "teams.callback": REDIRECT,
    "teams.sign_in": REDIRECT,
    "zoom.callback": REDIRECT,
    "zoom.start": REDIRECT,
    "zoom.sign_in": REDIRECT,
}

#: Pages that no route owns: the error pages.
ERROR_PAGES: list[tuple[str, Visit]] = [
    ("error 404, signed out", Visit(NOBODY, lambda s: "/no-such-page", status=404)),
    ("error 404, facilitator", Visit(FACILITATOR, lambda s: "/programmes/999999", status=404)),
    ("error 404, participant", Visit(PARTICIPANT, lambda s: "/sessions/999999/notes", status=404)),
]


def _api_route(app: Flask, endpoint: str) -> bool:
    return hasattr(app.view_functions.get(endpoint), "__api__")


def test_every_route_is_in_the_table(app: Flask) -> None:
    """A new page must be audited (or be said not to be a page)."""
    routes = {
        rule.endpoint
        for rule in app.url_map.iter_rules()
        if "GET" in (rule.methods or set()) and not _api_route(app, rule.endpoint)
    }
    missing = sorted(routes - set(PAGES))
    assert not missing, f"GET routes the accessibility audit does not know: {missing}"
    stale = sorted(set(PAGES) - routes)
    assert not stale, f"rows of routes that no longer exist: {stale}"


def _context(browser: Any, app: Flask, people: World, role: str) -> Any:
    # The pages' CSP (rightly) refuses an injected script; the audit may bypass it.
    context = browser.new_context(viewport={"width": WIDTHS[0], "height": 900}, bypass_csp=True)
    context.set_default_timeout(8000)
    client = {FACILITATOR: "facilitator", PARTICIPANT: "aino"}.get(role)
    if client:
        cookie = people.client(client).get_cookie("kollega_session")
        assert cookie is not None
        context.add_cookies(
            [
                {
                    "name": "kollega_session",
                    "value": cookie.value,
                    "url": f"http://127.0.0.1:{app.config['TEST_PORT']}",
                }
            ]
        )
    return context


#: Runs axe on the page; returns its violations, each with the elements it found.
RUN_AXE = """
async (rules) => {
  const options = { resultTypes: ["violations"] };
  if (rules) options.runOnly = { type: "rule", values: rules };
  const result = await axe.run(document, options);
  return result.violations.map((v) => ({
    id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.slice(0, 4).map((n) => n.target.join(" ")),
    count: v.nodes.length,
  }));
}
"""

#: Scripted pages draw after load: wait until nothing says it is busy or still connecting.
SETTLED = """
() => !document.querySelector('[aria-busy="true"]') &&
  ![...document.querySelectorAll('[data-live-state]')].some((n) => !n.dataset.state)
"""


def _audit(page: Any, base: str, lang: str, name: str, visit: Visit, site: Site) -> list[str]:
    path = visit.path(site)
    url = f"{base}{path}{'&' if '?' in path else '?'}lang={lang}"
    response = page.goto(url)
    where = f"[{lang}] {name} {path} ({visit.role})"
    if response is None or response.status != visit.status:
        return [f"{where}: answered {response.status if response else None}, not {visit.status}"]
    for _ in range(100):  # up to 5 s
        if page.evaluate(SETTLED):
            break
        page.wait_for_timeout(50)
    page.add_script_tag(content=AXE.read_text())
    found = []
    # Every rule at both widths in the light scheme; the dark scheme changes only colours, so
    # there its contrast is checked, on the phone.
    runs = ((WIDTHS[0], "light", None), (WIDTHS[1], "light", None), (WIDTHS[0], "dark", DARK))
    for width, scheme, rules in runs:
        page.set_viewport_size({"width": width, "height": 900})
        page.emulate_media(color_scheme=scheme)
        for v in page.evaluate(RUN_AXE, rules):
            found.append(
                f"{where} at {width}px, {scheme}: {v['id']} ({v['impact']}): {v['help']} "
                f"[{v['count']}: {', '.join(v['nodes'])}]"
            )
    page.set_viewport_size({"width": WIDTHS[0], "height": 900})
    page.emulate_media(color_scheme="light")
    return found


@pytest.mark.browser
@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_page_passes_axe(
    app: Flask,
    db: Db,
    world: World,  # noqa: F811
    live: LiveServer,  # noqa: F811
    live_server: str,
    browser: Any,
    make_programme: Any,
    make_participant: Any,
    make_session: Any,
    connect_zoom: Any,  # noqa: F811
    zoom_config: Any,  # noqa: F811
    zoom_session: Any,  # noqa: F811
    lang: str,
) -> None:
    assert Path(CHROMIUM).exists()
    connect_zoom(world.facilitator)
    # Teams set up too (its pages need an app registration; nothing calls Microsoft here).
    zoom_config(teams_client_id="a11y-client", teams_client_secret="a11y-secret")
    site = build_site(app, db, world, make_programme, make_participant, make_session, zoom_session)
    visits: dict[str, list[tuple[str, Visit]]] = {}
    for endpoint, entry in PAGES.items():
        if isinstance(entry, list):
            for visit in entry:
                visits.setdefault(visit.role, []).append((endpoint, visit))
    for name, visit in ERROR_PAGES:
        visits.setdefault(visit.role, []).append((name, visit))
    problems: list[str] = []
    for role in (FACILITATOR, PARTICIPANT, NOBODY, NEWCOMER):
        context = _context(browser, app, world, role)
        try:
            page = context.new_page()
            for name, visit in visits.get(role, []):
                problems += _audit(page, live_server, lang, name, visit, site)
        finally:
            context.close()
    assert not problems, f"{len(problems)} accessibility problems:\n" + "\n".join(problems)
