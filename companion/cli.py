"""The `companion` command."""

from __future__ import annotations

import json
import logging
import signal
import sys
from typing import Any

import click
from flask import Flask

from companion.config import ConfigError
from companion.serving import serve_app, warn_if_key_not_shared

__all__ = ["main", "serve_app"]

log = logging.getLogger("companion")


def _app(**override: Any) -> Flask:
    from companion.app import create_app

    try:
        return create_app({k: v for k, v in override.items() if v is not None} or None)
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from None


def command_app() -> Flask:
    """The app for a command, configured from the environment (integrations' commands use it)."""
    return _app()


def _local_base_url(host: str, port: int) -> str | None:
    """The address links should use when serving on host:port, or None when the base URL is
    configured (COMPANION_BASE_URL or the instance file), which then wins."""
    from companion.config import load_config

    try:
        configured = "base_url" in load_config().model_fields_set
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from None
    if configured:
        return None
    # Listening on every address: links still need one a browser can open.
    shown = "127.0.0.1" if host in ("", "0.0.0.0", "::") else host  # noqa: S104
    return f"http://{f'[{shown}]' if ':' in shown else shown}:{port}"


def _upgrade(app: Flask) -> None:
    from companion.core.db import get_database, upgrade_database

    upgrade_database(get_database(app))


@click.group()
@click.version_option(package_name="kollega")
def main() -> None:
    """Kollega: a companion service for peer-mentoring meetings."""


# --- serving ------------------------------------------------------------------------------


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option(
    "--no-worker", is_flag=True, help="Do not run the mail/job worker here (or serve_worker=false)."
)
@click.option(
    "--no-live", is_flag=True, help="Do not run the live server here (or serve_live=false)."
)
@click.option("--threads", default=8, show_default=True, type=int)
def serve(host: str, port: int, no_worker: bool, no_live: bool, threads: int) -> None:
    """Serve the web app on waitress, with the worker and live server unless told otherwise.

    Drains on SIGTERM: no new connections, the requests under way finish.
    """
    app = _app()
    config = app.extensions["companion.config"]
    _upgrade(app)
    warn_if_key_not_shared(app)
    serve_app(
        app,
        host,
        port,
        worker=config.serve_worker and not no_worker,
        live=config.serve_live and not no_live,
        threads=threads,
    )


@main.command()
@click.option("--host", default=None, help="Default: COMPANION_LIVE_HOST.")
@click.option("--port", default=None, type=int, help="Default: COMPANION_LIVE_PORT.")
def live(host: str | None, port: int | None) -> None:
    """Serve the live WebSocket (/ws) that pushes board and notes events (any number may run).

    Also answers /healthz, /readyz and /metrics; closes its connections on SIGTERM (clients
    reconnect to another live process through the proxy).
    """
    from companion.core.live import run_live

    app = _app()
    config = app.extensions["companion.config"]
    warn_if_key_not_shared(app)
    run_live(app, host or config.live_host, config.live_port if port is None else port)


@main.command()
@click.option("--once", is_flag=True, help="Do one pass and exit.")
def worker(once: bool) -> None:
    """Deliver mail and run background jobs (any number of workers may run).

    On SIGTERM it finishes the message or job under way and hands back the rest of its claims.
    """
    from companion.core.jobs import Worker

    app = _app()
    warn_if_key_not_shared(app)
    runner = Worker(app)
    if once:
        click.echo(f"Handled {runner.run_once()} items.")
        return
    signal.signal(signal.SIGTERM, lambda *_: runner.stop())
    try:
        runner.run_forever()
    except KeyboardInterrupt:
        runner.stop()


@main.command()
@click.option("--timeout", default=5.0, show_default=True, help="Seconds per network check.")
def check(timeout: float) -> None:
    """Verify a deployment: secret key, database, workers, Redis, SMTP, materials, web, live."""
    from companion.checks import run_checks

    app = _app()
    found = run_checks(app, timeout=timeout)
    marks = {"ok": "ok  ", "warn": "warn", "fail": "FAIL"}
    for item in found:
        click.echo(f"{marks[item.outcome]}  {item.name:<11} {item.detail}")
    failed = sum(item.outcome == "fail" for item in found)
    if failed:
        click.echo(f"{failed} check(s) failed.", err=True)
        sys.exit(1)
    click.echo("The deployment holds together.")


@main.command()
@click.option("--no-serve", is_flag=True, help="Create the demo and exit.")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
def demo(no_serve: bool, host: str, port: int) -> None:
    """Create (once) a realistic demo programme, print how to sign in, then serve it."""
    from companion.demo import create_demo

    app = _app(base_url=_local_base_url(host, port))
    _upgrade(app)
    with app.app_context():
        summary = create_demo(app)
    click.echo(summary.text())
    if not no_serve:
        serve_app(app, host, port, worker=True, live=True)


# --- database -----------------------------------------------------------------------------


@main.group()
def db() -> None:
    """Database schema."""


@db.command("upgrade")
@click.option("--revision", default="head", show_default=True)
def db_upgrade(revision: str) -> None:
    """Apply the migrations."""
    app = _app()
    from companion.core.db import get_database, upgrade_database

    upgrade_database(get_database(app), revision)
    click.echo("The database is up to date.")


