"""What an uploaded file really is, from its first bytes and (for slides) its zip directory.

Pure: no Flask, no database. A file counts as a kind only if its content says so *and* its
name ends in one of that kind's extensions, so a `.pdf` that is really HTML (or a script
renamed to `.png`) is refused. Slides in zip containers (PowerPoint, OpenDocument, Keynote)
are recognised from their zip directory, which is read without unpacking anything.
"""

from __future__ import annotations

import zipfile
from dataclasses import dataclass
from typing import IO

#: How many bytes of the start are enough to recognise every kind below.
HEAD_BYTES = 64


@dataclass(frozen=True)
class Kind:
    """An accepted kind of material."""

    name: str
    content_type: str
    extensions: tuple[str, ...]


PDF = Kind("PDF", "application/pdf", (".pdf",))
PNG = Kind("PNG", "image/png", (".png",))
JPEG = Kind("JPEG", "image/jpeg", (".jpg", ".jpeg"))
PPTX = Kind(
    "PowerPoint",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    (".pptx",),
)
ODP = Kind("OpenDocument", "application/vnd.oasis.opendocument.presentation", (".odp",))
KEYNOTE = Kind("Keynote", "application/vnd.apple.keynote", (".key",))

#: Every accepted kind, in the order the upload form lists them.
KINDS = (PDF, PPTX, ODP, KEYNOTE, PNG, JPEG)

#: The `accept` attribute of upload fields (a hint for the file picker; the server decides).
ACCEPT = ",".join(ext for kind in KINDS for ext in kind.extensions)


def extension_of(filename: str) -> str:
    """The name's extension in lower case with its dot ("" if none)."""
    base = filename.rsplit("/", 1)[-1].rsplit("\\", 1)[-1]
    if "." not in base.strip("."):
        return ""
    return "." + base.rsplit(".", 1)[-1].lower()


def _zip_kind(stream: IO[bytes]) -> Kind | None:
    """PowerPoint, OpenDocument or Keynote, from the zip's directory (nothing is unpacked
    except OpenDocument's one-line `mimetype` entry, which the format stores uncompressed)."""
    try:
        with zipfile.ZipFile(stream) as archive:
            names = set(archive.namelist())
            if "ppt/presentation.xml" in names and "[Content_Types].xml" in names:
                return PPTX
            if "mimetype" in names:
                info = archive.getinfo("mimetype")
                if info.file_size <= 100:
                    declared = archive.read(info).decode("ascii", "replace").strip()
                    if declared == ODP.content_type:
                        return ODP
            # Keynote '09 keeps index.apxl; Keynote 6 and later keep Index/Document.iwa.
            if "Index/Document.iwa" in names or "index.apxl" in names:
                return KEYNOTE
    except (zipfile.BadZipFile, OSError, EOFError, ValueError, KeyError, RuntimeError):
        return None
    return None


def sniff(stream: IO[bytes]) -> Kind | None:
    """The kind the content is (read from the seekable `stream`, left at its start), or None."""
    stream.seek(0)
    head = stream.read(HEAD_BYTES)
    stream.seek(0)
    found: Kind | None = None
    if head.startswith(b"%PDF-"):
        found = PDF
    elif head.startswith(b"\x89PNG\r\n\x1a\n"):
        found = PNG
    elif head.startswith(b"\xff\xd8\xff"):
        found = JPEG
    elif head.startswith(b"PK\x03\x04"):
        found = _zip_kind(stream)
        stream.seek(0)
    return found


def kind_of(filename: str, stream: IO[bytes]) -> Kind | None:
    """The accepted kind of an upload: its content and its name's extension must agree."""
    found = sniff(stream)
    if found is None or extension_of(filename) not in found.extensions:
        return None
    return found
