"""Microsoft's sign-in failures in words a facilitator can act on (Finnish and English).

Microsoft answers OAuth errors with a standard `error` code and an `error_description` that
starts with an AADSTS number (NOTES §1.1, §4.5); the numbers are for the log, the person gets
a sentence saying what to do. A refused token's reason (`claims.TokenRejected`) likewise.
"""

from __future__ import annotations

from flask_babel import gettext as _

from integrations.teams.tokens import credentials_message, unavailable_message

#: AADSTS numbers meaning an administrator must consent for the organisation first.
ADMIN_CONSENT_CODES = ("AADSTS90094", "AADSTS900941")


def oauth_failure_message(error: str, description: str = "", *, temporary: bool = False) -> str:
    """What went wrong with a sign-in or connection at Microsoft, and what to do."""
    if temporary:
        return unavailable_message()
    if error in ("invalid_client", "unauthorized_client"):
        return credentials_message()
    if any(code in description for code in ADMIN_CONSENT_CODES) or error == "consent_required":
        return _(
            "Your organisation allows Kollega's permissions only with an administrator's "
            "consent. Ask your Microsoft 365 administrator to grant it (docs/teams.md says "
            "how), then try again."
        )
    if error == "access_denied":
        return _(
            "Microsoft 365 was not connected: the permissions were not given. Try again and "
            "accept them, or ask your Microsoft 365 administrator."
        )
    if error == "invalid_grant":
        return _("The sign-in took too long or was already used. Please try again.")
    if error == "interaction_required":
        return _(
            "Your organisation requires something more at sign-in (for example a second "
            "factor). Please try again and follow Microsoft's steps."
        )
    return _("Microsoft did not accept the sign-in. Please try again.")


def token_rejected_message(reason: str) -> str:
    """Why a token from Microsoft (an id_token or the Teams tab's SSO token) was not taken."""
    if reason == "unavailable":
        return unavailable_message()
    if reason in ("expired", "not_yet_valid"):
        return _(
            "The sign-in has expired, or this device's clock is wrong. Check the clock, then "
            "close the app and open it again."
        )
    if reason == "personal_account":
        return _(
            "Personal Microsoft accounts cannot be used with Kollega. Sign in with your work "
            "or school account."
        )
    if reason == "tenant":
        return _(
            "Your organisation's Microsoft 365 is not the one this Kollega is set up for. "
            "Sign in with an account of that organisation."
        )
    if reason in ("audience", "client", "scope", "version"):
        return _(
            "Kollega's Teams app and its Microsoft Entra registration do not match, so Teams "
            "cannot sign you in to Kollega. An administrator should check the app "
            "registration's “Expose an API” settings and upload a new app package "
            "(docs/teams.md)."
        )
    return _("Kollega could not verify the sign-in from Microsoft. Please try again.")
