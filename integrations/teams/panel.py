"""The Teams meeting app: from a checked SSO token and the tab's context to a session's panel.

The token (checked in `claims.py`) says who the user is; the context TeamsJS gives the page
only says which meeting the tab is in, and is a hint (NOTES §4.2): a context that names
another user than the token is refused. The meeting's chat thread id is the key Graph and
the Teams client share (NOTES §4.2: `chat.id` = `onlineMeeting.chatInfo.threadId`; the
client's `meeting.id` is not a Graph id), and the Graph side keeps it in the room's `data`
as `thread_id`. The panel then opens exactly as the Zoom App's does: the board with a bearer
token in the address fragment.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import select

from companion.accounts.access import may
from companion.accounts.identity import facilitator_token, participant_token
from companion.accounts.models import Facilitator
from companion.accounts.roles import Capability
from companion.core.db import Db
from companion.core.errors import NotAllowed, NotFound
from companion.meetings.lookup import rooms_by_data
from companion.programmes.models import Participant
from companion.sessions import join_links
from companion.sessions.models import Session
from integrations.teams.accounts import connection_by_account
from integrations.teams.claims import MicrosoftUser
from integrations.teams.models import TeamsConnection
from integrations.teams.platform import PLATFORM, THREAD_KEY


@dataclass(frozen=True)
class TabContext:
    """What the tab's page read from `app.getContext()` (hints, not proof: NOTES §4.2)."""

    chat_id: str = ""
    meeting_id: str = ""
    user_id: str = ""
    tenant_id: str = ""


@dataclass(frozen=True)
class PanelTarget:
    """Who opens the panel of which session."""

    session: Session
    facilitator: Facilitator | None = None
    participant: Participant | None = None

    @property
    def identified(self) -> bool:
        """Whether Kollega knows the Teams user in this session."""
        return self.facilitator is not None or self.participant is not None


def thread_id(context: TabContext) -> str:
    """The meeting chat's thread id: `chat.id`, else read out of the client's `meeting.id`.

    NOTES §4.2: `meeting.id` is base64 of "0#19:meeting_…@thread.v2#0".
    """
    if context.chat_id.startswith("19:"):
        return context.chat_id
    try:
        decoded = base64.b64decode(context.meeting_id + "=" * (-len(context.meeting_id) % 4))
        parts = decoded.decode("utf-8").split("#")
    except (binascii.Error, ValueError, UnicodeDecodeError):
        return ""
    return next((p for p in parts if p.startswith("19:") and p.endswith("@thread.v2")), "")


def session_for_thread(db: Db, thread: str) -> Session | None:
    """The session whose Teams meeting (or one of its group meetings) has this chat thread."""
    rooms = rooms_by_data(db, PLATFORM, THREAD_KEY, thread)
    return rooms[0].session if rooms else None


def _members_by_email(session: Session) -> dict[str, Participant]:
    return {
        m.participant.email.strip().lower(): m.participant
        for m in session.group.memberships
        if m.participant.email
    }


def _trusted_tenants(db: Db, session: Session) -> set[str]:
    """Tenants whose accounts' usernames Kollega believes: those its organisation's
    facilitators connected (their administrators own the addresses)."""
    organisation_id = session.group.programme.organisation_id
    return set(
        db.scalars(
            select(TeamsConnection.tenant_id)
            .join(Facilitator, Facilitator.id == TeamsConnection.facilitator_id)
            .where(Facilitator.organisation_id == organisation_id)
        )
    )


def open_tab(db: Db, user: MicrosoftUser, context: TabContext) -> PanelTarget:
    """The session of the tab's meeting and who the (token-proven) user is in it."""
    if (context.user_id and context.user_id.lower() != user.object_id) or (
        context.tenant_id and context.tenant_id.lower() != user.tenant_id
    ):
        raise NotAllowed(
            _("Teams named a different user than the one who signed in. Please reopen the app.")
        )
    session = session_for_thread(db, thread_id(context))
    if session is None:
        raise NotFound(
            _(
                "This Teams meeting is not a Kollega session. Open the app in the meeting that "
                "Kollega created for your session."
            )
        )
    connection = connection_by_account(db, user)
    facilitator = connection.facilitator if connection is not None else None
    if (
        facilitator is not None
        and facilitator.active
        # Any role: who they are does not depend on the request's method; what they may
        # change is checked on each write.
        and may(facilitator, session.group.programme, Capability.VIEW)
    ):
        return PanelTarget(session, facilitator=facilitator)
    members = _members_by_email(session)
    if user.verified_email and user.verified_email in members:
        return PanelTarget(session, participant=members[user.verified_email])
    if user.email in members and user.tenant_id in _trusted_tenants(db, session):
        return PanelTarget(session, participant=members[user.email])
    return PanelTarget(session)


def panel_url(db: Db, target: PanelTarget) -> str:
    """The board's side panel with a bearer token in the fragment (no third-party cookies)."""
    if target.facilitator is not None:
        token = facilitator_token(target.facilitator)
    elif target.participant is not None:
        link = join_links.join_link_for(db, target.participant)
        if link.revoked_at is not None:
            raise NotAllowed(
                _("Your personal link has been turned off. Please ask your facilitator.")
            )
        token = participant_token(target.participant, link)
    else:
        raise NotAllowed(_("Kollega does not know who you are yet."))
    return f"/panel/sessions/{target.session.id}#token={token}"
