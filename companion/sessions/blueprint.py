"""The `sessions` blueprint, shared by the page modules of the package."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("sessions", __name__, template_folder="templates")
