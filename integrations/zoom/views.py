"""Zoom pages (Connections, a session's meeting, sign-in), the webhook and the Zoom App panel.

`bp` holds the pages a person sees: their errors render as pages (not problem+json, which
`/integrations/` paths get by default). `api` holds what machines call: the webhook and the
side panel's JSON endpoints.
"""

from __future__ import annotations

import logging
import secrets
from typing import Any
from urllib.parse import urlsplit

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
from flask_babel import ngettext

from companion.accounts import identity
from companion.accounts.connected import ConnectedSignIn, add_sign_in_lookup
from companion.accounts.identity import require_facilitator
from companion.accounts.models import Facilitator
from companion.breakouts.summaries import held_out
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
from companion.core.validation import query, submit_form
from companion.sessions import operations as session_ops
from integrations.zoom import (
    configuration,
    connections,
    models,  # noqa: F401 - the tables belong to Base.metadata
    panel,
    session_meeting,
)
from integrations.zoom import personal_data as _personal_data  # noqa: F401  (registers its share)
from integrations.zoom.appcontext import AppContext, AppContextError, read_app_context
from integrations.zoom.attendance import import_attendance
from integrations.zoom.errors import ZoomError
from integrations.zoom.oauth import OAuthFailure, ZoomOAuth, new_code_verifier
from integrations.zoom.schemas import (
    AppContextIn,
    AuthorizedIn,
    AuthorizeOut,
    CallbackQuery,
    MeetingSettingsIn,
    PanelOut,
    SignInQuery,
)
from integrations.zoom.usage import LOW_QUOTA

log = logging.getLogger(__name__)

bp = Blueprint("zoom", __name__, template_folder="templates", url_prefix="/integrations/zoom")
api = Blueprint("zoom_api", __name__, url_prefix="/integrations/zoom")

#: Where Zoom loads the Apps SDK from (NOTES §5.2: the CSP must allow it).
SDK_ORIGIN = "https://appssdk.zoom.us"
#: The key of the OAuth round trip in the cookie session.
OAUTH_SESSION_KEY = "zoom_oauth"


def _config() -> Config:
    config: Config = current_app.extensions["companion.config"]
    return config


@bp.before_app_request
def _zoom_app_headers() -> None:
    """Every Zoom App page (and its errors) carries the four OWASP headers Zoom requires."""
    if request.path.startswith("/integrations/zoom/app"):
        # NOTES §5.2: HSTS, X-Content-Type-Options, CSP and Referrer-Policy must all be present
        # or Zoom shows a blank panel; core.security adds them, HSTS even over http here.
        g.force_hsts = True
        g.allow_framing = True
        g.csp_extra = {
            "script-src": f"'self' {SDK_ORIGIN}",
            "frame-ancestors": "'self' https://*.zoom.us",
        }


@bp.record_once
def _add_connected_sign_in(state: Any) -> None:
    """The account page shows which Zoom account (if any) signs in to the facilitator's."""
    add_sign_in_lookup(state.app, _zoom_sign_in)


def _zoom_sign_in(db: Db, facilitator: Facilitator) -> ConnectedSignIn | None:
    if not configuration.user_oauth_available(_config()):
        return None
    row = connections.connection_of(db, facilitator)
    account = row.zoom_email if row is not None else ""
    return ConnectedSignIn("Zoom", account, url_for("zoom.connection"))


@bp.app_context_processor
def _sign_in_button() -> dict[str, Any]:
    """Lets the sign-in page offer "Sign in with Zoom" only when it can work."""
    return {"zoom_sign_in_available": configuration.user_oauth_available(_config())}


@bp.app_template_filter("zoom_meeting_id")
def _meeting_id_filter(value: str) -> str:
    """A meeting id grouped as Zoom shows it (123 4567 8901)."""
    digits = "".join(c for c in str(value) if c.isdigit())
    if len(digits) == 11:
        return f"{digits[:3]} {digits[3:7]} {digits[7:]}"
    if len(digits) == 10:
        return f"{digits[:3]} {digits[3:6]} {digits[6:]}"
    return str(value)


