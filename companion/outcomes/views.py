"""The programme's outcomes page and its exports (facilitators only, every view logged).

The survey's pages are in `survey_views`, the participants' rating page in `feedback_views`;
all hang on the one `outcomes` blueprint, and importing this module brings them along.
"""

from __future__ import annotations

from flask import Response, render_template
from flask.typing import ResponseReturnValue
from flask_babel import get_locale
from flask_babel import gettext as _
from sqlalchemy import select

from companion.accounts.access import contacts_shown
from companion.accounts.roles import Capability
from companion.contacts.operations import kind_label
from companion.core.db import Db, get_db, utcnow, writes
from companion.core.errors import NotFound
from companion.outcomes import feedback_views, page, reports, survey_views  # noqa: F401  (their pages)
from companion.outcomes import personal_data as _personal_data  # noqa: F401  (registers its share)
from companion.outcomes.answers import results
from companion.outcomes.blueprint import bp, facilitator_or_not_found
from companion.outcomes.figures import ProgrammeFacts
from companion.outcomes.figures import figures as compute_figures
from companion.outcomes.gather import programme_facts
from companion.outcomes.models import SessionFeedback
from companion.outcomes.operations import (
    CONTACT_EXPORTS,
    EXPORT_ACTIONS,
    VIEW_ACTION,
    outcomes_programme,
    record_audit,
)
from companion.outcomes.sheets import Sheet, to_csv, to_xlsx
from companion.outcomes.surveys import invitations_of, question_facts, responses_of, survey_of
from companion.programmes.models import Programme

#: Export formats and their content types.
FORMATS = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def _survey_data(db: Db, programme: Programme) -> reports.SurveyData | None:
    survey = survey_of(db, programme)
    if survey is None:
        return None
    questions = question_facts(survey)
    responses = responses_of(db, survey)
    return reports.SurveyData(
        questions=questions,
        responses=responses,
        results=results(questions, responses),
        anonymous=survey.anonymous,
        invited=len(invitations_of(db, survey)),
    )


@bp.route("/programmes/<int:programme_id>/outcomes")
@writes
def outcomes(programme_id: int) -> ResponseReturnValue:
    """Attendance, contacts against the goal, who met whom, feedback and the survey."""
    facilitator = facilitator_or_not_found()
    db = get_db()
    programme = outcomes_programme(db, facilitator, programme_id)
    facts = programme_facts(db, programme)
    figures = compute_figures(facts, whole_label=_("All participants"))
    survey = survey_of(db, programme)
    survey_data = _survey_data(db, programme)
    record_audit(db, facilitator, VIEW_ACTION, programme, participants=figures.participants)
    db.commit()
    group_names = {g.id: g.name for g in programme.groups}
    names = {p.id: p.name for p in facts.people}
    comments = [f for f in figures.feedback if f.comments]
    return render_template(
        "outcomes/outcomes.html",
        programme=programme,
        figures=figures,
        facts=facts,
        names=names,
        group_names=group_names,
        sessions={s.id: s for s in facts.sessions},
        contact_chart=page.contact_chart(figures),
        kinds_chart=page.kinds_chart(figures),
        attendance_chart=page.attendance_chart(figures, programme, group_names),
        feedback_chart=page.feedback_chart(figures, programme),
        matrices=page.matrices(figures),
        network_chart=page.network_chart(figures, facts),
        survey=survey,
        survey_data=survey_data,
        survey_charts=[page.survey_chart(r, i) for i, r in enumerate(survey_data.results)]
        if survey_data
        else [],
        comments=comments,
        percent=page.percent,
        decimal=page.decimal,
        exports=[k for k in EXPORT_ACTIONS if contacts_shown() or k not in CONTACT_EXPORTS],
        kind_name=kind_label,
    )


def _sheet(db: Db, programme: Programme, kind: str) -> Sheet:
    facts = programme_facts(db, programme)
    figures = compute_figures(facts, whole_label=_("All participants"))
    if kind == "participants":
        return reports.participants_sheet(programme)
    if kind == "attendance":
        return reports.attendance_sheet(programme, facts, figures)
    if kind == "contacts":
        return reports.contacts_sheet(facts)
    if kind == "feedback":
        return reports.feedback_sheet(programme, facts, _feedback_rows(db, facts))
    if kind == "survey":
        data = _survey_data(db, programme)
        if data is None:
            raise NotFound(_("The programme has no survey yet."))
        return reports.survey_sheet(data)
    return reports.funder_sheet(
        programme, facts, figures, _survey_data(db, programme), utcnow().date()
    )


def _feedback_rows(db: Db, facts: ProgrammeFacts) -> list[SessionFeedback]:
    ids = [s.id for s in facts.sessions]
    if not ids:
        return []
    return list(db.scalars(select(SessionFeedback).where(SessionFeedback.session_id.in_(ids))))


@bp.route("/programmes/<int:programme_id>/outcomes/<kind>.<fmt>")
@writes
def export(programme_id: int, kind: str, fmt: str) -> Response:
    """One export as CSV (Finnish Excel) or XLSX; logged in the audit log."""
    facilitator = facilitator_or_not_found()
    db = get_db()
    needs = Capability.CONTACT_DETAILS if kind in CONTACT_EXPORTS else None
    programme = outcomes_programme(db, facilitator, programme_id, capability=needs)
    if kind not in EXPORT_ACTIONS or fmt not in FORMATS:
        raise NotFound(_("No such export."))
    sheet = _sheet(db, programme, kind)
    record_audit(db, facilitator, EXPORT_ACTIONS[kind], programme, rows=len(sheet.rows), format=fmt)
    db.commit()
    decimal = "," if str(get_locale() or "fi").startswith("fi") else "."
    body = to_csv(sheet, decimal=decimal) if fmt == "csv" else to_xlsx([sheet])
    filename = f"kollega-{programme.id}-{kind}-{utcnow().date().isoformat()}.{fmt}"
    return Response(
        body,
        mimetype=FORMATS[fmt],
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
