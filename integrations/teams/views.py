"""Teams pages: the Microsoft 365 connection, "Sign in with Microsoft", and the meeting app's
tab (side panel, meeting stage) with its configuration page and SSO endpoint.

`bp` holds the pages a person sees (their errors render as pages); `api` holds what the tab's
script calls (errors as problem+json).
"""

from __future__ import annotations

import logging
import secrets
from typing import Any

from flask import (
    Blueprint,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from companion.accounts import identity
from companion.accounts.connected import ConnectedSignIn, add_sign_in_lookup
from companion.accounts.identity import require_facilitator
from companion.accounts.models import Facilitator
from companion.board.views import PANEL_FRAME_ANCESTORS
from companion.config import Config
from companion.core.api import api_view
from companion.core.db import Db, get_db, writes
from companion.core.errors import (
    Conflict,
    DomainError,
    Invalid,
    NotAllowed,
    NotFound,
    NotSignedIn,
    Unavailable,
)
from companion.core.security import csrf_exempt, safe_next
from companion.core.slots import add_to_slot
from companion.core.validation import query
from integrations.teams import accounts
from integrations.teams import models as _models  # noqa: F401 - its tables join Base.metadata
from integrations.teams.claims import TokenRejected, check_id_token, check_sso_token
from integrations.teams.messages import oauth_failure_message, token_rejected_message
from integrations.teams.oauth import MicrosoftOAuth, OAuthFailure, new_code_verifier
from integrations.teams.panel import TabContext, open_tab, panel_url
from integrations.teams.schemas import CallbackQuery, SignInQuery, TabOpenIn, TabOpenOut
from integrations.teams.tokens import connection_for

log = logging.getLogger(__name__)

bp = Blueprint("teams", __name__, template_folder="templates", url_prefix="/integrations/teams")
api = Blueprint("teams_api", __name__, url_prefix="/integrations/teams")

#: The key of the OAuth round trip in the cookie session.
OAUTH_SESSION_KEY = "teams_oauth"
#: Pages Teams shows inside its client (framed, TeamsJS).
TAB_PATHS = ("/integrations/teams/tab", "/integrations/teams/config")


def _config() -> Config:
    config: Config = current_app.extensions["companion.config"]
    return config


@bp.record_once
def _add_buttons(state: Any) -> None:
    """The sign-in page's "Sign in with Microsoft" and the menu's connection page link."""

    def configured() -> bool:
        return bool(state.app.extensions["companion.config"].teams_configured)

    add_to_slot(state.app, "sign_in", "teams/sign_in_button.html", configured)
    add_to_slot(state.app, "nav", "teams/nav_link.html", configured)
    add_sign_in_lookup(state.app, _microsoft_sign_in)


def _microsoft_sign_in(db: Db, facilitator: Facilitator) -> ConnectedSignIn | None:
    """Which Microsoft 365 account (if any) signs in to the facilitator's, for the account
    page."""
    if not _config().teams_configured:
        return None
    row = connection_for(db, facilitator.id)
    account = row.account_name if row is not None else ""
    return ConnectedSignIn("Microsoft 365", account, url_for("teams.connection"))


@bp.before_app_request
def _tab_headers() -> None:
    """The tab's pages may be framed by Teams and run TeamsJS (served from here)."""
    if request.path.startswith(TAB_PATHS):
        g.allow_framing = True
        g.csp_extra = {"frame-ancestors": PANEL_FRAME_ANCESTORS}


@bp.errorhandler(DomainError)
def _page_error(exc: DomainError) -> ResponseReturnValue:
    """Pages of this blueprint answer errors with a page (or the sign-in page)."""
    if isinstance(exc, NotSignedIn):
        return redirect(url_for("accounts.sign_in", next=request.full_path))
    return (
        render_template(
            "core/error.html", status=exc.status, title=str(exc.title), detail=exc.detail
        ),
        exc.status,
    )


def _require_configured() -> Config:
    config = _config()
    if not config.teams_configured:
        raise NotFound(_("Microsoft Teams is not set up on this Kollega."))
    return config


# --- connecting an account and signing in --------------------------------------------------


def _start_oauth(
    intent: str, facilitator_id: int | None = None, target: str = ""
) -> ResponseReturnValue:
    config = _require_configured()
    state, nonce, verifier = (
        secrets.token_urlsafe(32),
        secrets.token_urlsafe(32),
        new_code_verifier(),
    )
    # The cookie session is signed; the verifier leaves our side only to Microsoft's token
    # endpoint (PKCE S256), the nonce comes back inside the id_token (NOTES §1.1, §1.4).
    session[OAUTH_SESSION_KEY] = {
        "state": state,
        "nonce": nonce,
        "verifier": verifier,
        "intent": intent,
        "fid": facilitator_id,
        "next": target,
    }
    url = MicrosoftOAuth(config).authorization_url(
        accounts.redirect_uri(config), state=state, nonce=nonce, code_verifier=verifier
    )
    return redirect(url, code=303)


@bp.route("/connection")
def connection() -> ResponseReturnValue:
    """The facilitator's Microsoft 365 connection: who is connected, reconnect, disconnect."""
    facilitator = require_facilitator()
    config = _config()
    # The Connect form's answer redirects to Microsoft; browsers apply form-action to it.
    g.csp_extra = {"form-action": f"'self' {config.teams_login_url}"}
    return render_template(
        "teams/connection.html",
        facilitator=facilitator,
        connection=connection_for(get_db(), facilitator.id),
        configured=config.teams_configured,
        missing=accounts.missing_settings(config),
        redirect_uri=accounts.redirect_uri(config),
    )


@bp.route("/connect", methods=["POST"])
def connect() -> ResponseReturnValue:
    """Send the facilitator to Microsoft to connect their account (code + PKCE + nonce)."""
    facilitator = require_facilitator()
    return _start_oauth("connect", facilitator.id)


@bp.route("/sign-in")
def sign_in() -> ResponseReturnValue:
    """Sign in with Microsoft: for facilitators Kollega already knows."""
    return _start_oauth("sign-in", target=safe_next(query(SignInQuery).next, ""))


def _safe_next(target: str) -> str:
    return safe_next(target, url_for("programmes.index"))


@bp.route("/callback")
@writes
def callback() -> ResponseReturnValue:
    """Microsoft sends the browser back here with a code (or an error) and our state."""
    config = _require_configured()
    answer = query(CallbackQuery)
    pending = session.pop(OAUTH_SESSION_KEY, None)
    if not isinstance(pending, dict) or not secrets.compare_digest(
        str(pending.get("state", "")), answer.state
    ):
        raise Invalid(
            _("The answer from Microsoft could not be matched to your request. Please start again.")
        )
    intent = pending.get("intent")
    back = url_for("teams.connection") if intent == "connect" else url_for("accounts.sign_in")
    if answer.error or not answer.code:
        log.info("Microsoft sign-in ended with %s", answer.error or "no code")
        flash(oauth_failure_message(answer.error, answer.error_description), "warning")
        return redirect(back, code=303)
    try:
        tokens = MicrosoftOAuth(config).exchange_code(
            answer.code, accounts.redirect_uri(config), str(pending.get("verifier", ""))
        )
        user = check_id_token(config, tokens.id_token, nonce=str(pending.get("nonce", "")))
    except OAuthFailure as exc:
        log.warning("Microsoft code exchange failed: %s %s", exc.error, exc.aadsts)
        flash(oauth_failure_message(exc.error, temporary=exc.temporary), "error")
        return redirect(back, code=303)
    except TokenRejected as exc:
        log.warning("Microsoft id_token refused: %s", exc.reason)
        flash(token_rejected_message(exc.reason), "error")
        return redirect(back, code=303)
    db = get_db()
    if intent == "sign-in":
        try:
            facilitator = accounts.sign_in_with_microsoft(db, config, tokens, user)
        except (NotFound, NotAllowed) as exc:
            db.rollback()
            flash(exc.detail or str(exc.title), "error")
            return redirect(url_for("accounts.sign_in"), code=303)
        identity.sign_in(db, facilitator)
        db.commit()
        return redirect(_safe_next(str(pending.get("next") or "")), code=303)
    facilitator = require_facilitator()
    if facilitator.id != pending.get("fid"):
        raise NotAllowed(_("You signed in as someone else meanwhile. Please start again."))
    try:
        row = accounts.connect_account(db, config, facilitator, tokens, user)
    except Conflict as exc:
        db.rollback()
        flash(exc.detail or "", "error")
        return redirect(back, code=303)
    db.commit()
    flash(_("Microsoft 365 is connected as %(account)s.", account=row.account_name))
    return redirect(back, code=303)


@bp.route("/disconnect", methods=["POST"])
def disconnect() -> ResponseReturnValue:
    """Forget the facilitator's Microsoft 365 connection and its tokens."""
    facilitator = require_facilitator()
    db = get_db()
    accounts.disconnect(db, facilitator)
    db.commit()
    flash(
        _(
            "Microsoft 365 is disconnected: Kollega no longer keeps its access. To withdraw "
            "the permission itself, remove Kollega under My Apps at myapps.microsoft.com."
        )
    )
    return redirect(url_for("teams.connection"), code=303)


# --- the meeting app's tab --------------------------------------------------------------------


def _tab_page(template: str) -> ResponseReturnValue:
    _require_configured()
    return render_template(
        template,
        teams_js=url_for("static", filename="vendor/teams-js/MicrosoftTeams.min.js"),
        open_url=url_for("teams_api.tab_open"),
        tab_url=_config().external_url("/integrations/teams/tab"),
    )


@bp.route("/tab")
def tab() -> ResponseReturnValue:
    """The tab's content page (side panel, meeting stage, chat and details tabs)."""
    return _tab_page("teams/tab.html")


@bp.route("/config")
def tab_config() -> ResponseReturnValue:
    """The configurable tab's configuration page, shown when the app is added to a meeting."""
    return _tab_page("teams/config.html")


@api.post("/tab/open")
@csrf_exempt
@api_view(summary="Open the Teams tab's panel", body=TabOpenIn, response=TabOpenOut, auth="public")
def tab_open(body: TabOpenIn) -> TabOpenOut:
    """Check the SSO token, find the meeting's session and the person, answer where to go."""
    config = _config()
    if not config.teams_configured:
        # Not a passing outage but a feature this installation does not have.
        raise NotFound(_("Microsoft Teams is not set up on this Kollega."))
    try:
        user = check_sso_token(config, body.token)
    except TokenRejected as exc:
        log.warning("Teams SSO token refused: %s", exc.reason)
        if exc.reason == "unavailable":
            raise Unavailable(token_rejected_message(exc.reason)) from None
        raise NotAllowed(token_rejected_message(exc.reason)) from None
    db = get_db()
    context = TabContext(
        chat_id=body.chat_id, meeting_id=body.meeting_id, user_id=body.user_id,
        tenant_id=body.tenant_id,
    )  # fmt: skip
    target = open_tab(db, user, context)
    if not target.identified:
        return TabOpenOut(
            state="identify",
            session_title=target.session.title,
            programme=target.session.group.programme.name,
        )
    url = panel_url(db, target)
    db.commit()  # a join link may have been made for the participant
    return TabOpenOut(
        state="open",
        panel_url=url,
        session_title=target.session.title,
        programme=target.session.group.programme.name,
        facilitator=target.facilitator is not None,
    )
