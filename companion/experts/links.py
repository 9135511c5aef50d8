"""An expert's personal link (`/x/<token>`): signed, naming their row and its nonce.

Renewing the nonce or revoking the row stops every copy of the old link; the link names one
talk slot, so it opens that session's page and material and nothing else.
"""

from __future__ import annotations

import secrets
from typing import Literal

from companion.config import Config
from companion.core.db import Db
from companion.core.security import TokenError, sign, unsign
from companion.experts.models import Expert


class ExpertLinkInvalid(Exception):
    """The token is tampered with or unknown ("invalid"), or its link was renewed or revoked
    ("revoked")."""

    def __init__(self, reason: Literal["invalid", "revoked"]) -> None:
        super().__init__(reason)
        self.reason = reason


def new_nonce() -> str:
    """A fresh nonce for an expert's link."""
    return secrets.token_urlsafe(16)


def expert_token(expert: Expert) -> str:
    """The signed token in the expert's address."""
    return sign([expert.id, expert.nonce], "expert")


def expert_url(config: Config, expert: Expert) -> str:
    """The absolute address of the expert's page, for emails."""
    return config.external_url(f"/x/{expert_token(expert)}")


def resolve_expert_token(db: Db, token: str) -> Expert:
    """The expert of a live link, or ExpertLinkInvalid saying why not."""
    try:
        data = unsign(token, "expert")
    except TokenError:
        raise ExpertLinkInvalid("invalid") from None
    if not (isinstance(data, list) and len(data) == 2 and isinstance(data[0], int)):
        raise ExpertLinkInvalid("invalid")
    expert = db.get(Expert, data[0])
    if expert is None:
        raise ExpertLinkInvalid("invalid")
    if not secrets.compare_digest(str(expert.nonce), str(data[1])) or expert.revoked_at:
        raise ExpertLinkInvalid("revoked")
    return expert
