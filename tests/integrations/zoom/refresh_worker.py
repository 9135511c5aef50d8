"""A separate process that refreshes a Zoom connection's token (for the cross-process test).

Run as `python refresh_worker.py '<json settings>'`; prints the access token it got.
"""

from __future__ import annotations

import json
import sys
import time


def main() -> None:
    """Build an app on the shared database, wait for the common start, refresh."""
    settings = json.loads(sys.argv[1])
    from companion.app import create_app
    from companion.core.db import get_database
    from integrations.zoom.tokens import user_access_token

    app = create_app(
        {
            "database_url": settings["database_url"],
            "secret_key": settings["secret_key"],
            "instance_path": settings["instance_path"],
            "zoom_client_id": settings["zoom_client_id"],
            "zoom_client_secret": settings["zoom_client_secret"],
            "zoom_api_url": settings["zoom_api_url"],
            "zoom_oauth_url": settings["zoom_oauth_url"],
            "live_port": 0,
            "testing": True,
        }
    )
    config = app.extensions["companion.config"]
    time.sleep(max(0.0, settings["start_at"] - time.time()))
    with app.app_context(), get_database(app).session() as session:
        token, _expires = user_access_token(session, config, settings["connection_id"])
    print(token)


if __name__ == "__main__":
    main()
