"""Microsoft Teams: identity (OAuth, sign-in, SSO in the meeting side panel), the app package,
and, through Microsoft Graph, meetings with invitations, per-group meetings and attendance.

Facts about Microsoft that this package relies on are in `shared/specs/teams/NOTES.md` and are
cited as "NOTES §x" next to the code that depends on them.
"""
