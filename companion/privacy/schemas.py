"""What the privacy pages read from forms and query strings."""

from __future__ import annotations

from pydantic import BaseModel

from companion.core.schema_types import Checkbox, OptionalDate, OptionalDbId, Text


class SummaryEmailIn(BaseModel):
    """The summary email's switch on the participant's own page."""

    summary_email: Checkbox = False


class EraseIn(BaseModel):
    """The word typed to confirm one's own erasure."""

    confirm: Text = ""


class AuditQuery(BaseModel):
    """What the audit page narrows the log to."""

    facilitator: OptionalDbId = None
    action: Text = ""
    since: OptionalDate = None
    until: OptionalDate = None
