"""Webhook deliveries as Zoom signs them, and the answer to its URL validation (NOTES §4)."""

from __future__ import annotations

import hashlib
import hmac
import time

from tests.fakes.zoom.state import ZoomState


class WebhookInputs(ZoomState):
    """Builders for what Zoom's event notifications send to the app."""

    def sign_webhook(
        self, body: bytes, secret: str, timestamp: int | None = None
    ) -> dict[str, str]:
        """Headers Zoom sends with a webhook body (NOTES §4; timestamp: real epoch seconds)."""
        ts = str(int(time.time()) if timestamp is None else timestamp)
        message = b"v0:" + ts.encode() + b":" + body
        mac = hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()
        return {
            "x-zm-signature": f"v0={mac}",
            "x-zm-request-timestamp": ts,
            "content-type": "application/json; charset=utf-8",
        }

    @staticmethod
    def url_validation_answer(plain_token: str, secret: str) -> dict[str, str]:
        """The answer Zoom expects to ``endpoint.url_validation`` (NOTES §4)."""
        enc = hmac.new(secret.encode(), plain_token.encode(), hashlib.sha256).hexdigest()
        return {"plainToken": plain_token, "encryptedToken": enc}
