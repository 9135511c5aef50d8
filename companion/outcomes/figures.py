"""A programme's outcome figures: plain data in, numbers out.

Every figure counts held sessions only (`lifecycle.has_happened`: ended or summary sent), and
reads each session's one presence fact; cancelled and coming sessions never count. Nothing
here touches Flask or the database (`gather.py` reads the data), so each figure is tested
against values computed by hand.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from statistics import mean

from companion.breakouts.planning import MetMatrix, PastRound, met_matrix
from companion.grouping.needs import season_needs
from companion.grouping.problem import Person
from companion.sessions.lifecycle import SessionState, has_happened
from companion.sessions.presence import Presence, minutes_present

#: The seed's goal: every participant has at least one new contact by the end.
CONTACT_GOAL = 1.0
#: A participant who missed this many of their latest held sessions in a row has dropped out.
DROP_OUT_MISSES = 2
#: The contact kinds, in the seed's order.
KINDS = ("lunch", "sparring", "business", "customer", "other")


# --- the data in --------------------------------------------------------------------------------


@dataclass(frozen=True)
class PersonFacts:
    """A participant of the programme."""

    id: int
    name: str
    group_ids: tuple[int, ...] = ()
    #: Theme keys they can offer others and are looking for (`companion.needs`).
    offers: tuple[str, ...] = ()
    needs: tuple[str, ...] = ()


@dataclass(frozen=True)
class SessionFacts:
    """A session and, if it was held, who was there (its one presence fact per person)."""

    id: int
    group_id: int
    title: str
    starts_at: datetime
    duration_minutes: int
    state: SessionState
    presence: Mapping[int, Presence] = field(default_factory=dict)
    #: Titles of its expert talks (agenda items of kind expert_talk).
    expert_talks: tuple[str, ...] = ()

    @property
    def held(self) -> bool:
        """Whether it counts: it has happened (not cancelled, not coming)."""
        return has_happened(self.state)


@dataclass(frozen=True)
class ContactFacts:
    """A follow-up contact between two participants."""

    requester_id: int
    recipient_id: int
    kind: str
    #: "pending", "accepted" (mutual) or "declined".
    status: str


@dataclass(frozen=True)
class FeedbackFacts:
    """One rating of a session."""

    session_id: int
    rating: int
    comment: str = ""


@dataclass(frozen=True)
class GroupFacts:
    """A programme group and its breakout rounds that ran in held sessions."""

    id: int
    name: str
    rounds: tuple[PastRound, ...] = ()


@dataclass(frozen=True)
class ProgrammeFacts:
    """Everything the figures are made of."""

    people: Sequence[PersonFacts]
    groups: Sequence[GroupFacts]
    sessions: Sequence[SessionFacts]
    contacts: Sequence[ContactFacts] = ()
    feedback: Sequence[FeedbackFacts] = ()


# --- the figures out ----------------------------------------------------------------------------


@dataclass(frozen=True)
class SessionAttendance:
    """Who came to one held session."""

    session_id: int
    group_id: int
    title: str
    starts_at: datetime
    present: int
    expected: int
    hours: float

    @property
    def share(self) -> float:
        """Present of those expected (0 when nobody was expected)."""
        return self.present / self.expected if self.expected else 0.0


@dataclass(frozen=True)
class PersonAttendance:
    """One participant over the held sessions they were expected at."""

    person_id: int
    name: str
    attended: int
    held: int
    minutes: int
    dropped_out: bool
    #: Session id -> present (True) or not, for the held sessions they were expected at.
    by_session: Mapping[int, bool]

    @property
    def hours(self) -> float:
        """Hours of participation."""
        return self.minutes / 60


@dataclass(frozen=True)
class Share:
    """How many of how many, e.g. participants with at least one mutual contact."""

    label: str
    count: int
    total: int

    @property
    def share(self) -> float:
        """The fraction (0 when the total is 0)."""
        return self.count / self.total if self.total else 0.0


@dataclass(frozen=True)
class KindCount:
    """Contacts of one kind: agreed by both, and still waiting."""

    kind: str
    mutual: int
    pending: int


@dataclass(frozen=True)
class GroupMet:
    """Who of a group met whom in breakout rounds of held sessions."""

    group_id: int
    name: str
    people: tuple[PersonFacts, ...]
    matrix: MetMatrix

    @property
    def pairs(self) -> int:
        """Possible pairs."""
        return self.matrix.pairs

    @property
    def pairs_met(self) -> int:
        """Distinct pairs that met at least once."""
        return self.matrix.pairs_met()


@dataclass(frozen=True)
class SessionFeedbackFigures:
    """Ratings of one held session."""

    session_id: int
    title: str
    starts_at: datetime
    count: int
    average: float | None
    #: Rating 1..5 -> how many gave it.
    distribution: Mapping[int, int]
    comments: tuple[str, ...]


@dataclass(frozen=True)
class NeedsFigures:
    """Offers and needs over the season: people whose need someone in their group could meet,
    how many of them shared a small group with such a person, and of those helper-helped
    pairs how many recorded a follow-up contact."""

    coverable: int
    covered: int
    pairs_met: int
    pairs_with_contact: int


@dataclass(frozen=True)
class Figures:
    """All of a programme's outcome figures."""

    participants: int
    sessions_held: int
    sessions_cancelled: int
    expert_talks: tuple[tuple[int, str], ...]
    attendance_by_session: tuple[SessionAttendance, ...]
    attendance_by_person: tuple[PersonAttendance, ...]
    contact_shares: tuple[Share, ...]
    contacts_by_kind: tuple[KindCount, ...]
    met: tuple[GroupMet, ...]
    network: tuple[tuple[int, int], ...]
    feedback: tuple[SessionFeedbackFigures, ...]
    needs: NeedsFigures = NeedsFigures(0, 0, 0, 0)

    @property
    def with_contact(self) -> Share:
        """The whole programme's "at least one mutual new contact" share (the last share)."""
        return self.contact_shares[-1]

    @property
    def dropped_out(self) -> tuple[PersonAttendance, ...]:
        """People flagged as dropped out."""
        return tuple(p for p in self.attendance_by_person if p.dropped_out)

    @property
    def total_minutes(self) -> int:
        """Everyone's minutes of participation together."""
        return sum(p.minutes for p in self.attendance_by_person)

    @property
    def pairs(self) -> int:
        """Possible pairs over all groups."""
        return sum(g.pairs for g in self.met)

    @property
    def pairs_met(self) -> int:
        """Distinct pairs that met, over all groups."""
        return sum(g.pairs_met for g in self.met)

    @property
    def mutual_contacts(self) -> int:
        """Contacts agreed by both, of every kind."""
        return sum(k.mutual for k in self.contacts_by_kind)

    @property
    def feedback_average(self) -> float | None:
        """The average of every rating of a held session (None without ratings)."""
        total = sum((f.average or 0) * f.count for f in self.feedback)
        count = sum(f.count for f in self.feedback)
        return total / count if count else None


