"""The blueprint the outcomes pages hang on (`views`, `survey_views`, `feedback_views`), and who
may open the facilitators' pages."""

from __future__ import annotations

from flask import Blueprint
from flask_babel import gettext as _

from companion.accounts.identity import current_facilitator, current_participant
from companion.accounts.models import Facilitator
from companion.core.errors import NotFound, NotSignedIn

bp = Blueprint("outcomes", __name__, template_folder="templates")


def facilitator_or_not_found() -> Facilitator:
    """The signed-in facilitator; a participant's browser gets NotFound (these pages do not
    exist for them), nobody at all the sign-in page."""
    facilitator = current_facilitator()
    if facilitator is not None:
        return facilitator
    if current_participant() is not None:
        raise NotFound(_("No such programme."))
    raise NotSignedIn()
