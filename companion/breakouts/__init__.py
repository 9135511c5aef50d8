"""Breakout rounds in sessions: planned by the optimiser, by hand, at random or from topics."""
