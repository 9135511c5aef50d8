"""A fake Zoom: a real local HTTP server that answers like Zoom and checks every request.

The fake serves Zoom's OAuth endpoints (authorise, token, revoke) and the Meeting API
operations of ``meetings-openapi.json`` (a verbatim copy of ``shared/specs/zoom/``, see
``SOURCE.md`` there). Every ``/v2`` request is validated against that OpenAPI description
with openapi-core; OAuth requests are checked by hand against NOTES §1. Each mismatch is
appended to :attr:`FakeZoom.violations` and answered the way Zoom answers a bad request.

The parts: ``server.py`` (:class:`FakeZoom`: the HTTP server, recording, injected faults),
``state.py`` (users, apps, tokens, the clock), ``controls.py`` (what tests arrange and
inspect), ``oauth.py`` (the OAuth endpoints), ``spec.py`` and ``validation.py`` (checking
requests and answers against the OpenAPI description), ``api.py`` (routing and access rules
of ``/v2``), ``meetings.py`` and ``past_meetings.py`` (the Meeting API), ``webhooks.py`` and
``app_context.py`` (what Zoom sends to the app), ``records.py`` and ``formats.py`` (data
types; Zoom's ids, times and tokens).

References of the form "NOTES §x" point to ``shared/specs/zoom/NOTES.md``.
"""

from tests.fakes.zoom.api import DAILY_LIMIT_MESSAGE
from tests.fakes.zoom.records import FakeUser, Injection, OAuthApp, RecordedRequest
from tests.fakes.zoom.server import FakeZoom
from tests.fakes.zoom.spec import SPEC_PATH

__all__ = [
    "DAILY_LIMIT_MESSAGE",
    "SPEC_PATH",
    "FakeUser",
    "FakeZoom",
    "Injection",
    "OAuthApp",
    "RecordedRequest",
]
