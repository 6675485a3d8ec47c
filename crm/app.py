"""The application factory."""

from __future__ import annotations

import gc
import os
from datetime import timedelta
from typing import Any

from flask import Flask, g, render_template, request, send_from_directory, session
from flask_login import current_user

from crm import config as config_module
from crm import request_cache
from crm.config import INSTANCE_DIR, PROJECT_ROOT
from crm.extensions import babel, csrf, db, limiter, login_manager, migrate
from crm.services.control_characters import (
    code_point,
    control_character_message,
    find_control_character,
)


def create_app(config: str | type | None = None, **overrides: Any) -> Flask:
    """Build the app: config name or class, then CRM_* env vars, then keyword overrides."""
    app = Flask(
        "crm",
        root_path=str(PROJECT_ROOT / "crm"),
        template_folder=str(PROJECT_ROOT / "templates"),
        static_folder=str(PROJECT_ROOT / "static"),
        instance_path=str(INSTANCE_DIR),
    )
    load_config(app, config, overrides)
    configure_logging(app)
    register_extensions(app)
    register_blueprints(app)
    register_request_hooks(app)
    register_favicon(app)
    register_static_files(app)
    register_error_pages(app)
    register_template_helpers(app)
    register_cli(app)
    return app


def load_config(app: Flask, config: str | type | None, overrides: dict[str, Any]) -> None:
    env_settings = config_module.settings_from_env()
    name = config if isinstance(config, str) else env_settings.get("ENV_NAME", "development")
    config_cls = config if isinstance(config, type) else config_module.CONFIGS[name]
    app.config.from_object(config_cls)
    if config_cls is not config_module.TestingConfig:
        app.config.update(env_settings)
    elif os.environ.get("CRM_TEST_DATABASE_URL"):
        app.config["SQLALCHEMY_DATABASE_URI"] = os.environ["CRM_TEST_DATABASE_URL"]
    app.config.update(overrides)
    if app.config["ENV_NAME"] == "production":
        config_module.check_production(app.config)
    elif not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = config_module.dev_secret_key()
    app.config["PERMANENT_SESSION_LIFETIME"] = timedelta(hours=app.config["SESSION_HOURS"])
    uri = app.config["SQLALCHEMY_DATABASE_URI"]
    if uri.startswith("postgresql"):
        app.config.setdefault("SQLALCHEMY_ENGINE_OPTIONS", {})
        app.config["SQLALCHEMY_ENGINE_OPTIONS"] = {
            "pool_pre_ping": True,
            "pool_size": app.config["DB_POOL_SIZE"],
            **app.config.get("SQLALCHEMY_ENGINE_OPTIONS", {}),
        }
    elif uri.startswith("sqlite:///"):
        INSTANCE_DIR.mkdir(exist_ok=True)


def configure_logging(app: Flask) -> None:
    from crm import logging as crm_logging

    crm_logging.init_app(app)  # one line per event, with the request id


def register_extensions(app: Flask) -> None:
    db.init_app(app)
    from models.base import render_migration_type

    migrate.init_app(
        app,
        db,
        directory=str(PROJECT_ROOT / "migrations"),
        render_as_batch=True,  # SQLite can only ALTER by copying the table
        compare_type=True,
        render_item=render_migration_type,
    )
    csrf.init_app(app)
    limiter.init_app(app)

    from crm import i18n

    babel.init_app(
        app,
        locale_selector=i18n.select_locale,
        timezone_selector=i18n.select_timezone,
        default_translation_directories=str(PROJECT_ROOT / "crm" / "translations"),
    )
    from crm import template_gettext

    template_gettext.install(app)

    from crm import auth

    login_manager.init_app(app)
    login_manager.session_protection = "strong"
    login_manager.login_view = "auth.login"
    login_manager.login_message = i18n.lazy_gettext("Please sign in to continue.")
    login_manager.login_message_category = "info"
    login_manager.user_loader(auth.load_user)

    from crm import request_transaction, sqlite

    with app.app_context():
        sqlite.configure(db.engine)
        request_transaction.init_app(app, db.engine)


