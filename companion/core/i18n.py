"""Languages (Finnish and English) and time display in a programme's time zone.

Each package keeps its own catalogue in `<package>/translations/`; Flask-Babel merges them.
The language is chosen from an explicit choice (`?lang=`, kept in the cookie session), then
the person's preference, then the browser, then the configured default.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask import Flask, current_app, g, has_request_context, request, session
from flask_babel import Babel, format_datetime, get_locale
from sqlalchemy.exc import DBAPIError

from companion.core.logs import Throttle

log = logging.getLogger(__name__)

LANGUAGES = ("fi", "en")
PACKAGE_ROOTS = (
    Path(__file__).resolve().parents[1],
    Path(__file__).resolve().parents[2] / "integrations",
)

babel = Babel()


def translation_directories() -> list[str]:
    """Every `translations/` folder of a companion or integrations package."""
    found: list[str] = []
    for root in PACKAGE_ROOTS:
        if not root.is_dir():
            continue
        for folder in sorted(root.glob("*/translations")):
            found.append(str(folder))
    return found


def select_locale() -> str:
    """The language of the current request."""
    default: str = current_app.extensions["companion.config"].default_language
    if not has_request_context():
        return default
    chosen = request.args.get("lang")
    if chosen in LANGUAGES:
        session["lang"] = chosen
        return chosen
    if session.get("lang") in LANGUAGES:
        return str(session["lang"])
    if "preferred_language" not in g:
        _learn_preferred_language()
    preferred = g.get("preferred_language")
    if callable(preferred):
        preferred = preferred()
    if preferred in LANGUAGES:
        return str(preferred)
    return request.accept_languages.best_match(LANGUAGES) or default


_UNKNOWN_ASKER = Throttle(60.0)


def _learn_preferred_language() -> None:
    """Find out who is asking, which records their language (a text may be translated, a
    validation message say, before the view itself asks who it is)."""
    from companion.core.identity import current_actor

    g.preferred_language = None
    try:
        current_actor()
    except Exception as exc:
        # The language must not become an error of its own; the view meets the cause again
        # (a database outage: every request of it, so the warning is said once a minute).
        held = _UNKNOWN_ASKER.allow()
        if held is not None:
            log.warning(
                "Could not tell who is asking to choose the language: %s%s",
                exc.__class__.__name__,
                f" ({held} more since the last warning)" if held else "",
                exc_info=not isinstance(exc, DBAPIError),
            )


def zone(name: str) -> ZoneInfo:
    """The IANA time zone, or UTC when the name is unknown."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return ZoneInfo("UTC")


def local_datetime(value: datetime | None, tz_name: str, fmt: str = "medium") -> str:
    """Format a UTC datetime in the given zone and the current language."""
    if value is None:
        return ""
    return format_datetime(value.astimezone(zone(tz_name)), fmt, rebase=False)


def valid_timezone(name: str) -> bool:
    """Whether `name` is an IANA zone this machine knows."""
    # "Europe" is a folder (IsADirectoryError) and very long names fail in the file system
    # (OSError); both are simply not zones.
    if not name or len(name) > 64:
        return False
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return False
    return True


def common_timezones() -> Iterator[str]:
    """Zones offered in forms: Europe first, since our users are in Finland and nearby."""
    import zoneinfo

    names = sorted(zoneinfo.available_timezones())
    yield from (n for n in names if n.startswith("Europe/"))
    yield from (
        n for n in names if not n.startswith("Europe/") and "/" in n and not n.startswith("Etc/")
    )
    yield "UTC"


def first_name(full_name: str) -> str:
    """How Kollega greets a person, in pages and emails alike: by the first of their names."""
    names = full_name.split()
    return names[0] if names else full_name


def init_app(app: Flask) -> None:
    """Bind Flask-Babel with the merged catalogues and add the template helpers."""
    config = app.extensions["companion.config"]
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = ";".join(translation_directories())
    app.config["BABEL_DEFAULT_LOCALE"] = config.default_language
    babel.init_app(app, locale_selector=select_locale)

    app.jinja_env.filters["local_datetime"] = local_datetime
    app.jinja_env.filters["first_name"] = first_name
    app.jinja_env.globals["current_language"] = lambda: str(get_locale() or config.default_language)
    app.jinja_env.globals["LANGUAGES"] = LANGUAGES
