"""Every page a user reaches, every form it renders, submitted: as each role, in both languages.

Two users of each role crawl one after the other in one app (one process), the first
in Chinese and the second in English, on the demo organisation. A template module,
form class or cache that keeps the first request's CSRF token, language or user
shows up here as a 400, a label in the wrong language or another team's customer.
See tests/crawler.py for what is checked.
"""

from __future__ import annotations

import functools
import io
import sqlite3
import uuid
from importlib import import_module

import pytest
from jinja2 import ChoiceLoader, DictLoader
from PIL import Image
from sqlalchemy import select, update

from blueprints.api import RESOURCES
from crm import create_app
from crm.extensions import db
from crm.i18n import today_in, user_zone
from crm.services.demo.organisation import DEMO_PASSWORD, load_demo
from crm.services.documents import library as document_library
from crm.services.followups.notifications import enqueue_due_reminders
from crm.services.followups.outbox import enqueue, failed_values, message_row
from crm.services.followups.reminders import create_reminder
from crm.services.handover.requests import request_handover
from crm.services.handover.transfer import HandoverOptions, Selection, hand_over
from crm.services.imports.batch import COLUMNS
from crm.services.people import users as user_service
from crm.services.webhooks import emit
from crm.services.webhooks.subscriptions import create_subscription
from models import Customer, Level, MessageKind, OutboxMessage, Role, User, WebhookDelivery
from tests.crawler import DataText, crawl_as

# Who crawls: (username, language), in this order, in one process.
PAIRS = {
    "manager": (("manager4", "zh_CN"), ("manager8", "en")),
    "supervisor": (("supervisor1", "zh_CN"), ("supervisor2", "en")),
    "admin": (("admin2", "en"), ("admin", "zh_CN")),  # and one pair the other way round
}


@pytest.fixture
def app_overrides():
    return {"WTF_CSRF_ENABLED": True}


@pytest.fixture
def demo(app, database_url):
    """The demo organisation, a second admin, and a handover across the two teams.

    On SQLite it is built once per process and copied into each test's database
    (the demo takes seconds to build); on PostgreSQL each test builds it.
    """
    if database_url.startswith("sqlite"):
        raw = db.engine.raw_connection()
        try:
            _sqlite_demo().backup(raw.driver_connection)
        finally:
            raw.close()
    else:
        _build_demo()
        db.session.commit()


@functools.cache
def _sqlite_demo() -> sqlite3.Connection:
    source = create_app("testing", SQLALCHEMY_DATABASE_URI="sqlite://")
    copy = sqlite3.connect(":memory:")
    with source.app_context():
        db.create_all()
        _build_demo()
        db.session.commit()
        raw = db.engine.raw_connection()
        try:
            raw.driver_connection.backup(copy)
        finally:
            raw.close()
        db.session.remove()
        db.engine.dispose()
    return copy


def _build_demo() -> None:
    load_demo()
    user_service.create_user(
        actor=None,
        username="admin2",
        display_name="第二管理员",
        password=DEMO_PASSWORD,
        email="admin2@demo.crm.example",
        role=Role.ADMIN,
        level=Level.SENIOR,
    )
    users = {u.username: u for u in db.session.scalars(select(User))}
    # As in issue 11: one customer of manager4 (team one) and one of manager8 (team two)
    # go to manager3 (team one) in one handover.
    picked = [
        db.session.scalars(
            select(Customer.id).where(Customer.owner_id == users[name].id).order_by(Customer.id)
        ).first()
        for name in ("manager4", "manager8")
    ]
    hand_over(
        actor=users["admin"],
        selection=Selection(ids=picked),
        to_owner=users["manager3"],
        options=HandoverOptions(),
        note="交接：请尽快拜访",
        reason="团队调整",
        token=uuid.uuid4().hex,
        expected_fingerprint=None,
    )
    # Every manager has a follow-up due today: home shows its actions whatever the demo's dates.
    for user in users.values():
        if user.role is Role.MANAGER:
            customer = db.session.scalars(
                select(Customer).where(Customer.owner_id == user.id).order_by(Customer.id)
            ).first()
            create_reminder(customer, actor=user, due_on=today_in(user_zone(user)), note="回访")
    # A manager's request waiting for the supervisor, and reminder emails, one of them failed:
    # the forms that decide or retry them show only then.
    customer = db.session.scalars(
        select(Customer).where(Customer.owner_id == users["manager1"].id).order_by(Customer.id)
    ).first()
    request_handover(customer, actor=users["manager1"], note="客户搬迁到二部辖区")
    enqueue_due_reminders()
    enqueue(
        [
            message_row(
                key="crawler:failed",
                kind=MessageKind.REMINDER,
                recipient=users["manager1"],
                subject="跟进提醒",
                text="跟进提醒",
            )
        ]
    )
    db.session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.key == "crawler:failed")
        .values(failed_values("550 mailbox unavailable"))
    )
    # A webhook subscription with one failed call: its page, log and retry show only then.
    create_subscription(
        actor=users["admin"],
        name="数据仓库",
        url="https://hooks.example.com/crm",
        events=["customer.created"],
    )
    emit("customer.created", {"customer": {"id": 0}}, key="crawler")
    db.session.execute(update(WebhookDelivery).values(failed_values("HTTP 404: not found")))
    # A site photo on the crawling managers' customers (the crawl opens only some customer
    # pages): the document pages show then. The same bytes: stored once.
    photo = io.BytesIO()
    Image.new("RGB", (60, 40), (30, 90, 160)).save(photo, "PNG")
    photo_kind = document_library.kind_by_code("site_photo").id
    for name in ("manager4", "manager8"):
        for customer in db.session.scalars(
            select(Customer).where(Customer.owner_id == users[name].id)
        ):
            document_library.upload(
                customer=customer,
                actor=users[name],
                uploads=[document_library.Upload(io.BytesIO(photo.getvalue()), "机房.png")],
                kind_id=photo_kind,
                title="机房照片",
            )


