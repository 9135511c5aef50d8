"""Alembic migrations (one per schema change, named YYYYMMDD_HHMM_<slug>.py)."""
