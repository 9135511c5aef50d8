"""Breakout rounds in sessions: planned by the optimiser, by hand, at random or from topics.

A round is a draft while the facilitator shapes it (plans, moves people, re-plans when
attendance changes), then locked (final: rooms are made or the groups pushed to the
platform), started (participants go to their groups) and closed. Started and closed rounds
are the programme's history: their pairs have met, except people absent from the session.

Every change is logged on the live channel "breakouts:<session id>" with the round's public
summary (names of groups and counts, never who is where), so open pages fetch what they may see.
Operations never commit; views do.

Where things are: `access` (finding rounds and groups), `people` (who takes part), `history`
(who has met), `rules` (pair rules), `channel` (the live channel), `drafts` (what every change
to a draft shares, planning with the optimiser), `rounds` (making rounds), `topic_rounds`,
`attendance`, `moves` (people and groups of a draft), `status` (lock, start, close),
`participant_groups` (a participant's group); `planning` is the pure planner, `rooms` the
platform side, `summaries` the read models; `views` (the facilitator's pages),
`participant_views` and `pages` (their shared blueprint), `api` the JSON API.
"""
