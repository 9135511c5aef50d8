"""Files that cannot be read get a reason; odd encodings, characters and form values."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from companion.core.db import Db
from companion.programmes.models import ImportDraft, Programme
from tests.programmes.importing.conftest import form_of, people, preview_url, upload


@pytest.mark.parametrize(
    ("filename", "data", "message"),
    [
        ("empty.csv", b"", "The file is empty."),
        ("old.xls", b"\xd0\xcf\x11\xe0 old excel", "Old .xls files are not supported."),
        ("scan.pdf", b"%PDF-1.7", "Upload a CSV or Excel (.xlsx) file."),
        ("broken.xlsx", b"PK\x03\x04 not really a zip", "not a readable Excel (.xlsx)"),
        ("fake.xlsx", b"just text", "not a readable Excel (.xlsx)"),
        ("header.csv", b"Name;Email\n", "a header row and at least one participant"),
        ("binary.csv", bytes(range(128, 256)) * 10, "encoding is not recognised"),
        (
            "huge.csv",
            b"Name;Email\n" + b"".join(b"P%d;p%d@example.fi\n" % (i, i) for i in range(2001)),
            "At most 2000 participants",
        ),
        ("wide.csv", b";".join([b"c"] * 101) + b"\n" + b"x\n", "more than 100 columns"),
        ("cell.csv", b"Name\n" + b"x" * 200_000 + b"\n", "The CSV file could not be read"),
    ],
)
def test_unreadable_files_get_a_reason(
    signed_in: FlaskClient,
    programme: Programme,
    db: Db,
    filename: str,
    data: bytes,
    message: str,
) -> None:
    response = upload(signed_in, programme, filename, data)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert message in page
    assert 'aria-invalid="true"' in page
    assert db.scalar(select(func.count()).select_from(ImportDraft)) == 0


def test_an_xlsx_that_is_some_other_zip(
    signed_in: FlaskClient, programme: Programme, tmp_path: Path
) -> None:
    import zipfile

    path = tmp_path / "photos.xlsx"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("photo.jpg", b"\xff\xd8\xff")
    response = upload(signed_in, programme, path.name, path.read_bytes())
    assert response.status_code == 422
    assert "not a readable Excel (.xlsx) workbook" in response.get_data(as_text=True)


def test_no_file_chosen(signed_in: FlaskClient, programme: Programme) -> None:
    response = signed_in.post(f"/programmes/{programme.id}/import", data={})
    assert response.status_code == 422
    assert "Choose a file to upload." in response.get_data(as_text=True)
    page = signed_in.get(f"/programmes/{programme.id}/import").get_data(as_text=True)
    assert '<label for="f-file">' in page


def test_a_too_large_upload_is_refused_kindly(signed_in: FlaskClient, programme: Programme) -> None:
    # Encoded in memory: the test client would otherwise spool it to a file it never closes.
    boundary, body = encode_multipart(
        {"file": FileStorage(io.BytesIO(b"x" * (11 * 1024 * 1024)), "big.csv")}
    )
    response = signed_in.post(
        f"/programmes/{programme.id}/import",
        data=body,
        content_type=f"multipart/form-data; boundary={boundary}",
    )
    assert response.status_code == 413
    assert "Please send a smaller file." in response.get_data(as_text=True)


def test_control_characters_in_a_file_are_dropped(
    signed_in: FlaskClient, programme: Programme, db: Db
) -> None:
    data = "Nimi;Sähköposti;Ryhmä\nAi\x00no\x07;aino@example.fi;Ryhmä A\n".encode()
    response = upload(signed_in, programme, "nul.csv", data)
    url = response.headers["Location"]
    form = form_of(signed_in.get(url).get_data(as_text=True))
    assert signed_in.post(url, data={**form, "action": "import"}).status_code == 303
    assert people(db, programme)["aino@example.fi"].name == "Aino"


def test_utf16_without_a_byte_order_mark(
    signed_in: FlaskClient, programme: Programme, db: Db
) -> None:
    data = "Nimi;Sähköposti;Ryhmä\r\nÄijä Öörni;aija@example.fi;Ryhmä A\r\n".encode("utf-16-le")
    response = upload(signed_in, programme, "webropol.csv", data)
    url = response.headers["Location"]
    form = form_of(signed_in.get(url).get_data(as_text=True))
    assert signed_in.post(url, data={**form, "action": "import"}).status_code == 303
    assert people(db, programme)["aija@example.fi"].name == "Äijä Öörni"


def test_excel_sep_line_and_windows_1252(
    signed_in: FlaskClient, programme: Programme, db: Db
) -> None:
    data = "sep=;\r\nNimi;Sähköposti;Ryhmä\r\nMäki, Eero;eero@example.fi;Ryhmä B\r\n".encode(
        "cp1252"
    )
    response = upload(signed_in, programme, "excel.csv", data)
    url = response.headers["Location"]
    form = form_of(signed_in.get(url).get_data(as_text=True))
    assert signed_in.post(url, data={**form, "action": "import"}).status_code == 303
    assert people(db, programme)["eero@example.fi"].name == "Mäki, Eero"


@pytest.mark.parametrize("value", ["²", "-1", "999", "1e3", "9" * 5000, "x"])
def test_odd_form_values_on_the_preview_are_ignored(
    signed_in: FlaskClient, programme: Programme, fixtures_dir: Path, value: str
) -> None:
    url = preview_url(signed_in, programme, fixtures_dir / "excel_fi.csv")
    response = signed_in.post(
        url, data={"map_email": value, "default_group": value, "action": "import"}
    )
    assert response.status_code == 422
