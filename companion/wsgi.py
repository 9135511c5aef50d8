"""The WSGI application for gunicorn (or any WSGI server): `gunicorn companion.wsgi:app`.

Only the web app: no worker and no live server in this process (run `companion worker` and
`companion live` beside it). Migrations are not applied here; run `companion db upgrade`
before starting (the systemd units and the compose file do).
"""

from __future__ import annotations

from companion.app import create_app
from companion.serving import warn_if_key_not_shared

app = create_app()
warn_if_key_not_shared(app)
