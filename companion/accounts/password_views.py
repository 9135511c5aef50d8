"""Password pages: change (signed in, with the platform sign-ins connected to the account),
forgotten (a reset link by email) and reset.

Asking for a reset answers with the same page whatever the address, and is rate-limited per
address and client (Flask-Limiter, as sign-in). A reset or a change ends every sign-in of the
account.
"""

from __future__ import annotations

import math
from typing import Any

from flask import Blueprint, current_app, flash, g, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import get_locale, ngettext
from flask_babel import gettext as _
from werkzeug.exceptions import TooManyRequests
from werkzeug.wrappers import Response as BaseResponse

from companion.accounts import identity, passwords
from companion.accounts.connected import connected_sign_ins
from companion.accounts.schemas import ChangePasswordIn, ForgotPasswordIn, ResetPasswordIn
from companion.config import Config
from companion.core.db import get_db
from companion.core.errors import Invalid
from companion.core.security import limiter, rate_limited
from companion.core.validation import form_data, submit_form

bp = Blueprint("passwords", __name__, template_folder="templates")

#: Reset emails one client may ask for one address, and in all; and everyone together.
RESET_ADDRESS_LIMIT = "5 per hour"
RESET_CLIENT_LIMIT = "20 per hour"
RESET_GLOBAL_LIMIT = "500 per hour"
#: Failed attempts at a form that sets a password (a wrong current password, a weak one).
CHANGE_LIMIT = "30 per 15 minutes"


def _config() -> Config:
    config: Config = current_app.extensions["companion.config"]
    return config


def _address_key() -> str:
    email = str(form_data(request.form).get("email", ""))[:254].lower()
    return f"reset|{request.remote_addr}|{email}"


def _client_key() -> str:
    return f"reset|{request.remote_addr}"


def _global_key() -> str:
    return "reset|everyone"


def _set_password_key() -> str:
    return f"set-password|{request.remote_addr}"


def _failed(response: BaseResponse) -> bool:
    return response.status_code != 303


def _asked(response: BaseResponse) -> bool:
    # Every answered request counts, whether or not the address has an account (the same
    # answer for both); a form refused for a malformed address sends nothing and does not.
    return response.status_code == 200


def _confirmed(password: str, confirm: str) -> None:
    if password != confirm:
        raise Invalid(
            _("Please correct the marked fields."),
            errors={"password_confirm": _("The two passwords are not the same.")},
        )


@bp.errorhandler(429)
def _too_many(exc: TooManyRequests) -> ResponseReturnValue:
    """The form again, saying why it refuses for now."""
    limit = getattr(exc, "limit", None)
    seconds = int(limit.limit.get_expiry()) if limit is not None else 3600
    minutes = max(1, math.ceil(seconds / 60))
    error = ngettext(
        "Too many attempts. Please try again in %(num)s minute.",
        "Too many attempts. Please try again in %(num)s minutes.",
        minutes,
    )
    page = render_template("accounts/too_many.html", error=error)
    return page, 429, {"Retry-After": str(seconds)}


# --- change -------------------------------------------------------------------------------


@bp.route("/account/password", methods=["GET", "POST"])
@rate_limited
@limiter.limit(CHANGE_LIMIT, key_func=_set_password_key, methods=["POST"], deduct_when=_failed)
def change_password() -> ResponseReturnValue:
    """Change the password; every other browser signed in to the account is signed out."""
    facilitator = identity.require_facilitator()
    db = get_db()

    def change(data: ChangePasswordIn) -> ResponseReturnValue:
        _confirmed(data.password, data.password_confirm)
        passwords.change_password(db, facilitator, data.current_password, data.password)
        identity.sign_in(db, facilitator)
        flash(_("Your password has been changed. Other browsers were signed out."))
        return redirect(url_for("programmes.index"), code=303)

    _values, errors, response = submit_form(ChangePasswordIn, change)
    if response is not None:
        return response
    return render_template(
        "accounts/change_password.html",
        errors=errors,
        facilitator=facilitator,
        has_password=bool(facilitator.password_hash),
        sign_ins=connected_sign_ins(db, facilitator),
    ), (422 if errors else 200)


# --- forgotten and reset ------------------------------------------------------------------


@bp.route("/forgot-password", methods=["GET", "POST"])
@rate_limited
@limiter.limit(RESET_ADDRESS_LIMIT, key_func=_address_key, methods=["POST"], deduct_when=_asked)
@limiter.limit(RESET_CLIENT_LIMIT, key_func=_client_key, methods=["POST"], deduct_when=_asked)
@limiter.limit(RESET_GLOBAL_LIMIT, key_func=_global_key, methods=["POST"], deduct_when=_asked)
def forgot_password() -> ResponseReturnValue:
    """Ask for a reset link; the answer is the same whether the address has an account."""
    db = get_db()

    def ask(data: ForgotPasswordIn) -> ResponseReturnValue:
        language = str(get_locale() or _config().default_language)
        passwords.request_password_reset(db, _config(), data.email, language=language)
        return render_template("accounts/forgot_password_sent.html")

    values, errors, response = submit_form(ForgotPasswordIn, ask)
    if response is not None:
        return response
    return render_template("accounts/forgot_password.html", values=values, errors=errors), (
        422 if errors else 200
    )


def _link_invalid(exc: passwords.LinkNotValid, kind: str) -> ResponseReturnValue:
    get_db().rollback()
    return render_template("accounts/link_invalid.html", reason=exc.reason, kind=kind), exc.status


@bp.route("/reset-password/<token>", methods=["GET", "POST"])
@rate_limited
@limiter.limit(CHANGE_LIMIT, key_func=_set_password_key, methods=["POST"], deduct_when=_failed)
def reset_password(token: str) -> ResponseReturnValue:
    """Choose a new password through an emailed link (once, within the hour)."""
    db = get_db()
    try:
        reset = passwords.reset_for_token(db, token)
    except passwords.LinkNotValid as exc:
        return _link_invalid(exc, "reset")
    account: dict[str, Any] = {"email": reset.facilitator.email}

    def choose(data: ResetPasswordIn) -> ResponseReturnValue:
        _confirmed(data.password, data.password_confirm)
        passwords.reset_password(db, token, data.password)
        # Whoever was signed in on this browser is signed out with the rest.
        identity.sign_out(db)
        g.facilitator = None
        flash(_("Your password has been changed. Please sign in with it."))
        return redirect(url_for("accounts.sign_in"), code=303)

    try:
        _values, errors, response = submit_form(ResetPasswordIn, choose)
    except passwords.LinkNotValid as exc:
        return _link_invalid(exc, "reset")
    if response is not None:
        return response
    return render_template("accounts/reset_password.html", account=account, errors=errors), (
        422 if errors else 200
    )
