"""The OpenAPI description (health answers are in `core.health`)."""

from __future__ import annotations

from flask import Blueprint, Response, current_app, jsonify

from companion.core.api import openapi_document

bp = Blueprint("core", __name__)


@bp.route("/api/openapi.json")
def openapi() -> Response:
    """The OpenAPI 3.1 description of the JSON API, generated from the code."""
    return jsonify(openapi_document(current_app))
