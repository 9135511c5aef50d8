"""Consent records, personal data export and erasure, and the audit log."""
