"""What Kollega keeps about Zoom: connected accounts, daily usage, meetings seen, webhook events.

Tokens are stored encrypted (`companion.core.crypto`); everything here about a Zoom user is
deleted when Zoom tells us the user removed the app (`app_deauthorized`, NOTES §1.5).
"""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import BigInteger, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from companion.core.db import Base, utcnow

if TYPE_CHECKING:
    from companion.accounts.models import Facilitator
    from companion.programmes.models import Participant


class ConnectionKind(enum.StrEnum):
    """Whose Zoom account a connection is."""

    #: A facilitator's own Zoom user, connected with the authorisation-code flow (NOTES §1.1).
    USER = "user"
    #: The organisation's Server-to-Server app (`account_credentials`, NOTES §1.2).
    ACCOUNT = "account"


class ConnectionStatus(enum.StrEnum):
    """Whether a connection can be used."""

    CONNECTED = "connected"
    #: Zoom refused the refresh token (`invalid_grant`): the facilitator must connect again.
    RECONNECT = "reconnect"


class ZoomConnection(Base):
    """A Zoom account Kollega may act for, with its tokens encrypted at rest."""

    __tablename__ = "zoom_connection"
    __table_args__ = (UniqueConstraint("kind", "zoom_user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    #: "user" (a facilitator's Zoom user) or "account" (Server-to-Server, no facilitator).
    kind: Mapped[str] = mapped_column(String(20), default=ConnectionKind.USER)
    #: The facilitator who connected it; unique: one Zoom user per facilitator and back.
    facilitator_id: Mapped[int | None] = mapped_column(
        ForeignKey("facilitator.id", ondelete="CASCADE"), unique=True, default=None
    )
    #: Zoom's user id (`GET /users/me` `id`); empty for the account connection.
    zoom_user_id: Mapped[str] = mapped_column(String(64), default="", index=True)
    zoom_account_id: Mapped[str] = mapped_column(String(64), default="")
    zoom_email: Mapped[str] = mapped_column(String(254), default="")
    #: Space-separated scopes Zoom granted (NOTES §1.1 token answer).
    scopes: Mapped[str] = mapped_column(Text, default="")
    #: Fernet-encrypted access token (Zoom's are ~700 characters, hence Text).
    access_token: Mapped[str] = mapped_column(Text, default="")
    #: Fernet-encrypted refresh token; rotates on every refresh (NOTES §1.1).
    refresh_token: Mapped[str] = mapped_column(Text, default="")
    #: When the access token stops working (Zoom: one hour, NOTES §1.1).
    expires_at: Mapped[datetime | None] = mapped_column(default=None)
    #: Regional API base a Server-to-Server token answer named (NOTES §1.2); empty: configured.
    api_url: Mapped[str] = mapped_column(String(255), default="")
    #: "connected" or "reconnect" (Zoom no longer accepts the grant).
    status: Mapped[str] = mapped_column(String(20), default=ConnectionStatus.CONNECTED)
    #: Zoom's last OAuth error code, for the Connections page (never a token).
    last_error: Mapped[str] = mapped_column(Text, default="")
    connected_at: Mapped[datetime] = mapped_column(default=utcnow)
    refreshed_at: Mapped[datetime | None] = mapped_column(default=None)

    facilitator: Mapped[Facilitator | None] = relationship()

    @property
    def needs_reconnect(self) -> bool:
        """Whether the facilitator must connect Zoom again before it can be used."""
        return self.status == ConnectionStatus.RECONNECT


class ZoomDailyUsage(Base):
    """Meeting create/update requests sent for one Zoom host on one UTC day.

    Zoom allows 100 of them per host user per day, resetting at 00:00 UTC (NOTES §2.1); we
    count them so the facilitator sees the limit coming and we stop before Zoom refuses.
    """

    __tablename__ = "zoom_daily_usage"
    __table_args__ = (UniqueConstraint("host_key", "day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The Zoom user id of the host (or the host's email on a Server-to-Server account).
    host_key: Mapped[str] = mapped_column(String(254))
    #: The UTC day counted.
    day: Mapped[date] = mapped_column()
    requests: Mapped[int] = mapped_column(default=0)
    #: Zoom answered 429 for a daily limit: no create/update is sent before this time.
    blocked_until: Mapped[datetime | None] = mapped_column(default=None)


class ZoomMeetingInstance(Base):
    """A meeting UUID Zoom used for one of our meetings (each instance has its own, NOTES §3).

    The Zoom App context names the meeting by UUID only (NOTES §5.1 `mid`), so the panel
    finds its session through this table.
    """

    __tablename__ = "zoom_meeting_instance"

    id: Mapped[int] = mapped_column(primary_key=True)
    uuid: Mapped[str] = mapped_column(String(100), unique=True)
    #: The numeric meeting id (int64, NOTES §2.1), as in `MeetingRoom.external_id`.
    meeting_id: Mapped[int] = mapped_column(BigInteger, index=True)
    seen_at: Mapped[datetime] = mapped_column(default=utcnow)


class ZoomIdentity(Base):
    """A Zoom user known to be a participant (learned from webhooks or in-client sign-in).

    Lets the side panel open the right participant's board without asking again.
    """

    __tablename__ = "zoom_identity"
    __table_args__ = (UniqueConstraint("zoom_user_id", "participant_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    zoom_user_id: Mapped[str] = mapped_column(String(64), index=True)
    participant_id: Mapped[int] = mapped_column(
        ForeignKey("participant.id", ondelete="CASCADE"), index=True
    )
    seen_at: Mapped[datetime] = mapped_column(default=utcnow)

    participant: Mapped[Participant] = relationship()


class ZoomWebhookEvent(Base):
    """A webhook delivery, stored once and processed by the worker (NOTES §4)."""

    __tablename__ = "zoom_webhook_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: event + event_ts + a digest of the payload: Zoom's retries and replays collide here.
    dedupe_key: Mapped[str] = mapped_column(String(200), unique=True)
    event: Mapped[str] = mapped_column(String(80), index=True)
    #: Zoom's `event_ts` (epoch milliseconds).
    event_ts: Mapped[int] = mapped_column(BigInteger, default=0)
    #: The meeting the event is about, when it is about one.
    meeting_id: Mapped[int | None] = mapped_column(BigInteger, default=None, index=True)
    #: The Zoom user the event came from (host or deauthorising user), for data deletion.
    zoom_user_id: Mapped[str] = mapped_column(String(64), default="", index=True)
    payload: Mapped[dict[str, Any]] = mapped_column(default=dict)
    #: "queued", "done" or "ignored" (not about one of our meetings).
    status: Mapped[str] = mapped_column(String(20), default="queued")
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    processed_at: Mapped[datetime | None] = mapped_column(default=None)
