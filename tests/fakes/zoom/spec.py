"""openapi-core wired to Zoom's Meeting API description (``meetings-openapi.json``)."""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Iterable
from pathlib import Path
from typing import Any, ClassVar

from openapi_core import Config, OpenAPI
from openapi_core.contrib.werkzeug import WerkzeugOpenAPIRequest
from openapi_core.datatypes import RequestParameters
from openapi_core.security.exceptions import SecurityProviderError
from openapi_core.security.factories import SecurityProviderFactory
from openapi_core.security.providers import BaseProvider
from openapi_core.validation.request.validators import V30RequestValidator
from werkzeug.wrappers import Request

#: The OpenAPI description the fake validates against (override with KOLLEGA_ZOOM_OPENAPI).
SPEC_PATH = Path(
    os.environ.get(
        "KOLLEGA_ZOOM_OPENAPI", Path(__file__).resolve().parent.parent / "meetings-openapi.json"
    )
)
#: Server URL of the spec (``servers[0].url``); requests are validated as if sent there.
SPEC_HOST = "https://api.zoom.us"

# NOTES §2.1: `yyyy-MM-ddTHH:mm:ssZ` (UTC) or local `yyyy-MM-ddTHH:mm:ss` + `timezone`.
START_TIME_RE = re.compile(
    r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})?$", re.IGNORECASE
)


class _BearerProvider(BaseProvider):
    """openapi-core ships no oauth2 provider (it only warns); require a bearer token."""

    def __call__(self, parameters: RequestParameters) -> Any:
        value = parameters.header.get("Authorization", "")
        scheme, _, token = value.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise SecurityProviderError("Missing bearer token in Authorization header.")
        return token


class _ZoomSecurityFactory(SecurityProviderFactory):
    PROVIDERS: ClassVar[dict[str, type[BaseProvider]]] = {
        **SecurityProviderFactory.PROVIDERS,
        "oauth2": _BearerProvider,
    }


class _ZoomRequestValidator(V30RequestValidator):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs["security_provider_factory"] = _ZoomSecurityFactory()
        super().__init__(*args, **kwargs)


def _zoom_date_time(value: object) -> bool:
    # NOTES §2.1: Zoom takes `…Z` (UTC) and local `yyyy-MM-ddTHH:mm:ss` (with `timezone`),
    # which plain RFC 3339 would reject; offsets are RFC 3339 and accepted too.
    return not isinstance(value, str) or bool(START_TIME_RE.match(value))


class SpecRequest(WerkzeugOpenAPIRequest):
    """A Werkzeug request seen as sent to the spec's server, with the undecoded path."""

    def __init__(self, request: Request, raw_path: str) -> None:
        super().__init__(request)
        self._raw_path = raw_path

    @property
    def host_url(self) -> str:
        return SPEC_HOST

    @property
    def path(self) -> str:
        return self._raw_path


def _load_spec(path: Path) -> OpenAPI:
    config = Config(
        request_validator_cls=_ZoomRequestValidator,
        extra_format_validators={"date-time": _zoom_date_time},
    )
    return OpenAPI.from_file_path(str(path), config=config)


_SPEC_CACHE: dict[Path, OpenAPI] = {}
_SPEC_CACHE_LOCK = threading.Lock()


def cached_spec(path: Path) -> OpenAPI:
    with _SPEC_CACHE_LOCK:
        if path not in _SPEC_CACHE:
            _SPEC_CACHE[path] = _load_spec(path)
        return _SPEC_CACHE[path]


def _field_name(path: Iterable[Any]) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def describe_errors(errors: list[Exception]) -> tuple[list[str], list[dict[str, str]]]:
    """Readable details and Zoom ``errors[]`` entries for openapi-core errors."""
    details: list[str] = []
    fields: list[dict[str, str]] = []
    for err in errors:
        details.append(f"{type(err).__name__}: {err}")
        name = getattr(err, "name", None)
        cause = err.__cause__
        schema_errors = getattr(cause, "schema_errors", None)
        if schema_errors:
            for sub in schema_errors:
                field_name = _field_name(sub.absolute_path) or (name or "body")
                details.append(f"  - {field_name}: {sub.message}")
                fields.append({"field": field_name, "message": "Invalid field."})
        elif cause is not None:
            details.append(f"  - {cause}")
            fields.append({"field": name or "body", "message": "Invalid field."})
        elif name:
            fields.append({"field": name, "message": "Invalid field."})
    unique = list({(f["field"], f["message"]): f for f in fields}.values())
    return details, unique
