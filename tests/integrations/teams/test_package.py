"""`companion teams package`: a manifest valid against Microsoft's v1.30 schema and the two
icons Teams wants (192×192 colour, 32×32 white-on-transparent outline), at the zip's root."""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from click.testing import CliRunner
from flask import Flask
from jsonschema import Draft4Validator
from PIL import Image

from companion.cli import main
from companion.config import Config
from companion.core.db import get_database
from integrations.teams import package
from integrations.teams.package import Branding, PackageError, build_package, manifest
from tests.fakes.microsoft_identity import FakeMicrosoftIdentity

SCHEMA = Path(package.__file__).with_name("manifest.schema.json")
SHARED_SCHEMA = Path("/work/shared/specs/teams/manifest.schema.json")


def _problems(document: dict[str, Any]) -> list[str]:
    validator = Draft4Validator(json.loads(SCHEMA.read_text()))
    return [
        f"{'/'.join(map(str, error.absolute_path))}: {error.message}"
        for error in validator.iter_errors(document)
    ]


def _https(teams_config: Callable[..., Config], microsoft: FakeMicrosoftIdentity) -> Config:
    return teams_config(base_url="https://kollega.example.org")


def test_the_manifest_is_valid_and_says_what_teams_needs(
    microsoft: FakeMicrosoftIdentity, teams_config: Callable[..., Config]
) -> None:
    config = _https(teams_config, microsoft)
    document = manifest(config, Branding("Varsinais-Suomen Yrittäjät", "#0a5c8a"))
    assert _problems(document) == []
    assert document["manifestVersion"] == "1.30"
    tab = document["configurableTabs"][0]
    assert tab["configurationUrl"] == "https://kollega.example.org/integrations/teams/config"
    assert set(tab["context"]) >= {
        "meetingSidePanel", "meetingStage", "meetingDetailsTab", "meetingChatTab",
    }  # fmt: skip
    assert document["webApplicationInfo"] == {
        "id": microsoft.client_id,
        "resource": f"api://kollega.example.org/{microsoft.client_id}",
    }
    assert document["validDomains"] == ["kollega.example.org"]
    assert document["permissions"] == ["identity"]
    assert document["authorization"]["permissions"]["resourceSpecific"] == [
        {"name": "MeetingStage.Write.Chat", "type": "Delegated"}
    ]
    assert document["accentColor"] == "#0a5c8a"
    assert document["developer"]["name"] == "Varsinais-Suomen Yrittäjät"
    assert "Varsinais-Suomen Yrittäjät" in document["name"]["full"]
    # The same Kollega and Entra app always give the same Teams app id (updates, not copies).
    assert manifest(config, Branding())["id"] == document["id"]


def test_the_schema_copy_is_microsofts() -> None:
    if not SHARED_SCHEMA.exists():
        pytest.skip("the shared specs are not on this machine")
    assert SCHEMA.read_bytes() == SHARED_SCHEMA.read_bytes()


def test_a_bad_colour_or_version_does_not_make_a_bad_manifest(
    microsoft: FakeMicrosoftIdentity, teams_config: Callable[..., Config]
) -> None:
    config = _https(teams_config, microsoft)
    long_name = "Yrittäjien vertaismentorointiyhdistys ry, Varsinais-Suomi"
    document = manifest(config, Branding(long_name, "teal"))
    assert _problems(document) == []
    assert document["accentColor"] == "#1f6f5c"
    with pytest.raises(PackageError):
        manifest(config, Branding(), version="1.0")


def test_without_the_entra_app_there_is_no_package(teams_config: Callable[..., Config]) -> None:
    config = teams_config(teams_client_id="", teams_client_secret="")
    with pytest.raises(PackageError, match="COMPANION_TEAMS_CLIENT_ID"):
        manifest(config, Branding())


def test_the_icons_have_teams_sizes_and_the_outline_is_white_on_transparent(
    microsoft: FakeMicrosoftIdentity, teams_config: Callable[..., Config]
) -> None:
    config = _https(teams_config, microsoft)
    archive = zipfile.ZipFile(io.BytesIO(build_package(manifest(config, Branding()), "#0a5c8a")))
    assert sorted(archive.namelist()) == ["color.png", "manifest.json", "outline.png"]
    document = json.loads(archive.read("manifest.json"))
    assert document["icons"] == {"color": "color.png", "outline": "outline.png"}

    colour = Image.open(io.BytesIO(archive.read("color.png")))
    assert colour.format == "PNG" and colour.size == (192, 192)
    rgba = colour.convert("RGBA")
    assert rgba.getpixel((2, 2)) == (0x0A, 0x5C, 0x8A, 255)  # the organisation's colour
    white = int((np.asarray(rgba) == 255).all(axis=2).sum())
    assert 500 < white < 192 * 192 / 4  # the logo, in the middle

    outline = Image.open(io.BytesIO(archive.read("outline.png")))
    assert outline.format == "PNG" and outline.size == (32, 32) and outline.mode == "RGBA"
    pixels = np.asarray(outline)
    assert pixels[0, 0, 3] == 0 and pixels[31, 31, 3] == 0
    drawn = pixels[pixels[..., 3] > 0]
    assert 50 < len(drawn) < 32 * 32 / 2  # an outline, not a filled square
    assert (drawn[:, :3] == 255).all()  # white only


def test_the_command_writes_the_package(
    app: Flask,
    make_organisation: Any,
    microsoft: FakeMicrosoftIdentity,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    organisation = make_organisation(name="Humak")
    url = get_database(app).engine.url.render_as_string(hide_password=False)
    for name, value in {
        "INSTANCE_PATH": str(tmp_path),
        "DATABASE_URL": url,
        "SECRET_KEY": "test-secret-key-not-for-production",
        "BASE_URL": "https://kollega.humak.example",
        "TEAMS_CLIENT_ID": microsoft.client_id,
        "TEAMS_CLIENT_SECRET": microsoft.client_secret,
    }.items():
        monkeypatch.setenv(f"COMPANION_{name}", value)
    out = tmp_path / "kollega-teams.zip"
    result = CliRunner().invoke(
        main, ["teams", "package", "--out", str(out), "--version", "1.2.0", "--language", "fi"]
    )
    assert result.exit_code == 0, result.output
    document = json.loads(zipfile.ZipFile(out).read("manifest.json"))
    assert _problems(document) == []
    assert document["version"] == "1.2.0"
    assert document["developer"]["name"] == organisation.name
    assert document["validDomains"] == ["kollega.humak.example"]
    assert "aihetaulu" in document["description"]["short"].lower()  # in Finnish
