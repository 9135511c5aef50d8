"""Kollega: a companion service for peer-mentoring meetings."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from flask import Flask

__all__ = ["create_app"]


def create_app(config_override: dict[str, Any] | None = None) -> Flask:
    """Build the Flask application (see `companion.app.create_app`)."""
    # Imported lazily so that pure packages such as `companion.grouping` load without Flask.
    from companion.app import create_app as _create_app

    return _create_app(config_override)
