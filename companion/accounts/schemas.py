"""The accounts pages' forms: invitations, accepting one, and passwords."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, StringConstraints

from companion.core.schema_types import Checkbox, Email, Language, NoControl, RequiredText, Text

#: A password as typed: bounded here; its length and strength are checked by `passwords`.
Password = Annotated[str, StringConstraints(max_length=1000), NoControl]


class InviteIn(BaseModel):
    """An admin's invitation of a new facilitator."""

    email: Email
    name: Text = ""
    is_admin: Checkbox = False
    language: Language = "fi"


class AcceptInvitationIn(BaseModel):
    """The invitee's name and chosen password."""

    name: RequiredText
    password: Password
    password_confirm: Password


class ChangePasswordIn(BaseModel):
    """A signed-in person's new password (the current one asked when there is one)."""

    current_password: Password = ""
    password: Password
    password_confirm: Password


class ForgotPasswordIn(BaseModel):
    """The address to send a reset link to."""

    email: Email


class ResetPasswordIn(BaseModel):
    """The new password chosen through a reset link."""

    password: Password
    password_confirm: Password
