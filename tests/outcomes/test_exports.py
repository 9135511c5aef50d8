"""The outcomes page and the exports: who may see them, what they hold, formula neutralising,
and the audit log entry every view and export leaves."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from typing import Any

import pytest
from flask.testing import FlaskClient
from openpyxl import load_workbook
from sqlalchemy import select

from companion.core.db import Db
from companion.outcomes.sheets import Sheet, neutralise, to_csv, to_xlsx
from companion.privacy.models import AuditEntry
from tests.outcomes.conftest import Outcomes

Signer = Callable[[FlaskClient, Any], FlaskClient]


def _csv(body: bytes) -> list[list[str]]:
    assert body.startswith(b"\xef\xbb\xbf"), "Finnish Excel needs the UTF-8 byte-order mark"
    return list(csv.reader(io.StringIO(body.decode("utf-8-sig")), delimiter=";"))


def _xlsx(body: bytes) -> list[list[Any]]:
    book = load_workbook(io.BytesIO(body))
    assert len(book.worksheets) == 1
    return [list(row) for row in book.worksheets[0].iter_rows(values_only=True)]


@pytest.mark.parametrize("value", ["=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx"])
def test_neutralise_formula_starts(value: str) -> None:
    assert neutralise(value) == "'" + value
    sheet = Sheet("T", ["h"], [[value]])
    assert _csv(to_csv(sheet))[1][0] == "'" + value
    # XML turns a lone CR into LF; what matters is the leading quote.
    cell = _xlsx(to_xlsx([sheet]))[1][0]
    assert cell.startswith("'") and cell[2:] == value[1:]


def test_plain_text_and_numbers_stay() -> None:
    sheet = Sheet("T", ["a", "b", "c"], [["Äiti Öljy", 3, 1.5]])
    assert _csv(to_csv(sheet, decimal=","))[1] == ["Äiti Öljy", "3", "1,50"]
    assert _xlsx(to_xlsx([sheet]))[1] == ["Äiti Öljy", 3, 1.5]


def test_outcomes_page_shows_figures_and_is_logged(
    client: FlaskClient, db: Db, sign_in: Signer, outcomes_world: Outcomes
) -> None:
    sign_in(client, outcomes_world.facilitator)
    response = client.get(f"/programmes/{outcomes_world.programme.id}/outcomes")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "3 / 6" in html  # at least one new contact
    assert "4 / 7" in html  # pairs met of possible
    assert 'role="img"' in html and "<desc" in html and "chart-goal" in html
    assert "<table" in html
    assert "Cecilia Castrén" in html
    entry = db.scalar(select(AuditEntry).where(AuditEntry.action == "outcomes.view"))
    assert entry is not None
    assert entry.details["programme_id"] == outcomes_world.programme.id
    assert "Cecilia" not in str(entry.details)


def test_other_facilitators_and_strangers_cannot(
    client: FlaskClient,
    sign_in: Signer,
    make_facilitator: Callable[..., Any],
    outcomes_world: Outcomes,
) -> None:
    pid = outcomes_world.programme.id
    assert client.get(f"/programmes/{pid}/outcomes").status_code in (302, 303, 401)
    sign_in(client, make_facilitator())
    assert client.get(f"/programmes/{pid}/outcomes").status_code == 404
    assert client.get(f"/programmes/{pid}/outcomes/attendance.csv").status_code == 404


def test_attendance_export_has_hours_per_person(
    client: FlaskClient, db: Db, sign_in: Signer, outcomes_world: Outcomes
) -> None:
    sign_in(client, outcomes_world.facilitator)
    pid = outcomes_world.programme.id
    response = client.get(f"/programmes/{pid}/outcomes/attendance.xlsx")
    assert response.status_code == 200
    assert "attachment" in response.headers["Content-Disposition"]
    rows = _xlsx(response.data)
    header = rows[0]
    assert header[-3:] == ["Sessions attended", "Sessions held", "Hours"]
    assert len(header) == 1 + 4 + 3  # name, the held S1, S2, S3 and T1, the totals
    by_name = {r[0]: r for r in rows[1:]}
    assert by_name["Aino Aalto"][-1] == 4.25
    assert by_name["Bertta Berg"][-1] == 4.5
    assert by_name["Cecilia Castrén"][-1] == pytest.approx(1.67)
    assert by_name["Dan Dahl"][-3:] == [1, 3, 1]
    # The name that looks like a formula is text.
    assert '\'=HYPERLINK("http://x")' in by_name
    assert by_name["Present"][-1] == pytest.approx(805 / 60, abs=0.01)

    csv_rows = _csv(client.get(f"/programmes/{pid}/outcomes/attendance.csv").data)
    assert [r[0] for r in csv_rows[1:]] == [r[0] for r in rows[1:]]
    assert {r[0]: r[-1] for r in csv_rows[1:]}["Aino Aalto"] == "4.25"

    actions = list(db.scalars(select(AuditEntry.action).order_by(AuditEntry.id)))
    assert actions == ["export.attendance", "export.attendance"]
    formats = [e.details["format"] for e in db.scalars(select(AuditEntry).order_by(AuditEntry.id))]
    assert formats == ["xlsx", "csv"]


@pytest.mark.parametrize("kind", ["participants", "contacts", "feedback", "funder"])
def test_every_export_opens_and_is_logged(
    client: FlaskClient, db: Db, sign_in: Signer, outcomes_world: Outcomes, kind: str
) -> None:
    sign_in(client, outcomes_world.facilitator)
    pid = outcomes_world.programme.id
    rows = _xlsx(client.get(f"/programmes/{pid}/outcomes/{kind}.xlsx").data)
    csv_rows = _csv(client.get(f"/programmes/{pid}/outcomes/{kind}.csv").data)
    assert len(csv_rows) == len(rows)
    flat = [str(c) for r in rows for c in r if c is not None]
    assert not any(c.startswith(("=", "+", "-", "@")) for c in flat)
    assert db.scalar(select(AuditEntry).where(AuditEntry.action == f"export.{kind}"))
    if kind == "participants":
        assert len(rows) == 1 + 6
        assert rows[0][:2] == ["Name", "Email"]
    if kind == "contacts":
        total = rows[-1]
        # with a contact 3; lunch 1, sparring 1, business 1, customer 0, other 0; waiting 1
        assert total[1:] == [3, 1, 1, 1, 0, 0, 1]
    if kind == "feedback":
        assert sorted(r[2] for r in rows[1:]) == [3, 4, 5]
        assert "'=cmd|' /C calc'!A0" in [r[3] for r in rows[1:]]
    if kind == "funder":
        figures: dict[Any, Any] = {}
        for row in rows:
            figures.setdefault(row[0], row[1])
        assert figures["Participants"] == 6
        assert figures["Sessions held"] == 4
        assert figures["Expert talks"] == 1
        assert figures["Participants with at least one new mutual contact"] == 3
        assert figures["Hours of participation, total"] == pytest.approx(13.42)
        assert figures["Pairs who met in small groups"] == 4
        assert figures["Possible pairs within the groups"] == 7
        assert figures["Session rating, average (1–5)"] == 4.0


def test_in_finnish_the_page_reads_finnish_and_csv_uses_decimal_commas(
    client: FlaskClient, sign_in: Signer, outcomes_world: Outcomes
) -> None:
    sign_in(client, outcomes_world.facilitator)
    pid = outcomes_world.programme.id
    finnish = {"Accept-Language": "fi"}
    html = client.get(f"/programmes/{pid}/outcomes", headers=finnish).get_data(as_text=True)
    assert "Tulokset" in html and "Tavoite: kaikki" in html
    assert "50\u00a0%" in html  # the share, formatted the Finnish way
    body = client.get(f"/programmes/{pid}/outcomes/attendance.csv", headers=finnish).data
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig")), delimiter=";"))
    assert rows[0][0] == "Nimi"
    assert {r[0]: r[-1] for r in rows[1:]}["Aino Aalto"] == "4,25"
