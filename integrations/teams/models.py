"""What Kollega keeps about Microsoft 365 and Teams.

One connection per facilitator: both the facilitator's sign-in identity at Microsoft (keyed on
the tenant and object id, NOTES §1.4: never on `preferred_username`) and the delegated grant
Kollega uses to call Microsoft Graph for them; tokens are stored encrypted
(`companion.core.crypto`). Beside it: per-programme choices, change subscriptions, and the
change notifications Graph sends (stored once, processed by the worker).

The meetings themselves are `MeetingRoom` rows (platform "teams"); what Graph calls them is in
their `data` (see `platform.py`).
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from companion.core.db import Base, utcnow

if TYPE_CHECKING:
    from companion.accounts.models import Facilitator


class TeamsConnection(Base):
    """A facilitator's Microsoft 365 (work or school) account, with its tokens encrypted."""

    __tablename__ = "teams_connection"
    __table_args__ = (UniqueConstraint("tenant_id", "object_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The facilitator it belongs to; unique: one Microsoft account per facilitator and back.
    facilitator_id: Mapped[int] = mapped_column(
        ForeignKey("facilitator.id", ondelete="CASCADE"), unique=True
    )
    #: The Entra tenant (`tid` claim, a GUID).
    tenant_id: Mapped[str] = mapped_column(String(64))
    #: The user's object id in that tenant (`oid` claim): with `tenant_id`, the lasting key.
    object_id: Mapped[str] = mapped_column(String(64))
    #: `preferred_username` (usually the UPN): shown to people, never used to find anyone.
    upn: Mapped[str] = mapped_column(String(254), default="")
    #: The verified email the account was linked by (or last seen), lower case.
    email: Mapped[str] = mapped_column(String(254), default="")
    display_name: Mapped[str] = mapped_column(String(200), default="")
    #: Space-separated scopes Microsoft granted (the token answer's `scope`).
    scopes: Mapped[str] = mapped_column(Text, default="")
    #: Fernet-encrypted access token (Microsoft's are 1,500+ characters, hence Text).
    access_token: Mapped[str] = mapped_column(Text, default="")
    #: Fernet-encrypted refresh token; it is replaced on every use (NOTES §1.3).
    refresh_token: Mapped[str] = mapped_column(Text, default="")
    #: When the access token stops working (60-90 minutes after issue, NOTES §1.3).
    expires_at: Mapped[datetime | None] = mapped_column(default=None)
    #: Microsoft refused the refresh token (`invalid_grant`): the facilitator must connect again.
    needs_reconnect: Mapped[bool] = mapped_column(default=False)
    #: Microsoft's last OAuth error code, for the connection page (never a token).
    last_error: Mapped[str] = mapped_column(Text, default="")
    connected_at: Mapped[datetime] = mapped_column(default=utcnow)
    refreshed_at: Mapped[datetime | None] = mapped_column(default=None)

    facilitator: Mapped[Facilitator] = relationship()

    @property
    def account_name(self) -> str:
        """How the account is shown: the UPN, else the email, else the display name."""
        return self.upn or self.email or self.display_name


class TeamsProgrammeSettings(Base):
    """How a programme's sessions are made in Teams (absent: the defaults)."""

    __tablename__ = "teams_programme_settings"

    id: Mapped[int] = mapped_column(primary_key=True)
    programme_id: Mapped[int] = mapped_column(
        ForeignKey("programme.id", ondelete="CASCADE"), unique=True
    )
    #: Participants are attendees of the calendar event, so Outlook invites them (NOTES
    #: §2.2); off: the event stays on the host's calendar and people join by Kollega's link.
    invite_participants: Mapped[bool] = mapped_column(default=True)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class TeamsSubscription(Base):
    """A Graph change subscription to a host's calendar events (NOTES §3.1).

    One per host facilitator with upcoming Teams sessions; renewed by the worker before it
    expires (at most 4,230 minutes after creation or renewal, NOTES §8).
    """

    __tablename__ = "teams_subscription"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The facilitator whose calendar it watches (their Microsoft connection makes the calls).
    facilitator_id: Mapped[int] = mapped_column(
        ForeignKey("facilitator.id", ondelete="CASCADE"), index=True
    )
    #: Graph's subscription id (a GUID).
    subscription_id: Mapped[str] = mapped_column(String(64), unique=True)
    resource: Mapped[str] = mapped_column(String(200), default="me/events")
    #: The random `clientState` Graph echoes in every notification, Fernet-encrypted.
    client_state: Mapped[str] = mapped_column(Text, default="")
    expires_at: Mapped[datetime] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    renewed_at: Mapped[datetime | None] = mapped_column(default=None)
    #: Why the last renewal or creation failed (Graph's words), for the log and the page.
    last_error: Mapped[str] = mapped_column(Text, default="")


class TeamsNotification(Base):
    """A change or lifecycle notification from Graph, kept once and processed by the worker.

    Holds ids only: what changed is read back from Graph with the host's token.
    """

    __tablename__ = "teams_notification"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: A digest of the notification: Graph's repeated deliveries collide here (NOTES §3.3).
    dedupe_key: Mapped[str] = mapped_column(String(100), unique=True)
    subscription_id: Mapped[str] = mapped_column(String(64), index=True)
    #: "created", "updated" or "deleted"; empty for a lifecycle notification.
    change_type: Mapped[str] = mapped_column(String(20), default="")
    #: "reauthorizationRequired", "subscriptionRemoved" or "missed"; empty for a change.
    lifecycle_event: Mapped[str] = mapped_column(String(40), default="")
    #: The event the change is about (Graph's event id).
    event_id: Mapped[str] = mapped_column(String(400), default="")
    #: "queued", "done" or "ignored" (not about one of Kollega's meetings).
    status: Mapped[str] = mapped_column(String(20), default="queued")
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    processed_at: Mapped[datetime | None] = mapped_column(default=None)
