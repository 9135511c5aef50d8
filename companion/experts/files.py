"""The web edge of material files: taking an upload from the request, sending a file back."""

from __future__ import annotations

from flask import Response, current_app, request, send_file
from flask_babel import gettext as _

from companion.config import Config
from companion.core.db import get_db
from companion.core.errors import Invalid
from companion.experts import materials
from companion.experts.models import Material
from companion.sessions.models import AgendaItem

#: Served material may be opened but never run: no scripts, no plugins, nothing loaded from
#: elsewhere, a unique origin (sandbox) even if a browser ignores the declared type.
SERVED_CSP = "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; sandbox"


def _config() -> Config:
    config: Config = current_app.extensions["companion.config"]
    return config


def receive_upload(item: AgendaItem, uploaded_by: str) -> Material:
    """Check and keep the request's file for the slot (Invalid on "file" if refused)."""
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        raise Invalid(errors={"file": _("Choose a file to upload.")})
    return materials.add_material(
        get_db(), _config(), item, upload.filename, upload.stream, uploaded_by=uploaded_by
    )


def upload_status(exc: Invalid) -> int:
    """413 for a file over the size limit, 422 for other refusals."""
    return 413 if exc.extra.get("reason") == "too_large" else 422


def serve_material(material: Material) -> Response:
    """The file with its sniffed type; images inline, everything else as a download; never
    run as a page (nosniff, a sandboxing CSP), never kept in shared caches."""
    response = send_file(
        materials.open_material(material),
        mimetype=material.content_type,
        as_attachment=not material.is_image,
        download_name=material.filename,
        etag=False,
        max_age=0,
        conditional=False,
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = SERVED_CSP
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["Cross-Origin-Resource-Policy"] = "same-origin"
    return response
