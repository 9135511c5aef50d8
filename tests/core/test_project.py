"""Promises about the project itself: translations, migrations, README, API description."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask import Flask
from flask.testing import FlaskClient
from openapi_spec_validator import validate
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from companion.core.catalogues import check_catalogues
from companion.core.db import Base, get_database

ROOT = Path(__file__).resolve().parents[2]


def test_every_message_has_finnish_and_catalogues_are_compiled() -> None:
    problems = check_catalogues()
    assert problems == [], "\n".join(problems[:30])


def test_migrations_match_the_models(app: Flask) -> None:
    """The schema the migrations build is the schema the models describe."""
    engine = get_database(app).engine
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": False})
        differences = compare_metadata(context, Base.metadata)
    # Tables created by the test setup for models without a migration show up as nothing
    # here, so also check the alembic version table lists a head that knows every table.
    assert differences == [], differences
    with engine.connect() as connection:
        migrated = _tables_created_by_migrations()
    missing = sorted(set(Base.metadata.tables) - migrated)
    assert missing == [], f"models without a migration: {missing} (companion db revision -m ...)"


def _tables_created_by_migrations() -> set[str]:
    tables: set[str] = set()
    for path in (ROOT / "companion" / "migrations" / "versions").glob("*.py"):
        tables |= set(re.findall(r"op\.create_table\(\s*'([a-z_]+)'", path.read_text()))
        tables |= set(re.findall(r'op\.create_table\(\s*"([a-z_]+)"', path.read_text()))
    return tables


def test_openapi_description_is_valid(client: FlaskClient) -> None:
    document = client.get("/api/openapi.json").get_json()
    assert document["openapi"].startswith("3.1")
    validate(document)
    assert "/api/v1/programmes" in document["paths"]
    assert "/api/v1/programmes/{programme_id}/participants" in document["paths"]
    assert "/api/v1/sessions/{session_id}" in document["paths"]
    body = document["paths"]["/api/v1/programmes"]["post"]["requestBody"]
    assert body["content"]["application/json"]["schema"]["$ref"].endswith("/ProgrammeIn")


def test_ci_runs_the_readme_test_command() -> None:
    readme = (ROOT / "README.md").read_text()
    blocks = re.findall(r"```sh\n(.*?)\n```", readme, re.S)
    assert len(blocks) >= 2
    run_command, test_command = blocks[0].strip(), blocks[1].strip()
    assert "companion demo" in run_command
    ci = (ROOT / ".ci" / "run").read_text()
    assert f'TEST_COMMAND="{test_command}"' in ci


def _pins(lock: Path) -> dict[str, str]:
    found = re.findall(r"^([A-Za-z0-9_.\-]+)==([^\s\\]+)", lock.read_text(), re.M)
    return {canonicalize_name(name): version for name, version in found}


def test_the_locks_hold_every_dependency_with_hashes() -> None:
    """CI installs from requirements/*.txt with --require-hashes: a dependency added to
    pyproject.toml without re-locking (`bash requirements/lock`) must fail here, not there."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    wanted = {
        "app.txt": project["dependencies"],
        "test.txt": [*project["dependencies"], *project["optional-dependencies"]["test"],
                     *project["optional-dependencies"]["postgres"]],
    }  # fmt: skip
    for name, requirements in wanted.items():
        lock = ROOT / "requirements" / name
        pins = _pins(lock)
        for text in requirements:
            requirement = Requirement(text)
            if canonicalize_name(requirement.name) == "kollega":
                continue  # the project itself, installed from the working tree
            pinned = pins.get(canonicalize_name(requirement.name))
            assert pinned is not None, f"{requirement.name} is not in requirements/{name}"
            assert requirement.specifier.contains(pinned, prereleases=True), (text, pinned)
        entries = re.findall(r"^[A-Za-z0-9_.\-]+==\S+ \\\n((?:    --hash=sha256:\w+ ?\\?\n)+)",
                             lock.read_text(), re.M)  # fmt: skip
        assert len(entries) == len(pins), f"every pin in requirements/{name} has its hashes"


def test_a_message_means_the_same_in_every_package() -> None:
    """Catalogues are merged, so one English text must have one Finnish translation.

    Otherwise whichever package loads last decides, on every page.
    """
    from babel.messages.pofile import read_po

    from companion.core.catalogues import packages

    translations: dict[str, dict[str, list[str]]] = {}
    for package in packages():
        path = package / "translations" / "fi" / "LC_MESSAGES" / "messages.po"
        if not path.exists():
            continue
        with path.open("rb") as handle:
            for message in read_po(handle, locale="fi"):
                if not message.id:
                    continue
                key = message.id if isinstance(message.id, str) else message.id[0]
                text = message.string if isinstance(message.string, str) else message.string[0]
                translations.setdefault(key, {}).setdefault(text, []).append(package.name)
    conflicts = {key: found for key, found in translations.items() if len(found) > 1}
    assert conflicts == {}, conflicts
