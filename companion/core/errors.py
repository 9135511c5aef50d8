"""Domain errors and their one translation into RFC 9457 problem+json or a friendly page.

Operations raise `NotFound`, `NotAllowed`, `Conflict` or `Invalid`; views never build error
responses by hand. Anything unexpected is logged and answered with a generic 500 that names
no internals.
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import urlsplit

from flask import Flask, Response, current_app, jsonify, make_response, render_template, request
from flask.globals import _cv_request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from werkzeug.exceptions import HTTPException

log = logging.getLogger(__name__)

PROBLEM_JSON = "application/problem+json"


class DomainError(Exception):
    """Base of errors a user can act on. `detail` is shown to the user (already translated)."""

    status = 400
    type_slug = "error"
    title: Any = _l("Something went wrong")

    def __init__(self, detail: str | None = None, **extra: Any) -> None:
        super().__init__(detail or "")
        self.detail = detail
        self.extra = extra


class NotFound(DomainError):
    """The thing does not exist, or the person may not know it exists."""

    status = 404
    type_slug = "not-found"
    title = _l("Not found")


class NotAllowed(DomainError):
    """The person is known but may not do this."""

    status = 403
    type_slug = "forbidden"
    title = _l("Not allowed")


class NotSignedIn(DomainError):
    """The request needs a signed-in person."""

    status = 401
    type_slug = "unauthorized"
    title = _l("Please sign in")


class Conflict(DomainError):
    """The request clashes with the current state (a duplicate, an old revision)."""

    status = 409
    type_slug = "conflict"
    title = _l("Conflict")


class Invalid(DomainError):
    """The input is wrong. `errors` maps a field path to what is wrong with it."""

    status = 422
    type_slug = "invalid"
    title = _l("Please check the input")

    def __init__(
        self,
        detail: str | None = None,
        errors: dict[str, str] | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(detail, **extra)
        self.errors = errors or {}


class Unavailable(DomainError):
    """A platform or service we depend on cannot do this right now."""

    status = 503
    type_slug = "unavailable"
    title = _l("Temporarily unavailable")


def wants_problem_json() -> bool:
    """API routes and clients that prefer JSON get problem+json; browsers get a page."""
    # The JSON API: everything under /api/, and the API blueprints elsewhere (a platform's
    # webhooks and app endpoints under /integrations/, whose pages are pages).
    if request.path.startswith("/api/") or (request.blueprint or "").endswith("_api"):
        return True
    best = request.accept_mimetypes.best_match(["text/html", "application/json", PROBLEM_JSON])
    return best in ("application/json", PROBLEM_JSON)


def problem_response(
    status: int,
    title: str,
    detail: str | None = None,
    *,
    type_slug: str = "error",
    extra: dict[str, Any] | None = None,
) -> Response:
    """An RFC 9457 problem document."""
    body: dict[str, Any] = {
        "type": f"https://kollega.invalid/problems/{type_slug}",
        "title": title,
        "status": status,
    }
    if detail:
        body["detail"] = detail
    body["instance"] = request.path
    body.update(extra or {})
    response = jsonify(body)
    response.status_code = status
    response.mimetype = PROBLEM_JSON
    return response


def _ensure_url_adapter() -> None:
    """Let the error page build addresses when the request's own host could not be read.

    Werkzeug refuses a malformed Host header (`a..b`, a label over 63 characters) before
    routing, and Flask then has no URL adapter, so `url_for` in the page would fail. The
    page's links are paths, so an adapter bound to our configured host builds them alike.
    """
    ctx = _cv_request.get(None)
    if ctx is None or ctx.url_adapter is not None:
        return
    base = urlsplit(current_app.extensions["companion.config"].base_url)
    ctx.url_adapter = current_app.url_map.bind(
        base.netloc or "localhost",
        script_name=request.script_root or "/",
        url_scheme=base.scheme or "http",
    )


def _page(
    status: int, title: str, detail: str | None, errors: dict[str, str] | None = None
) -> tuple[str, int]:
    _ensure_url_adapter()
    html = render_template(
        "core/error.html", status=status, title=title, detail=detail, errors=errors or {}
    )
    return html, status


def init_app(app: Flask) -> None:
    """Register the handlers that turn every error into problem+json or a page."""

    @app.errorhandler(DomainError)
    def _domain_error(exc: DomainError) -> Any:
        title = str(exc.title)
        extra = dict(exc.extra)
        if isinstance(exc, Invalid) and exc.errors:
            extra["errors"] = [{"field": k, "message": v} for k, v in exc.errors.items()]
        if wants_problem_json():
            return problem_response(
                exc.status, title, exc.detail, type_slug=exc.type_slug, extra=extra
            )
        if isinstance(exc, NotSignedIn):
            from flask import redirect, url_for

            _ensure_url_adapter()
            return redirect(url_for("accounts.sign_in", next=request.full_path))
        return _page(exc.status, title, exc.detail, getattr(exc, "errors", None))

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException) -> Any:
        status = exc.code or 500
        title = _http_title(status, exc)
        detail = _http_detail(status, exc)
        if wants_problem_json():
            response = problem_response(status, title, detail, type_slug=f"http-{status}")
            if status == 429:
                retry = getattr(exc, "retry_after", None)
                if retry:
                    response.headers["Retry-After"] = str(retry)
        else:
            response = make_response(_page(status, title, detail))
        # RFC 9110: a 405 names the methods the address does take, on pages too.
        if status == 405 and getattr(exc, "valid_methods", None):
            response.headers["Allow"] = ", ".join(exc.valid_methods)  # type: ignore[attr-defined]
        return response

    app.register_error_handler(Exception, unexpected_error)


def unexpected_error(exc: Exception) -> Any:
    """Log an unexpected error and answer a generic 500 that names no internals."""
    log.exception("Unhandled error on %s %s", request.method, request.url_rule or "(unmatched)")
    title = _("Something went wrong on our side")
    detail = _("The error has been logged. Please try again in a moment.")
    if wants_problem_json():
        return problem_response(500, title, detail, type_slug="internal")
    return _page(500, title, detail)


def _http_title(status: int, exc: HTTPException) -> str:
    titles = {
        400: _("Bad request"),
        401: _("Please sign in"),
        403: _("Not allowed"),
        404: _("Page not found"),
        405: _("Method not allowed"),
        409: _("Conflict"),
        413: _("The upload is too large"),
        415: _("Unsupported content type"),
        422: _("Please check the input"),
        429: _("Too many attempts"),
    }
    return titles.get(status, exc.name)


def _http_detail(status: int, exc: HTTPException) -> str | None:
    details = {
        400: _("The request could not be understood."),
        404: _("The address may be mistyped, or the page has been removed."),
        405: _("This address does not accept that kind of request."),
        413: _("Please send a smaller file."),
        415: _("Send the request body as JSON (Content-Type: application/json)."),
        429: _("Please wait a moment before trying again."),
    }
    if status == 400 and exc.description and "CSRF" in exc.description:
        return _("The form had expired. Please reload the page and try again.")
    return details.get(status)
