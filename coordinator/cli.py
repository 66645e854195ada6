"""Command-line commands: `flask --app wsgi init-db | seed-demo | generate | users | jobs ...`."""

from __future__ import annotations

import secrets
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import AppGroup, with_appcontext
from flask_migrate import upgrade

from coordinator import demo
from coordinator.auth import services as auth_services
from coordinator.auth.roles import Role
from coordinator.core import backup as backups
from coordinator.core.context import Actor
from coordinator.core.errors import ValidationError
from coordinator.extensions import db
from coordinator.strata.services import load_reference_data

users = AppGroup("users", help="Manage user accounts and API tokens.")
CLI_ACTOR = Actor.system("cli")


@click.command("init-db")
@with_appcontext
def init_db() -> None:
    """Apply the migrations, then load the reference data (idempotent)."""
    upgrade()
    added = load_reference_data(db.session)
    db.session.commit()
    click.echo(
        f"Database at head; reference data added: {added.territories} territories, "
        f"{added.programs} programs, {added.strata} strata."
    )


@click.command("seed-demo")
@with_appcontext
@click.option("--if-empty", is_flag=True,
              help="Only when the registry has no patient yet (what `make run` uses).")
def seed_demo(if_empty: bool) -> None:
    """Load the demo accounts and, on an empty registry, the demo registry; print the accounts."""
    load_reference_data(db.session)
    if if_empty and not demo.needs_demo_data(db.session):
        click.echo("The registry already has patients: no demo data loaded.")
    else:
        click.echo("Loading the demo data (about 10 seconds)...")
        created, registry = demo.seed_demo(db.session, current_app.config["PASSWORD_HASH_METHOD"])
        db.session.commit()
        click.echo(f"Demo data loaded: {len(created)} account(s) created"
                   + (f", {registry['providers']} providers, {registry['patients']} patients, "
                      f"{registry['assignments']} stratum assignments, "
                      f"{registry['care_plans']} active care plans, "
                      f"{registry['appointments']} appointments." if registry else "."))
    click.echo(f"Demo accounts (password: {demo.DEMO_PASSWORD}):")
    for account in demo.DEMO_ACCOUNTS:
        click.echo(f"  {account.role:<13} {account.email}")


def _fail(error: ValidationError) -> None:
    for field, messages in error.messages().items():
        click.echo(f"Error: {field}: {' '.join(messages)}", err=True)
    raise SystemExit(1)


def _user_or_exit(email: str):
    user = auth_services.find_user(db.session, email)
    if user is None:
        click.echo(f"Error: no account with e-mail {email}.", err=True)
        raise SystemExit(1)
    return user


@users.command("create")
@click.argument("email")
@click.option("--role", required=True, type=click.Choice([role.value for role in Role]))
@click.option("--territory", "territory_code", help="Territory code (case managers, councils).")
@click.option("--name", "full_name", help="Full name (default: the e-mail's local part).")
@click.option("--provider", "provider_id", type=int,
              help="For a GP or a care-team professional: the id of their record in the "
                   "provider directory.")
@click.option("--generate-password", is_flag=True, help="Generate a password and print it.")
def create_user(email, role, territory_code, full_name, provider_id, generate_password) -> None:
    """Create an account; asks for the password unless --generate-password. An integration
    account (a hospital system) gets no password to type: it never signs in to the pages; its
    API token is printed instead."""
    integration = role == Role.INTEGRATION
    if generate_password or integration:
        password = secrets.token_urlsafe(15)
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        user = auth_services.create_user(
            db.session, CLI_ACTOR, email=email, full_name=full_name or email.split("@")[0],
            role=role, password=password, territory_code=territory_code,
            provider_id=provider_id, hash_method=current_app.config["PASSWORD_HASH_METHOD"],
        )
    except ValidationError as error:
        db.session.rollback()
        _fail(error)
    issued = auth_services.issue_token(db.session, user, CLI_ACTOR, label="hl7") \
        if integration else None
    db.session.commit()
    click.echo(f"Created {user.email} ({user.role}).")
    if issued is not None:
        click.echo(f"API token (shown once; POST /api/v1/hl7v2 with it): {issued.secret}")
    elif generate_password:
        click.echo(f"Password: {password}")


@users.command("token")
@click.argument("email")
@click.option("--label", default="cli", help="What the token is for.")
def create_token(email: str, label: str) -> None:
    """Print a new personal API token (shown once; only its digest is stored)."""
    user = _user_or_exit(email)
    issued = auth_services.issue_token(db.session, user, CLI_ACTOR, label=label)
    db.session.commit()
    click.echo(issued.secret)


@users.command("list")
def list_users() -> None:
    """List the accounts."""
    for user in auth_services.list_users(db.session):
        territory = user.territory.code if user.territory else "-"
        state = "active" if user.is_active else "disabled"
        click.echo(f"{user.email:<40} {user.role:<13} {territory:<12} {state}")


@users.command("disable")
@click.argument("email")
def disable_user(email: str) -> None:
    """Disable an account: its sessions end and its tokens stop working."""
    auth_services.set_active(db.session, _user_or_exit(email), False, CLI_ACTOR)
    db.session.commit()
    click.echo(f"Disabled {email}.")


