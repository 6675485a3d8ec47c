"""Command line: flask --app wsgi crm ..."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import AppGroup

from crm.extensions import db
from crm.services import demo as demo_service
from crm.services import users as user_service
from crm.services.errors import DomainError
from models import Level, Role

crm_cli = AppGroup("crm", help="Key-account CRM commands.")


@crm_cli.command("create-user")
@click.argument("username")
@click.option("--name", "display_name", default="", help="Display name.")
@click.option("--email", default=None)
@click.option("--role", type=click.Choice([r.value for r in Role]), default=Role.MANAGER.value)
@click.option("--level", type=click.Choice([lv.value for lv in Level]), default=Level.JUNIOR.value)
@click.option("--locale", type=click.Choice(["zh_CN", "en"]), default="zh_CN")
@click.password_option(help="Prompted for when not given.")
def create_user(username, display_name, email, role, level, locale, password):
    """Create a user (the first admin, typically)."""
    try:
        user = user_service.create_user(
            actor=None,
            username=username,
            display_name=display_name or username,
            password=password,
            email=email,
            role=Role(role),
            level=Level(level),
            locale=locale,
        )
    except DomainError as error:
        raise click.ClickException(str(error.message))
    db.session.commit()
    click.echo(f"Created {user.role.value} {user.username}.")


@crm_cli.command("demo")
def demo():
    """Load the demo organisation (idempotent; refused in production)."""
    if not current_app.config["DEMO_ALLOWED"]:
        raise click.ClickException("The demo data is never loaded in production.")
    summary = demo_service.load_demo()
    db.session.commit()
    click.echo(summary)


@crm_cli.command("has-users")
def has_users():
    """Exit 0 if the database has users, 1 if it is empty (used by scripts/serve)."""
    raise SystemExit(0 if demo_service.has_users() else 1)


@crm_cli.command("scheduler")
def scheduler():
    """Run the scheduler process (one per installation; web workers never run it)."""
    from crm.scheduler import build_scheduler

    app = current_app._get_current_object()
    click.echo("Scheduler running: one tick a minute. Ctrl-C stops it.")
    try:
        build_scheduler(app).start()
    except (KeyboardInterrupt, SystemExit):
        click.echo("Scheduler stopped.")


@crm_cli.command("tick")
def tick_once():
    """Run one scheduler tick now (what falls due is written and sent)."""
    from crm.scheduler import tick

    report = tick()
    click.echo(f"sent={report.sent} retried={report.retried} failed={report.failed}")


@crm_cli.command("send-outbox")
@click.option("--worker", default=None, help="Name of this sender in the outbox claims.")
def send_outbox(worker):
    """Send what the outbox holds, then exit (several may run at once)."""
    from crm.delivery import deliver_due
    from crm.mail import transport_from_config

    transport = transport_from_config(current_app.config)
    try:
        report = deliver_due(transport, worker=worker)
    finally:
        transport.close()
    click.echo(f"sent={report.sent} retried={report.retried} failed={report.failed}")

