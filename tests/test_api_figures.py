"""Monthly business figures over the API: a customer's 13 months as its figures page shows
them, and the billing system's push of a month through the web's figures import: every row
checked, bad rows named, all or nothing, a month pushed again replaces it, admins only."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from crm.extensions import db
from crm.services.archive.identity import credit_code_check_char
from crm.services.figures.months import add_months
from models import MonthlyFigure
from tests.api_support import as_user, problem_of

URL = "/api/v1/figures/"
THIS_MONTH = datetime.now(UTC).date().replace(day=1)
LAST_MONTH = add_months(THIS_MONTH, -1)
M = f"{LAST_MONTH:%Y-%m}"


def code(n: int) -> str:
    first = f"91420100{n:09d}"
    return first + credit_code_check_char(first)


@pytest.fixture(autouse=True)
def english(org):
    for user in org.values():
        if hasattr(user, "locale"):
            user.locale = "en"
    db.session.commit()


@pytest.fixture
def admin(org):
    return as_user(org["admin"])


@pytest.fixture
def customers(org, make_customer):
    return (
        make_customer(org["m1"], name="华东电力集团", credit_code=code(1)),
        make_customer(org["m3"], name="外队客户", credit_code=code(2)),
    )


def _stored() -> dict[tuple[int, str], Decimal]:
    db.session.expire_all()
    return {
        (f.customer_id, f"{f.month:%Y-%m}"): f.revenue
        for f in db.session.scalars(select(MonthlyFigure))
    }


def _count() -> int:
    return db.session.scalar(select(func.count()).select_from(MonthlyFigure))


def test_a_pushed_month_is_imported_and_pushed_again_replaces_it(client, admin, customers):
    first, second = customers
    rows = [
        {"credit_code": first.credit_code, "revenue": "120000.00", "arpu": "88.5", "lines_lost": 3},
        {"customer_id": second.id, "revenue": 56000, "active_lines": 410},
    ]
    response = client.post(URL, headers=admin, json={"month": M, "rows": rows})
    assert response.status_code == 200, response.get_json()
    assert response.get_json() == {
        "imported": True,
        "rows": 2,
        "added": 2,
        "changed": 0,
        "unchanged": 0,
        "months": [M],
        "warnings": [],
    }
    assert _stored() == {(first.id, M): Decimal("120000.00"), (second.id, M): Decimal("56000.00")}
    stored = db.session.scalar(select(MonthlyFigure).where(MonthlyFigure.customer_id == first.id))
    assert stored.source.startswith("API crm_") and stored.lines_lost == 3

    rows[0]["revenue"] = "99000"
    again = client.post(URL, headers=admin, json={"month": M, "rows": rows})
    assert (again.get_json()["changed"], again.get_json()["unchanged"]) == (1, 1)
    assert _stored()[(first.id, M)] == Decimal("99000.00") and _count() == 2


def test_bad_rows_are_named_and_nothing_is_written(client, admin, customers):
    first, second = customers
    rows = [
        {"credit_code": first.credit_code, "revenue": "1000"},
        {"credit_code": code(9), "revenue": "1000"},  # no customer has it
        {"customer_id": first.id, "revenue": "2000"},  # the first row's customer again
        {"customer_id": second.id, "credit_code": first.credit_code, "revenue": "5"},
    ]
    problem = problem_of(client.post(URL, headers=admin, json={"month": M, "rows": rows}), 422)
    assert problem["detail"] == "3 of 4 rows are refused; nothing was imported."
    assert {e["field"] for e in problem["errors"]} == {"rows.1", "rows.2", "rows.3"}
    messages = {e["field"]: e["message"] for e in problem["errors"]}
    assert messages["rows.1"] == f"no customer has the credit code {code(9)}"
    assert messages["rows.2"] == f"the figures of this customer for {M} are also on line 0"
    assert _count() == 0

    # The shape is refused by the document's schema, each field named in its row.
    problem = problem_of(
        client.post(URL, headers=admin, json={"month": M, "rows": [{"customer_id": first.id}]}),
        422,
    )
    assert problem["errors"][0]["field"] == "rows.0.revenue"
    # A month not begun refuses every row.
    later = f"{add_months(THIS_MONTH, 2):%Y-%m}"
    problem = problem_of(
        client.post(URL, headers=admin, json={"month": later, "rows": rows[:1]}), 422
    )
    assert problem["errors"] == [
        {"field": "rows.0", "location": "json", "message": f"the month {later} has not begun"}
    ]
    assert _count() == 0


def test_a_dry_run_checks_and_writes_nothing(client, admin, customers):
    body = {"month": M, "rows": [{"customer_id": customers[0].id, "revenue": "10"}]}
    response = client.post(URL, headers=admin, json={**body, "dry_run": True})
    assert response.get_json()["imported"] is False and response.get_json()["added"] == 1
    assert _count() == 0


def test_only_an_administrators_token_may_push_figures(client, org, customers):
    body = {"month": M, "rows": [{"customer_id": customers[0].id, "revenue": "10"}]}
    for persona in ("m1", "sup1"):
        problem = problem_of(client.post(URL, headers=as_user(org[persona]), json=body), 403)
        assert "Only an administrator may import business figures" in problem["detail"]
    assert _count() == 0


def test_a_customers_thirteen_months_as_its_page_shows_them(client, org, admin, customers):
    first, second = customers
    before = f"{add_months(LAST_MONTH, -1):%Y-%m}"
    for month, revenue in ((before, "100000"), (M, "80000")):
        body = {"month": month, "rows": [{"customer_id": first.id, "revenue": revenue}]}
        assert client.post(URL, headers=admin, json=body).status_code == 200
    shown = client.get(f"/api/v1/customers/{first.id}/figures", headers=as_user(org["m1"]))
    assert shown.status_code == 200
    figures = shown.get_json()
    assert figures["customer_id"] == first.id and len(figures["items"]) == 13
    assert [m["month"] for m in figures["items"][-2:]] == [before, M]
    assert figures["items"][-1]["revenue"] == "80000.00"
    assert figures["items"][-1]["revenue_change"] == "-20.0"
    assert figures["items"][0]["revenue"] is None and figures["twelve_months"] == "180000.00"
    # Another team's customer: not found, as on the web.
    problem_of(
        client.get(f"/api/v1/customers/{second.id}/figures", headers=as_user(org["m1"])), 404
    )
