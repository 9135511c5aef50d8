"""Offers and needs: what participants can offer each other and what they look for.

A programme has a list of themes (`themes.py`: a default set in Finnish and English until the
facilitator edits it); each participant may choose themes they offer and themes they need, add
a short text to each, and say whether the others in their groups may see them (not by default).
The optimiser uses them to bring helpers and helped together (`companion.grouping.needs`);
`hints.py` says who might talk with whom about what, only between people who both chose to
show theirs, of the same programme and breakout group. Models in `models.py`, writes and reads
in `operations.py`, pages in `views.py`.
"""
