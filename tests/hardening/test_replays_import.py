"""Uploads that would expand beyond what an import reads (issue 13, item 2)."""

from __future__ import annotations

import io
import zipfile
from typing import Any

from openpyxl import Workbook

from companion.core.db import Db
from tests.hardening.conftest import Site, row_counts


def _upload(site: Site, name: str, data: bytes) -> Any:
    return site.clients["facilitator"].post(
        f"/programmes/{site.ids['programme']}/import", data={"file": (io.BytesIO(data), name)}
    )


def _workbook(*rows: list[Any]) -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _bomb(unpacked_mb: int) -> bytes:
    """A small workbook-shaped zip whose shared strings unpack to `unpacked_mb` MB."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        text = "<sst><si><t>" + "A" * (unpacked_mb * 1024 * 1024) + "</t></si></sst>"
        archive.writestr("xl/sharedStrings.xml", text)
    return buffer.getvalue()


def test_an_xlsx_zip_bomb_is_refused_before_it_is_read(site: Site, db: Db) -> None:
    bomb = _bomb(40)
    assert len(bomb) < 200 * 1024  # small on the wire
    before = row_counts(db)
    response = _upload(site, "list.xlsx", bomb)
    assert response.status_code == 422
    assert "unpacks to more than 20 MB" in response.get_data(as_text=True)
    assert row_counts(db) == before  # no draft stored


def test_a_workbook_with_too_many_parts_is_refused(site: Site, db: Db) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for number in range(600):
            archive.writestr(f"xl/part{number}.xml", "")
    before = row_counts(db)
    assert _upload(site, "list.xlsx", buffer.getvalue()).status_code == 422
    assert row_counts(db) == before


def test_cells_are_limited_in_workbooks_and_csv_alike(site: Site, db: Db) -> None:
    long = "x" * 5001
    before = row_counts(db)
    workbook = _workbook(["name", "email", "goals"], ["Eero", "eero@example.fi", long])
    for name, data in (
        ("list.xlsx", workbook),
        ("list.csv", f"name;email;goals\nEero;eero@example.fi;{long}\n".encode()),
    ):
        response = _upload(site, name, data)
        assert response.status_code == 422, name
        assert "more than 5000 characters" in response.get_data(as_text=True)
    assert row_counts(db) == before


def test_a_workbook_within_the_limits_is_read(site: Site) -> None:
    ok = _workbook(["name", "email", "goals"], ["Eero", "eero@example.fi", "x" * 5000])
    assert _upload(site, "list.xlsx", ok).status_code == 303
