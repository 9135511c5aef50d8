"""Zoom's event notifications (the webhook): checked, stored once, answered at once."""

from __future__ import annotations

import logging

from flask import current_app, jsonify, request
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from companion.config import Config
from companion.core.db import get_db
from companion.core.errors import DomainError, Invalid, Unavailable
from companion.core.safe_json import UnsafeJson, load_json
from companion.core.security import csrf_exempt
from companion.core.validation import parse
from integrations.zoom import webhook_events
from integrations.zoom.schemas import WebhookIn
from integrations.zoom.views import api
from integrations.zoom.webhooks import (
    WEBHOOK_MAX_BYTES,
    SignatureError,
    url_validation_answer,
    valid_plain_token,
    verify_signature,
)

log = logging.getLogger(__name__)


class BadSignature(DomainError):
    """A webhook request that Zoom did not sign with our secret, or signed too long ago."""

    status = 401
    type_slug = "bad-signature"
    title = _l("The request is not signed by Zoom")


def _config() -> Config:
    config: Config = current_app.extensions["companion.config"]
    return config


@api.post("/webhook")
@csrf_exempt
def webhook() -> ResponseReturnValue:
    """Zoom's event notifications: checked, stored once, answered at once (NOTES §4: < 3 s)."""
    secret = _config().zoom_webhook_secret
    if not secret:
        raise Unavailable(_("Zoom webhooks are not set up on this Kollega."))
    raw = request.get_data(cache=True)
    try:
        body = load_json(raw, max_bytes=WEBHOOK_MAX_BYTES)
    except UnsafeJson:
        raise Invalid(_("The request body is not valid JSON.")) from None
    if not isinstance(body, dict):
        raise Invalid(_("The request body is not valid JSON."))
    timestamp = request.headers.get("x-zm-request-timestamp")
    given = request.headers.get("x-zm-signature")
    is_validation = body.get("event") == "endpoint.url_validation"
    if given or not is_validation:
        # NOTES §4: validation requests may come unsigned; everything else must be signed.
        try:
            verify_signature(secret, timestamp, raw, given)
        except SignatureError as exc:
            log.warning("Zoom webhook refused: %s signature", exc.reason)
            raise BadSignature() from None
    if is_validation:
        payload = body.get("payload")
        plain = payload.get("plainToken") if isinstance(payload, dict) else None
        if not valid_plain_token(plain):
            raise Invalid(_("The validation request is not valid."))
        return jsonify(url_validation_answer(secret, str(plain)))
    event = parse(WebhookIn, body)  # signed, but its numbers must still fit our columns
    db = get_db()
    stored = webhook_events.store_webhook_event(db, event.model_dump(exclude_unset=True))
    db.commit()
    return jsonify(status="queued" if stored is not None else "duplicate")
