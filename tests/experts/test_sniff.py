"""What a file really is: its first bytes, and for slides its zip directory; the name must
agree with the content."""

from __future__ import annotations

import io

import pytest

from companion.experts import sniff
from tests.experts.conftest import HTML_AS_PDF, pdf_bytes, png_bytes, zip_bytes

PPTX = zip_bytes({"[Content_Types].xml": b"<Types/>", "ppt/presentation.xml": b"<p:presentation/>"})
ODP = zip_bytes(
    {"mimetype": b"application/vnd.oasis.opendocument.presentation", "content.xml": b"<x/>"}
)
ODT = zip_bytes({"mimetype": b"application/vnd.oasis.opendocument.text", "content.xml": b"<x/>"})
KEYNOTE = zip_bytes({"Index/Document.iwa": b"\x00", "Metadata/Properties.plist": b"<plist/>"})
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 32


@pytest.mark.parametrize(
    ("data", "name", "expected"),
    [
        (pdf_bytes(), "diat.pdf", sniff.PDF),
        (pdf_bytes(), "DIAT.PDF", sniff.PDF),
        (png_bytes(), "kuva.png", sniff.PNG),
        (JPEG, "kuva.jpeg", sniff.JPEG),
        (JPEG, "kuva.JPG", sniff.JPEG),
        (PPTX, "esitys.pptx", sniff.PPTX),
        (ODP, "esitys.odp", sniff.ODP),
        (KEYNOTE, "esitys.key", sniff.KEYNOTE),
        (HTML_AS_PDF, "diat.pdf", None),
        (b"  %PDF-1.4", "diat.pdf", None),  # the header must come first
        (png_bytes(), "kuva.jpg", None),  # content and name disagree
        (PPTX, "esitys.odp", None),
        (ODT, "teksti.odp", None),  # an OpenDocument text is not a presentation
        (zip_bytes({"a.txt": b"x"}), "esitys.key", None),
        (b"PK\x03\x04 not really a zip", "esitys.pptx", None),
        (pdf_bytes(), "diat.pdf.html", None),
        (pdf_bytes(), ".pdf", None),
        (b"", "tyhja.pdf", None),
    ],
)
def test_kinds(data: bytes, name: str, expected: sniff.Kind | None) -> None:
    stream = io.BytesIO(data)
    assert sniff.kind_of(name, stream) == expected
    assert stream.tell() == 0  # left at the start for storing


def test_extension_of() -> None:
    assert sniff.extension_of("C:\\Users\\eeva\\diat.PDF") == ".pdf"
    assert sniff.extension_of("arkisto.tar.gz") == ".gz"
    assert sniff.extension_of("README") == ""
    assert sniff.extension_of(".pdf") == ""
    assert sniff.ACCEPT == ".pdf,.pptx,.odp,.key,.png,.jpg,.jpeg"
