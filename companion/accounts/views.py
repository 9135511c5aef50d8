"""Sign-in and sign-out for facilitators."""

from __future__ import annotations

import math
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    Response,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import ngettext
from werkzeug.exceptions import TooManyRequests
from werkzeug.wrappers import Response as BaseResponse

from companion.accounts import identity
from companion.accounts.operations import authenticate
from companion.core.db import get_db
from companion.core.security import limiter, rate_limited

bp = Blueprint("accounts", __name__, template_folder="templates")


def _sign_in_limit() -> str:
    limit: str = current_app.extensions["companion.config"].sign_in_limit
    return limit


def _sign_in_key() -> str:
    email = (request.form.get("email") or "").strip().lower()
    return f"{request.remote_addr}|{email}"


def _failed(response: BaseResponse) -> bool:
    # Only failed attempts count against the limit; a successful sign-in redirects (303).
    return response.status_code != 303


@bp.before_app_request
def _load_facilitator() -> None:
    """Make the signed-in facilitator known to templates (navigation) on every page."""
    if "fid" in session:
        identity.current_facilitator()


def _safe_next(target: str | None) -> str:
    """Only same-site paths, so the sign-in page cannot be used to redirect elsewhere."""
    if not target:
        return url_for("programmes.index")
    # Browsers read "/\\evil.example" as "//evil.example" and drop tabs and newlines from
    # addresses, so a backslash or a control character anywhere makes the target unsafe.
    if "\\" in target or any(ord(c) < 32 or ord(c) == 127 for c in target):
        return url_for("programmes.index")
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return url_for("programmes.index")
    return target


@bp.route("/sign-in", methods=["GET", "POST"])
@rate_limited
@limiter.limit(_sign_in_limit, key_func=_sign_in_key, methods=["POST"], deduct_when=_failed)
def sign_in() -> str | BaseResponse | tuple[str, int]:
    """Sign in with email and password."""
    if request.method == "GET":
        if identity.current_facilitator() is not None:
            return redirect(_safe_next(request.args.get("next")))
        return render_template("accounts/sign_in.html", values={}, error=None)
    email = request.form.get("email", "")
    password = request.form.get("password", "")
    db = get_db()
    facilitator = authenticate(db, email, password)
    if facilitator is None:
        db.rollback()
        error = _("The email or password is not right.")
        return (
            render_template("accounts/sign_in.html", values={"email": email}, error=error),
            401,
        )
    db.commit()
    identity.sign_in(facilitator)
    return redirect(_safe_next(request.args.get("next")), code=303)


@bp.errorhandler(429)
def _too_many_attempts(exc: TooManyRequests) -> tuple[str, int, dict[str, str]]:
    """The sign-in page again, saying why it refuses for now (not a bare error page)."""
    limit = getattr(exc, "limit", None)
    seconds = int(limit.limit.get_expiry()) if limit is not None else 15 * 60
    minutes = max(1, math.ceil(seconds / 60))
    error = ngettext(
        "Too many failed attempts. For your safety, signing in is paused; "
        "please try again in %(num)s minute.",
        "Too many failed attempts. For your safety, signing in is paused; "
        "please try again in %(num)s minutes.",
        minutes,
    )
    email = request.form.get("email", "") if request.method == "POST" else ""
    page = render_template("accounts/sign_in.html", values={"email": email}, error=error)
    return page, 429, {"Retry-After": str(seconds)}


@bp.route("/sign-out", methods=["POST"])
def sign_out() -> Response | BaseResponse:
    """Sign out of this browser."""
    identity.sign_out()
    flash(_("You have signed out."))
    return redirect(url_for("accounts.sign_in"), code=303)
