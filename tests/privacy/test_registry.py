"""The registry of personal data: every table that refers to a participant or holds an email
address is declared by some package, and the privacy package itself imports no domain."""

from __future__ import annotations

import ast
from pathlib import Path

from flask import Flask

from companion.core.db import Base
from companion.privacy.registry import contributions, covered_tables

#: Tables that name people but are not participants' data: facilitators' own accounts,
#: invitations to become one (purged a month after they expire) and platform connections,
#: and the audit log (ids only). Anything else must be declared by its package.
NOT_PARTICIPANT_DATA = frozenset(
    {
        "facilitator",
        "facilitator_invitation",
        "audit_entry",
        "organisation",
        "zoom_connection",
        "teams_connection",
    }
)
#: What the privacy package may import: the core, accounts and the participant model.
ALLOWED = ("companion.core", "companion.privacy", "companion.accounts", "companion.config")
PARTICIPANT_MODEL = "companion.programmes.models"


def test_every_table_with_personal_data_is_declared(app: Flask) -> None:
    suspects = set()
    for table in Base.metadata.sorted_tables:
        if table.name in NOT_PARTICIPANT_DATA:
            continue
        if any(key.column.table.name == "participant" for key in table.foreign_keys):
            suspects.add(table.name)
        if any("email" in column.name or column.name == "to_address" for column in table.columns):
            suspects.add(table.name)
    assert "participant" in suspects and "follow_up_contact" in suspects
    assert suspects - covered_tables() == set()


def test_every_package_can_export_and_erase(app: Flask) -> None:
    keys = {entry.key for entry in contributions()}
    assert {"programmes", "sessions", "board", "notes", "contacts", "privacy"} <= keys
    for entry in contributions():
        # Experts are no participants: their data goes with the programme's.
        if entry.key != "experts":
            assert entry.export_participant is not None, entry.key


def test_privacy_imports_no_domain() -> None:
    root = Path(__file__).resolve().parents[2] / "companion" / "privacy"
    for path in root.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                module = node.module
                if module.startswith(("companion.", "integrations.")):
                    assert module.startswith(ALLOWED) or module == PARTICIPANT_MODEL, (
                        f"{path.name} imports {module}"
                    )
