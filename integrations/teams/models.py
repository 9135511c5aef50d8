"""What Kollega keeps about Microsoft 365 accounts: one connection per facilitator.

A connection is both the facilitator's sign-in identity at Microsoft (keyed on the tenant and
object id, NOTES §1.4: never on `preferred_username`) and the delegated grant Kollega uses to
call Microsoft Graph for them. Tokens are stored encrypted (`companion.core.crypto`).
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