@bp.errorhandler(DomainError)
def _page_error(exc: DomainError) -> ResponseReturnValue:
    """Pages of this blueprint answer errors with a page (or the sign-in page)."""
    if isinstance(exc, NotSignedIn):
        return redirect(url_for("accounts.sign_in", next=request.full_path))
    if request.path.startswith("/integrations/zoom/app"):
        # Inside Zoom: the panel's own plain page, without the site's navigation.
        return _panel_page(exc.status, state="error", title=str(exc.title), detail=exc.detail)
    return (
        render_template(
            "core/error.html", status=exc.status, title=str(exc.title), detail=exc.detail
        ),
        exc.status,
    )


# --- connecting a facilitator's Zoom account ---------------------------------------------------


def _start_oauth(
    intent: str, facilitator_id: int | None = None, target: str = ""
) -> ResponseReturnValue:
    config = _config()
    state = secrets.token_urlsafe(32)
    verifier = new_code_verifier()
    # The cookie session is signed; the verifier never leaves our side except to Zoom's token
    # endpoint (PKCE S256, NOTES §1.1).
    session[OAUTH_SESSION_KEY] = {
        "state": state,
        "verifier": verifier,
        "intent": intent,
        "fid": facilitator_id,
        "next": target,
    }
    url = ZoomOAuth(config).authorization_url(configuration.redirect_uri(config), state, verifier)
    return redirect(url, code=303)


@bp.route("/connection")
def connection() -> ResponseReturnValue:
    """The facilitator's Zoom connection: status, daily meeting quota, connect or disconnect."""
    facilitator = require_facilitator()
    db = get_db()
    config = _config()
    row = connections.connection_of(db, facilitator)
    # The Connect form's answer redirects to Zoom; browsers apply form-action to that hop.
    g.csp_extra = {"form-action": f"'self' {config.zoom_oauth_url}"}
    return render_template(
        "zoom/connection.html",
        facilitator=facilitator,
        connection=row,
        configured=configuration.configured(config),
        server_to_server=configuration.server_to_server(config),
        quota=connections.host_quota(db, config, facilitator),
        low_quota=LOW_QUOTA,
        urls={
            "redirect": configuration.redirect_uri(config),
            "webhook": configuration.webhook_url(config),
            "home": configuration.app_home_url(config),
            # NOTES §5.3: bare host names, no scheme or port.
            "domain": urlsplit(config.base_url).hostname or "",
        },
    )


@bp.route("/connect", methods=["POST"])
def connect() -> ResponseReturnValue:
    """Send the facilitator to Zoom to authorise Kollega (authorisation code with PKCE)."""
    facilitator = require_facilitator()
    if not configuration.user_oauth_available(_config()):
        raise Conflict(_("This Kollega does not connect personal Zoom accounts."))
    return _start_oauth("connect", facilitator.id)


@bp.route("/sign-in")
def sign_in() -> ResponseReturnValue:
    """Sign in with Zoom: for facilitators who have connected their Zoom account."""
    if not configuration.user_oauth_available(_config()):
        raise NotFound(_("Signing in with Zoom is not available here."))
    return _start_oauth("sign-in", target=safe_next(query(SignInQuery).next, ""))


def _safe_next(target: str) -> str:
    return safe_next(target, url_for("programmes.index"))


