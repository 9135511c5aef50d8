"""Where material files are kept: behind a small interface, in the instance folder or in an
S3-compatible object store.

`LocalStore` keeps each file under `<instance>/materials/` with a random name; `S3Store`
(s3_store.py) keeps it as an object named the same way in the configured bucket. Several web
processes on several machines must share the folder; the bucket needs no sharing.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import shutil
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import IO, Protocol

from flask import current_app

from companion.config import Config

#: Keys the store makes: 32 hex digits, nothing from the uploader.
KEY = re.compile(r"[0-9a-f]{32}")


class MaterialStore(Protocol):
    """Keeps material bytes under keys of its own choosing."""

    def save(self, stream: IO[bytes]) -> str:
        """Store the stream's bytes under a new random key and return the key."""
        ...

    def open(self, key: str) -> IO[bytes]:
        """The stored bytes (FileNotFoundError if the key is unknown)."""
        ...

    def delete(self, key: str) -> None:
        """Forget the key's bytes (nothing if they are gone already)."""
        ...

    def keys_older_than(self, moment: datetime) -> Iterator[str]:
        """Keys stored before `moment` (for sweeping files no row refers to)."""
        ...


class LocalStore:
    """Files in one folder, named by random keys; written under a temporary name and renamed,
    so a half-written file is never served."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def _path(self, key: str) -> Path:
        if not KEY.fullmatch(key):
            raise FileNotFoundError(key)
        return self.root / key

    def save(self, stream: IO[bytes]) -> str:
        """Copy the stream into a new file and return its key."""
        self.root.mkdir(parents=True, exist_ok=True)
        key = secrets.token_hex(16)
        partial = self.root / f".{key}.part"
        stream.seek(0)
        with partial.open("xb") as handle:
            shutil.copyfileobj(stream, handle)
        os.replace(partial, self.root / key)
        return key

    def open(self, key: str) -> IO[bytes]:
        """The file of a key, for reading."""
        return self._path(key).open("rb")

    def delete(self, key: str) -> None:
        """Remove the key's file."""
        with contextlib.suppress(FileNotFoundError):
            self._path(key).unlink()

    def keys_older_than(self, moment: datetime) -> Iterator[str]:
        """Keys whose files were written before `moment`."""
        if not self.root.is_dir():
            return
        limit = moment.timestamp()
        for path in self.root.iterdir():
            if KEY.fullmatch(path.name) and path.stat().st_mtime < limit:
                yield path.name


def material_store() -> MaterialStore:
    """The configured store: the S3-compatible bucket if one is set, else the instance
    folder's `materials/`."""
    config: Config = current_app.extensions["companion.config"]
    if config.materials_s3_configured:
        from companion.experts.s3_store import s3_store  # boto3 loads only when used

        return s3_store(config)
    return LocalStore(config.instance_path / "materials")
