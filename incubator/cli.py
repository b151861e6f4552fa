"""Command line: ``flask --app wsgi db|seed-demo|create-admin|issue-token``."""

from __future__ import annotations

import secrets
from pathlib import Path

import click
from alembic import command
from alembic.config import Config as AlembicConfig
from flask import Flask, current_app
from flask.cli import with_appcontext

from incubator.extensions import db

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"


def alembic_config(url: str | None = None) -> AlembicConfig:
    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("sqlalchemy.url", (url or current_app.config["DATABASE_URL"]).replace("%", "%%"))
    return cfg


@click.group("db", help="Database migrations (Alembic).")
def db_group() -> None:
    pass


@db_group.command("upgrade")
@click.argument("revision", default="head")
@with_appcontext
def upgrade(revision: str) -> None:
    """Upgrade the database to REVISION (default: head)."""
    command.upgrade(alembic_config(), revision)


@db_group.command("downgrade")
@click.argument("revision", default="-1")
@with_appcontext
def downgrade(revision: str) -> None:
    """Downgrade the database to REVISION (default: one step back)."""
    command.downgrade(alembic_config(), revision)


@db_group.command("revision")
@click.option("-m", "--message", required=True)
@click.option("--autogenerate/--empty", default=True)
@with_appcontext
def revision(message: str, autogenerate: bool) -> None:
    """Create a new migration, by default compared against the models."""
    command.revision(alembic_config(), message=message, autogenerate=autogenerate)


@db_group.command("check")
@with_appcontext
def check() -> None:
    """Fail if the models and the migrations disagree."""
    command.check(alembic_config())
    click.echo("The models and the migrations agree.")


@db_group.command("current")
@with_appcontext
def current() -> None:
    command.current(alembic_config())


@click.command("seed-demo")
@with_appcontext
def seed_demo() -> None:
    """Load the demo organisations and accounts (running it twice changes nothing)."""
    from incubator.demo import DEMO_ACCOUNTS, seed

    seed(db.session, current_app.config["DEMO_PASSWORD"])
    db.session.commit()
    click.echo(f"Demo data loaded. Accounts (password: {current_app.config['DEMO_PASSWORD']}):")
    for email, description in DEMO_ACCOUNTS:
        click.echo(f"  {email:<28} {description}")


@click.command("create-admin")
@click.argument("email")
@click.option("--name", default="Platform admin")
@click.option("--password", help="Defaults to a random password, printed once.")
@with_appcontext
def create_admin(email: str, name: str, password: str | None) -> None:
    """Create a platform admin, or make an existing user one."""
    from incubator.accounts import services

    user = services.get_user_by_email(db.session, email)
    generated = None
    if user is None:
        generated = password or secrets.token_urlsafe(12)
        user = services.register_user(db.session, email, name, generated)
    user.is_admin = True
    db.session.commit()
    click.echo(f"{user.email} is a platform admin.")
    if generated and not password:
        click.echo(f"Password: {generated}")


@click.command("issue-token")
@click.argument("email")
@click.option("--name", default="cli")
@with_appcontext
def issue_token(email: str, name: str) -> None:
    """Create an API token for EMAIL and print it as the last word."""
    from incubator.accounts import services

    user = services.get_user_by_email(db.session, email)
    if user is None:
        raise click.ClickException(f"no user with email {email}")
    token, _record = services.create_api_token(db.session, user, name)
    db.session.commit()
    click.echo(f"API token for {user.email}: {token}")


def register_cli(app: Flask) -> None:
    for cmd in (db_group, seed_demo, create_admin, issue_token):
        app.cli.add_command(cmd)