@db.command("revision")
@click.option("-m", "--message", required=True)
def db_revision(message: str) -> None:
    """Write a new migration from the difference between the models and the database."""
    from alembic import command

    from companion.core.db import alembic_config, get_database

    app = _app()
    command.revision(alembic_config(get_database(app)), message=message, autogenerate=True)


# --- accounts -----------------------------------------------------------------------------


@main.group()
def facilitator() -> None:
    """Facilitator accounts."""


@facilitator.command("create")
@click.option("--email", required=True)
@click.option("--name", default="")
@click.option("--organisation", "organisation_name", default="", help="Created if new.")
@click.option("--admin", is_flag=True, help="Organisation admin: manages all its programmes.")
@click.option("--language", type=click.Choice(["fi", "en", ""]), default="")
@click.password_option(confirmation_prompt=True)
def facilitator_create(
    email: str, name: str, organisation_name: str, admin: bool, language: str, password: str
) -> None:
    """Create a facilitator account with a password."""
    from sqlalchemy import select

    from companion.accounts.models import Organisation
    from companion.accounts.operations import create_facilitator, create_organisation
    from companion.accounts.passwords import require_strong_password, user_inputs_of
    from companion.core.db import get_database
    from companion.core.errors import DomainError

    app = _app()
    _upgrade(app)
    with app.app_context(), get_database(app).session() as session:
        organisation = None
        if organisation_name:
            organisation = session.scalar(
                select(Organisation).where(Organisation.name == organisation_name)
            )
        if organisation is None:
            organisation = session.scalar(select(Organisation).order_by(Organisation.id))
            if organisation is None or organisation_name:
                organisation = create_organisation(session, organisation_name or "Kollega")
        try:
            require_strong_password(
                password, user_inputs_of(email, name, organisation.name), field="password"
            )
            account = create_facilitator(
                session,
                organisation,
                email=email,
                name=name,
                password=password,
                is_admin=admin,
                language=language,
            )
        except DomainError as exc:
            details = "; ".join(getattr(exc, "errors", {}).values())
            message = " ".join(part for part in (exc.detail, details) if part)
            raise click.ClickException(message or str(exc.title)) from None
        session.commit()
        click.echo(f"Created {account.email} in {organisation.name}.")


@facilitator.command("token")
@click.argument("email")
def facilitator_token(email: str) -> None:
    """Print an API bearer token (valid 30 days) for a facilitator."""
    from sqlalchemy import func, select

    from companion.accounts.identity import facilitator_token as make_token
    from companion.accounts.models import Facilitator
    from companion.core.db import get_database

    app = _app()
    with app.app_context(), get_database(app).session() as session:
        account = session.scalar(
            select(Facilitator).where(func.lower(Facilitator.email) == email.lower())
        )
        if account is None:
            raise click.ClickException(f"No facilitator {email}.")
        click.echo(make_token(account))


# --- grouping -----------------------------------------------------------------------------


@main.group()
def groups() -> None:
    """The breakout-group optimiser."""


@groups.command("solve")
@click.argument("problem_file", type=click.File("r"))
@click.option(
    "--time-limit", type=float, default=None, help="Seconds (default from the file or 2)."
)
@click.option("--seed", type=int, default=None, help="Same seed, same answer.")
def groups_solve(problem_file: Any, time_limit: float | None, seed: int | None) -> None:
    """Read a grouping problem (JSON) and print the solution as JSON."""
    from companion.grouping import Infeasible, ProblemError, solve_json

    try:
        data = json.load(problem_file)
    except json.JSONDecodeError as exc:
        click.echo(f"error: not valid JSON: {exc}", err=True)
        sys.exit(2)
    try:
        result = solve_json(data, time_limit=time_limit, seed=seed)
    except ProblemError as exc:
        click.echo(f"error: {exc.path}: {exc.message}", err=True)
        sys.exit(2)
    except Infeasible as exc:
        click.echo(f"infeasible: {exc}", err=True)
        sys.exit(1)
    click.echo(json.dumps(result))


# --- translations (for developers) -----------------------------------------------------------


@main.group()
def i18n() -> None:
    """Translation catalogues (each package keeps its own)."""


@i18n.command("update")
@click.argument("packages", nargs=-1)
def i18n_update(packages: tuple[str, ...]) -> None:
    """Extract messages of the packages (all by default) and update their fi/en catalogues."""
    from companion.core.catalogues import update_catalogues

    for line in update_catalogues(list(packages) or None):
        click.echo(line)


@i18n.command("compile")
def i18n_compile() -> None:
    """Compile every catalogue (.po -> .mo)."""
    from companion.core.catalogues import compile_catalogues

    for line in compile_catalogues():
        click.echo(line)


@i18n.command("check")
def i18n_check() -> None:
    """Fail if a message has no Finnish translation or a .mo file is stale."""
    from companion.core.catalogues import check_catalogues

    problems = check_catalogues()
    for problem in problems:
        click.echo(problem, err=True)
    if problems:
        sys.exit(1)
    click.echo("All catalogues are complete and compiled.")


#: Entry-point group of more commands (an integration's own group, e.g. `companion teams`).
COMMANDS_ENTRY_POINTS = "companion.commands"


def _add_integration_commands() -> None:
    from importlib.metadata import entry_points

    for entry in entry_points(group=COMMANDS_ENTRY_POINTS):
        main.add_command(entry.load(), entry.name)


_add_integration_commands()

if __name__ == "__main__":
    main()
