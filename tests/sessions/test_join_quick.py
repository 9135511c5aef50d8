"""The join link's quick path decides exactly as the full path does.

Opening a link reads the common case (a session on now, its room ready) in one query without
ORM objects (`join_links.quick_join`); everything else goes the full way (`resolve_join_token`,
`decide_join`). Over generated seasons (two groups, cancelled, ended and summarised sessions,
rooms missing, deleted or without an address, revoked and renewed links) both must send the
person to the same address, or the quick path must step aside.
"""

from __future__ import annotations

import random
from datetime import timedelta
from typing import Any

from flask import Flask

from companion.core.db import Db, utcnow
from companion.meetings import operations as rooms
from companion.meetings.platform import Person, Room
from companion.programmes.models import Membership
from companion.sessions import join_links
from companion.sessions.lifecycle import StoredStatus

WINDOW = {"opens_before": timedelta(minutes=15), "closes_after": timedelta(minutes=30)}


def _full(db: Db, token: str, now: Any) -> str | None:
    """Where the full path sends the link's owner now, or None (a page, not a room)."""
    try:
        link = join_links.resolve_join_token(db, token)
    except join_links.JoinLinkInvalid:
        return None
    person = link.participant
    decision = join_links.decide_join(person, now, **WINDOW)
    if decision.kind != "join" or decision.session is None:
        return None
    return rooms.personal_join_url(
        db, decision.session, Person(person.id, person.name, person.email)
    )


def _quick(db: Db, token: str, now: Any) -> str | None:
    quick = join_links.quick_join(db, token, now, **WINDOW)
    if quick is None:
        return None
    room = Room(quick.room_external_id, quick.room_join_url, quick.room_data)
    person = Person(quick.participant_id, quick.name, quick.email)
    return rooms.join_url_from(db, quick.session.platform, room, person)


def _season(
    app: Flask, db: Db, make_programme: Any, make_participant: Any, make_session: Any, seed: int
) -> list[tuple[str | None, str | None]]:
    """A generated season; (quick, full) for its link, the old link once renewed, the new."""
    rng = random.Random(seed)
    programme = make_programme(groups=2)
    first, second = programme.groups
    person = make_participant(programme, group=first, name=f"Person {seed}")
    if rng.random() < 0.5:
        db.add(Membership(group=second, participant=person))
        db.commit()
    now = utcnow()
    for group in (first, second):
        for _ in range(rng.randint(0, 3)):
            session = make_session(  # around now, sometimes two at once
                group,
                starts_at=now + timedelta(minutes=rng.choice([-240, -90, -60, -5, 5, 10, 60])),
                duration_minutes=rng.choice([30, 60, 120, 180]),
            )
            session.status = rng.choice(
                [StoredStatus.SCHEDULED] * 3
                + [StoredStatus.CANCELLED, StoredStatus.ENDED, StoredStatus.SUMMARY_SENT]
            )
            room = session.room
            fate = rng.random()
            if room is not None and fate < 0.15:
                room.status = "deleted"
            elif room is not None and fate < 0.25:
                room.join_url = ""
    db.commit()
    with app.app_context():
        link = join_links.join_link_for(db, person)
        db.commit()
        token = join_links.join_token(link)
        if rng.random() < 0.2:
            join_links.revoke_join_link(db, person)
            db.commit()
        answers = [(_quick(db, token, now), _full(db, token, now))]
        renewed = join_links.join_token(join_links.renew_join_link(db, person))
        db.commit()
        answers.append((_quick(db, token, now), _full(db, token, now)))  # the old address
        answers.append((_quick(db, renewed, now), _full(db, renewed, now)))
    return answers


def test_quick_and_full_paths_agree_on_generated_seasons(
    app: Flask, db: Db, make_programme: Any, make_participant: Any, make_session: Any
) -> None:
    joins = 0
    for seed in range(24):
        answers = _season(app, db, make_programme, make_participant, make_session, seed)
        for quick, full in answers:
            assert quick == full, seed  # the same room, or both step aside; never only one
        assert answers[1] == (None, None)  # the address from before the renewal
        joins += answers[2][1] is not None
    assert 6 <= joins <= 18  # worth comparing: some seasons forward to a room, some show a page


def test_the_quick_path_takes_the_common_case(
    app: Flask, db: Db, make_programme: Any, make_participant: Any, make_session: Any
) -> None:
    programme = make_programme()
    group = programme.groups[0]
    make_session(group, starts_at=utcnow() - timedelta(days=14))  # an earlier one, over
    on_now = make_session(group, starts_at=utcnow() - timedelta(minutes=5))
    make_session(group, starts_at=utcnow() + timedelta(days=14))
    person = make_participant(programme, group=group)
    with app.app_context():
        token = join_links.join_token(join_links.join_link_for(db, person))
        db.commit()
        quick = join_links.quick_join(db, token, utcnow(), **WINDOW)
        assert quick is not None and quick.session.id == on_now.id
        assert quick.participant_id == person.id
        assert quick.room_join_url == on_now.room.join_url
        assert join_links.quick_join(db, token + "x", utcnow(), **WINDOW) is None
