"""Developer tooling for the per-package translation catalogues (Babel).

Each package `companion/<pkg>/` and `integrations/<pkg>/` keeps its messages in
`translations/<lang>/LC_MESSAGES/messages.po` (and the compiled `.mo`). English is the
source language, so English catalogues stay empty and fall back to the source text.
"""

from __future__ import annotations

from collections.abc import Iterator
from io import BytesIO
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

from companion.core.i18n import LANGUAGES, PACKAGE_ROOTS

METHOD_MAP = [
    ("**/translations/**", "ignore"),
    ("**/migrations/**", "ignore"),
    ("**.py", "python"),
    ("**/templates/**.html", "jinja2.ext:babel_extract"),
    ("**/templates/**.txt", "jinja2.ext:babel_extract"),
]
KEYWORDS = {**DEFAULT_KEYWORDS, "_l": None, "lazy_gettext": None, "lazy_ngettext": (1, 2)}


def packages() -> list[Path]:
    """Every package folder that can hold messages."""
    found = []
    for root in PACKAGE_ROOTS:
        if root.is_dir():
            found += sorted(
                p for p in root.iterdir() if p.is_dir() and (p / "__init__.py").exists()
            )
    return found


def _package(name: str) -> Path:
    for path in packages():
        if path.name == name or f"{path.parent.name}/{path.name}" == name:
            return path
    raise SystemExit(f"unknown package {name!r}")


def extract(package: Path) -> Catalog:
    """The messages used in a package's code and templates."""
    catalog = Catalog(project="kollega", charset="utf-8")
    for filename, lineno, message, comments, context in extract_from_dir(
        str(package),
        METHOD_MAP,
        {"**/templates/**.html": {"newstyle_gettext": "true"}},
        KEYWORDS,
        comment_tags=("TRANSLATORS:",),
        strip_comment_tags=True,
    ):
        if not message:
            continue
        catalog.add(
            message,
            None,
            [(f"{package.name}/{filename}", lineno)],
            auto_comments=comments,
            context=context,
        )
    return catalog


def _po_path(package: Path, language: str) -> Path:
    return package / "translations" / language / "LC_MESSAGES" / "messages.po"


def update_catalogues(names: list[str] | None = None) -> Iterator[str]:
    """Extract and merge into every language's catalogue; compile them."""
    targets = [_package(n) for n in names] if names else packages()
    for package in targets:
        template = extract(package)
        if not len(template):
            continue
        for language in LANGUAGES:
            path = _po_path(package, language)
            if path.exists():
                with path.open("rb") as handle:
                    catalog = read_po(handle, locale=language)
                catalog.update(template, no_fuzzy_matching=True)
            else:
                catalog = Catalog(locale=language, project="kollega", charset="utf-8")
                catalog.update(template, no_fuzzy_matching=True)
            path.parent.mkdir(parents=True, exist_ok=True)
            buffer = BytesIO()
            write_po(buffer, catalog, width=100, omit_header=False, ignore_obsolete=True)
            path.write_bytes(buffer.getvalue())
            untranslated = sum(1 for m in catalog if m.id and not m.string)
            yield f"{path.relative_to(package.parent.parent)}: {len(template)} messages" + (
                f", {untranslated} untranslated" if language != "en" and untranslated else ""
            )
    yield from compile_catalogues(targets)


def _mo_bytes(po_path: Path, language: str) -> bytes:
    with po_path.open("rb") as handle:
        catalog = read_po(handle, locale=language)
    buffer = BytesIO()
    write_mo(buffer, catalog, use_fuzzy=False)
    return buffer.getvalue()


def compile_catalogues(targets: list[Path] | None = None) -> Iterator[str]:
    """Write the .mo beside each .po."""
    for package in targets or packages():
        for language in LANGUAGES:
            po_path = _po_path(package, language)
            if po_path.exists():
                po_path.with_suffix(".mo").write_bytes(_mo_bytes(po_path, language))
                yield f"compiled {po_path.with_suffix('.mo').relative_to(package.parent.parent)}"


def check_catalogues() -> list[str]:
    """Problems: messages missing from a catalogue or without Finnish, stale .mo files."""
    problems: list[str] = []
    for package in packages():
        template = extract(package)
        if not len(template):
            continue
        wanted = {(m.id if isinstance(m.id, str) else m.id[0]) for m in template if m.id}
        for language in LANGUAGES:
            po_path = _po_path(package, language)
            where = f"{package.parent.name}/{package.name}"
            if not po_path.exists():
                problems.append(f"{where}: no {language} catalogue (run `companion i18n update`)")
                continue
            with po_path.open("rb") as handle:
                catalog = read_po(handle, locale=language)
            have = {(m.id if isinstance(m.id, str) else m.id[0]) for m in catalog if m.id}
            for missing in sorted(wanted - have):
                problems.append(f"{where} [{language}]: not in the catalogue: {missing!r}")
            if language == "fi":
                for message in catalog:
                    if not message.id:
                        continue
                    strings = (
                        message.string if isinstance(message.string, tuple) else (message.string,)
                    )
                    if not all(strings) or message.fuzzy:
                        problems.append(f"{where} [fi]: untranslated: {message.id!r}")
            mo_path = po_path.with_suffix(".mo")
            if not mo_path.exists() or mo_path.read_bytes() != _mo_bytes(po_path, language):
                problems.append(
                    f"{where} [{language}]: .mo is missing or stale (`companion i18n compile`)"
                )
    return problems