@bp.route("/callback")
@writes
def callback() -> ResponseReturnValue:
    """Zoom sends the browser back here with a code (or an error) and our state."""
    config = _config()
    answer = query(CallbackQuery)
    pending = session.pop(OAUTH_SESSION_KEY, None)
    if not isinstance(pending, dict) or not secrets.compare_digest(
        str(pending.get("state", "")), answer.state
    ):
        raise Invalid(
            _("The answer from Zoom could not be matched to your request. Please start again.")
        )
    intent = pending.get("intent")
    back = url_for("zoom.connection") if intent == "connect" else url_for("accounts.sign_in")
    if answer.error or not answer.code:
        flash(_("Zoom was not connected: the authorisation was cancelled."), "warning")
        return redirect(back, code=303)
    try:
        tokens = ZoomOAuth(config).exchange_code(
            answer.code,
            configuration.redirect_uri(config),
            str(pending.get("verifier", "")),
        )
        user = connections.zoom_user(config, tokens.access_token)
    except OAuthFailure as exc:
        log.warning("Zoom code exchange failed: %s", exc.error)
        flash(_("Zoom did not accept the authorisation. Please try again."), "error")
        return redirect(back, code=303)
    except ZoomError as exc:
        flash(exc.message, "error")
        return redirect(back, code=303)
    db = get_db()
    if intent == "sign-in":
        try:
            facilitator = connections.sign_in_with_zoom(db, config, tokens, user)
        except NotFound as exc:
            db.rollback()
            # Do not leave a grant behind for someone Kollega does not know.
            connections.revoke_quietly(config, tokens.access_token)
            flash(exc.detail or "", "error")
            return redirect(url_for("accounts.sign_in"), code=303)
        identity.sign_in(db, facilitator)
        db.commit()
        return redirect(_safe_next(str(pending.get("next") or "")), code=303)
    facilitator = require_facilitator()
    if facilitator.id != pending.get("fid"):
        raise NotAllowed(_("You signed in as someone else meanwhile. Please start again."))
    try:
        row = connections.save_connection(db, config, facilitator, tokens, user)
    except Conflict as exc:
        db.rollback()
        connections.revoke_quietly(config, tokens.access_token)
        flash(exc.detail or "", "error")
        return redirect(back, code=303)
    db.commit()
    flash(_("Zoom is connected as %(email)s.", email=row.zoom_email))
    return redirect(back, code=303)


@bp.route("/disconnect", methods=["POST"])
def disconnect() -> ResponseReturnValue:
    """Revoke Kollega's access at Zoom and forget the connection."""
    facilitator = require_facilitator()
    db = get_db()
    revoked = connections.disconnect(db, _config(), facilitator)
    db.commit()
    if revoked:
        flash(_("Zoom is disconnected, and Kollega's access was revoked at Zoom."))
    else:
        flash(
            _(
                "Zoom is disconnected in Kollega, but Zoom could not be told. Remove Kollega "
                "from your Zoom account's added apps in the Zoom App Marketplace."
            ),
            "warning",
        )
    return redirect(url_for("zoom.connection"), code=303)


# --- a session's Zoom meeting ---------------------------------------------------------------------


def _zoom_session(session_id: int) -> Any:
    facilitator = require_facilitator()
    zoom_session = session_ops.get_session(get_db(), facilitator, session_id)
    session_meeting.require_zoom_session(zoom_session)
    return facilitator, zoom_session


@bp.route("/sessions/<int:session_id>", methods=["GET", "POST"])
def meeting(session_id: int) -> ResponseReturnValue:
    """A session's Zoom meeting: status, settings the facilitator chooses, host quota."""
    facilitator, zoom_session = _zoom_session(session_id)
    db = get_db()

    def save(data: MeetingSettingsIn) -> ResponseReturnValue:
        row = session_meeting.update_meeting_settings(db, zoom_session, facilitator, data)
        if row.data.get("error"):
            flash(_("The settings are saved; Zoom did not take them yet: %(error)s",
                    error=row.data["error"]), "warning")  # fmt: skip
        else:
            flash(_("The meeting settings are saved in Zoom."))
        return redirect(url_for("zoom.meeting", session_id=zoom_session.id), code=303)

    values, errors, response = submit_form(
        MeetingSettingsIn, save, defaults=session_meeting.meeting_settings(zoom_session)
    )
    if response is not None:
        return response
    row = session_meeting.zoom_room(zoom_session)
    return (
        render_template(
            "zoom/meeting.html",
            session=zoom_session,
            programme=zoom_session.group.programme,
            room=row,
            values=values,
            errors=errors,
            quota=connections.host_quota(db, _config(), facilitator),
            low_quota=LOW_QUOTA,
            is_host=row is not None
            and row.data.get("host_facilitator_id") in (None, facilitator.id),
            held=held_out(db, zoom_session),
        ),
        422 if errors else 200,
    )


@bp.route("/sessions/<int:session_id>/recreate", methods=["POST"])
def recreate(session_id: int) -> ResponseReturnValue:
    """Make a new Zoom meeting for the session, hosted by this facilitator."""
    facilitator, zoom_session = _zoom_session(session_id)
    db = get_db()
    row = session_meeting.recreate_meeting(db, zoom_session, facilitator)
    db.commit()
    if row.status == "active":
        flash(_("The Zoom meeting is ready."))
    else:
        flash(_("The Zoom meeting could not be created: %(error)s",
                error=row.data.get("error", "")), "error")  # fmt: skip
    return redirect(url_for("zoom.meeting", session_id=zoom_session.id), code=303)


