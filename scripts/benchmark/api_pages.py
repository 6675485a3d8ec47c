"""The JSON API's lists (100 items a page) and records in the page timings (issue 17).

Held to the pages' targets and statement ceiling: a list of 100 items within the list
target. Each API page is timed with a token of its own, made just before it, in the
Authorization header: the token's last-use time is written by the first (warm-up) request,
not inside the timed ones (it is written at most once a minute).
"""

from __future__ import annotations

from datetime import timedelta

from flask import Flask
from sqlalchemy import select

from crm.extensions import db
from crm.i18n import today_in, user_zone
from crm.services.people import tokens
from scripts.benchmark.timings import Page

LIST = 100  # items a page: the API's largest


def _page(role: str, url, target: float, is_list: bool = True) -> Page:
    return Page(role, url, target, is_list, api=True)


API_PAGES: dict[str, Page] = {
    "API opportunities, 100 (manager)": _page(
        "manager", lambda c: f"/api/v1/opportunities/?status=all&limit={LIST}", 25
    ),
    "API opportunities, 100 (supervisor)": _page(
        "supervisor", lambda c: f"/api/v1/opportunities/?limit={LIST}", 25
    ),
    "API opportunity": _page(
        "manager", lambda c: f"/api/v1/opportunities/{c['api_opportunity_id']}", 25, False
    ),
    "API visits, a month, 100 (manager)": _page(
        "manager",
        lambda c: f"/api/v1/visits/?from={c['api_month_from']}&to={c['api_month_to']}&limit={LIST}",
        25,
    ),
    # A team's month (some 2,800 visits at province scale) sorted to give the newest 100.
    "API visits, a month, 100 (supervisor)": _page(
        "supervisor",
        lambda c: f"/api/v1/visits/?from={c['api_month_from']}&to={c['api_month_to']}&limit={LIST}",
        25,
    ),
    "API visit": _page("manager", lambda c: f"/api/v1/visits/{c['api_visit_id']}", 25, False),
    "API follow-ups, 100 (manager)": _page(
        "manager", lambda c: f"/api/v1/follow-ups/?status=done&limit={LIST}", 25
    ),
    "API follow-up": _page(
        "manager", lambda c: f"/api/v1/follow-ups/{c['api_reminder_id']}", 25, False
    ),
    "API users, 100 (admin)": _page("admin", lambda c: f"/api/v1/users/?limit={LIST}", 25),
    "API user": _page("supervisor", lambda c: f"/api/v1/users/{c['manager_id']}", 25, False),
}


def ids(ctx: dict) -> dict:
    """The records the API pages open: the context's manager's (inside an app context)."""
    from models import Opportunity, Reminder, Visit

    manager = ctx["users"]["manager"]
    today = today_in(user_zone(ctx["users"]["supervisor"]))

    def first(model, column) -> int:
        return db.session.scalar(select(model.id).where(column == manager.id).limit(1)) or 0

    return {
        "api_opportunity_id": first(Opportunity, Opportunity.owner_id),
        "api_visit_id": first(Visit, Visit.user_id),
        "api_reminder_id": first(Reminder, Reminder.owner_id),
        "api_month_from": (today - timedelta(days=30)).isoformat(),
        "api_month_to": today.isoformat(),
    }


def token_client(app: Flask, user) -> object:
    """A test client that sends a new token of `user` (made as the account page makes one)."""
    with app.app_context():
        made = tokens.create_token(
            actor=db.session.merge(user), name="bench", scope="read", lifetime_days=7
        )
        db.session.commit()
        secret = made.secret
        db.session.remove()
    client = app.test_client()
    client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {secret}"
    return client
