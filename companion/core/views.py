"""Front page, health check, the OpenAPI description and the mail outbox."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, current_app, jsonify, redirect, render_template, url_for
from flask_babel import gettext as _
from sqlalchemy import select, text
from werkzeug.wrappers import Response as BaseResponse

from companion.accounts.identity import current_facilitator, require_facilitator
from companion.accounts.operations import visible_programmes
from companion.core.api import openapi_document
from companion.core.db import get_db
from companion.core.errors import NotFound
from companion.core.mail import OutboxMessage, message_bytes

bp = Blueprint("core", __name__)


@bp.route("/")
def home() -> str | BaseResponse:
    """Facilitators go to their programmes; everyone else sees what Kollega is."""
    if current_facilitator() is not None:
        return redirect(url_for("programmes.index"))
    return render_template("core/home.html")


@bp.route("/healthz")
def health() -> Response:
    """For load balancers: the database answers."""
    get_db().execute(text("SELECT 1"))
    return jsonify(status="ok")


@bp.route("/api/openapi.json")
def openapi() -> Response:
    """The OpenAPI 3.1 description of the JSON API, generated from the code."""
    return jsonify(openapi_document(current_app))


@bp.route("/outbox")
def outbox() -> str:
    """Mail of the facilitator's programmes: queued, sent and failed."""
    facilitator = require_facilitator()
    db = get_db()
    programme_ids = [p.id for p in visible_programmes(db, facilitator)]
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
        "core/outbox.html",
        messages=messages,
        counts=counts,
        outbox_folder=None if config.smtp_url else str(config.outbox_path),
    )


def _message_for(message_id: int) -> OutboxMessage:
    facilitator = require_facilitator()
    db = get_db()
    message = db.get(OutboxMessage, message_id)
    programme_ids = {p.id for p in visible_programmes(db, facilitator)}
    if message is None or message.programme_id not in programme_ids:
        raise NotFound(_("No such message."))
    return message


@bp.route("/outbox/<int:message_id>")
def outbox_message(message_id: int) -> str:
    """One message as its recipient gets it."""
    message = _message_for(message_id)
    return render_template("core/outbox_message.html", message=message)


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
    message = _message_for(message_id)
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
