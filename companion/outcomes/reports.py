"""The exports as tables: participants, attendance with hours, contacts, feedback, the survey,
and the funder report in one sheet. Headers are in the current language; `sheets.py` writes
them as CSV or XLSX.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from flask_babel import gettext as _

from companion.contacts.operations import kind_label
from companion.outcomes.answers import QuestionFacts, QuestionResult, ResponseFacts, answer_text
from companion.outcomes.figures import KINDS, Figures, ProgrammeFacts, held_sessions
from companion.outcomes.models import SessionFeedback
from companion.outcomes.sheets import Sheet
from companion.programmes.models import Participant, Programme


@dataclass(frozen=True)
class SurveyData:
    """A survey's questions, answers and results, for its export and the funder report."""

    questions: Sequence[QuestionFacts]
    responses: Sequence[ResponseFacts]
    results: Sequence[QuestionResult]
    anonymous: bool
    invited: int


def _local(value: datetime, programme: Programme) -> datetime:
    return value.astimezone(ZoneInfo(programme.timezone))


def _groups(participant: Participant) -> str:
    return ", ".join(m.group.name for m in participant.memberships)


def _yes_no(value: bool) -> str:
    return _("yes") if value else _("no")


def participants_sheet(programme: Programme) -> Sheet:
    """Everyone in the programme with the details the programme holds."""
    sheet = Sheet(
        _("Participants"),
        [
            _("Name"),
            _("Email"),
            _("Phone"),
            _("Company"),
            _("Industry"),
            _("Region"),
            _("Years as entrepreneur"),
            _("Groups"),
            _("Language"),
            _("Added on"),
        ],
    )
    for p in sorted(programme.participants, key=lambda p: (p.name.casefold(), p.id)):
        sheet.add(
            p.name,
            p.email,
            p.phone,
            p.company,
            p.industry,
            p.region,
            p.years_as_entrepreneur,
            _groups(p),
            p.effective_language,
            _local(p.created_at, programme).date(),
        )
    return sheet


def _session_heading(title: str, when: datetime, programme: Programme) -> str:
    return f"{title} {_local(when, programme).strftime('%d.%m.%Y')}"


def attendance_sheet(programme: Programme, facts: ProgrammeFacts, figures: Figures) -> Sheet:
    """One row per person: present (1) or not (0) at each held session, totals and hours."""
    held = held_sessions(facts.sessions)
    sheet = Sheet(
        _("Attendance"),
        [_("Name")]
        + [_session_heading(s.title, s.starts_at, programme) for s in held]
        + [_("Sessions attended"), _("Sessions held"), _("Hours")],
    )
    for person in figures.attendance_by_person:
        marks: list[int | None] = [
            (1 if person.by_session[s.id] else 0) if s.id in person.by_session else None
            for s in held
        ]
        sheet.add(person.name, *marks, person.attended, person.held, round(person.hours, 2))
    sheet.add(
        _("Present"),
        *[row.present for row in figures.attendance_by_session],
        sum(p.attended for p in figures.attendance_by_person),
        None,
        round(figures.total_minutes / 60, 2),
    )
    return sheet


