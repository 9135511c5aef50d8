"""Meeting rooms have no pages of their own yet; platforms add theirs under /integrations/."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("meetings", __name__, template_folder="templates")
