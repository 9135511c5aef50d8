"""A talk's material files: checked on upload (size, real type), kept in the store, shown only
to the session's people.

A file is accepted if it is no larger than `materials_max_mb` and its content is a PDF,
PowerPoint, OpenDocument or Keynote presentation, PNG or JPEG whose name agrees (see
sniff.py). The database row and the stored bytes are kept in step: a file is written before
its row, removed after its row's deletion commits, and a periodic sweep removes stored files
no row refers to (an upload that failed after writing, a session deleted with its slots).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from datetime import timedelta
from typing import IO

from flask_babel import gettext as _
from sqlalchemy import select

from companion.accounts.identity import Actor
from companion.config import Config
from companion.core.db import Db, after_commit, utcnow
from companion.core.errors import Conflict, Invalid, NotFound
from companion.core.jobs import periodic
from companion.experts import sniff
from companion.experts.models import Material
from companion.experts.storage import MaterialStore, material_store
from companion.sessions.models import AgendaItem, AgendaKind
from companion.sessions.operations import session_for_actor

#: Files per talk slot.
MAX_FILES = 10
#: Stored files younger than this are never swept (their row may not be committed yet).
SWEEP_AGE = timedelta(hours=1)


def max_bytes(config: Config) -> int:
    """The largest file accepted, in bytes."""
    return config.materials_max_mb * 1024 * 1024


def clean_filename(filename: str) -> str:
    """The uploaded name without folders, control characters or quotes, at most 120
    characters (for lists and the download's name; the store never sees it)."""
    name = filename.replace("\\", "/").rsplit("/", 1)[-1]
    name = unicodedata.normalize("NFC", name)
    name = re.sub(r'[\x00-\x1f\x7f"<>;]', "", name).strip().strip(".") or "material"
    if len(name) > 120:
        stem, dot, extension = name.rpartition(".")
        name = (stem[: 119 - len(extension)] + dot + extension) if dot else name[:120]
    return name


def _size_of(stream: IO[bytes]) -> int:
    stream.seek(0, 2)
    size = stream.tell()
    stream.seek(0)
    return size


def _too_large(config: Config) -> Invalid:
    message = _(
        "The file is too large: at most %(mb)s MB. Save it smaller (for example as a PDF) "
        "or give a link instead.",
        mb=config.materials_max_mb,
    )
    return Invalid(message, errors={"file": message}, reason="too_large")


def add_material(
    db: Db,
    config: Config,
    item: AgendaItem,
    filename: str,
    stream: IO[bytes],
    *,
    uploaded_by: str,
    store: MaterialStore | None = None,
) -> Material:
    """Check and keep one file of the talk's material; Invalid (on "file") says what is wrong."""
    if item.kind != AgendaKind.EXPERT_TALK:
        raise Conflict(_("Material belongs to an expert talk."))
    if not filename:
        raise Invalid(errors={"file": _("Choose a file to upload.")})
    size = _size_of(stream)
    if size == 0:
        raise Invalid(errors={"file": _("The file is empty.")})
    if size > max_bytes(config):
        raise _too_large(config)
    kind = sniff.kind_of(filename, stream)
    if kind is None:
        names = ", ".join(k.name for k in sniff.KINDS)
        raise Invalid(
            errors={
                "file": _(
                    "This file cannot be shared. Upload one of these: %(kinds)s, with the "
                    "usual ending in its name (such as .pdf).",
                    kinds=names,
                )
            }
        )
    if len(materials_of(db, [item])) >= MAX_FILES:
        raise Conflict(_("A talk can have at most %(n)s files. Remove one first.", n=MAX_FILES))
    store = store or material_store()
    key = store.save(stream)
    material = Material(
        agenda_item_id=item.id,
        storage_key=key,
        filename=clean_filename(filename),
        content_type=kind.content_type,
        size=size,
        uploaded_by=uploaded_by,
    )
    db.add(material)
    db.flush()
    return material


def remove_material(db: Db, material: Material, *, store: MaterialStore | None = None) -> None:
    """Delete the material's row; its file goes once the deletion is committed."""
    store = store or material_store()
    key = material.storage_key
    db.delete(material)
    db.flush()
    after_commit(db, lambda: store.delete(key))


def materials_of(db: Db, items: Iterable[AgendaItem]) -> list[Material]:
    """The files of the given slots, oldest first."""
    ids = [item.id for item in items]
    if not ids:
        return []
    return list(
        db.scalars(
            select(Material)
            .where(Material.agenda_item_id.in_(ids))
            .order_by(Material.agenda_item_id, Material.id)
        )
    )


def material_of_item(db: Db, item: AgendaItem, material_id: int) -> Material:
    """One of the slot's files (NotFound if it belongs to another slot)."""
    material = db.get(Material, material_id)
    if material is None or material.agenda_item_id != item.id:
        raise NotFound(_("No such file."))
    return material


def material_for_actor(db: Db, actor: Actor, material_id: int) -> Material:
    """The file if the actor facilitates its session's programme or is in its group."""
    material = db.get(Material, material_id)
    if material is None:
        raise NotFound(_("No such file."))
    session_for_actor(db, actor, material.agenda_item.session_id)
    return material


def open_material(material: Material, store: MaterialStore | None = None) -> IO[bytes]:
    """The stored bytes of a file (NotFound if the store lost them)."""
    try:
        return (store or material_store()).open(material.storage_key)
    except FileNotFoundError:
        raise NotFound(_("The file is no longer available.")) from None


def sweep_orphans(db: Db, store: MaterialStore | None = None) -> int:
    """Remove stored files older than an hour that no row refers to; returns how many."""
    store = store or material_store()
    old = list(store.keys_older_than(utcnow() - SWEEP_AGE))
    if not old:
        return 0
    kept = set(db.scalars(select(Material.storage_key).where(Material.storage_key.in_(old))))
    removed = 0
    for key in old:
        if key not in kept:
            store.delete(key)
            removed += 1
    return removed


@periodic(3600)
def _sweep(db: Db) -> None:
    sweep_orphans(db)
