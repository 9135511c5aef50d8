"""Typed configuration: defaults in code, an optional instance file, `COMPANION_*` variables.

Precedence (highest first): `config_override` passed to `create_app`, `COMPANION_*`
environment variables, `<instance>/kollega.toml`, the defaults below. The result is validated
once at start and frozen; nothing else in the code reads `os.environ`.
"""

from __future__ import annotations

import logging
import os
import re
import secrets
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import Field, ValidationError, field_validator, model_validator
from pydantic_settings import (
    BaseSettings,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

log = logging.getLogger(__name__)

#: The folder of the source checkout; the default instance folder lives beside the package.
PROJECT_ROOT = Path(__file__).resolve().parent.parent


#: A GUID as Microsoft writes them (client ids, tenant ids), lower case.
_GUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
#: "organizations", a tenant GUID or a verified domain (contoso.onmicrosoft.com).
_TENANT = re.compile(
    rf"organizations|{_GUID.pattern}|[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+"
)


class ConfigError(RuntimeError):
    """The configuration is invalid; the message says which setting and why."""


def _instance_path_from_env() -> Path:
    raw = os.environ.get("COMPANION_INSTANCE_PATH")
    return Path(raw).expanduser().resolve() if raw else PROJECT_ROOT / "instance"


class Config(BaseSettings):
    """Every setting Kollega reads, with its default."""

    model_config = SettingsConfigDict(
        env_prefix="COMPANION_",
        frozen=True,
        extra="forbid",
        case_sensitive=False,
    )

    #: Folder for the SQLite database, the generated secret key and the mail outbox.
    instance_path: Path = Field(default_factory=_instance_path_from_env)
    #: SQLAlchemy URL; empty means SQLite in the instance folder.
    database_url: str = ""
    #: Public address of the service, used in emails, join links and OAuth redirects.
    base_url: str = "http://127.0.0.1:5000"
    #: Signs cookies, tokens and join links; generated and kept in the instance folder if empty.
    secret_key: str = ""
    #: smtp://user:pass@host:587 (STARTTLS) or smtps://host:465 (SSL); empty writes .eml files.
    smtp_url: str = ""
    #: CA bundle to trust for the SMTP server's certificate (for a private CA); empty = system.
    smtp_ca_file: str = ""
    #: Sender address of every email.
    mail_from: str = "Kollega <kollega@localhost>"
    #: Redis URL for the bus between processes; empty uses the in-process bus.
    redis_url: str = ""
    #: Default language of pages when neither the person nor the browser says.
    default_language: Literal["fi", "en"] = "fi"
    #: Jitsi Meet server for no-account rooms.
    jitsi_url: str = "https://meet.jit.si"
    #: App id and secret for JWT room tokens on a self-hosted Jitsi (both or neither).
    jitsi_app_id: str = ""
    jitsi_app_secret: str = ""
    #: Minutes before the start when a join link starts forwarding to the room.
    join_opens_minutes: int = Field(default=15, ge=0, le=24 * 60)
    #: Minutes after the scheduled end when a join link still forwards to the room.
    join_closes_minutes: int = Field(default=60, ge=0, le=24 * 60)
    #: Failed sign-ins allowed per address and client before a pause.
    sign_in_limit: str = "5 per 15 minutes"
    #: Failed sign-ins allowed per client address, whatever the emails tried.
    sign_in_address_limit: str = "30 per 15 minutes"
    #: Failed sign-ins allowed in all, from anywhere (a distributed guesser).
    sign_in_global_limit: str = "300 per 5 minutes"
    #: Storage for rate limits ("memory://" or a redis:// URL); empty: Redis when `redis_url`
    #: is set (so every web process counts the same sign-in failures), else memory.
    ratelimit_storage_url: str = ""
    #: Prefix of every Redis channel and key, so deployments sharing one Redis never see each
    #: other's events (pub/sub ignores the database number); empty derives one from the
    #: database URL (or, on SQLite, the base URL).
    redis_namespace: str = ""
    #: Seconds between worker polls of the outbox and job queue.
    worker_poll_seconds: float = Field(default=1.0, gt=0, le=60)
    #: Attempts before a temporarily failing email is marked failed.
    mail_max_attempts: int = Field(default=6, ge=1, le=50)
    #: Seconds before the second attempt of a temporarily failing email; doubles each time.
    mail_retry_seconds: float = Field(default=60.0, ge=0, le=3600)
    #: Seconds a worker's claim on a message or job lasts unless it renews it (it renews every
    #: quarter of this while alive, so a dead worker's claims come back within it).
    worker_lease_seconds: float = Field(default=20.0, ge=2, le=600)
    #: Run the worker inside `companion serve`.
    serve_worker: bool = True
    #: Run the live server inside `companion serve` (off when `companion live` runs apart).
    serve_live: bool = True
    #: Host and port of the live (WebSocket) server; port 0 disables it in `serve`.
    live_host: str = "127.0.0.1"
    live_port: int = Field(default=5001, ge=0, le=65535)
    #: Open live connections one person may hold on one live server (tabs, devices, panels).
    live_connections_per_person: int = Field(default=12, ge=1, le=100000)
    #: Public WebSocket address the browser connects to; empty derives it from base_url.
    live_url: str = ""
    #: Reverse proxies in front of the app whose X-Forwarded-For/-Proto/-Host are trusted.
    trusted_proxies: int = Field(default=0, ge=0, le=5)
    #: Mark session cookies Secure; defaults to on when base_url is https.
    secure_cookies: bool | None = None
    #: Emit SQL in the log.
    sql_echo: bool = False
    #: "text" (readable lines) or "json" (one object a line, with the request id).
    log_format: Literal["text", "json"] = "text"
    #: Bearer token that may read /metrics (and the key fingerprint on /readyz) from anywhere.
    metrics_token: str = ""
    #: Addresses or networks (comma-separated) that may read /metrics without the token.
    metrics_allow: str = "127.0.0.1,::1"
    #: Testing mode (CSRF off only where a test turns it off explicitly).
    testing: bool = False
    #: CSRF protection on cookie-authenticated forms.
    csrf_enabled: bool = True
    #: Zoom OAuth app and webhook settings.
    zoom_client_id: str = ""
    zoom_client_secret: str = ""
    zoom_account_id: str = ""
    zoom_webhook_secret: str = ""
    zoom_api_url: str = "https://api.zoom.us/v2"
    zoom_oauth_url: str = "https://zoom.us"
    #: Seconds to wait for one answer from Zoom before treating the request as timed out.
    zoom_timeout_seconds: float = Field(default=15.0, gt=0, le=120)
    #: Retries after a timeout, a 5xx or a short 429 (with backoff) before giving up.
    zoom_retries: int = Field(default=3, ge=0, le=10)
    #: First backoff pause in seconds; it doubles with every retry.
    zoom_backoff_seconds: float = Field(default=1.0, ge=0, le=60)
    #: Longest Retry-After (seconds) waited for inside a request; longer waits become an error.
    zoom_max_wait_seconds: float = Field(default=20.0, ge=0, le=300)
    #: Microsoft Teams: the Entra app registration (client id and secret) and its authority.
    teams_client_id: str = ""
    teams_client_secret: str = ""
    #: "organizations" (any work or school tenant), a tenant id (GUID) or a verified domain.
    teams_tenant: str = "organizations"
    #: The Microsoft identity platform; settable for testing.
    teams_login_url: str = "https://login.microsoftonline.com"
    #: Microsoft Graph v1.0; settable for testing.
    teams_graph_url: str = "https://graph.microsoft.com/v1.0"
    #: Seconds to wait for one answer from Microsoft Graph before treating it as timed out.
    teams_timeout_seconds: float = Field(default=15.0, gt=0, le=120)
    #: Retries after a timeout, a 5xx or a short 429/503 (with backoff) before giving up.
    teams_retries: int = Field(default=3, ge=0, le=10)
    #: First backoff pause in seconds; it doubles with every retry.
    teams_backoff_seconds: float = Field(default=1.0, ge=0, le=60)
    #: Longest Retry-After (seconds) waited for inside a request; longer waits become an error.
    teams_max_wait_seconds: float = Field(default=20.0, ge=0, le=300)
    #: Minutes after a session's scheduled end when it is ended automatically (if nobody pressed
    #: "End session"); its summary then waits `summary_delay_minutes` for review.
    digest_grace_minutes: int = Field(default=30, ge=0, le=7 * 24 * 60)
    #: Minutes after a session ended when its summary email goes out by itself if the
    #: facilitator has not reviewed and sent it.
    summary_delay_minutes: int = Field(default=120, ge=0, le=14 * 24 * 60)
    #: Months after a programme's end when its participants' personal data is deleted (only
    #: anonymous figures remain); its facilitators are warned `retention_warning_days` before.
    retention_months: int = Field(default=12, ge=1, le=120)
    retention_warning_days: int = Field(default=30, ge=1, le=365)
    #: Days a sent email's body is kept in the outbox (then only its kind, date and status).
    mail_body_retention_days: int = Field(default=90, ge=1, le=3650)
    #: Hours before each session when a reminder goes out ("24,1" or [24, 1]); empty: none.
    reminder_hours: Annotated[tuple[int, ...], NoDecode] = (24, 1)
    #: Largest material file (an expert's slides) accepted, in megabytes.
    materials_max_mb: int = Field(default=20, ge=1, le=500)
    #: An S3-compatible store for material files (endpoint URL and bucket; both empty: the
    #: instance folder's `materials/`), an optional key prefix, the region SigV4 signs for,
    #: path-style or virtual-hosted bucket addresses, and the access key (both empty: the
    #: machine's own credentials, such as an instance role).
    materials_s3_endpoint: str = ""
    materials_s3_bucket: str = ""
    materials_s3_prefix: str = ""
    materials_s3_region: str = "us-east-1"
    materials_s3_addressing: Literal["path", "virtual"] = "path"
    materials_s3_access_key_id: str = ""
    materials_s3_secret_access_key: str = ""
    #: Keys for encrypting OAuth tokens at rest (Fernet, comma-separated, newest first);
    #: empty derives one from the secret key.
    token_keys: str = ""

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """Overrides, then environment, then the instance TOML file."""
        toml_file = _instance_path_from_env() / "kollega.toml"
        return (
            init_settings,
            env_settings,
            TomlConfigSettingsSource(settings_cls, toml_file=toml_file),
        )

    @field_validator(
        "base_url",
        "jitsi_url",
        "zoom_api_url",
        "zoom_oauth_url",
        "teams_login_url",
        "teams_graph_url",
    )
    @classmethod
    def _http_url(cls, value: str) -> str:
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError(f"must be an http(s) URL such as https://example.org, not {value!r}")
        return value.rstrip("/")

    @field_validator("materials_s3_endpoint")
    @classmethod
    def _s3_endpoint(cls, value: str) -> str:
        if not value:
            return value
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError(f"must be an http(s) URL such as https://s3.example.org: {value!r}")
        return value.rstrip("/")

    @field_validator("materials_s3_prefix")
    @classmethod
    def _s3_prefix(cls, value: str) -> str:
        # Keys are "<prefix><32 hex>": a folder-like prefix ends with one slash, none leads.
        value = value.strip().strip("/")
        return f"{value}/" if value else ""

    @field_validator("token_keys")
    @classmethod
    def _token_keys(cls, value: str) -> str:
        from cryptography.fernet import Fernet

        for position, key in enumerate((k.strip() for k in value.split(",") if k.strip()), 1):
            try:
                Fernet(key.encode())
            except (ValueError, TypeError):
                raise ValueError(
                    f"key {position} is not a Fernet key (32 url-safe base64-encoded bytes)"
                ) from None
        return value

    @field_validator("smtp_url")
    @classmethod
    def _smtp_url(cls, value: str) -> str:
        if value and urlsplit(value).scheme not in ("smtp", "smtps", "smtp+starttls"):
            raise ValueError("must start with smtp:// (STARTTLS when offered) or smtps:// (SSL)")
        return value

    @field_validator("reminder_hours", mode="before")
    @classmethod
    def _reminder_hours(cls, value: Any) -> Any:
        if isinstance(value, str):
            value = [part.strip() for part in value.strip("[]").split(",") if part.strip()]
        hours = tuple(sorted({int(hour) for hour in value}, reverse=True))
        if any(hour < 1 or hour > 7 * 24 for hour in hours):
            raise ValueError("each reminder must be 1 to 168 hours before the session")
        return hours

    @field_validator("database_url")
    @classmethod
    def _database_url(cls, value: str) -> str:
        if value.startswith("postgres://"):
            # Heroku-style URLs; SQLAlchemy wants the dialect and driver spelled out.
            return "postgresql+psycopg://" + value.removeprefix("postgres://")
        if value.startswith("postgresql://"):
            return "postgresql+psycopg://" + value.removeprefix("postgresql://")
        if value and not value.startswith(("sqlite", "postgresql+psycopg")):
            raise ValueError("must be a sqlite:/// or postgresql:// URL")
        return value

    @field_validator("redis_url")
    @classmethod
    def _redis_url(cls, value: str) -> str:
        if value and urlsplit(value).scheme not in ("redis", "rediss", "unix"):
            raise ValueError("must be a redis:// URL")
        return value

    @field_validator("teams_client_id")
    @classmethod
    def _teams_client_id(cls, value: str) -> str:
        value = value.strip().lower()
        if value and not _GUID.fullmatch(value):
            raise ValueError(
                "must be the Application (client) ID of the Entra app registration, a GUID "
                "such as 00000000-0000-0000-0000-000000000000"
            )
        return value

    @field_validator("teams_tenant")
    @classmethod
    def _teams_tenant(cls, value: str) -> str:
        value = value.strip().lower()
        if value in ("common", "consumers"):
            # Teams meetings need work or school accounts (NOTES §0: personal accounts are
            # not supported by the online-meeting APIs).
            raise ValueError("use 'organizations' or one tenant (its id or domain)")
        if not value or not _TENANT.fullmatch(value):
            raise ValueError("must be 'organizations', a tenant id (GUID) or a domain")
        return value

    @field_validator("ratelimit_storage_url")
    @classmethod
    def _ratelimit_storage_url(cls, value: str) -> str:
        if value and urlsplit(value).scheme not in ("memory", "redis", "rediss", "unix"):
            raise ValueError("must be memory:// or a redis:// URL")
        return value

    @field_validator("live_url")
    @classmethod
    def _live_url(cls, value: str) -> str:
        if not value:
            return value
        parts = urlsplit(value)
        if parts.scheme not in ("ws", "wss") or not parts.hostname:
            raise ValueError(f"must be a ws:// or wss:// URL such as wss://host/ws, not {value!r}")
        if parts.port == 0:
            raise ValueError("must name a real port (or none), not port 0")
        return value

    @field_validator("metrics_allow")
    @classmethod
    def _metrics_allow(cls, value: str) -> str:
        import ipaddress

        for part in (p.strip() for p in value.split(",") if p.strip()):
            try:
                ipaddress.ip_network(part, strict=False)
            except ValueError:
                raise ValueError(f"{part!r} is not an address or network") from None
        return value

    @model_validator(mode="after")
    def _jitsi_pair(self) -> Config:
        if bool(self.jitsi_app_id) != bool(self.jitsi_app_secret):
            raise ValueError("COMPANION_JITSI_APP_ID and COMPANION_JITSI_APP_SECRET go together")
        return self

    @model_validator(mode="after")
    def _teams_pair(self) -> Config:
        if bool(self.teams_client_id) != bool(self.teams_client_secret):
            raise ValueError(
                "COMPANION_TEAMS_CLIENT_ID and COMPANION_TEAMS_CLIENT_SECRET go together"
            )
        return self

    @model_validator(mode="after")
    def _materials_s3(self) -> Config:
        if bool(self.materials_s3_endpoint) != bool(self.materials_s3_bucket):
            raise ValueError(
                "COMPANION_MATERIALS_S3_ENDPOINT and COMPANION_MATERIALS_S3_BUCKET go together"
            )
        if bool(self.materials_s3_access_key_id) != bool(self.materials_s3_secret_access_key):
            raise ValueError(
                "COMPANION_MATERIALS_S3_ACCESS_KEY_ID and COMPANION_MATERIALS_S3_SECRET_ACCESS_KEY "
                "go together"
            )
        return self

    @property
    def materials_s3_configured(self) -> bool:
        """Whether material files go to an S3-compatible store (else the instance folder)."""
        return bool(self.materials_s3_endpoint and self.materials_s3_bucket)

    @property
    def teams_configured(self) -> bool:
        """Whether a Microsoft Entra app is configured for Teams."""
        return bool(self.teams_client_id and self.teams_client_secret)

    @property
    def effective_database_url(self) -> str:
        """The configured database, or SQLite in the instance folder."""
        return self.database_url or f"sqlite:///{self.instance_path / 'kollega.sqlite'}"

    def external_url(self, path: str) -> str:
        """An absolute address on this service, for emails and calendar entries."""
        return f"{self.base_url}/{path.lstrip('/')}"

    @property
    def outbox_path(self) -> Path:
        """Folder where mail goes as .eml files when no SMTP server is configured."""
        return self.instance_path / "outbox"

    @property
    def uses_https(self) -> bool:
        """Whether people reach the service over HTTPS."""
        return self.base_url.startswith("https://")

    @property
    def public_live_url(self) -> str:
        """Where browsers open the WebSocket.

        Without `live_url`: the base URL's host on `live_port`, or, when the port is 0 (no live
        server in this process; a proxy routes /ws to the live processes), `/ws` on the base
        URL itself. Never a port 0, which no browser can reach.
        """
        if self.live_url:
            return self.live_url
        parts = urlsplit(self.base_url)
        scheme = "wss" if parts.scheme == "https" else "ws"
        if self.live_port == 0:
            return f"{scheme}://{parts.netloc}/ws"
        host = parts.hostname or "127.0.0.1"
        if ":" in host:
            host = f"[{host}]"
        return f"{scheme}://{host}:{self.live_port}/ws"

    @property
    def effective_ratelimit_storage_url(self) -> str:
        """Where rate limits are counted: the setting, else Redis when configured, else memory."""
        return self.ratelimit_storage_url or self.redis_url or "memory://"

    @property
    def bus_namespace(self) -> str:
        """The prefix of this deployment's Redis channels and keys."""
        if self.redis_namespace:
            return self.redis_namespace
        import hashlib

        # The database is what makes a deployment one: processes sharing it must share the
        # channels, and two deployments on one Redis never share a database. Without the user
        # and password, so changing them does not split the deployment.
        parts = urlsplit(self.effective_database_url)
        identity = f"{parts.scheme}://{parts.hostname}:{parts.port}{parts.path}"
        return "kollega:" + hashlib.sha256(identity.encode()).hexdigest()[:12]

    @property
    def secret_key_generated(self) -> bool:
        """Whether the secret key was generated into the instance folder rather than set."""
        key_file = self.instance_path / "secret_key"
        try:
            return key_file.read_text().strip() == self.secret_key
        except OSError:
            return False


def load_config(override: dict[str, Any] | None = None) -> Config:
    """Read and validate the configuration; raise ConfigError with a readable message."""
    try:
        config = Config(**(override or {}))
    except ValidationError as exc:
        lines = []
        for error in exc.errors():
            name = ".".join(str(p) for p in error["loc"]) or "configuration"
            lines.append(f"  COMPANION_{name.upper()}: {error['msg']}")
        raise ConfigError("Invalid configuration:\n" + "\n".join(lines)) from None
    return _with_secret_key(config)


def _with_secret_key(config: Config) -> Config:
    """Use the configured secret key, or generate one once and keep it in the instance folder."""
    if config.secret_key:
        if len(config.secret_key) < 16:
            raise ConfigError("Invalid configuration:\n  COMPANION_SECRET_KEY: use 16+ characters")
        return config
    config.instance_path.mkdir(parents=True, exist_ok=True)
    key_file = config.instance_path / "secret_key"
    if not key_file.exists():
        try:
            fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass  # another process made it first; use theirs
        else:
            with os.fdopen(fd, "w") as handle:
                handle.write(secrets.token_urlsafe(48))
            log.warning("Generated a secret key and kept it in %s", key_file)
    return config.model_copy(update={"secret_key": key_file.read_text().strip()})
