"""The health check and the OpenAPI description."""

from __future__ import annotations

from flask import Blueprint, Response, current_app, jsonify
from sqlalchemy import text

from companion.core.api import openapi_document
from companion.core.db import get_db

bp = Blueprint("core", __name__)


@bp.route("/healthz")
def health() -> Response:
    """For load balancers: the database answers."""
    get_db().execute(text("SELECT 1"))
    return jsonify(status="ok")


@bp.route("/api/openapi.json")
def openapi() -> Response:
    """The OpenAPI 3.1 description of the JSON API, generated from the code."""
    return jsonify(openapi_document(current_app))
