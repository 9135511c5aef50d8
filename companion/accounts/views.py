"""Facilitators' own pages: the front page, sign-in and sign-out, and their programmes' outbox."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Annotated, Any

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
from pydantic import BaseModel, BeforeValidator
from sqlalchemy import select
from werkzeug.exceptions import TooManyRequests
from werkzeug.wrappers import Response as BaseResponse

from companion.accounts import identity
from companion.accounts.access import contacts_shown, may, require_programme
from companion.accounts.operations import authenticate, visible_programmes
from companion.accounts.roles import CONTACTS_HIDDEN, Capability
from companion.core.db import get_db
from companion.core.errors import NotFound
from companion.core.mail import OutboxMessage, message_bytes, server_status
from companion.core.schema_types import NoControl, RedirectTarget
from companion.core.security import limiter, rate_limited, safe_next
from companion.core.validation import form, form_data, query
from companion.privacy.audit import record_audit

bp = Blueprint("accounts", __name__, template_folder="templates")


def _sign_in_limit() -> str:
    limit: str = current_app.extensions["companion.config"].sign_in_limit
    return limit


def _address_limit() -> str:
    limit: str = current_app.extensions["companion.config"].sign_in_address_limit
    return limit


def _global_limit() -> str:
    limit: str = current_app.extensions["companion.config"].sign_in_global_limit
    return limit


def _sign_in_key() -> str:
    email = str(form_data(request.form).get("email", ""))[:254].lower()
    return f"{request.remote_addr}|{email}"


def _address_key() -> str:
    return f"address|{request.remote_addr}"


def _global_key() -> str:
    return "everyone"


def _failed(response: BaseResponse) -> bool:
    # Only failed attempts count against the limit; a successful sign-in redirects (303).
    return response.status_code != 303


@bp.before_app_request
def _load_facilitator() -> None:
    """Make the signed-in facilitator known to templates (navigation) on every page."""
    # Health answers never ask the database for a person (a browser's cookie must not make
    # /healthz depend on it).
    if "fid" in session and request.blueprint != "health":
        identity.current_facilitator()


def _safe_next(target: str | None) -> str:
    """Only same-site paths, so the sign-in page cannot be used to redirect elsewhere."""
    return safe_next(target, url_for("programmes.index"))


@bp.route("/")
def home() -> str | BaseResponse:
    """Facilitators go to their programmes; everyone else sees what Kollega is."""
    if identity.current_facilitator() is not None:
        return redirect(url_for("programmes.index"))
    return render_template("accounts/home.html")


class SignInQuery(BaseModel):
    """Where to go after signing in (a path on this site; anything else is ignored)."""

    next: RedirectTarget = ""


def _at_most(length: int) -> Callable[[Any], Any]:
    # Anything longer names no account: a failed attempt like any other, not a form error.
    return lambda value: value if not isinstance(value, str) or len(value) <= length else ""


class SignInForm(BaseModel):
    """The sign-in form; the email is checked against accounts, not for its form."""

    email: Annotated[str, BeforeValidator(_at_most(254)), NoControl] = ""
    password: Annotated[str, BeforeValidator(_at_most(1000))] = ""


# Failed attempts are limited per (client, email), per client whatever the email, and in all
# (storage: COMPANION_RATELIMIT_STORAGE_URL, Redis when several processes serve).
@bp.route("/sign-in", methods=["GET", "POST"])
@rate_limited
@limiter.limit(_sign_in_limit, key_func=_sign_in_key, methods=["POST"], deduct_when=_failed)
@limiter.limit(_address_limit, key_func=_address_key, methods=["POST"], deduct_when=_failed)
@limiter.limit(_global_limit, key_func=_global_key, methods=["POST"], deduct_when=_failed)
def sign_in() -> str | BaseResponse | tuple[str, int]:
    """Sign in with email and password."""
    target = _safe_next(query(SignInQuery).next)
    if request.method == "GET":
        if identity.current_facilitator() is not None:
            return redirect(target)
        return render_template("accounts/sign_in.html", values={}, error=None)
    data = form(SignInForm)
    email, password = data.email, data.password
    db = get_db()
    facilitator = authenticate(db, email, password)
    if facilitator is None:
        db.rollback()
        error = _("The email or password is not right.")
        return (
            render_template("accounts/sign_in.html", values={"email": email}, error=error),
            401,
        )
    identity.sign_in(db, facilitator)
    db.commit()
    return redirect(target, code=303)


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
    email = str(form_data(request.form).get("email", ""))[:254] if request.method == "POST" else ""
    page = render_template("accounts/sign_in.html", values={"email": email}, error=error)
    return page, 429, {"Retry-After": str(seconds)}


@bp.route("/sign-out", methods=["POST"])
def sign_out() -> Response | BaseResponse:
    """Sign out of this browser; the session ends on the server too, so a copy of the cookie
    no longer signs anyone in."""
    db = get_db()
    identity.sign_out(db)
    db.commit()
    flash(_("You have signed out."))
    return redirect(url_for("accounts.sign_in"), code=303)


# --- the outbox -------------------------------------------------------------------------------


@bp.route("/outbox")
def outbox() -> str:
    """Mail of the facilitator's programmes: queued, sent and failed."""
    facilitator = identity.require_facilitator()
    db = get_db()
    # Only the programmes whose people's mail the facilitator's role may read (not observers').
    visible = visible_programmes(db, facilitator)
    programme_ids = [p.id for p in visible if may(facilitator, p, Capability.CONTACT_DETAILS)]
    messages = list(
        db.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.programme_id.in_(programme_ids))
            .order_by(OutboxMessage.id.desc())
            .limit(300)
        )
    )
    counts: dict[str, int] = {}
    for message in messages:
        counts[message.status] = counts.get(message.status, 0) + 1
    config = current_app.extensions["companion.config"]
    return render_template(
        "accounts/outbox.html",
        messages=messages,
        counts=counts,
        observed=len(visible) - len(programme_ids),
        outbox_folder=None if config.smtp_url else str(config.outbox_path),
        mail_server=server_status(db) if config.smtp_url else None,
    )


