"""`companion teams ...`: the Teams app package (added to `companion` by an entry point)."""

from __future__ import annotations

from pathlib import Path

import click


@click.group()
def teams() -> None:
    """Microsoft Teams: the app package for the Teams admin center."""


@teams.command("package")
@click.option(
    "--out",
    "out_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=Path("kollega-teams.zip"),
    show_default=True,
    help="Where to write the zip.",
)
@click.option("--organisation", default="", help="Whose name and colour (default: the only one).")
@click.option("--version", "app_version", default="1.0.0", show_default=True,
              help="The app's version; raise it for every new upload.")  # fmt: skip
@click.option("--language", type=click.Choice(["fi", "en"]), default="en", show_default=True,
              help="Language of the app's name and description in Teams.")  # fmt: skip
@click.option(
    "--privacy-url", default="", help="Your privacy statement (default: Kollega's address)."
)
@click.option("--terms-url", default="", help="Your terms of use (default: Kollega's address).")
def package(
    out_path: Path,
    organisation: str,
    app_version: str,
    language: str,
    privacy_url: str,
    terms_url: str,
) -> None:
    """Build the app package (manifest v1.30 and icons) to upload to Teams."""
    from flask_babel import force_locale
    from sqlalchemy import select

    from companion.accounts.models import Organisation
    from companion.app import app_config
    from companion.cli import command_app
    from companion.core.db import get_database
    from integrations.teams.package import Branding, PackageError, build_package, manifest

    app = command_app()
    config = app_config(app)
    with app.app_context(), force_locale(language), get_database(app).session() as db:
        found = list(db.scalars(select(Organisation).order_by(Organisation.id)))
        if organisation:
            found = [o for o in found if organisation in (o.name, str(o.id))]
        if len(found) > 1:
            names = ", ".join(o.name for o in found)
            raise click.ClickException(f"several organisations ({names}): choose --organisation")
        branding = Branding(found[0].name, found[0].brand_colour) if found else Branding()
        if organisation and not found:
            raise click.ClickException(f"no organisation named {organisation!r}")
        try:
            document = manifest(
                config, branding, version=app_version, privacy_url=privacy_url,
                terms_url=terms_url,
            )  # fmt: skip
        except PackageError as exc:
            raise click.ClickException(str(exc)) from None
        out_path.write_bytes(build_package(document, branding.colour))
    click.echo(f"Wrote {out_path} (app id {document['id']}, version {app_version}).")
    click.echo("Upload it in the Teams admin center: Teams apps → Manage apps → Upload new app.")