# --- computing them -----------------------------------------------------------------------------


def held_sessions(sessions: Sequence[SessionFacts]) -> list[SessionFacts]:
    """The sessions that count, oldest first."""
    return sorted((s for s in sessions if s.held), key=lambda s: (s.starts_at, s.id))


def attendance_by_session(sessions: Sequence[SessionFacts]) -> list[SessionAttendance]:
    """Present and expected per held session, with the hours spent there."""
    rows = []
    for session in held_sessions(sessions):
        facts = session.presence
        minutes = sum(minutes_present(f, session.duration_minutes) for f in facts.values())
        rows.append(
            SessionAttendance(
                session_id=session.id,
                group_id=session.group_id,
                title=session.title,
                starts_at=session.starts_at,
                present=sum(1 for f in facts.values() if f.present),
                expected=len(facts),
                hours=minutes / 60,
            )
        )
    return rows


def attendance_by_person(
    people: Sequence[PersonFacts], sessions: Sequence[SessionFacts]
) -> list[PersonAttendance]:
    """Each person's held sessions, minutes, and whether they missed the last two held."""
    held = held_sessions(sessions)
    rows = []
    for person in people:
        mine = [s for s in held if person.id in s.presence]
        marks = {s.id: bool(s.presence[person.id].present) for s in mine}
        minutes = sum(minutes_present(s.presence[person.id], s.duration_minutes) for s in mine)
        latest = [marks[s.id] for s in mine[-DROP_OUT_MISSES:]]
        rows.append(
            PersonAttendance(
                person_id=person.id,
                name=person.name,
                attended=sum(marks.values()),
                held=len(mine),
                minutes=minutes,
                dropped_out=len(latest) == DROP_OUT_MISSES and not any(latest),
                by_session=marks,
            )
        )
    return rows


def mutual_partners(contacts: Sequence[ContactFacts]) -> dict[int, set[int]]:
    """Each person's partners in contacts agreed by both."""
    partners: dict[int, set[int]] = defaultdict(set)
    for contact in contacts:
        if contact.status == "accepted" and contact.requester_id != contact.recipient_id:
            partners[contact.requester_id].add(contact.recipient_id)
            partners[contact.recipient_id].add(contact.requester_id)
    return partners