def _message_for(message_id: int, *, audited: bool = True) -> OutboxMessage:
    facilitator = identity.require_facilitator()
    db = get_db()
    message = db.get(OutboxMessage, message_id)
    programmes = {p.id: p for p in visible_programmes(db, facilitator)}
    if message is None or message.programme_id not in programmes:
        raise NotFound(_("No such message."))
    # An observer may see the programme, not the mail sent to its people.
    programme = programmes[message.programme_id]
    require_programme(facilitator, programme, capability=Capability.CONTACT_DETAILS)
    if not audited:
        return message
    # A stored email holds a person's address and what was written to them.
    record_audit(
        db,
        "outbox.view",
        organisation_id=programme.organisation_id,  # whose admin reads the audit log
        facilitator=facilitator,
        message_id=message.id,
        programme_id=message.programme_id,
    )
    db.commit()
    return message


@bp.route("/outbox/<int:message_id>")
def outbox_message(message_id: int) -> str:
    """One message as its recipient gets it."""
    message = _message_for(message_id)
    return render_template("accounts/outbox_message.html", message=message)


@bp.route("/outbox/<int:message_id>.eml")
def outbox_eml(message_id: int) -> Response:
    """Download the message as an .eml file to open in a mail program."""
    message = _message_for(message_id)
    config: Any = current_app.extensions["companion.config"]
    # The very bytes delivery sends (CRLF line ends), not a re-flattened copy.
    return Response(
        message_bytes(message, config),
        mimetype="message/rfc822",
        headers={"Content-Disposition": f'attachment; filename="kollega-{message.id}.eml"'},
    )


@bp.route("/outbox/<int:message_id>/html")
def outbox_html(message_id: int) -> Response:
    """The HTML part, shown in a sandboxed frame on the message page."""
    message = _message_for(message_id, audited=False)
    response = Response(message.html_body or "", mimetype="text/html")
    # The body is our own rendering, but it holds participant-entered text: no scripts at all.
    policy = [
        "default-src 'none'",
        "style-src 'unsafe-inline'",
        "img-src data:",
        "frame-ancestors 'self'",
        "sandbox",
    ]
    response.headers["Content-Security-Policy"] = "; ".join(policy)
    return response


# --- contact details on pages -----------------------------------------------------------------


@bp.app_template_global("contacts_shown")
def contacts_shown_global() -> bool:
    """Whether the page may show people's contact details (see `accounts.access`)."""
    return contacts_shown()


@bp.app_template_global("contacts_hidden_note")
def contacts_hidden_note() -> str:
    """The note a page shows once when it leaves contact details out."""
    return str(CONTACTS_HIDDEN)
