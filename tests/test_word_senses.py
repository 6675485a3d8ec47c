"""One English word, two meanings: each sense has its own message context (item 3).

"Title" is an opportunity's name and a contact's job title (the opportunity form said
职务); "Name" a company's 名称 and a person's 姓名; "User" a buying role (使用者) and an
account of this system (用户); "Kind" a visit's 方式 and an email's 类型; "Done" a
follow-up's status (已完成) and the button that closes it (完成).
"""

from __future__ import annotations

import re

import pytest

from crm.extensions import db
from crm.labels import label
from models import BuyingRole
from tests.test_i18n import read_catalog


def _label_of(html: str, field: str) -> str:
    match = re.search(rf'<label[^>]*for="{field}"[^>]*>(.*?)</label>', html, re.S)
    assert match, field
    return match[1].strip()


@pytest.fixture
def chinese(app, org, login):
    return login(app.test_client(), org["m1"])  # zh_CN is the default language


def test_the_opportunity_form_calls_its_title_an_opportunity_name(chinese, org, make_customer):
    customer = make_customer(org["m1"])
    html = chinese.get(f"/opportunities/new?customer_id={customer.id}").get_data(as_text=True)
    assert _label_of(html, "title") == "商机名称"


def test_the_contact_form_says_name_and_job_title_of_a_person(chinese, org, make_customer):
    customer = make_customer(org["m1"])
    html = chinese.get(f"/customers/{customer.id}/contacts/new").get_data(as_text=True)
    assert _label_of(html, "name") == "姓名"
    assert _label_of(html, "title") == "职务"


def test_the_buying_role_user_is_not_a_system_user(app, org, chinese):
    with app.test_request_context("/"):
        assert label(BuyingRole.USER) == "使用者"
    html = chinese.get("/contacts/").get_data(as_text=True)
    assert "<th>姓名</th>" in html and "<th>职务</th>" in html


def test_emails_have_a_kind_of_their_own_and_the_done_button_is_an_action(
    app, org, login, make_customer, make_reminder
):
    admin = login(app.test_client(), org["admin"])
    assert "类型" in admin.get("/admin/outbox/").get_data(as_text=True)
    reminder = make_reminder(make_customer(org["m1"]))
    db.session.commit()
    html = (
        login(app.test_client(), org["m1"]).get(f"/reminders/{reminder.id}").get_data(as_text=True)
    )
    assert re.search(r'id="done">\s*完成\s*</button>', html)


def test_words_with_two_senses_are_never_translated_without_a_context():
    """A new use of "Title" must say which title it means: the bare msgid is gone."""
    catalog = read_catalog()
    bare = {m.id for m in catalog if m.context is None and m.id in {"Title"}}
    assert bare == set()
    senses = {(m.context, m.id): m.string for m in catalog if m.context}
    assert senses[("opportunity", "Title")] != senses[("job", "Title")]
    assert senses[("buying role", "User")] != catalog.get("User").string
    assert senses[("person", "Name")] != catalog.get("Name").string
    assert senses[("email", "Kind")] != catalog.get("Kind").string
    assert senses[("action", "Done")] != catalog.get("Done").string
