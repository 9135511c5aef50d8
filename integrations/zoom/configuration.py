"""Zoom's configuration as Kollega sees it: which app is set up and the addresses to register.

Like every operations module here: no `flask.request`; the caller commits and checks access.
"""

from __future__ import annotations

from companion.config import Config

#: The platform name on Zoom's meeting rooms (`MeetingRoom.platform`, `Session.platform`).
PLATFORM = "zoom"


def configured(config: Config) -> bool:
    """Whether a Zoom app's credentials are set."""
    return bool(config.zoom_client_id and config.zoom_client_secret)


def missing_settings(config: Config) -> list[str]:
    """The settings an administrator still has to give before Zoom works ([] when set up)."""
    return [
        name
        for name, value in (
            ("COMPANION_ZOOM_CLIENT_ID", config.zoom_client_id),
            ("COMPANION_ZOOM_CLIENT_SECRET", config.zoom_client_secret),
        )
        if not value
    ]


def server_to_server(config: Config) -> bool:
    """Whether meetings go through the organisation's Server-to-Server app (NOTES §1.2)."""
    return configured(config) and bool(config.zoom_account_id)


def user_oauth_available(config: Config) -> bool:
    """Whether facilitators connect (and sign in with) their own Zoom accounts."""
    return configured(config) and not config.zoom_account_id


def redirect_uri(config: Config) -> str:
    """The OAuth redirect URL to register in the Zoom Marketplace (NOTES §1.1: exact match)."""
    return config.external_url("/integrations/zoom/callback")


def app_home_url(config: Config) -> str:
    """The Zoom App's Home URL (NOTES §5)."""
    return config.external_url("/integrations/zoom/app")


def webhook_url(config: Config) -> str:
    """The event notification endpoint URL (NOTES §4)."""
    return config.external_url("/integrations/zoom/webhook")
