"""The weekly plan page writes the forms under each planned visit out by its own macros
(templates/plans/_planned_visit_forms.html), not from a WTForms object per planned visit:
they must stay what PlannedVisitEditForm and LinkVisitForm render and read — the same
fields, names, ids, values, labels, chosen options and CSRF field, in both languages."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from flask import render_template_string
from flask_login import login_user

from blueprints.plans.forms import LinkVisitForm, PlannedVisitEditForm
from crm.extensions import db
from crm.i18n import user_zone
from crm.services.plans import lifecycle, matching, periods, week
from models import PlanKind

# What the page rendered before, from the forms themselves (templates/plans/week.html).
WTFORMS_EDIT = """{% from "_macros.html" import field %}
{{ f.hidden_tag() }}{{ field(f.day) }}{{ field(f.purpose) }}
{% if f.contact_ids.choices %}<fieldset class="mb-3">
<legend class="form-label fs-6">{{ f.contact_ids.label.text }}</legend>
{{ f.contact_ids(class_='list-unstyled mb-0') }}</fieldset>{% endif %}
{{ field(f.opportunity_id) }}"""
WTFORMS_LINK = """{{ f.hidden_tag() }}
{{ f.visit_id(class_='form-select form-select-sm', **{'aria-label': f.visit_id.label.text}) }}"""


@pytest.fixture
def app_overrides():
    return {"WTF_CSRF_ENABLED": True}  # the CSRF field is part of what must match


def inside(body: str, action: str) -> str:
    """The inside of the page's form posting to `action`, without its button."""
    opening = rf'<form method="post" action="{re.escape(action)}"[^>]*>'
    found = re.search(opening + r"(.*?)</form>", body, re.S)
    assert found, action
    return re.sub(r"<button.*?</button>", "", found.group(1), flags=re.S)


def same(html: str) -> str:
    """Whitespace between tags folded, and the CSRF token's value (signed with the time) out."""
    html = re.sub(r'(name="[^"]*csrf_token" type="hidden" value=")[^"]+', r"\1", html)
    return re.sub(r"\s+", " ", re.sub(r">\s+<", "><", html)).strip()


@pytest.mark.parametrize("language", ["zh_CN", "en"])
def test_the_forms_under_a_planned_visit_are_those_the_routes_read(
    app, client, login, org, make_customer, make_contact, make_opportunity, make_visit, language
):
    m1 = org["m1"]
    m1.locale = language
    monday = periods.starts_on_for(PlanKind.WEEK, periods.today_for(m1)) - timedelta(days=7)
    plan = lifecycle.start_plan(PlanKind.WEEK, monday, actor=m1)
    customer = make_customer(m1, name="甲&乙银行")
    chosen = make_contact(customer, name="张<三>")
    make_contact(customer, name="李四")  # offered, not chosen
    opportunity = make_opportunity(customer, title="专线 “扩容”")
    make_opportunity(customer, title="云桌面")
    planned = week.add_planned_visit(
        plan,
        actor=m1,
        customer=customer,
        day=monday + timedelta(days=2),
        purpose="方案 <交流> & 报价",
        contacts=[chosen],
        opportunity=opportunity,
    )
    bare = week.add_planned_visit(plan, actor=m1, customer=make_customer(m1), day=monday)
    db.session.commit()
    start = periods.period_of(plan).start
    for hours in (3, 30):
        make_visit(customer, occurred_at=start + timedelta(hours=hours))
    login(client, m1)

    body = client.get(f"/plans/{plan.id}").get_data(as_text=True)

    with app.test_request_context():
        login_user(m1)
        days, zone = week.week_days(plan), user_zone(m1)
        choices = week.edit_choices(plan)
        actual = matching.plan_vs_actual(plan)
        for p in (planned, bare):
            contacts, opportunities = choices[p.customer_id]
            form = PlannedVisitEditForm(
                formdata=None,
                prefix=f"v{p.id}",
                days=days,
                contacts=contacts,
                opportunities=opportunities,
                day=p.day.isoformat(),
                purpose=p.purpose,
                contact_ids=[c.id for c in p.contacts],
                opportunity_id=p.opportunity_id or 0,
            )
            expected = render_template_string(WTFORMS_EDIT, f=form)
            assert same(inside(body, f"/plans/visits/{p.id}/edit")) == same(expected)
            if p is planned:  # the chosen contact, day and opportunity were compared
                assert "checked" in expected and expected.count("selected") == 2
        link = LinkVisitForm(
            formdata=None,
            prefix=f"l{planned.id}",
            visits=[
                (v.id, v.occurred_at.astimezone(zone).strftime("%m-%d %H:%M"))
                for v in actual.candidates(planned)
            ],
            visit_id=planned.visit_id or 0,
        )
        expected = render_template_string(WTFORMS_LINK, f=link)
    assert same(inside(body, f"/plans/visits/{planned.id}/link")) == same(expected)
    assert f"/plans/visits/{bare.id}/link" not in body  # no visit to that customer: no form


def test_the_customer_pickers_render_as_wtforms_select_does(app):
    """ManySelect (the plan pages' customer pickers) only renders faster."""
    from wtforms.widgets import Select

    from blueprints.plans.forms import ManySelect, PlannedVisitForm
    from crm.labels import options

    customers = [(1, "甲&乙银行"), (2, '"引号" <公司>'), (3, "丙")]
    with app.test_request_context():
        form = PlannedVisitForm(formdata=None, customer_id=2)
        field = form.customer_id
        field.choices = [*field.choices, *options(customers)]  # as offer_own_customers does
        assert isinstance(field.widget, ManySelect)
        assert str(field(class_="form-select")) == str(Select()(field, class_="form-select"))
        assert '<option selected value="2">&#34;引号&#34; &lt;公司&gt;</option>' in str(field())