def contacts_sheet(facts: ProgrammeFacts) -> Sheet:
    """Each person's mutual contacts by kind (counts only, never with whom)."""
    per_kind: dict[int, Counter[str]] = defaultdict(Counter)
    partners: dict[int, set[int]] = defaultdict(set)
    waiting: Counter[int] = Counter()
    for c in facts.contacts:
        if c.status == "accepted":
            for me, other in ((c.requester_id, c.recipient_id), (c.recipient_id, c.requester_id)):
                per_kind[me][c.kind] += 1
                partners[me].add(other)
        elif c.status == "pending":
            waiting[c.recipient_id] += 1
    sheet = Sheet(
        _("Contacts"),
        [_("Name"), _("People with a mutual contact")]
        + [kind_label(k) for k in KINDS]
        + [_("Requests waiting")],
    )
    for person in facts.people:
        sheet.add(
            person.name,
            len(partners[person.id]),
            *[per_kind[person.id][k] for k in KINDS],
            waiting[person.id],
        )
    sheet.add(
        _("Total"),
        sum(1 for p in facts.people if partners[p.id]),
        *[sum(per_kind[p.id][k] for p in facts.people) // 2 for k in KINDS],
        sum(waiting[p.id] for p in facts.people),
    )
    return sheet


def feedback_sheet(
    programme: Programme, facts: ProgrammeFacts, rows: Sequence[SessionFeedback]
) -> Sheet:
    """Every rating of a held session with its comment; no names."""
    held = {s.id: s for s in held_sessions(facts.sessions)}
    sheet = Sheet(_("Feedback"), [_("Session"), _("Date"), _("Rating"), _("Comment")])
    for row in sorted(
        (r for r in rows if r.session_id in held),
        key=lambda r: (held[r.session_id].starts_at, r.id),
    ):
        session = held[row.session_id]
        sheet.add(
            session.title, _local(session.starts_at, programme).date(), row.rating, row.comment
        )
    return sheet


def survey_sheet(data: SurveyData) -> Sheet:
    """One row per answer, a column per question (names only if the survey is not anonymous)."""
    header = [] if data.anonymous else [_("Name")]
    sheet = Sheet(_("Survey"), header + [q.text for q in data.questions])
    for response in data.responses:
        cells = [] if data.anonymous else [response.name or _("former participant")]
        cells += [answer_text(q, response.answers.get(str(q.id)), _yes_no) for q in data.questions]
        sheet.add(*cells)
    return sheet


def funder_sheet(
    programme: Programme,
    facts: ProgrammeFacts,
    figures: Figures,
    survey: SurveyData | None,
    today: date,
) -> Sheet:
    """The funder report in one sheet: key figures, sessions held, expert talks, participants
    with their hours, and the survey's headline results."""
    sheet = Sheet(_("Funder report"), [programme.name, ""])
    dates = " – ".join(d.isoformat() for d in (programme.starts_on, programme.ends_on) if d)
    sheet.add(_("Organisation"), programme.organisation.name)
    if dates:
        sheet.add(_("Dates"), dates)
    sheet.add(_("Report made"), today)

    sheet.heading(_("Key figures"))
    share = figures.with_contact
    feedback_count = sum(f.count for f in figures.feedback)
    sheet.add(_("Participants"), figures.participants)
    sheet.add(_("Sessions held"), figures.sessions_held)
    sheet.add(_("Sessions cancelled"), figures.sessions_cancelled)
    sheet.add(_("Hours of participation, total"), round(figures.total_minutes / 60, 2))
    if figures.participants:
        sheet.add(
            _("Hours per participant, average"),
            round(figures.total_minutes / 60 / figures.participants, 2),
        )
    sheet.add(_("Expert talks"), len(figures.expert_talks))
    sheet.add(_("Participants with at least one new mutual contact"), share.count)
    sheet.add(_("Share of participants with a new contact (goal 100 %)"), round(share.share, 4))
    sheet.add(_("Contacts agreed by both"), figures.mutual_contacts)
    for kind in figures.contacts_by_kind:
        sheet.add(f"– {kind_label(kind.kind)}", kind.mutual)
    sheet.add(_("Pairs who met in small groups"), figures.pairs_met)
    sheet.add(_("Possible pairs within the groups"), figures.pairs)
    sheet.add(
        _("Participants who dropped out (missed the last two sessions)"), len(figures.dropped_out)
    )
    if figures.feedback_average is not None:
        sheet.add(_("Session rating, average (1–5)"), round(figures.feedback_average, 2))
    sheet.add(_("Session ratings given"), feedback_count)

    sessions = {s.id: s for s in facts.sessions}
    sheet.heading(_("Sessions held"))
    sheet.add(_("Date"), _("Session"), _("Present"), _("Expected"), _("Hours"))
    for row in figures.attendance_by_session:
        sheet.add(
            _local(row.starts_at, programme).date(),
            row.title,
            row.present,
            row.expected,
            round(row.hours, 2),
        )

    sheet.heading(_("Expert talks"))
    for session_id, title in figures.expert_talks:
        session = sessions[session_id]
        sheet.add(_local(session.starts_at, programme).date(), session.title, title)

    sheet.heading(_("Participants and their hours"))
    sheet.add(_("Name"), _("Sessions attended"), _("Sessions held"), _("Hours"))
    for person in figures.attendance_by_person:
        sheet.add(person.name, person.attended, person.held, round(person.hours, 2))

    if survey is not None:
        sheet.heading(_("Survey"))
        sheet.add(_("Answers"), len(survey.responses))
        sheet.add(_("Sent to"), survey.invited)
        for result in survey.results:
            question = result.question
            if question.kind == "scale" and result.average is not None:
                sheet.add(question.text, round(result.average, 2))
            elif question.kind == "yes_no":
                sheet.add(
                    question.text,
                    f"{_('yes')} {result.counts['yes']}, {_('no')} {result.counts['no']}",
                )
            elif question.kind == "choice":
                sheet.add(question.text, "; ".join(f"{k} {v}" for k, v in result.counts.items()))
    return sheet