def _keep_crawlers_signed_in(crawlers: set[str]):
    """The admin must not deactivate or reset the password of a user who crawls next."""

    def skip(endpoint: str, args: dict, pairs) -> bool:
        if endpoint in ("admin.deactivate_user", "admin.reset_password"):
            user = db.session.get(User, args["user_id"])
            return user is not None and user.username in crawlers
        return False

    return skip


# Routes a crawl may miss, and why. Any other route it misses fails the test: a new page
# or form is reached from the navigation, or listed here with the reason.
MAY_MISS = {
    "static": "files, not pages",
    "favicon": "browsers fetch it; no page links to it",
    "main.healthz": "for load balancers; no page links to it",
    "calendar.feed": "a calendar app's URL, shown once as text",
    "imports.commit": "needs an uploaded file (tests/test_imports.py)",
    "imports.choose_encoding": "needs an uploaded file (tests/test_import_reading.py)",
    "imports.merge_now": "needs two customers picked (tests/test_merge.py)",
    "opportunities.mark_won": "needs an opportunity in the contract stage",
    "opportunities.reopen": "needs a closed opportunity",
    "opportunities.remove_competitor": "shows once a rival is added, which needs one chosen",
    "plans.link_visit": "shows once a visit to a planned customer is logged in the plan's week "
    "(tests/test_plan_matching.py, tests/routes.py)",
    "documents.thumbnail": "an image's src, not a link (tests/test_documents.py)",
    "customers.pick": "a picker's JSON, fetched by static/js/picker.js (tests/test_pickers.py)",
    "people.pick": "a picker's JSON, fetched by static/js/picker.js (tests/test_pickers.py)",
    "auth.revoke_token": "shows once a token is made; the crawl sends the token form as it "
    "finds it, without a name (tests/test_api_tokens.py)",
}
# The JSON API's resources answer a token, not a signed-in browser: the crawl never reaches
# them (it does reach the docs page, linked from the account page). tests/test_api_access.py
# and tests/test_api_contract.py try every one of them.
API_RESOURCES = tuple(import_module(name).blp.name + "." for name in RESOURCES)
# A supervisor reads the team's weekly plans; their own starts empty (no follow-ups to
# suggest): what changes a planned visit or a task is the managers' crawl's.
_OWN_PLAN_ROWS = {
    endpoint: "a supervisor's own weekly or monthly plan starts empty (tests/test_plan_pages.py)"
    for endpoint in (
        "plans.edit_visit",
        "plans.remove_visit",
        "plans.unlink_visit",
        "plans.toggle_task",
        "plans.remove_task",
        "plans.remove_key_customer",
    )
}
_NO_PLANS_OF_THEIR_OWN = {
    endpoint: "admins keep no plans; they read everybody's"
    for endpoint in (
        "plans.week",
        "plans.add_visit",
        "plans.add_task",
        "plans.focus",
        "plans.submit",
        "plans.month",
        "plans.goals",
        "plans.add_key_customer",
        *_OWN_PLAN_ROWS,
    )
}
MAY_MISS_AS = {
    "manager": {
        "customers.delete": "admins only",
        "customers.set_site": "admins only",
        "imports.merge": "admins only",
        "handovers.new": "supervisors and admins only",
        "handovers.undo_handover": "supervisors and admins only",
        "handovers.decline_request": "supervisors and admins only",
        "reports.targets_page": "supervisors and admins only",
        "plans.review_queue": "supervisors and admins review plans; a manager gets 404",
        "plans.review": "supervisors and admins review plans",
        "plans.return_plan": "supervisors and admins review plans",
    },
    "supervisor": {
        "customers.delete": "admins only",
        "customers.set_site": "admins only",
        "imports.merge": "admins only",
        "handovers.new_request": "managers ask for handovers",
        "handovers.undo_handover": "the demo's handover is the admin's",
        **_OWN_PLAN_ROWS,
        # One plan page per crawl, the first linked: not always a submitted one of the team.
        "plans.review": "the plan page it opens may not await review (the admins' crawl does)",
        "plans.return_plan": "the plan page it opens may not await review (the admins' crawl does)",
        # Opening a notice marks it read: the crawl may read the supervisor's few demo
        # notices one by one before it reaches the list's button (the managers' crawl does).
        "notices.read_all": "no unread notice left when the crawl reaches the list",
    },
    "admin": {
        "handovers.new_request": "managers ask for handovers",
        "notices.read": "the demo's notices are managers' and supervisors' (tests/test_notices.py)",
        "notices.read_all": "the demo's notices are managers' and supervisors'",
        "admin.deactivate_user": "the users it could deactivate are the crawl's own",
        "admin.reset_password": "the users it could reset are the crawl's own",
        "admin.reactivate_user": "shows once a user is deactivated",
        "outbox_admin.retry": "the message it opens is not the failed one",
        "outbox_admin.download": "the message it opens is not the failed one",
        "webhooks_admin.retry": "the log's 'retry all' queues the demo's failed call first "
        "(tests/test_webhooks_admin.py)",
        "reference.delete_competitor": "only unused ones can be deleted, and all are used",
        "reference.delete_industry": "only unused ones can be deleted, and all are used",
        "stages.delete": "only unused ones can be deleted, and all are used",
        "reminders.dismiss": "admins own no follow-ups",
        "reminders.reschedule": "admins own no follow-ups",
        "reminders.snooze": "admins own no follow-ups",
        **_NO_PLANS_OF_THEIR_OWN,
    },
}
ADMIN_AREAS = (
    "admin.",
    "cadences.",
    "reference.",
    "stages.",
    "outbox_admin.",
    "webhooks_admin.",
    "document_kinds.",
)


