"""The `experts` blueprint, shared by its page modules, with the upload size limit.

The app takes request bodies up to 10 MB; material uploads may be larger
(`materials_max_mb`). The limit has to be raised before anything reads the form, and the
CSRF check (an app-wide `before_request`) reads it first, so it is raised in a URL value
preprocessor, which Flask runs before any `before_request` function.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, render_template, request, url_for
from flask.typing import ResponseReturnValue
from werkzeug.exceptions import RequestEntityTooLarge

from companion.config import Config

bp = Blueprint("experts", __name__, template_folder="templates")

#: Endpoints that take a material file.
UPLOAD_ENDPOINTS = ("experts.upload_material", "experts.expert_upload")
#: Room for the multipart envelope and the form's other fields around the file itself.
UPLOAD_OVERHEAD = 256 * 1024


def _config() -> Config:
    config: Config = current_app.extensions["companion.config"]
    return config


@bp.url_value_preprocessor
def _upload_limit(endpoint: str | None, values: dict[str, Any] | None) -> None:
    if endpoint in UPLOAD_ENDPOINTS:
        limit = _config().materials_max_mb * 1024 * 1024 + UPLOAD_OVERHEAD
        request.max_content_length = limit


@bp.errorhandler(RequestEntityTooLarge)
def _too_large(exc: RequestEntityTooLarge) -> ResponseReturnValue:
    """A file far over the limit (the server stopped reading it): say the limit, and lead
    back to the page the upload came from."""
    args = request.view_args or {}
    if "token" in args:
        back = url_for("experts.expert_page", token=args["token"]) + "#material"
    elif "item_id" in args:
        back = url_for("experts.talk_page", item_id=args["item_id"]) + "#material"
    else:
        back = url_for("accounts.home")
    return render_template(
        "experts/too_large.html", back=back, limit_mb=_config().materials_max_mb
    ), 413
