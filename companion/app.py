"""The application factory."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from flask import Flask
from werkzeug.routing import IntegerConverter

from companion.config import PROJECT_ROOT, Config, load_config
from companion.core import access_mode, errors, health, i18n, security, slots
from companion.core import db as core_db
from companion.core.logs import configure_logging
from companion.core.mail import Transport

log = logging.getLogger(__name__)


class DatabaseId(IntegerConverter):
    """`<int:...>` for database ids: a number beyond the INTEGER range becomes 0, an id no row
    has, so it is simply not found (a converter error would surface as 405 in werkzeug when
    the same address takes other methods, and the driver would overflow). ASCII digits only:
    werkzeug's `\\d` also matches "٣" or "３", which `int()` reads."""

    regex = r"[0-9]+"

    def to_python(self, value: str) -> int:
        number = int(value)
        return number if number <= 2**31 - 1 else 0


def create_app(config_override: dict[str, Any] | None = None) -> Flask:
    """Build the app: validated configuration, database, languages, security, blueprints."""
    config = load_config(config_override)
    configure_logging(config.log_format)
    app = Flask(
        "companion",
        static_folder=str(PROJECT_ROOT / "static"),
        static_url_path="/static",
        template_folder="core/templates",
        instance_path=str(config.instance_path),
    )
    app.extensions["companion.config"] = config
    app.config.update(
        SECRET_KEY=config.secret_key,
        TESTING=config.testing,
        SESSION_COOKIE_NAME="kollega_session",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=(
            config.secure_cookies if config.secure_cookies is not None else config.uses_https
        ),
        PERMANENT_SESSION_LIFETIME=timedelta(days=14),
        MAX_CONTENT_LENGTH=10 * 1024 * 1024,
        JSON_SORT_KEYS=False,
        MAIL_RETRY_SECONDS=config.mail_retry_seconds,
        JOB_RETRY_SECONDS=30.0,
    )
    config.instance_path.mkdir(parents=True, exist_ok=True)
    if config.trusted_proxies:
        from werkzeug.middleware.proxy_fix import ProxyFix

        # Behind nginx or a load balancer the client address (rate limits) and the scheme
        # (secure cookies, HSTS) come from the proxy's headers.
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app,
            x_for=config.trusted_proxies,
            x_proto=config.trusted_proxies,
            x_host=config.trusted_proxies,
        )

    # Ids in addresses fit the database's INTEGER columns; anything larger is simply not found
    # (rather than an overflow error from the driver).
    app.url_map.converters["int"] = DatabaseId
    database = core_db.Database(config.effective_database_url, echo=config.sql_echo)
    core_db.init_app(app, database)
    # Request ids first, so that every later hook's log lines carry them.
    health.init_app(app)
    i18n.init_app(app)
    security.init_app(app)
    access_mode.init_app(app)
    errors.init_app(app)
    slots.init_app(app)
    _register_blueprints(app)
    _setup_live(app, config)
    app.jinja_env.globals["config_public"] = {
        "base_url": config.base_url,
        "join_opens_minutes": config.join_opens_minutes,
    }
    return app


def mail_transport(app: Flask) -> Transport | None:
    """A transport the tests or benchmarks installed in place of the configured one."""
    transport: Transport | None = app.extensions.get("companion.mail_transport")
    return transport


def app_config(app: Flask) -> Config:
    """The validated configuration of an app."""
    config: Config = app.extensions["companion.config"]
    return config


#: Every module whose blueprints the app serves; each exposes `bp` and optionally `api`.
BLUEPRINT_MODULES = (
    "companion.core.views",
    "companion.core.health",
    "companion.accounts.views",
    "companion.accounts.password_views",
    "companion.accounts.team_views",
    "companion.programmes.views",
    "companion.programmes.api",
    "companion.sessions.views",
    "companion.sessions.api",
    "companion.meetings.views",
    "companion.core.live",
    "companion.board.views",
    "companion.breakouts.views",
    "companion.breakouts.api",
    "integrations.zoom.views",
    "integrations.teams.meeting_views",
    "companion.notes.views",
    "companion.contacts.views",
    "companion.digest.views",
    "companion.privacy.views",
    "companion.experts.views",
    "companion.experts.api",
    "companion.needs.views",
    "companion.outcomes.views",
    "companion.outcomes.api",
)


#: Entry-point group naming more views modules (an integration's pages), same convention.
VIEWS_ENTRY_POINTS = "companion.views"


def _register_blueprints(app: Flask) -> None:
    from importlib import import_module
    from importlib.metadata import entry_points

    names = list(BLUEPRINT_MODULES)
    names += sorted(ep.value for ep in entry_points(group=VIEWS_ENTRY_POINTS))
    for name in dict.fromkeys(names):
        module = import_module(name)
        for attribute in ("bp", "api"):
            blueprint = getattr(module, attribute, None)
            if blueprint is not None:
                app.register_blueprint(blueprint)


def _setup_live(app: Flask, config: Config) -> None:
    """The bus between processes, and the live server that `companion serve` starts."""
    from companion.core.bus import make_bus
    from companion.core.live import start_live_in_thread

    app.extensions["companion.bus"] = make_bus(config.redis_url, config.bus_namespace)
    app.extensions["companion.live_starter"] = start_live_in_thread
