"""A customer's business figures: the 13-month page (scope), the customer page's summary,
the customer list's revenue trend column and filter, and figures in a merge or delete."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from flask_babel import force_locale
from sqlalchemy import select
from werkzeug.exceptions import NotFound

from crm.extensions import db
from crm.permissions import get_in_scope_or_404
from crm.services.archive import customers as customer_service
from crm.services.archive.merge import merge_customers
from crm.services.errors import DomainError
from crm.services.figures import panels
from crm.services.figures.months import add_months
from crm.services.figures.trend import refresh_revenue_trends
from models import Customer, MonthlyFigure

LAST_MONTH = add_months(datetime.now(UTC).date().replace(day=1), -1)


def add_figures(customer, revenues: dict[int, int], **extra) -> None:
    """Figures `offset` months before last month (0: last month) with these revenues."""
    for offset, revenue in revenues.items():
        db.session.add(
            MonthlyFigure(
                customer_id=customer.id,
                month=add_months(LAST_MONTH, -offset),
                revenue=Decimal(revenue),
                source="billing.csv",
                **extra,
            )
        )
    db.session.flush()
    refresh_revenue_trends(select(Customer.id).where(Customer.id == customer.id))
    db.session.commit()


@pytest.fixture
def en(org):
    for person in org.values():
        if hasattr(person, "locale"):
            person.locale = "en"
    db.session.commit()
    return org


def test_the_figures_page_shows_thirteen_months_as_chart_and_table(
    client, login, en, make_customer
):
    customer = make_customer(en["m1"], name="东湖精密制造有限公司")
    # Fourteen months, but not the month before last: the page shows the last thirteen.
    add_figures(
        customer,
        {o: 1000 + o * 10 for o in range(14) if o != 1},
        arpu=Decimal("35.5"),
        active_lines=40,
        key_solution_revenue=Decimal(200),
    )
    login(client, en["m1"])

    response = client.get(f"/customers/{customer.id}/figures")

    page = response.get_data(as_text=True)
    assert response.status_code == 200 and "东湖精密制造有限公司" in page
    months = re.findall(r'<tr data-month="(\d{4}-\d{2})"', page)
    assert months[0] == f"{LAST_MONTH:%Y-%m}" and len(months) == 13
    assert f"{add_months(LAST_MONTH, -13):%Y-%m}" not in months
    spec = json.loads(re.search(r"data-chart='([^']+)'", page).group(1).replace("&#34;", '"'))
    assert spec["labels"][-1] == f"{LAST_MONTH:%Y-%m}" and len(spec["labels"]) == 13
    assert spec["datasets"][0]["data"][-1] == 1000.0 and spec["datasets"][0]["data"][-2] is None
    assert spec["datasets"][1]["type"] == "line"
    assert re.search(r'src="/static/js/charts\.[0-9a-f]{8}\.js"', page) and "chart.umd.min." in page
    # Last month against the same month a year before: 1000 against 1120.
    assert "-10.7%" in page[page.index('id="year-on-year"') :][:200]
    assert "billing.csv" in page


@pytest.mark.parametrize(
    ("persona", "status"),
    [("m1", 200), ("sup1", 200), ("admin", 200), ("m2", 404), ("m3", 404), ("sup2", 404)],
)
def test_the_figures_page_follows_the_customers_scope(
    client, login, en, make_customer, persona, status
):
    customer = make_customer(en["m1"])
    add_figures(customer, {0: 500})
    login(client, en[persona])
    response = client.get(f"/customers/{customer.id}/figures")
    assert response.status_code == status
    if status == 404:
        assert customer.name not in response.get_data(as_text=True)


def test_a_customer_without_figures_says_so(client, login, en, make_customer):
    customer = make_customer(en["m1"])
    login(client, en["m1"])
    assert 'id="no-figures"' in client.get(f"/customers/{customer.id}/figures").get_data(
        as_text=True
    )
    page = client.get(f"/customers/{customer.id}").get_data(as_text=True)
    assert "No business figures imported yet." in page and 'id="figures-link"' in page


def test_the_customer_page_sums_up_the_last_month_and_the_trend(
    client, login, en, make_customer, count_queries
):
    customer = make_customer(en["m1"])
    login(client, en["m1"])
    client.get(f"/customers/{customer.id}")
    db.session.commit()  # as after add_figures: the test's session starts afresh
    with count_queries() as without:
        client.get(f"/customers/{customer.id}")
    add_figures(customer, {5: 100, 4: 100, 3: 100, 2: 90, 1: 100, 0: 80})

    with count_queries() as with_figures:
        page = client.get(f"/customers/{customer.id}").get_data(as_text=True)

    panel = page[page.index('id="figures-panel"') :][:1500]
    assert f"Revenue in {LAST_MONTH:%Y-%m}:" in panel and "-20.0%" in panel  # 80 against 100
    assert "-10.0%" in panel  # the trend: 270 against 300
    assert len(with_figures) == len(without)  # the summary is one statement either way


def test_the_customer_list_shows_and_filters_by_the_revenue_trend(client, login, en, make_customer):
    sliding = make_customer(en["m1"], name="甲滑坡有限公司")
    add_figures(sliding, {5: 100, 4: 100, 3: 100, 2: 70, 1: 70, 0: 70})  # -30%
    easing = make_customer(en["m1"], name="乙微跌有限公司")
    add_figures(easing, {5: 100, 4: 100, 3: 100, 2: 95, 1: 95, 0: 95})  # -5%
    growing = make_customer(en["m1"], name="丙增长有限公司")
    add_figures(growing, {5: 100, 4: 100, 3: 100, 2: 120, 1: 120, 0: 120})  # +20%
    new = make_customer(en["m1"], name="丁新客户有限公司")
    login(client, en["m1"])

    def names(query: str) -> list[str]:
        page = client.get(f"/customers/?{query}").get_data(as_text=True)
        table = page[page.index('id="customer-list"') :]
        return re.findall(r">([^<>]+有限公司)</a>", table)

    page = client.get("/customers/").get_data(as_text=True)
    assert "-30.0%" in page and "+20.0%" in page and 'id="filter-trend"' in page
    assert names("trend=falling_fast") == [sliding.name]
    assert sorted(names("trend=falling")) == sorted([sliding.name, easing.name])
    assert names("trend=steady_or_rising") == [growing.name]
    assert names("trend=unknown") == [new.name]
    assert names("sort=trend") == [sliding.name, easing.name, growing.name, new.name]
    assert len(names("trend=nonsense")) == 4  # an unknown choice is ignored


def test_a_merge_moves_the_figures_and_adds_up_the_months_both_have(en, make_customer):
    survivor = make_customer(en["m1"])
    duplicate = make_customer(en["m1"])
    add_figures(survivor, {0: 100, 1: 100}, active_lines=10)
    add_figures(duplicate, {0: 50, 2: 70}, active_lines=5)

    record = merge_customers(survivor, duplicate, actor=en["admin"])
    db.session.commit()

    figures = {
        f.month: f
        for f in db.session.scalars(
            select(MonthlyFigure).where(MonthlyFigure.customer_id == survivor.id)
        )
    }
    assert sorted(figures) == [add_months(LAST_MONTH, -o) for o in (2, 1, 0)]
    last = figures[LAST_MONTH]
    assert last.revenue == 150 and last.active_lines == 15 and last.arpu == Decimal("10.00")
    assert figures[add_months(LAST_MONTH, -2)].revenue == 70
    assert record["moved"]["monthly_figures"] == 1 and record["figure_months_added_up"] == 1


def test_a_customer_with_figures_cannot_be_deleted(en, make_customer):
    customer = make_customer(en["m1"])
    add_figures(customer, {0: 100})
    with pytest.raises(DomainError) as refused:
        customer_service.delete_customer(customer, actor=en["admin"])
    with force_locale("en"):
        assert "merge them instead" in str(refused.value.message)


def test_the_figures_service_reads_nothing_out_of_scope(en, make_customer):
    """Called with another team's customer (a view that forgot its loader), they show none."""
    customer = make_customer(en["m1"])
    add_figures(customer, {0: 100, 1: 90})
    db.session.expire_all()
    loaded = get_in_scope_or_404(Customer, customer.id, en["m1"], *panels.SUMMARY)
    summary = panels.customer_summary(loaded)
    assert (summary.revenue, summary.change) == (100, Decimal("11.1"))
    with pytest.raises(NotFound):  # the summary rides in the customer's own, scoped, row
        get_in_scope_or_404(Customer, customer.id, en["m3"], *panels.SUMMARY)
    db.session.expire_all()
    assert panels.customer_summary(db.session.get(Customer, customer.id)) is None  # not loaded
    assert not panels.customer_figures(customer, viewer=en["m3"]).any
    assert panels.customer_figures(customer, viewer=en["sup1"]).any
