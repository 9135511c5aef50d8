"""Zoom: OAuth, meetings with pre-assigned breakout rooms, webhooks and the Zoom App side panel.

Facts about Zoom that this package relies on are in `shared/specs/zoom/NOTES.md` and are
cited as "NOTES §x" next to the code that depends on them.
"""
