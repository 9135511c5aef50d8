"""build_digest: what goes into one person's digest (a pure function over plain data)."""

from __future__ import annotations

from datetime import UTC, date, datetime

from companion.digest.content import (
    ActionLine,
    DigestInput,
    NoteLine,
    Recipient,
    SessionFacts,
    SpaceNotes,
    TopicLine,
    build_digest,
)

FACTS = SessionFacts(
    id=1,
    title="Session 1",
    programme_name="eKollega",
    organisation_name="VSY",
    group_name="Group 1",
    starts_at=datetime(2027, 2, 1, 7, tzinfo=UTC),
    ends_at=datetime(2027, 2, 1, 9, tzinfo=UTC),
    timezone="Europe/Helsinki",
)


def _space(group: int | None, members: set[int] | None, shared: bool = False) -> SpaceNotes:
    return SpaceNotes(
        label=f"g{group}",
        breakout_group_id=group,
        shared=shared,
        summary_html="",
        summary_text="",
        items=(NoteLine("A", f"<p>{group}</p>", f"{group}"),),
        members=frozenset(members) if members is not None else None,
    )


def _input(participant_id: int, *, attended: bool = True, **extra: object) -> DigestInput:
    spaces = [
        _space(None, None),
        _space(1, {10, 11}),
        _space(2, {12}),
        _space(3, {13}, shared=True),
        _space(4, None),  # membership unknown and not shared: nobody's
        SpaceNotes("empty", 5, True, "", "", (), frozenset({10})),
    ]
    return DigestInput(
        session=FACTS,
        recipient=Recipient(participant_id, "P", "p@example.fi", "en", attended),
        topics=[TopicLine("Low", 1), TopicLine("High", 5)],
        spaces=spaces,
        **extra,  # type: ignore[arg-type]
    )


def test_own_group_plus_shared_groups_only() -> None:
    content = build_digest(_input(10))
    assert content.plenary is not None and content.plenary.breakout_group_id is None
    assert [s.breakout_group_id for s in content.own_groups] == [1]
    assert [s.breakout_group_id for s in content.shared_groups] == [3]
    other = build_digest(_input(12))
    assert [s.breakout_group_id for s in other.own_groups] == [2]
    assert [s.breakout_group_id for s in other.shared_groups] == [3]
    stranger = build_digest(_input(99))
    assert stranger.own_groups == () and [s.breakout_group_id for s in stranger.shared_groups] == [
        3
    ]


def test_variant_topics_and_open_actions() -> None:
    actions = [
        ActionLine("open", date(2027, 3, 1), False, "Session 1"),
        ActionLine("done", None, True, "Session 1"),
    ]
    content = build_digest(_input(10, attended=False, actions=actions))
    assert content.variant == "missed"
    assert [t.title for t in content.topics] == ["High", "Low"]
    assert [a.text for a in content.actions] == ["open"]
    assert build_digest(_input(10)).variant == "summary"
