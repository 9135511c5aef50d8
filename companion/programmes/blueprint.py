"""The blueprint every programmes page hangs on (`views`, `import_views`, `public_views`), and
the error summary their forms show."""

from __future__ import annotations

from typing import Any

from flask import Blueprint
from flask_babel import lazy_gettext as _l

bp = Blueprint("programmes", __name__, template_folder="templates")


#: Field labels for the summary above a form, so that it says which field each error is about.
FIELD_LABELS: dict[str, Any] = {
    "name": _l("Name"),
    "email": _l("Email"),
    "phone": _l("Phone"),
    "company": _l("Company"),
    "industry": _l("Industry"),
    "region": _l("Region"),
    "years_as_entrepreneur": _l("Years as entrepreneur"),
    "interests": _l("Interests"),
    "goals": _l("Goals"),
    "language": _l("Language"),
    "group_ids": _l("Groups"),
    "consent": _l("Consent"),
    "message": _l("Message"),
    "description": _l("Description"),
    "timezone": _l("Time zone"),
    "starts_on": _l("Starts on"),
    "ends_on": _l("Ends on"),
    "platform": _l("Meeting platform"),
    "file": _l("File"),
}


def error_summary(errors: dict[str, str]) -> dict[str, str]:
    """Errors for `errors_summary`, each prefixed with its field's label."""
    return {
        key: f"{FIELD_LABELS[key]}: {message}" if key in FIELD_LABELS else message
        for key, message in errors.items()
    }
