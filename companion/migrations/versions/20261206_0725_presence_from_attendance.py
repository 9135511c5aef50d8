"""One presence fact: attendance rows and breakout absences become presence reports.

Join-link attendance becomes the "link" report, Zoom's the "platform" report, a facilitator's
tick a "facilitator" mark (present), and a breakout absence a "facilitator" mark (absent).
Sessions whose summary already went out are marked "summary_sent".

Revision ID: 5d2f8e41a7c0
Revises: c43e20fa9b4c
Create Date: 2026-12-06 07:25:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import companion.core.db


revision: str = '5d2f8e41a7c0'
down_revision: str | Sequence[str] | None = 'c43e20fa9b4c'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute(sa.text(
        "INSERT INTO presence_report (session_id, participant_id, source, present, "
        "first_seen_at, last_seen_at, count, minutes, detail, recorded_at) "
        "SELECT session_id, participant_id, 'link', TRUE, first_joined_at, last_joined_at, "
        "join_count, NULL, '', last_joined_at FROM attendance "
        "WHERE source IN ('link', 'link+platform')"
    ))
    op.execute(sa.text(
        "INSERT INTO presence_report (session_id, participant_id, source, present, "
        "first_seen_at, last_seen_at, count, minutes, detail, recorded_at) "
        "SELECT session_id, participant_id, 'platform', TRUE, first_joined_at, last_joined_at, "
        "1, minutes_present, 'zoom', last_joined_at FROM attendance "
        "WHERE source IN ('platform', 'link+platform')"
    ))
    op.execute(sa.text(
        "INSERT INTO presence_report (session_id, participant_id, source, present, "
        "first_seen_at, last_seen_at, count, minutes, detail, recorded_at) "
        "SELECT session_id, participant_id, 'facilitator', TRUE, NULL, NULL, "
        "1, NULL, '', last_joined_at FROM attendance WHERE source = 'manual'"
    ))
    op.execute(sa.text(
        "INSERT INTO presence_report (session_id, participant_id, source, present, "
        "first_seen_at, last_seen_at, count, minutes, detail, recorded_at) "
        "SELECT a.session_id, a.participant_id, 'facilitator', FALSE, NULL, NULL, "
        "1, NULL, '', a.created_at FROM breakout_absence a "
        "WHERE NOT EXISTS (SELECT 1 FROM presence_report r WHERE r.session_id = a.session_id "
        "AND r.participant_id = a.participant_id AND r.source = 'facilitator')"
    ))
    # A session whose digest run was queued has had its summary sent.
    op.execute(sa.text(
        "UPDATE session SET status = 'summary_sent', summary_sent_at = ended_at "
        "WHERE status = 'ended' AND EXISTS (SELECT 1 FROM job "
        "WHERE job.dedupe_key = 'digest-' || CAST(session.id AS VARCHAR(20)))"
    ))

    with op.batch_alter_table('breakout_absence', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_breakout_absence_session_id'))
        batch_op.drop_index(batch_op.f('ix_breakout_absence_participant_id'))
    op.drop_table('breakout_absence')
    with op.batch_alter_table('attendance', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_attendance_participant_id'))
    op.drop_table('attendance')


def downgrade() -> None:
    op.create_table('attendance',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('session_id', sa.Integer(), nullable=False),
    sa.Column('participant_id', sa.Integer(), nullable=False),
    sa.Column('first_joined_at', companion.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('last_joined_at', companion.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('join_count', sa.Integer(), nullable=False),
    sa.Column('minutes_present', sa.Integer(), nullable=True),
    sa.Column('source', sa.String(length=20), nullable=False),
    sa.Column('notes', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['participant_id'], ['participant.id'], name=op.f('fk_attendance_participant_id_participant'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['session_id'], ['session.id'], name=op.f('fk_attendance_session_id_session'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_attendance')),
    sa.UniqueConstraint('session_id', 'participant_id', name=op.f('uq_attendance_session_id_participant_id'))
    )
    with op.batch_alter_table('attendance', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_attendance_participant_id'), ['participant_id'], unique=False)
    op.create_table('breakout_absence',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('session_id', sa.Integer(), nullable=False),
    sa.Column('participant_id', sa.Integer(), nullable=False),
    sa.Column('created_at', companion.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['participant_id'], ['participant.id'], name=op.f('fk_breakout_absence_participant_id_participant'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['session_id'], ['session.id'], name=op.f('fk_breakout_absence_session_id_session'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_breakout_absence')),
    sa.UniqueConstraint('session_id', 'participant_id', name=op.f('uq_breakout_absence_session_id_participant_id'))
    )
    with op.batch_alter_table('breakout_absence', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_breakout_absence_participant_id'), ['participant_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_breakout_absence_session_id'), ['session_id'], unique=False)
    op.execute(sa.text(
        "INSERT INTO attendance (session_id, participant_id, first_joined_at, last_joined_at, "
        "join_count, minutes_present, source, notes) "
        "SELECT session_id, participant_id, first_seen_at, last_seen_at, count, NULL, 'link', '' "
        "FROM presence_report WHERE source = 'link'"
    ))
    op.execute(sa.text(
        "INSERT INTO breakout_absence (session_id, participant_id, created_at) "
        "SELECT session_id, participant_id, recorded_at FROM presence_report "
        "WHERE source = 'facilitator' AND present = FALSE"
    ))
    op.execute(sa.text("DELETE FROM presence_report"))
    op.execute(sa.text("UPDATE session SET status = 'ended' WHERE status = 'summary_sent'"))
