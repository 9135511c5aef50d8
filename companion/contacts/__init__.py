"""Follow-up contacts between participants, shared only on mutual consent, and preferences."""
