"""Change notifications in the fake Graph: subscriptions, the validation handshake, deliveries.

NOTES §3: creating a subscription makes Graph POST ``?validationToken=...`` to the
notification URL and the lifecycle URL, expecting 200, ``text/plain`` and the decoded token
within 10 s; notifications carry ``clientState``; lifecycle events go to the lifecycle URL;
a subscription to Outlook events lives at most 4,230 minutes (NOTES §8). Changes queue up and
are delivered when a test calls :meth:`Subscriptions.deliver_notifications`.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Callable
from typing import Any
from urllib.parse import quote, urlsplit

from werkzeug.wrappers import Request, Response

from tests.fakes.graph.common import GraphError, answer, new_guid
from tests.fakes.graph.validation import Checker

#: NOTES §8: the longest lifetime of a subscription to Outlook events (minutes).
EVENT_SUBSCRIPTION_MINUTES = 4230
#: The Entra application the fake says created subscriptions.
APPLICATION_ID = "8f2b6f5e-1d5c-4c55-9a0e-6a1f0f0c2f11"
_RESOURCES = ("me/events", "/me/events")
_LOOPBACK = ("127.0.0.1", "localhost", "::1")

Handler = Callable[[Request, Any, dict[str, str], Any], Response]


def _when(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))


class Subscriptions:
    """Subscriptions and deliveries; mixed into ``FakeGraph``."""

    def reset_subscriptions(self) -> None:
        """No subscriptions, nothing pending."""
        self.subscriptions: dict[str, dict[str, Any]] = {}
        self.subscription_owner: dict[str, str] = {}
        #: Changes not delivered yet: (owner id, event id, change type).
        self.pending: list[tuple[str, str, str]] = []
        #: Handshakes Kollega failed (url, reason), for tests to assert on.
        self.handshake_failures: list[tuple[str, str]] = []
        self.max_subscription_minutes = EVENT_SUBSCRIPTION_MINUTES

    # ---------------------------------------------------------------- rules and routes

    def subscription_rules(self, key: tuple[str, str], body: dict[str, Any]) -> list[str]:
        """NOTES §3.1/§8: what the subscription endpoints refuse beyond the schema."""
        problems: list[str] = []
        if key == ("POST", "/subscriptions"):
            for name in ("changeType", "notificationUrl", "resource", "expirationDateTime"):
                if not body.get(name):
                    problems.append(f"{name} is required for a subscription (NOTES §8)")
            kinds = str(body.get("changeType") or "").split(",")
            if any(k.strip() not in ("created", "updated", "deleted") for k in kinds if k):
                problems.append(f"changeType {body.get('changeType')!r} is not a changeType list")
            if body.get("resource") and str(body["resource"]).lower() not in _RESOURCES:
                problems.append(f"resource {body['resource']!r}: the fake serves me/events only")
            state = body.get("clientState")
            if isinstance(state, str) and len(state) > 255:
                problems.append("clientState is longer than 255 characters (NOTES §3.1)")
            if body.get("includeResourceData"):
                problems.append("includeResourceData needs an encryption certificate (§3.1)")
        if key == ("PATCH", "/subscriptions/{subscription-id}"):
            extra = set(body) - {"expirationDateTime", "notificationUrl"}
            if extra:
                problems.append(f"only expirationDateTime can be renewed, not {sorted(extra)}")
        if key[1].startswith("/subscriptions"):
            for name in ("notificationUrl", "lifecycleNotificationUrl"):
                url = body.get(name)
                if isinstance(url, str) and url:
                    parts = urlsplit(url)
                    # Graph takes only https; loopback http is the fake's one allowance.
                    if parts.scheme != "https" and parts.hostname not in _LOOPBACK:
                        problems.append(f"{name} must be an https URL")
            expires = body.get("expirationDateTime")
            if isinstance(expires, str) and expires:
                try:
                    when = _when(expires)
                except ValueError:
                    problems.append("expirationDateTime is not a date")
                else:
                    now = dt.datetime.fromtimestamp(self.now(), dt.UTC)
                    limit = now + dt.timedelta(minutes=self.max_subscription_minutes)
                    if when <= now or when > limit:
                        problems.append(
                            f"expirationDateTime must be in the next "
                            f"{self.max_subscription_minutes} minutes (NOTES §8)"
                        )
        return problems

    def subscription_handler(self, key: tuple[str, str]) -> Handler | None:
        """The handler of a subscription operation."""
        routes: dict[tuple[str, str], Handler] = {
            ("POST", "/subscriptions"): self._subscribe,
            ("GET", "/subscriptions"): self._list_subscriptions,
            ("GET", "/subscriptions/{subscription-id}"): self._get_subscription,
            ("PATCH", "/subscriptions/{subscription-id}"): self._renew,
            ("DELETE", "/subscriptions/{subscription-id}"): self._unsubscribe,
            ("POST", "/subscriptions/{subscription-id}/reauthorize"): self._reauthorize,
        }
        return routes.get(key)

    # ---------------------------------------------------------------- handlers

    def _expire_old(self) -> None:
        now = dt.datetime.fromtimestamp(self.now(), dt.UTC)
        for sid, sub in list(self.subscriptions.items()):
            if _when(sub["expirationDateTime"]) <= now:
                # Graph deletes a subscription when it expires.
                self.subscriptions.pop(sid)

    def _owned(self, user: Any, sid: str) -> dict[str, Any]:
        self._expire_old()
        if sid not in self.subscriptions or self.subscription_owner[sid] != user.id:
            raise GraphError(404, "ResourceNotFound", "The object was not found.")
        return self.subscriptions[sid]

    def _handshake(self, url: str) -> bool:
        token = f"Validation: Testing client application reachability for subscription Request-Id: {new_guid()}"  # noqa: E501
        self._lock.release()  # Kollega may call the fake while answering; don't hold the lock
        try:
            joiner = "&" if "?" in url else "?"
            delivery = self.post_to(f"{url}{joiner}validationToken={quote(token)}", None)
        finally:
            self._lock.acquire()
        reason = ""
        if delivery.status != 200:
            reason = f"status {delivery.status} {delivery.error}".strip()
        elif not delivery.content_type.lower().startswith("text/plain"):
            reason = f"Content-Type {delivery.content_type!r}"
        elif delivery.text != token:
            reason = "the body is not the decoded validationToken"
        if reason:
            self.handshake_failures.append((url, reason))
        return not reason

    def _subscribe(self, _r: Request, user: Any, _v: Any, body: Any) -> Response:
        for name in ("notificationUrl", "lifecycleNotificationUrl"):
            if body.get(name) and not self._handshake(body[name]):
                raise GraphError(
                    400,
                    "ValidationError",
                    "Subscription validation request failed. Notification endpoint must "
                    "respond with 200 OK to validation request.",
                )
        sid = new_guid()
        subscription = {
            "id": sid,
            "resource": body["resource"],
            "applicationId": APPLICATION_ID,
            "changeType": body["changeType"],
            "clientState": body.get("clientState"),
            "notificationUrl": body["notificationUrl"],
            "notificationQueryOptions": None,
            "lifecycleNotificationUrl": body.get("lifecycleNotificationUrl"),
            "expirationDateTime": body["expirationDateTime"],
            "creatorId": user.id,
            "includeResourceData": False,
            "latestSupportedTlsVersion": "v1_2",
            "encryptionCertificate": None,
            "encryptionCertificateId": None,
            "notificationUrlAppId": None,
        }
        self.subscriptions[sid] = subscription
        self.subscription_owner[sid] = user.id
        return answer(subscription, 201)

    def _list_subscriptions(self, _r: Request, user: Any, _v: Any, _b: Any) -> Response:
        self._expire_old()
        mine = [
            {**s, "clientState": None}
            for sid, s in self.subscriptions.items()
            if self.subscription_owner[sid] == user.id
        ]
        return answer({"value": mine})

    def _get_subscription(self, _r: Request, user: Any, values: Any, _b: Any) -> Response:
        return answer({**self._owned(user, values["subscription-id"]), "clientState": None})

    def _renew(self, _r: Request, user: Any, values: Any, body: Any) -> Response:
        subscription = self._owned(user, values["subscription-id"])
        subscription.update({k: v for k, v in body.items() if k in ("expirationDateTime",)})
        return answer(subscription)

    def _unsubscribe(self, _r: Request, user: Any, values: Any, _b: Any) -> Response:
        self._owned(user, values["subscription-id"])
        self.subscriptions.pop(values["subscription-id"])
        return Response(status=204)

    def _reauthorize(self, _r: Request, user: Any, values: Any, _b: Any) -> Response:
        self._owned(user, values["subscription-id"])
        return Response(status=204)

    # ---------------------------------------------------------------- deliveries

    def queue_change(self, owner_id: str, event_id: str, change_type: str) -> None:
        """Remember a change of an event for the next delivery."""
        self.pending.append((owner_id, event_id, change_type))

    def subscription(self, sid: str) -> dict[str, Any]:
        """A copy of a stored subscription (with its clientState)."""
        with self._lock:
            return dict(self.subscriptions[sid])

    def live_subscriptions(self) -> list[dict[str, Any]]:
        """Copies of the subscriptions that have not expired."""
        with self._lock:
            self._expire_old()
            return [dict(s) for s in self.subscriptions.values()]

    def _item(
        self, sub: dict[str, Any], owner: str, event_id: str, change: str, state: Any
    ) -> dict[str, Any]:
        resource = f"Users/{owner}/Events/{event_id}"
        return {
            "subscriptionId": sub["id"],
            "subscriptionExpirationDateTime": sub["expirationDateTime"],
            "changeType": change,
            "resource": resource,
            "resourceData": {
                "@odata.type": "#Microsoft.Graph.Event",
                "@odata.id": resource,
                "@odata.etag": f'W/"{secrets.token_urlsafe(12)}"',
                "id": event_id,
            },
            "clientState": sub["clientState"] if state is None else state,
            "tenantId": self.tenant_id,
        }

    def _send(self, url: str, body: dict[str, Any]) -> Any:
        problems = Checker(self.spec, answer=True).check(
            body, {"$ref": "#/components/schemas/microsoft.graph.changeNotificationCollection"},
            "notification",
        )  # fmt: skip
        if problems:
            self.self_violations.append("notification body\n    " + "\n    ".join(problems))
        return self.post_to(url, body, timeout=10.0)

    def deliver_notifications(self) -> list[Any]:
        """POST the queued changes to every matching subscription (one body per subscription)."""
        with self._lock:
            self._expire_old()
            pending, self.pending = self.pending, []
            batches: dict[str, list[dict[str, Any]]] = {}
            for owner, event_id, change in pending:
                for sid, sub in self.subscriptions.items():
                    kinds = [k.strip() for k in sub["changeType"].split(",")]
                    if self.subscription_owner[sid] == owner and change in kinds:
                        batches.setdefault(sid, []).append(
                            self._item(sub, owner, event_id, change, None)
                        )
            targets = [(self.subscriptions[s]["notificationUrl"], b) for s, b in batches.items()]
        return [self._send(url, {"value": items}) for url, items in targets]

    def notify(
        self, sid: str, change: str, event_id: str, *, client_state: str | None = None
    ) -> Any:
        """Send one change notification now (``client_state`` overrides the stored secret)."""
        with self._lock:
            sub = self.subscriptions[sid]
            body = {"value": [self._item(sub, self.subscription_owner[sid], event_id, change,
                                         client_state)]}  # fmt: skip
        return self._send(sub["notificationUrl"], body)

    def send_lifecycle(self, sid: str, event: str, *, client_state: str | None = None) -> Any:
        """A lifecycle notification (NOTES §3.3); ``subscriptionRemoved`` also removes it."""
        with self._lock:
            sub = self.subscriptions[sid]
            body = {
                "value": [
                    {
                        "subscriptionId": sid,
                        "subscriptionExpirationDateTime": sub["expirationDateTime"],
                        "tenantId": self.tenant_id,
                        "clientState": sub["clientState"] if client_state is None else client_state,
                        "lifecycleEvent": event,
                    }
                ]
            }
            if event == "subscriptionRemoved":
                self.subscriptions.pop(sid)
            url = sub["lifecycleNotificationUrl"] or sub["notificationUrl"]
        return self._send(url, body)
