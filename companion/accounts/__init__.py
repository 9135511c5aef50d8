"""Organisations, facilitator accounts, roles and who is asking (identity)."""