def register_blueprints(app: Flask) -> None:
    # Imported here: blueprints import models, and models import crm.extensions.
    from blueprints.admin import bp as admin_bp
    from blueprints.assessment import admin_bp as assessment_admin_bp
    from blueprints.assessment import bp as assessment_bp
    from blueprints.auth import bp as auth_bp
    from blueprints.competitors import bp as competitors_bp
    from blueprints.contacts import bp as contacts_bp
    from blueprints.customers import bp as customers_bp
    from blueprints.documents import bp as documents_bp
    from blueprints.documents import kinds_bp as document_kinds_bp
    from blueprints.figures import bp as figures_bp
    from blueprints.handovers import bp as handovers_bp
    from blueprints.health import bp as health_bp
    from blueprints.imports import bp as imports_bp
    from blueprints.main import bp as main_bp
    from blueprints.notices import bp as notices_bp
    from blueprints.opportunities import bp as opportunities_bp
    from blueprints.outbox_admin import bp as outbox_admin_bp
    from blueprints.people import bp as people_bp
    from blueprints.plans import bp as plans_bp
    from blueprints.reference import bp as reference_bp
    from blueprints.reminders import bp as reminders_bp
    from blueprints.reminders import calendar_bp
    from blueprints.reports import bp as reports_bp
    from blueprints.service import bp as service_bp
    from blueprints.stages import bp as stages_bp
    from blueprints.visits import bp as visits_bp
    from blueprints.visits import cadences_bp
    from blueprints.webhooks_admin import bp as webhooks_admin_bp

    app.register_blueprint(main_bp)
    app.register_blueprint(auth_bp)
    app.register_blueprint(customers_bp, url_prefix="/customers")
    # These three serve pages under /customers/<id>/... too, so their routes carry full paths.
    app.register_blueprint(imports_bp)
    app.register_blueprint(contacts_bp)
    app.register_blueprint(competitors_bp)
    app.register_blueprint(admin_bp, url_prefix="/admin")
    app.register_blueprint(reference_bp, url_prefix="/admin")
    app.register_blueprint(opportunities_bp, url_prefix="/opportunities")
    app.register_blueprint(stages_bp, url_prefix="/admin/stages")
    app.register_blueprint(handovers_bp, url_prefix="/handovers")
    app.register_blueprint(reminders_bp, url_prefix="/reminders")
    app.register_blueprint(calendar_bp)  # /calendar/<token>.ics and the link on /account
    app.register_blueprint(outbox_admin_bp, url_prefix="/admin/outbox")
    app.register_blueprint(webhooks_admin_bp, url_prefix="/admin/webhooks")
    app.register_blueprint(visits_bp, url_prefix="/visits")
    app.register_blueprint(reports_bp, url_prefix="/reports")
    app.register_blueprint(cadences_bp, url_prefix="/admin")
    app.register_blueprint(plans_bp, url_prefix="/plans")
    app.register_blueprint(notices_bp, url_prefix="/notices")
    app.register_blueprint(people_bp, url_prefix="/people")  # the people pickers' JSON
    app.register_blueprint(service_bp, url_prefix="/service")
    # Its routes carry full paths: /documents/..., and uploads under /customers/<id>/... too.
    app.register_blueprint(documents_bp)
    app.register_blueprint(document_kinds_bp, url_prefix="/admin")
    # Full paths: /customers/at-risk and /customers/<id>/health.
    app.register_blueprint(health_bp)
    # Full path: /customers/<id>/figures.
    app.register_blueprint(figures_bp)
    # Performance assessment: /assessment/... (full paths); its weights under /admin.
    app.register_blueprint(assessment_bp)
    app.register_blueprint(assessment_admin_bp, url_prefix="/admin")
    # The JSON API (/api/v1/): flask-smorest blueprints, token-authenticated, problem+json.
    from blueprints.api import register_api

    register_api(app)


def register_request_hooks(app: Flask) -> None:
    from crm import errors

    request_cache.init_app(app)
    csp = (
        "default-src 'self'; img-src 'self' data:; object-src 'none'; "
        "base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
    )

    @app.before_request
    def remember_language_choice() -> None:
        g.locale_choice = session.get("locale")

    @app.before_request
    def refuse_control_characters():
        """A control character anywhere in the URL or a form answers 400 with why.

        One check for every query string (search boxes, list filters), every form
        (also sign-in, before anyone is signed in) and every path argument: PostgreSQL
        cannot store or compare NUL, and no other control character is ever meant.
        Forms check their text fields again, each with its own rule (CrmForm).
        """
        char = control_character_in_request()
        if char is None:
            return None
        app.logger.info(
            "control character refused: path=%r char=%s", request.path, code_point(char)
        )
        message = control_character_message(char)
        other = errors.answered_elsewhere(app, 400, message=str(message))
        if other is not None:
            return other
        return render_template("errors/error.html", status=400, message=message), 400

    @app.after_request
    def security_headers(response):
        response.headers.setdefault("Content-Security-Policy", csp)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        if current_user.is_authenticated and request.endpoint != "static":
            response.headers.setdefault("Cache-Control", "no-store")
        return response


def control_character_in_request() -> str | None:
    """The first control character of the request's path arguments, query string or form."""
    values: list[str] = [v for v in (request.view_args or {}).values() if isinstance(v, str)]
    sources = [request.args, request.form] if request.method == "POST" else [request.args]
    for multi_dict in sources:
        for key, value in multi_dict.items(multi=True):
            values.extend((key, value))
    for value in values:
        char = find_control_character(value, multiline=True)
        if char is not None:
            return char
    return None


def register_favicon(app: Flask) -> None:
    """/favicon.ico: browsers ask every site for it, whatever icon the pages link."""

    @app.get("/favicon.ico")
    def favicon():
        return send_from_directory(
            app.static_folder, "favicon.ico", mimetype="image/vnd.microsoft.icon", max_age=86400
        )


def register_static_files(app: Flask) -> None:
    from crm import static_files

    static_files.init_app(app)  # fingerprinted names, a year in the browser's cache


def register_error_pages(app: Flask) -> None:
    from crm import errors

    errors.register(app)


def register_template_helpers(app: Flask) -> None:
    from crm import templating

    templating.register(app)


def register_cli(app: Flask) -> None:
    from crm.cli import crm_cli

    app.cli.add_command(crm_cli)


def settle_worker(app: Flask) -> None:
    """Finish start-up for a long-lived worker: compile every template now, then freeze.

    Templates are otherwise compiled on the first request that needs each, and what
    start-up and compilation build (routes, mappers, template code: some 150,000
    objects) lives as long as the worker. Frozen, it is left out of every full garbage
    collection, which large pages (a supervisor's board, an admin's home) otherwise
    set off every few requests at tens of milliseconds each.
    """
    for name in app.jinja_env.list_templates(extensions=("html", "txt")):
        app.jinja_env.get_template(name)
    gc.freeze()
    # With start-up frozen, what is left for full collections is small, so CPython's
    # own brake on them (wait until that set grows by a quarter) no longer holds and
    # one ran every ten young passes: every few large page views, 10-20 ms each.
    # A full collection every hundred passes keeps cycles bounded without the stalls.
    young, middle, _ = gc.get_threshold()
    gc.set_threshold(young, middle, 100)
