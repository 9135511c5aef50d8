"""The outcomes page's charts and tables, from the figures (in the current language)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from babel.numbers import format_percent
from flask_babel import format_decimal, get_locale, ngettext
from flask_babel import gettext as _
from markupsafe import Markup

from companion.contacts.operations import kind_label
from companion.core.i18n import local_datetime
from companion.outcomes import charts
from companion.outcomes.answers import QuestionResult
from companion.outcomes.figures import Figures, GroupMet, ProgrammeFacts
from companion.programmes.models import Programme


@dataclass(frozen=True)
class MatrixView:
    """One group's who-met-whom heatmap and its table."""

    group: GroupMet
    chart: Markup
    names: list[str]


def percent(value: float) -> str:
    """A share as a whole percentage in the current language."""
    return str(format_percent(value, "#,##0\u00a0%", locale=str(get_locale() or "fi")))


def decimal(value: float) -> str:
    """A number with one decimal in the current language."""
    return str(format_decimal(value, "#,##0.0"))


def _day(value: Any, programme: Programme) -> str:
    return local_datetime(value, programme.timezone, "d.M.yyyy")


def contact_chart(figures: Figures) -> Markup:
    """Participants with at least one mutual new contact, per group and in all, against the
    goal line at 100 %."""
    bars = [
        charts.Bar(s.label, s.share * 100, f"{s.count} / {s.total} ({percent(s.share)})")
        for s in figures.contact_shares
    ]
    whole = figures.with_contact
    return charts.bar_chart(
        "chart-contacts",
        _("Participants with at least one new mutual contact"),
        _(
            "%(count)s of %(total)s participants (%(share)s) have at least one new contact "
            "agreed by both; the goal is everyone.",
            count=whole.count,
            total=whole.total,
            share=percent(whole.share),
        ),
        bars,
        maximum=100,
        goal=100,
        goal_label=_("Goal: everyone"),
    )


def kinds_chart(figures: Figures) -> Markup:
    """Mutual contacts by kind."""
    top = max((k.mutual for k in figures.contacts_by_kind), default=0) or 1
    return charts.bar_chart(
        "chart-kinds",
        _("Contacts agreed by both, by kind"),
        "; ".join(f"{kind_label(k.kind)}: {k.mutual}" for k in figures.contacts_by_kind),
        [charts.Bar(kind_label(k.kind), k.mutual, str(k.mutual)) for k in figures.contacts_by_kind],
        maximum=top,
    )


def attendance_chart(figures: Figures, programme: Programme, group_names: dict[int, str]) -> Markup:
    """Present of expected at each held session."""
    several = len(group_names) > 1
    bars = []
    for row in figures.attendance_by_session:
        label = f"{_day(row.starts_at, programme)} {row.title}"
        if several:
            label += f" ({group_names.get(row.group_id, '')})"
        bars.append(charts.Bar(label, row.share * 100, f"{row.present} / {row.expected}"))
    return charts.bar_chart(
        "chart-attendance",
        _("Attendance per session"),
        "; ".join(f"{b.label}: {b.text}" for b in bars),
        bars,
        maximum=100,
    )


def feedback_chart(figures: Figures, programme: Programme) -> Markup:
    """The average rating of each held session that has ratings (scale 1-5)."""
    bars = [
        charts.Bar(
            f"{_day(f.starts_at, programme)} {f.title}",
            f.average,
            f"{decimal(f.average)} ({ngettext('%(num)d rating', '%(num)d ratings', f.count)})",
        )
        for f in figures.feedback
        if f.average is not None
    ]
    return charts.bar_chart(
        "chart-feedback",
        _("Average rating per session (1–5)"),
        "; ".join(f"{b.label}: {b.text}" for b in bars),
        bars,
        maximum=5,
    )


def matrices(figures: Figures) -> list[MatrixView]:
    """Each group's who-met-whom heatmap."""
    views = []
    for group in figures.met:
        names = [p.name for p in group.people]
        views.append(
            MatrixView(
                group,
                charts.heatmap(
                    f"chart-met-{group.group_id}",
                    _("Who met whom in small groups: %(group)s", group=group.name),
                    _(
                        "%(met)s of %(pairs)s possible pairs met at least once. The table "
                        "below gives every count.",
                        met=group.pairs_met,
                        pairs=group.pairs,
                    ),
                    names,
                    group.matrix.counts,
                ),
                names,
            )
        )
    return views


def network_chart(figures: Figures, facts: ProgrammeFacts) -> Markup:
    """Everyone on a circle, a line for each pair with a mutual contact."""
    alone = sum(1 for p in facts.people if not any(p.id in e for e in figures.network))
    return charts.network(
        "chart-network",
        _("Network of mutual contacts"),
        _(
            "%(pairs)s pairs of participants have a contact agreed by both; %(alone)s "
            "participants have none yet (drawn hollow). The table lists the pairs.",
            pairs=len(figures.network),
            alone=alone,
        ),
        [(p.id, p.name) for p in facts.people],
        figures.network,
    )


def survey_chart(result: QuestionResult, index: int) -> Markup:
    """A scale, yes/no or choice question's answers as bars."""
    question = result.question
    if question.kind == "text" or not result.answered:
        return Markup("")
    if question.kind == "yes_no":
        labels = {"yes": _("yes"), "no": _("no")}
    else:
        labels = {key: key for key in result.counts}
    top = max(result.counts.values(), default=0) or 1
    bars = [
        charts.Bar(labels.get(key, key), count, str(count)) for key, count in result.counts.items()
    ]
    return charts.bar_chart(
        f"chart-survey-{index}",
        question.text,
        "; ".join(f"{b.label}: {b.text}" for b in bars),
        bars,
        maximum=top,
    )
