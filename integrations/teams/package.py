"""The Teams app package: a manifest (v1.30, NOTES §4.1) and two icons in one zip.

An administrator uploads it in the Teams admin center (or as a custom app) once; it points
Teams at this Kollega's tab pages and names the Entra app for single sign-on. The tests
check the manifest against `manifest.schema.json`, a copy of Microsoft's v1.30 schema.
"""

from __future__ import annotations

import io
import json
import re
import uuid
import zipfile
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from flask_babel import gettext as _

from companion.config import Config
from integrations.teams.claims import sso_resource
from integrations.teams.icons import colour_icon, outline_icon

MANIFEST_VERSION = "1.30"
SCHEMA_URL = "https://developer.microsoft.com/json-schemas/teams/v1.30/MicrosoftTeams.schema.json"
COLOUR_ICON = "color.png"
OUTLINE_ICON = "outline.png"
#: Where the tab may show (NOTES §4.1): the side panel, the stage, the chat and details tabs.
TAB_CONTEXTS = ["meetingSidePanel", "meetingStage", "meetingChatTab", "meetingDetailsTab"]
#: The resource-specific permission that lets the panel share itself to the stage (§4.2).
STAGE_PERMISSION = {"name": "MeetingStage.Write.Chat", "type": "Delegated"}
DEFAULT_COLOUR = "#1f6f5c"
_HEX = re.compile(r"#[0-9a-fA-F]{6}")
_SEMVER = re.compile(r"(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)")


class PackageError(ValueError):
    """The package cannot be made as asked; the message says what to change."""


@dataclass(frozen=True)
class Branding:
    """Whose app it is: the organisation's name and colour."""

    name: str = "Kollega"
    colour: str = DEFAULT_COLOUR


def app_id(config: Config) -> str:
    """The Teams app's id: the same for every package of this Kollega and Entra app, so a
    new package updates the app Teams already has instead of adding a second one."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"{config.base_url}#{config.teams_client_id}"))


def _short(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def manifest(
    config: Config,
    branding: Branding,
    *,
    version: str = "1.0.0",
    privacy_url: str = "",
    terms_url: str = "",
) -> dict[str, Any]:
    """The app manifest for this Kollega (texts in the current language)."""
    if not config.teams_configured:
        raise PackageError(
            "COMPANION_TEAMS_CLIENT_ID and COMPANION_TEAMS_CLIENT_SECRET must be set first"
        )
    if not _SEMVER.fullmatch(version):
        raise PackageError(f"the version must look like 1.0.0, not {version!r}")
    host = urlsplit(config.base_url).netloc
    colour = branding.colour if _HEX.fullmatch(branding.colour or "") else DEFAULT_COLOUR
    return {
        "$schema": SCHEMA_URL,
        "manifestVersion": MANIFEST_VERSION,
        "version": version,
        "id": app_id(config),
        "developer": {
            "name": _short(branding.name, 32),
            "websiteUrl": config.base_url,
            "privacyUrl": privacy_url or config.base_url,
            "termsOfUseUrl": terms_url or config.base_url,
        },
        "name": {"short": "Kollega", "full": _short(f"Kollega – {branding.name}", 100)},
        "description": {
            "short": _short(_("The topic board, breakout groups and notes of your session"), 80),
            "full": _short(
                _(
                    "Kollega is a companion for facilitated peer-mentoring meetings. In the "
                    "meeting's side panel everyone proposes and votes on topics, sees which "
                    "breakout group they are in and its meeting link, and writes the group's "
                    "shared notes. The facilitator can show the topic board on the meeting "
                    "stage."
                ),
                4000,
            ),
        },
        "icons": {"color": COLOUR_ICON, "outline": OUTLINE_ICON},
        "accentColor": colour,
        "configurableTabs": [
            {
                "configurationUrl": config.external_url("/integrations/teams/config"),
                "canUpdateConfiguration": True,
                "scopes": ["groupChat", "team"],
                "context": TAB_CONTEXTS,
            }
        ],
        "permissions": ["identity"],
        "validDomains": [host],
        "webApplicationInfo": {"id": config.teams_client_id, "resource": sso_resource(config)},
        "authorization": {"permissions": {"resourceSpecific": [STAGE_PERMISSION]}},
        "defaultInstallScope": "meetings",
    }


def build_package(document: dict[str, Any], colour: str) -> bytes:
    """The zip Teams takes: manifest.json and the two icons at its root."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("manifest.json", json.dumps(document, indent=2, ensure_ascii=False))
        archive.writestr(COLOUR_ICON, colour_icon(colour))
        archive.writestr(OUTLINE_ICON, outline_icon())
    return buffer.getvalue()
