"""Shared notes per session and breakout group: note items, a revisioned summary, action items."""