# The assessment (issue 15): team sheets, targets, publishing and temporary tasks are the
# supervisors' and admins'; a manager opens their own published scorecards from /assessment/.
MAY_MISS_AS["manager"].update(
    {
        endpoint: "supervisors and admins keep the team sheets (tests/test_assessment_pages.py)"
        for endpoint in (
            "assessment.period_view",
            "assessment.team",
            "assessment.export",
            "assessment.publish",
            "assessment.recompute",
            "assessment.targets_page",
            "assessment.import_targets",
            "assessment.level_review",
            "assessment.add_task",
            "assessment.score_task",
            "assessment.delete_task",
        )
    }
)
ADMIN_AREAS += ("assessment_admin.",)


@pytest.mark.parametrize("role", PAIRS)
@pytest.mark.usefixtures("demo")
def test_every_page_and_form_as_two_users_in_both_languages(app, role):
    # The import's Chinese column headers are a file format, shown as they are.
    headers = [header for columns in COLUMNS.values() for _key, header in columns]
    crawlers = crawl_as(
        app,
        [(username, DEMO_PASSWORD, language) for username, language in PAIRS[role]],
        data=DataText(app, extra=headers),
        skip_form=_keep_crawlers_signed_in({u for u, _ in PAIRS[role]}),
    )
    for crawler in crawlers:
        print(
            f"{crawler.who}: {len(crawler.pages)} pages, {len(crawler.submitted)} forms, "
            f"{crawler.requests} requests in {crawler.seconds:.1f} s"
        )
    findings = [str(f) for crawler in crawlers for f in crawler.findings]
    assert not findings, "\n".join(findings)

    reached = set().union(*(crawler.reached for crawler in crawlers))
    missed = {
        rule.endpoint
        for rule in app.url_map.iter_rules()
        if rule.endpoint not in reached
        and rule.endpoint not in MAY_MISS
        and rule.endpoint not in MAY_MISS_AS[role]
        and not rule.endpoint.startswith(API_RESOURCES)
        and not (role != "admin" and rule.endpoint.startswith(ADMIN_AREAS))
    }
    assert not missed, f"no page or form of the {role}s' crawl reaches {sorted(missed)}"


@pytest.mark.usefixtures("demo")
def test_the_crawl_catches_a_template_module_that_keeps_the_first_request(app):
    """Check the checker: the follow-up actions worked out once per process fail the crawl.

    home.html imports reminders/_actions.html without context, so Jinja keeps that module
    for the process: with its words and token computed at the top (issue 11, item 1), the
    second user gets the first one's CSRF token and language.
    """
    per_call = "{% set a = follow_up_actions() %}"
    source = app.jinja_loader.get_source(app.jinja_env, "reminders/_actions.html")[0]
    assert per_call in source
    once = per_call + source.replace(per_call, "")
    app.jinja_loader = ChoiceLoader(
        [DictLoader({"reminders/_actions.html": once}), app.jinja_loader]
    )

    crawlers = crawl_as(
        app, [("manager4", DEMO_PASSWORD, "zh_CN"), ("manager8", DEMO_PASSWORD, "en")], max_pages=1
    )

    found = [str(f) for f in crawlers[1].findings]
    assert any("/done (via form on /" in f and "answered 400" in f for f in found), found
    assert any("Chinese on an English page" in f for f in found), found
    assert not crawlers[0].findings