@users.command("enable")
@click.argument("email")
def enable_user(email: str) -> None:
    """Enable a disabled account."""
    auth_services.set_active(db.session, _user_or_exit(email), True, CLI_ACTOR)
    db.session.commit()
    click.echo(f"Enabled {email}.")


backup = AppGroup("backup", help="Back up the database, or restore a backup.")


@backup.command("create")
@click.argument("destination", type=click.Path(dir_okay=False, path_type=Path))
@with_appcontext
def backup_create(destination: Path) -> None:
    """Write a consistent backup of the database while the application runs (SQLite: the
    online backup API; PostgreSQL: pg_dump, custom format)."""
    try:
        backups.create(current_app.config["SQLALCHEMY_DATABASE_URI"], destination)
    except backups.BackupError as error:
        raise click.ClickException(str(error)) from error
    click.echo(f"Backup written to {destination} ({destination.stat().st_size} bytes).")


@backup.command("restore")
@click.argument("source", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@with_appcontext
def backup_restore(source: Path, yes: bool) -> None:
    """Replace the database's whole content by a backup: stop the application first."""
    if not yes:
        click.confirm("Every record of the database will be replaced by the backup's. Go on?",
                      abort=True)
    db.engine.dispose()
    try:
        backups.restore(current_app.config["SQLALCHEMY_DATABASE_URI"], source)
    except backups.BackupError as error:
        raise click.ClickException(str(error)) from error
    click.echo(f"Database restored from {source}.")


UNUSABLE_PASSWORD_HASH = "!generated"  # noqa: S105 - matches no password: no sign-in


@click.command("generate")
@click.option("--patients", type=int, required=True, help="How many patients to generate.")
@click.option("--territories", help="Comma-separated territory codes (default: every one).")
@click.option("--territory-count", type=int, help="Or the first K territories (by code).")
@click.option("--years", type=int, default=3, show_default=True, help="Years of history.")
@click.option("--seed", type=int, default=2026, show_default=True,
              help="The same seed and options give the same registry.")
@click.option("--today", type=click.DateTime(formats=["%Y-%m-%d"]),
              help="The day the history ends (default: today); fix it to repeat a registry.")
@click.option("--database-url", help="Generate on this database instead of the configured one "
                                     "(its schema made by init-db first).")
@click.option("--append", is_flag=True, help="Add to a registry that already has patients.")
@click.option("--password-prompt", is_flag=True,
              help="Ask for a password for the generated accounts (case managers, councils); "
                   "without it they cannot sign in.")
@click.option("--chunk-size", type=int, default=5000, show_default=True,
              help="Patients generated and written together (the memory stays flat).")
@click.option("--keep-indexes", is_flag=True,
              help="PostgreSQL: keep the indexes during the load instead of rebuilding them "
                   "after it (slower; for comparison).")
@click.option("--workers", type=click.IntRange(1, 8), default=2, show_default=True,
              help="PostgreSQL: processes generating the rows while this one copies them.")
@with_appcontext
def generate_command(patients, territories, territory_count, years, seed, today, database_url,
                     append, password_prompt, chunk_size, keep_indexes, workers) -> None:
    """Generate a realistic registry (patients, providers, enrollments, care plans,
    appointments, stays, events), bulk-loaded, on an empty database."""
    from sqlalchemy import create_engine

    from coordinator.core import database
    from coordinator.core.time import local_today
    from coordinator.generate import report as reporting
    from coordinator.generate import services as generating

    engine = db.engine
    if database_url:
        engine = create_engine(database_url)
        if engine.dialect.name == "sqlite":
            database.configure_sqlite(engine, current_app.config["SQLITE_BUSY_TIMEOUT"])
    password_hash = UNUSABLE_PASSWORD_HASH
    if password_prompt:
        password = click.prompt("Password of the generated accounts", hide_input=True,
                                confirmation_prompt=True)
        password_hash = auth_services.hash_password(
            password, current_app.config["PASSWORD_HASH_METHOD"])
    try:
        generating.check_schema(engine)
        chosen = generating.options(
            patients=patients,
            territories=tuple(code.strip() for code in territories.split(",") if code.strip())
            if territories else None,
            territory_count=territory_count, years=years, seed=seed,
            today=today.date() if today else local_today(), chunk_size=chunk_size,
            password_hash=password_hash, known=generating.territory_codes(engine))
        result = generating.generate(engine, chosen, append=append, keep_indexes=keep_indexes,
                                     workers=workers,
                                     progress=lambda message: click.echo(message, err=True))
    except generating.GenerateError as error:
        click.echo(f"Error: {error}", err=True)
        raise SystemExit(1) from None
    finally:
        if database_url:
            engine.dispose()
    click.echo(reporting.table(result))


def register(app: Flask) -> None:
    from coordinator.audit.cli import audit
    from coordinator.hl7.cli import listener_command
    from coordinator.imports.cli import import_command
    from coordinator.jobs.cli import jobs
    from coordinator.work.cli import worker_command
    app.cli.add_command(init_db)
    app.cli.add_command(seed_demo)
    app.cli.add_command(users)
    app.cli.add_command(import_command)
    app.cli.add_command(jobs)
    app.cli.add_command(backup)
    app.cli.add_command(worker_command)
    app.cli.add_command(listener_command)
    app.cli.add_command(generate_command)
    app.cli.add_command(audit)
