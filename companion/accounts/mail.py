"""The account emails: an invitation to join an organisation's team, and a password reset.

Each is written in its recipient's language. Their links are secrets: they go into the
outbox (whose page lists only programmes' mail) and are never logged.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import render_template
from flask_babel import force_locale
from flask_babel import gettext as _

from companion.accounts.passwords import RESET_LIFETIME
from companion.config import Config
from companion.core.i18n import LANGUAGES


@dataclass(frozen=True)
class AccountMail:
    """An email ready for the outbox."""

    subject: str
    text: str
    html: str


def _language(config: Config, language: str) -> str:
    return language if language in LANGUAGES else config.default_language


def _render(name: str, subject: str, context: dict[str, Any]) -> AccountMail:
    text = render_template(f"accounts/email/{name}.txt", **context)
    html = render_template(f"accounts/email/{name}.html", subject=subject, **context)
    return AccountMail(subject, text, html)


def render_password_reset(config: Config, *, name: str, language: str, url: str) -> AccountMail:
    """The reset email with its link, in the account's language."""
    with force_locale(_language(config, language)):
        subject = _("Reset your Kollega password")
        minutes = int(RESET_LIFETIME.total_seconds() // 60)
        return _render("password_reset", subject, {"name": name, "url": url, "minutes": minutes})


def render_invitation(
    config: Config,
    *,
    name: str,
    language: str,
    url: str,
    organisation_name: str,
    invited_by_name: str,
    invited_by_email: str,
    days: int,
) -> AccountMail:
    """The invitation to create a facilitator account, in the chosen language."""
    with force_locale(_language(config, language)):
        subject = _("%(organisation)s invites you to Kollega", organisation=organisation_name)
        context = {
            "name": name,
            "url": url,
            "organisation_name": organisation_name,
            "invited_by_name": invited_by_name,
            "invited_by_email": invited_by_email,
            "days": days,
        }
        return _render("invitation", subject, context)