def contact_shares(
    people: Sequence[PersonFacts],
    groups: Sequence[GroupFacts],
    contacts: Sequence[ContactFacts],
    whole_label: str,
) -> list[Share]:
    """Participants with at least one mutual new contact: per group, then the whole programme."""
    partners = mutual_partners(contacts)
    connected = {p.id for p in people if partners.get(p.id)}
    shares = []
    for group in groups:
        members = [p for p in people if group.id in p.group_ids]
        shares.append(Share(group.name, sum(1 for p in members if p.id in connected), len(members)))
    shares.append(Share(whole_label, len(connected), len(people)))
    return shares


def contacts_by_kind(contacts: Sequence[ContactFacts]) -> list[KindCount]:
    """Mutual and waiting contacts of each kind (declined ones are nobody's business)."""
    counts = Counter((c.kind, c.status) for c in contacts)
    return [
        KindCount(kind, counts[(kind, "accepted")], counts[(kind, "pending")]) for kind in KINDS
    ]


def network_edges(
    people: Sequence[PersonFacts], contacts: Sequence[ContactFacts]
) -> list[tuple[int, int]]:
    """The distinct pairs of participants with a mutual contact, smaller id first."""
    known = {p.id for p in people}
    edges = {
        (min(a, b), max(a, b))
        for a, partners in mutual_partners(contacts).items()
        for b in partners
        if a in known and b in known
    }
    return sorted(edges)


def met_by_group(people: Sequence[PersonFacts], groups: Sequence[GroupFacts]) -> list[GroupMet]:
    """The who-met-whom matrix of each group, people in name order."""
    result = []
    for group in groups:
        members = tuple(
            sorted(
                (p for p in people if group.id in p.group_ids),
                key=lambda p: (p.name.casefold(), p.id),
            )
        )
        matrix = met_matrix([f"p:{p.id}" for p in members], group.rounds)
        result.append(GroupMet(group.id, group.name, members, matrix))
    return result


def feedback_by_session(
    sessions: Sequence[SessionFacts], feedback: Sequence[FeedbackFacts]
) -> list[SessionFeedbackFigures]:
    """The ratings of each held session: count, average, distribution and comments."""
    by_session: dict[int, list[FeedbackFacts]] = defaultdict(list)
    for item in feedback:
        by_session[item.session_id].append(item)
    rows = []
    for session in held_sessions(sessions):
        items = by_session.get(session.id, [])
        ratings = [i.rating for i in items]
        rows.append(
            SessionFeedbackFigures(
                session_id=session.id,
                title=session.title,
                starts_at=session.starts_at,
                count=len(ratings),
                average=mean(ratings) if ratings else None,
                distribution={r: ratings.count(r) for r in range(1, 6)},
                comments=tuple(i.comment.strip() for i in items if i.comment.strip()),
            )
        )
    return rows


def needs_over_season(
    people: Sequence[PersonFacts], groups: Sequence[GroupFacts], contacts: Sequence[ContactFacts]
) -> NeedsFigures:
    """Needs covered by the small groups that met (who was absent met nobody there), and of
    the pairs of helper and helped that met, those that recorded a contact (any status)."""
    planned = [Person(f"p:{p.id}", offers=p.offers, needs=p.needs) for p in people]
    rounds = [
        [[key for key in group if key not in past.absent] for group in past.groups]
        for g in groups
        for past in g.rounds
    ]
    recorded = {frozenset((f"p:{c.requester_id}", f"p:{c.recipient_id}")) for c in contacts}
    season = season_needs(planned, rounds, recorded)
    return NeedsFigures(
        coverable=len(season.coverable),
        covered=len(season.covered),
        pairs_met=season.pairs_met,
        pairs_with_contact=season.pairs_with_contact,
    )


def figures(facts: ProgrammeFacts, *, whole_label: str = "All participants") -> Figures:
    """Every figure of the outcomes page, the exports and the funder report."""
    held = held_sessions(facts.sessions)
    return Figures(
        participants=len(facts.people),
        sessions_held=len(held),
        sessions_cancelled=sum(1 for s in facts.sessions if s.state is SessionState.CANCELLED),
        expert_talks=tuple((s.id, title) for s in held for title in s.expert_talks),
        attendance_by_session=tuple(attendance_by_session(facts.sessions)),
        attendance_by_person=tuple(attendance_by_person(facts.people, facts.sessions)),
        contact_shares=tuple(
            contact_shares(facts.people, facts.groups, facts.contacts, whole_label)
        ),
        contacts_by_kind=tuple(contacts_by_kind(facts.contacts)),
        met=tuple(met_by_group(facts.people, facts.groups)),
        network=tuple(network_edges(facts.people, facts.contacts)),
        feedback=tuple(feedback_by_session(facts.sessions, facts.feedback)),
        needs=needs_over_season(facts.people, facts.groups, facts.contacts),
    )
