"""Retention: a programme's personal data goes a set time after it ends; mail bodies go sooner.

- A programme that ended (`Programme.ends_on`) has its participants erased
  `retention_months` after its end (default 12). Its facilitators are warned by email
  `retention_warning_days` before (default 30), and deletion never comes sooner than that
  many days after the warning, so a late warning (a programme whose end was moved back)
  still gives them the full time. A programme without an end date is kept until one is set.
- A sent email's body (text, HTML, attachments) is kept `mail_body_retention_days` (default
  90); then only its kind, date and status remain.

The worker runs `run_retention` every hour; each step is idempotent.
"""

from __future__ import annotations

import calendar
import logging
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import or_, select, update

from companion.accounts.models import Facilitator, ProgrammeRole
from companion.accounts.roles import RUNNING_VALUES
from companion.config import Config
from companion.core.db import Db, utcnow
from companion.core.jobs import periodic
from companion.core.mail import OutboxMessage, queue_mail
from companion.privacy.audit import record_audit
from companion.privacy.erasure import erase_programme_data
from companion.privacy.models import ProgrammeRetention
from companion.programmes.models import Programme

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RetentionRules:
    """How long personal data is kept (from the configuration)."""

    months: int = 12
    warning_days: int = 30
    mail_body_days: int = 90

    @classmethod
    def of(cls, config: Config) -> RetentionRules:
        """The rules the configuration sets."""
        return cls(
            months=config.retention_months,
            warning_days=config.retention_warning_days,
            mail_body_days=config.mail_body_retention_days,
        )


def add_months(day: date, months: int) -> date:
    """The same day `months` later (the month's last day if it is shorter)."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def erase_date(programme: Programme, rules: RetentionRules) -> datetime | None:
    """When the programme's personal data is due to go (its zone's midnight), None if it has
    no end date."""
    if programme.ends_on is None:
        return None
    day = add_months(programme.ends_on, rules.months) + timedelta(days=1)
    return datetime.combine(day, time.min, tzinfo=ZoneInfo(programme.timezone))


def retention_notice(db: Db, config: Config, programme: Programme) -> tuple[str, date] | None:
    """What the programme page says about its data: ("due", day) when it is to be erased,
    ("erased", day) once it was; None without an end date."""
    state = db.get(ProgrammeRetention, programme.id)
    zone = ZoneInfo(programme.timezone)
    if state is not None and state.erased_at is not None:
        return "erased", state.erased_at.astimezone(zone).date()
    due = erase_date(programme, RetentionRules.of(config))
    if due is None:
        return None
    if state is not None and state.erase_after is not None:
        later = state.erase_after
        due = max(due, later if later.tzinfo else later.replace(tzinfo=due.tzinfo))
    return "due", due.astimezone(zone).date()


@dataclass(frozen=True)
class RetentionRun:
    """What one run did, by programme id."""

    warned: list[int]
    erased: list[int]
    mail_bodies_cleared: int


def _warn(db: Db, config: Config, programme: Programme, due: datetime) -> None:
    facilitators = db.scalars(
        select(Facilitator)
        .join(ProgrammeRole, ProgrammeRole.facilitator_id == Facilitator.id)
        .where(
            ProgrammeRole.programme_id == programme.id,
            ProgrammeRole.role.in_(RUNNING_VALUES),
            Facilitator.active.is_(True),
        )
    )
    url = config.external_url(f"/programmes/{programme.id}")
    for facilitator in facilitators:
        with force_locale(facilitator.language or programme.language):
            local_day = due.astimezone(ZoneInfo(programme.timezone)).date()
            subject = _(
                "The personal data of %(programme)s will be deleted on %(day)s",
                programme=programme.name,
                day=local_day.strftime("%d.%m.%Y"),
            )
            body = _(
                "Hello %(name)s,\n\n"
                "%(programme)s ended, and its participants' personal data is kept for a set "
                "time only. On %(day)s their names, contact details, notes and answers will be "
                "deleted; only anonymous figures remain.\n\n"
                "Export what you need before then: %(url)s\n",
                name=facilitator.name,
                programme=programme.name,
                day=local_day.strftime("%d.%m.%Y"),
                url=url,
            )
        queue_mail(
            db,
            to_address=facilitator.email,
            to_name=facilitator.name,
            subject=subject,
            text_body=body,
            kind="retention_warning",
            programme_id=programme.id,
            dedupe_key=f"retention-warning-{programme.id}-{facilitator.id}-{local_day}",
        )


def check_programmes(
    db: Db, config: Config, rules: RetentionRules, now: datetime
) -> tuple[list[int], list[int]]:
    """Warn about programmes whose data goes soon and erase those whose time has come."""
    warned: list[int] = []
    erased: list[int] = []
    # Only programmes that ended can be due; the date check below is per programme.
    latest_end = (now - timedelta(days=1)).date()
    candidates = db.scalars(
        select(Programme).where(Programme.ends_on.is_not(None), Programme.ends_on <= latest_end)
    )
    for programme in candidates:
        due = erase_date(programme, rules)
        if due is None:
            continue
        state = db.get(ProgrammeRetention, programme.id)
        if state is not None and state.erased_at is not None:
            continue
        if now < due - timedelta(days=rules.warning_days):
            continue
        if state is None or state.warned_at is None:
            state = state or ProgrammeRetention(programme_id=programme.id)
            state.warned_at = now
            state.erase_after = max(due, now + timedelta(days=rules.warning_days))
            db.add(state)
            _warn(db, config, programme, state.erase_after)
            warned.append(programme.id)
            continue
        erase_after = state.erase_after or due
        if erase_after.tzinfo is None:
            erase_after = erase_after.replace(tzinfo=now.tzinfo)
        if now >= max(due, erase_after):
            people = erase_programme_data(db, programme)
            state.erased_at = now
            record_audit(
                db,
                "retention.erase",
                organisation_id=programme.organisation_id,
                programme_id=programme.id,
                participants=people,
            )
            erased.append(programme.id)
    db.flush()
    return warned, erased


def clear_old_mail_bodies(db: Db, rules: RetentionRules, now: datetime) -> int:
    """Empty the bodies of emails sent more than `mail_body_days` ago; returns how many."""
    cutoff = now - timedelta(days=rules.mail_body_days)
    result = db.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.status == "sent",
            OutboxMessage.sent_at < cutoff,
            or_(OutboxMessage.text_body != "", OutboxMessage.html_body != ""),
        )
        .values(text_body="", html_body="", attachments=[])
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)


def run_retention(db: Db, config: Config, now: datetime | None = None) -> RetentionRun:
    """One pass of every retention rule."""
    now = now or utcnow()
    rules = RetentionRules.of(config)
    warned, erased = check_programmes(db, config, rules, now)
    cleared = clear_old_mail_bodies(db, rules, now)
    if warned or erased or cleared:
        log.info(
            "Retention: warned %s, erased %s programmes, cleared %s mail bodies",
            len(warned),
            len(erased),
            cleared,
        )
    return RetentionRun(warned=warned, erased=erased, mail_bodies_cleared=cleared)


@periodic(3600)
def _retention(db: Db) -> None:
    config: Config = current_app.extensions["companion.config"]
    run_retention(db, config)