@bp.route("/sessions/<int:session_id>/attendance", methods=["POST"])
def attendance(session_id: int) -> ResponseReturnValue:
    """Read who attended from Zoom's past participants and merge it with the join links."""
    _facilitator, zoom_session = _zoom_session(session_id)
    db = get_db()
    try:
        result = import_attendance(db, zoom_session)
    except (Conflict, Unavailable) as exc:
        db.rollback()
        flash(exc.detail or str(exc.title), "error")
        return redirect(url_for("zoom.meeting", session_id=zoom_session.id), code=303)
    db.commit()
    flash(
        ngettext(
            "Attendance from Zoom: %(num)s participant recognised.",
            "Attendance from Zoom: %(num)s participants recognised.",
            result.matched,
        )
    )
    return redirect(url_for("zoom.meeting", session_id=zoom_session.id), code=303)


@bp.route("/sessions/<int:session_id>/start")
def start(session_id: int) -> ResponseReturnValue:
    """Open the meeting as its host (a fresh start address, NOTES §2.1)."""
    facilitator, zoom_session = _zoom_session(session_id)
    target = session_meeting.start_url(get_db(), zoom_session, facilitator)
    return redirect(target, code=303)


# --- the Zoom App side panel ----------------------------------------------------------------------


def _context(header: str) -> AppContext:
    config = _config()
    try:
        return read_app_context(header, config.zoom_client_id, config.zoom_client_secret)
    except AppContextError as exc:
        if exc.reason == "missing":
            raise Invalid(_("Open this page from the Kollega app inside a Zoom meeting.")) from None
        if exc.reason == "expired":
            raise NotAllowed(
                _("The Zoom app's sign-in has expired. Please reopen the app.")
            ) from None
        raise NotAllowed(_("This request did not come from Kollega's Zoom app.")) from None


def _panel_page(status: int = 200, **context: Any) -> ResponseReturnValue:
    return render_template("zoom/app.html", sdk_url=f"{SDK_ORIGIN}/sdk.min.js", **context), status


@bp.route("/app")
@writes
def app_home() -> ResponseReturnValue:
    """The Zoom App's Home URL: find the session and the person, open the board's panel."""
    if not configuration.configured(_config()):
        raise Unavailable(_("Zoom is not set up on this Kollega yet."))
    context = _context(request.headers.get("x-zoom-app-context", ""))
    db = get_db()
    target = panel.panel_target(db, _config(), context)
    if not target.identified:
        db.commit()
        return _panel_page(state="identify", meeting_session=target.session, guest=not context.uid)
    url = panel.panel_url(db, target)
    db.commit()  # a join link may have been made for the participant
    return _panel_page(state="open", meeting_session=target.session, panel_url=url)


@api.post("/app/authorize")
@csrf_exempt
@api_view(
    summary="Start identifying the Zoom user",
    body=AppContextIn,
    response=AuthorizeOut,
    auth="public",
)
def app_authorize(body: AppContextIn) -> AuthorizeOut:
    """PKCE values for `zoomSdk.authorize` (the panel has no cookies; the context vouches)."""
    context = _context(body.context)
    return AuthorizeOut.model_validate(panel.start_in_client_authorization(_config(), context))


@api.post("/app/authorized")
@csrf_exempt
@api_view(
    summary="Finish identifying the Zoom user", body=AuthorizedIn, response=PanelOut, auth="public"
)
def app_authorized(body: AuthorizedIn) -> PanelOut:
    """Exchange the in-client code and answer where the panel goes."""
    context = _context(body.context)
    db = get_db()
    target = panel.finish_in_client_authorization(
        db,
        _config(),
        context,
        code=body.code,
        state=body.state,
        given_redirect_uri=body.redirectUri,
    )
    url = panel.panel_url(db, target)
    db.commit()
    return PanelOut(panel_url=url)


# The webhook endpoint lives in its own module, on this module's `api` blueprint.
from integrations.zoom import webhook_views as _webhook_views  # noqa: E402, F401
