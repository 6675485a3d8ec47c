"""Command line: flask --app wsgi crm ..."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import AppGroup

from crm.extensions import db
from crm.services.demo import organisation as demo_service
from crm.services.errors import DomainError
from crm.services.people import users as user_service
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


@crm_cli.command("health")
def health_pass():
    """Score customer health now (the scheduler does it nightly and after an import)."""
    from crm.services.health import job

    report = job.run_if_due(force=True)
    if report is None:
        raise click.ClickException("Another health pass is running; try again when it ends.")
    click.echo(
        f"assessed={report.assessed} changed={report.changed} "
        f"entered_at_risk={len(report.entered)} left_at_risk={report.left}"
    )


@crm_cli.command("send-outbox")
@click.option("--worker", default=None, help="Name of this sender in the outbox claims.")
def send_outbox(worker):
    """Send what the outbox holds (emails, then webhook calls) and exit; several may run at once."""
    from crm.delivery import deliver_due
    from crm.mail import transport_from_config
    from crm.webhook_delivery import deliver_due_webhooks

    transport = transport_from_config(current_app.config)
    try:
        report = deliver_due(transport, worker=worker)
    finally:
        transport.close()
    click.echo(f"sent={report.sent} retried={report.retried} failed={report.failed}")
    calls = deliver_due_webhooks(worker=worker)
    click.echo(f"webhooks: sent={calls.sent} retried={calls.retried} failed={calls.failed}")


@crm_cli.command("import")
@click.argument("kind", type=click.Choice(["customers", "contacts", "figures"]))
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--as", "username", required=True, help="The user importing (and default owner).")
@click.option(
    "--encoding",
    type=click.Choice(["auto", "utf-8", "gb18030", "big5"]),
    default="auto",
    show_default=True,
)
@click.option("--dry-run", is_flag=True, help="Check every line, import nothing.")
def import_csv(kind, path, username, encoding, dry_run):
    """Import customers, contacts or monthly business figures from a CSV file (all or nothing).

    Business figures (an administrator's, from the billing system; the nightly job) replace
    the stored figures of the months in the file for the customers in it.
    """
    import sys
    from pathlib import Path

    from sqlalchemy import select

    from crm.services.imports import batch as imports
    from models import User

    actor = db.session.scalar(select(User).where(User.username == username.lower()))
    if actor is None or not actor.active:
        raise click.ClickException(f"No active user {username}.")
    try:
        parsed = imports.parse_file(kind, Path(path).read_bytes(), encoding)
        steps = len(parsed.rows) * (1 if dry_run else 2)  # checking, then writing
        label = "Checking" if dry_run else "Importing"
        with click.progressbar(length=steps, label=label, file=sys.stderr) as bar:
            if dry_run:
                report = imports.check_import(parsed, actor=actor, progress=bar.update)
            else:
                report = imports.run_import(
                    parsed, actor=actor, progress=bar.update, source=Path(path).name
                )
    except imports.EncodingUnsure as unsure:
        for name, lines in unsure.previews.items():
            click.echo(f"--encoding {name}:", err=True)
            for line in lines:
                click.echo(f"  {line}", err=True)
        raise click.ClickException(str(unsure.message))
    except DomainError as error:
        db.session.rollback()
        raise click.ClickException(str(error.message))
    for problem in report.warnings:
        for message in problem.messages:
            click.echo(f"line {problem.line}: warning: {message}", err=True)
    for problem in report.errors:
        for message in problem.messages:
            click.echo(f"line {problem.line}: {message}", err=True)
    if report.errors:
        db.session.rollback()
        raise click.ClickException(
            f"{len(report.errors)} of {report.rows} lines have problems; nothing was imported."
        )
    counts = report.figure_counts
    if dry_run:
        click.echo(f"{report.rows} {kind} checked ({report.encoding}); nothing was imported.")
        if counts:
            click.echo(
                f"Importing would add {counts.added}, change {counts.changed} and leave "
                f"{counts.unchanged} figures as they are ({counts.month_names})."
            )
        return
    db.session.commit()
    if counts is None:
        click.echo(f"{report.imported} {kind} imported ({report.encoding}).")
        return
    click.echo(
        f"{report.imported} lines of figures imported ({report.encoding}, "
        f"{counts.month_names}): {counts.added} new, {counts.changed} changed, "
        f"{counts.unchanged} unchanged."
    )
    if counts.added or counts.changed:
        # The scheduler's health pass notices new figures itself; `crm health` runs it now.
        click.echo("The scheduler's next health pass scores the customers with these figures.")


@crm_cli.command("assessment")
@click.option(
    "--period",
    "keys",
    multiple=True,
    help="A month (2026-03) or a quarter (2026-Q1); repeat for more. Default: the open ones.",
)
def assessment(keys):
    """Compute every manager's assessment drafts (what the scheduler does hourly)."""
    import time

    from crm.services.assessment import job, periods, store

    chosen = [periods.parse(key) for key in keys]
    if None in chosen:
        raise click.ClickException("A period is a month (2026-03) or a quarter (2026-Q1).")
    if not chosen:
        counts = job.refresh()
        click.echo(" ".join(f"{key}: {n} cards" for key, n in counts.items()))
        return
    for period in chosen:
        started = time.perf_counter()
        count = store.refresh(period)
        db.session.commit()
        click.echo(f"{period.key}: {count} cards in {time.perf_counter() - started:.1f} s")
