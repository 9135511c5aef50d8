"""Programmes, groups, participants, participant import, intake survey and interest form."""
