"""Which meeting platform a new programme may meet on: one that is set up on this Kollega.

Platform-neutral: each platform says what it still lacks (`missing_settings`, asked through
the registry in `companion.meetings.platform`); nothing here knows Zoom or Teams by name.
"""

from __future__ import annotations

from flask_babel import gettext as _

from companion.config import Config
from companion.core.errors import Invalid
from companion.meetings.platform import platform_label, platform_missing_settings


def require_ready_platform(config: Config, name: str) -> None:
    """Refuse a platform an administrator has not set up yet, saying which settings it needs.

    Refused rather than allowed with a warning: every session's room would fail, and
    participants would get invitations without a way into the meeting.
    """
    missing = platform_missing_settings(name, config)
    if missing:
        message = _(
            "%(platform)s is not set up on this Kollega yet: an administrator must set "
            "%(settings)s (see the installation guide).",
            platform=platform_label(name),
            settings=", ".join(missing),
        )
        raise Invalid(message, errors={"platform": message})
