"""Pages for offers and needs: the facilitator's theme list, a participant's own offers and
needs, and the facilitator's offers-and-needs form of one participant."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from companion.accounts.identity import current_actor, require_facilitator
from companion.core.db import get_db
from companion.core.errors import Invalid
from companion.core.validation import form_data, parse, submit_form
from companion.needs import operations as ops
from companion.needs import personal_data as _personal_data  # noqa: F401  (registers its share)
from companion.needs.schemas import NEEDS_LISTS, NeedsIn, ThemesIn
from companion.needs.themes import MAX_THEMES, Theme, labels
from companion.programmes.models import Participant
from companion.programmes.operations import get_participant, get_programme

bp = Blueprint("needs", __name__, template_folder="templates")

#: Empty rows offered for new themes on the theme page.
NEW_ROWS = 3


@bp.route("/programmes/<int:programme_id>/themes", methods=["GET", "POST"])
def themes(programme_id: int) -> ResponseReturnValue:
    """The programme's themes that participants choose their offers and needs from."""
    facilitator = require_facilitator()
    db = get_db()
    programme = get_programme(db, facilitator, programme_id)
    errors: dict[str, str] = {}
    rows: list[dict[str, Any]] = [
        {"key": t.key, "name_fi": t.name_fi, "name_en": t.name_en}
        for t in ops.themes_of(db, programme)
    ]
    if request.method == "POST":
        rows = _theme_rows(form_data(request.form))
        try:
            ops.save_themes(db, programme, parse(ThemesIn, {"themes": rows}))
            db.commit()
        except Invalid as exc:
            db.rollback()
            errors = dict(exc.errors) or {"form": exc.detail or ""}
        else:
            flash(_("The themes were saved."))
            return redirect(url_for("needs.themes", programme_id=programme.id), code=303)
    rows = [r for r in rows if not r.get("remove")]
    room = max(0, min(NEW_ROWS, MAX_THEMES - len(rows)))
    rows += [{"key": "", "name_fi": "", "name_en": ""} for _ in range(room)]
    return render_template("needs/themes.html", programme=programme, rows=rows, errors=errors), (
        422 if errors else 200
    )


def _theme_rows(data: dict[str, Any]) -> list[dict[str, Any]]:
    """The rows of the theme form (`themes-<i>-<field>`), in order."""
    rows: dict[int, dict[str, Any]] = {}
    for name, value in data.items():
        prefix, _sep, rest = name.partition("-")
        index, _sep, field = rest.partition("-")
        if prefix != "themes" or not index.isdigit() or len(index) > 3:
            continue
        rows.setdefault(int(index), {})[field] = value
    return [rows[i] for i in sorted(rows)]


@bp.route("/me/offers-needs", methods=["GET", "POST"])
def my_needs() -> ResponseReturnValue:
    """What I can offer others and what I am looking for, and who may see them."""
    actor = current_actor()
    if actor is None:
        from companion.notes.views import who_are_you

        return who_are_you()
    if actor.participant is None:
        return redirect(url_for("programmes.index"))
    participant = actor.participant
    db = get_db()

    def save(data: NeedsIn) -> ResponseReturnValue:
        ops.set_needs(db, participant, data)
        flash(_("Saved. Thank you!"))
        return redirect(url_for("needs.my_needs"), code=303)

    values, errors, response = submit_form(
        NeedsIn, save, lists=NEEDS_LISTS, defaults=ops.form_values(participant)
    )
    if response is not None:
        return response
    return render_template(
        "needs/my_needs.html",
        participant=participant,
        themes=ops.themes_of(db, participant.programme_id),
        values=values,
        errors=errors,
        language=participant.effective_language,
    ), (422 if errors else 200)


@bp.route("/participants/<int:participant_id>/offers-needs", methods=["GET", "POST"])
def participant_needs(participant_id: int) -> ResponseReturnValue:
    """The facilitator's offers-and-needs form of one participant (whether others see them
    stays the participant's own choice)."""
    facilitator = require_facilitator()
    db = get_db()
    participant = get_participant(db, facilitator, participant_id)

    def save(data: NeedsIn) -> ResponseReturnValue:
        ops.set_needs(db, participant, data, by_person=False)
        flash(_("The offers and needs of %(name)s were saved.", name=participant.name))
        return redirect(
            url_for("programmes.edit_participant", participant_id=participant.id), code=303
        )

    values, errors, response = submit_form(
        NeedsIn, save, lists=NEEDS_LISTS, defaults=ops.form_values(participant)
    )
    if response is not None:
        return response
    values["show_needs"] = ops.form_values(participant)["show_needs"]
    return render_template(
        "needs/participant_needs.html",
        participant=participant,
        programme=participant.programme,
        **_form_context(participant, values, errors),
    ), (422 if errors else 200)


def _form_context(
    participant: Participant, values: dict[str, Any], errors: dict[str, str]
) -> dict[str, Any]:
    return {
        "needs_themes": ops.themes_of(get_db(), participant.programme_id),
        "needs_values": values,
        "needs_errors": errors,
        "needs_language": ops.ui_language(),
    }


@bp.app_template_global()
def programme_themes(programme_id: int) -> list[Theme]:
    """The programme's themes, for forms of other packages (the intake survey)."""
    return ops.themes_of(get_db(), programme_id)


@bp.app_template_global()
def theme_language() -> str:
    """The language theme names are shown in on this page."""
    return ops.ui_language()


@bp.app_template_global()
def participant_needs_form(participant: Participant) -> dict[str, Any]:
    """What `needs/_participant_form.html` needs, for the facilitator's participant page."""
    return _form_context(participant, ops.form_values(participant), {})


@bp.app_template_global()
def my_needs_summary(participant: Participant) -> dict[str, Any]:
    """A participant's offers and needs, named, for their own page."""
    themes = ops.themes_of(get_db(), participant.programme_id)
    values = ops.form_values(participant)
    language = participant.effective_language
    return {
        "offers": labels(themes, values["offers"], language),  # type: ignore[arg-type]
        "needs": labels(themes, values["needs"], language),  # type: ignore[arg-type]
        "shown": values["show_needs"],
    }
