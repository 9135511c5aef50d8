"""Places in the shared templates where an integration adds a piece of page.

An integration registers a template for a named slot ("sign_in": under the sign-in form,
"nav": the facilitator's main navigation), with a condition saying when it applies; the
shared template includes what `slot_templates(name)` lists. `companion/` so stays free of
platform names, and a third-party platform can add its own "Sign in with ..." button.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from flask import Flask, current_app

#: The slots the shared templates offer.
SLOTS = frozenset({"sign_in", "nav"})


@dataclass(frozen=True)
class SlotEntry:
    """A template for a slot, shown while `when()` is true."""

    template: str
    when: Callable[[], bool]


def add_to_slot(
    app: Flask, slot: str, template: str, when: Callable[[], bool] = lambda: True
) -> None:
    """Show `template` in `slot` of the shared templates whenever `when()` holds."""
    if slot not in SLOTS:
        raise ValueError(f"no template slot named {slot!r}; there are {sorted(SLOTS)}")
    entries: dict[str, list[SlotEntry]] = app.extensions.setdefault("companion.slots", {})
    entries.setdefault(slot, []).append(SlotEntry(template, when))


def init_app(app: Flask) -> None:
    """Make `slot_templates` available to every template."""
    app.jinja_env.globals["slot_templates"] = slot_templates


def slot_templates(slot: str) -> list[str]:
    """The templates to include in `slot` for this request."""
    entries: dict[str, list[SlotEntry]] = current_app.extensions.get("companion.slots", {})
    return [entry.template for entry in entries.get(slot, []) if entry.when()]
