"""Searchable pickers (issue 18): the scoped JSON lists the type-ahead reads, and pages whose
selects no longer grow with the data (crm/services/pickers.py)."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from crm.extensions import db
from crm.services.pickers import MOST, SHOWN
from models import Customer, Level, Role, User
from models.user import new_session_token

PARENT_REFUSED = "Choose a parent customer from your own customers."


@pytest.fixture
def english(org):
    for user in org.values():
        if isinstance(user, User):
            user.locale = "en"
    db.session.commit()
    return org


def _pick(client, url: str, **args):
    response = client.get(url, query_string=args)
    assert response.status_code == 200, (url, args, response.status_code, response.data[:200])
    return response.get_json()


def _labels(answer: dict) -> list[str]:
    return [result["label"] for result in answer["results"]]


def _many_customers(owner: User, count: int, start: int = 0) -> None:
    """`count` customers of one owner, names of one length ("批量客户00042号"), in one flush."""
    db.session.add_all(
        Customer(name=f"批量客户{i:05d}号", name_key=f"批量客户{i:05d}号", owner=owner)
        for i in range(start, start + count)
    )
    db.session.commit()


def _many_people(team, count: int, password_hash: str, start: int = 0) -> None:
    db.session.add_all(
        User(
            username=f"bulk{i:05d}",
            display_name=f"批量经理{i:05d}",
            email=f"bulk{i:05d}@example.com",
            password_hash=password_hash,
            session_token=new_session_token(),
            role=Role.MANAGER,
            level=Level.JUNIOR,
            team=team,
        )
        for i in range(start, start + count)
    )
    db.session.commit()


# The customer picker's JSON ---------------------------------------------------------------


def test_the_customer_picker_lists_only_the_viewers_scope(client, login, org, make_customer):
    own = make_customer(org["m1"], name="北辰能源集团有限公司")
    teammates = make_customer(org["m2"], name="北辰能源二分公司")
    other_team = make_customer(org["m3"], name="北辰能源三分公司")

    login(client, org["m1"])
    assert _labels(_pick(client, "/customers/pick.json", q="北辰")) == [own.name]
    # Another team's customer stays out even when its full name is typed.
    assert _pick(client, "/customers/pick.json", q=other_team.name)["results"] == []

    login(client, org["sup1"])
    assert set(_labels(_pick(client, "/customers/pick.json", q="北辰"))) == {
        own.name,
        teammates.name,
    }

    login(client, org["admin"])
    assert len(_pick(client, "/customers/pick.json", q="北辰")["results"]) == 3


def test_the_customer_picker_answers_ids_labels_and_regions(client, login, org, make_customer):
    customer = make_customer(org["m1"], name="华南人民医院", region="广州")
    login(client, org["m1"])

    answer = _pick(client, "/customers/pick.json", q="医院")

    assert answer == {
        "results": [{"id": customer.id, "label": "华南人民医院", "detail": "广州"}],
        "more": False,
    }


def test_two_chinese_characters_find_a_customer_and_like_wildcards_are_plain_text(
    client, login, org, make_customer
):
    make_customer(org["m1"], name="中国人寿保险股份有限公司")
    make_customer(org["m1"], name="招商银行深圳分行")
    make_customer(org["m1"], name="人民医院")
    login(client, org["m1"])

    assert _labels(_pick(client, "/customers/pick.json", q="人寿")) == ["中国人寿保险股份有限公司"]
    assert _labels(_pick(client, "/customers/pick.json", q="银行")) == ["招商银行深圳分行"]
    assert _pick(client, "/customers/pick.json", q="%")["results"] == []
    assert _pick(client, "/customers/pick.json", q="_")["results"] == []
    # No term: the first by name, for a list that opens before anything is typed.
    assert len(_pick(client, "/customers/pick.json")["results"]) == 3


def test_the_limit_cuts_the_answer_and_says_more_exist(client, login, org, make_customer):
    for name in ("甲公司", "乙公司", "丙公司"):
        make_customer(org["m1"], name=name)
    login(client, org["m1"])

    answer = _pick(client, "/customers/pick.json", q="公司", limit=2)

    assert len(answer["results"]) == 2 and answer["more"] is True
    assert _pick(client, "/customers/pick.json", q="公司", limit=3)["more"] is False


@pytest.mark.parametrize("url", ["/customers/pick.json", "/people/pick.json"])
def test_a_signed_out_picker_goes_to_the_sign_in_page(client, url):
    response = client.get(url, query_string={"q": "北辰"})

    assert response.status_code == 302 and "/login" in response.location


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({"limit": "0"}, "The limit must be a number from 1 to 50."),
        ({"limit": str(MOST + 1)}, "The limit must be a number from 1 to 50."),
        ({"limit": "ten"}, "The limit must be a number from 1 to 50."),
        ({"limit": "-1"}, "The limit must be a number from 1 to 50."),
        ({"q": "长" * 101}, "Search for at most 100 characters."),
    ],
)
@pytest.mark.parametrize("url", ["/customers/pick.json", "/people/pick.json"])
def test_bad_picker_queries_answer_400_with_why(client, login, english, url, args, message):
    login(client, english["m1"])

    response = client.get(url, query_string=args)

    assert response.status_code == 400
    assert response.get_json() == {"error": message}


# The people picker's JSON -----------------------------------------------------------------


def test_the_people_picker_lists_whom_the_viewer_may_filter_by(client, login, org, make_user):
    gone = make_user("gone", Role.MANAGER, team=org["team1"], active=False)

    login(client, org["sup1"])
    team = {r["detail"] for r in _pick(client, "/people/pick.json")["results"]}
    assert team == {"sup1", "m1", "m2"}  # not Team Two's, not one who left
    assert gone.username not in team

    login(client, org["admin"])
    everyone = {r["detail"] for r in _pick(client, "/people/pick.json")["results"]}
    assert everyone == {"admin", "sup1", "sup2", "m1", "m2", "m3", "m4"}
    managers = _pick(client, "/people/pick.json", role="manager")["results"]
    assert {r["detail"] for r in managers} == {"m1", "m2", "m3", "m4"}
    both = _pick(client, "/people/pick.json", role=["manager", "supervisor"], q="sup")
    assert {r["detail"] for r in both["results"]} == {"sup1", "sup2"}

    login(client, org["m1"])  # a manager filters by nobody but themselves
    assert [r["detail"] for r in _pick(client, "/people/pick.json")["results"]] == ["m1"]


def test_the_people_picker_finds_by_name_or_username(client, login, org, make_user):
    make_user("zhangwei", Role.MANAGER, team=org["team1"], display_name="张伟")
    login(client, org["sup1"])

    assert _labels(_pick(client, "/people/pick.json", q="张伟")) == ["张伟"]
    assert _labels(_pick(client, "/people/pick.json", q="zhang")) == ["张伟"]


def test_an_unknown_role_is_refused(client, login, english):
    login(client, english["admin"])

    response = client.get("/people/pick.json", query_string={"role": "boss"})

    assert response.status_code == 400
    assert "Unknown role" in response.get_json()["error"]


# The customer form -----------------------------------------------------------------------


def _new_customer(**fields) -> dict:
    return {
        "name": "新建分公司有限公司",
        "tier": "C",
        "status": "prospect",
        "strategy": "",
        "industry_id": 0,
        **fields,
    }


def test_an_out_of_scope_parent_is_refused_with_a_message(client, login, english, make_customer):
    other = make_customer(english["m3"], name="别组的集团有限公司")
    login(client, english["m1"])
    before = db.session.scalar(select(func.count()).select_from(Customer))

    response = client.post("/customers/new", data=_new_customer(parent_id=other.id))

    body = response.get_data(as_text=True)
    assert response.status_code == 400
    assert PARENT_REFUSED in body
    assert other.name not in body  # the refusal does not name another team's customer
    assert db.session.scalar(select(func.count()).select_from(Customer)) == before


def test_a_parent_the_page_did_not_list_is_accepted_when_in_scope(client, login, org):
    _many_customers(org["m1"], SHOWN + 20)
    last = db.session.scalar(
        select(Customer).where(Customer.owner_id == org["m1"].id).order_by(Customer.name.desc())
    )
    login(client, org["m1"])
    page = client.get("/customers/new").get_data(as_text=True)
    assert f'value="{last.id}"' not in page  # beyond the short list: found by typing

    response = client.post("/customers/new", data=_new_customer(parent_id=last.id))

    assert response.status_code == 302
    saved = db.session.scalar(select(Customer).where(Customer.name == "新建分公司有限公司"))
    assert saved.parent_id == last.id


def test_a_refused_form_keeps_the_typed_in_parent_selected(client, login, org):
    _many_customers(org["m1"], SHOWN + 20)
    last = db.session.scalar(
        select(Customer).where(Customer.owner_id == org["m1"].id).order_by(Customer.name.desc())
    )
    login(client, org["m1"])

    response = client.post("/customers/new", data=_new_customer(name="", parent_id=last.id))

    assert response.status_code == 400
    select_html = _select(response.get_data(as_text=True), "parent_id")
    assert f'<option selected value="{last.id}">{last.name}</option>' in select_html


def test_a_preselected_parent_beyond_the_short_list_is_shown_selected(client, login, org):
    _many_customers(org["m1"], SHOWN + 20)
    last = db.session.scalar(
        select(Customer).where(Customer.owner_id == org["m1"].id).order_by(Customer.name.desc())
    )
    login(client, org["m1"])

    page = client.get(f"/customers/new?parent={last.id}").get_data(as_text=True)

    assert f'<option selected value="{last.id}">' in _select(page, "parent_id")


# Pages that no longer grow with the data --------------------------------------------------


def _select(page: str, name: str) -> str:
    found = re.search(rf'<select[^>]*name="{name}"[^>]*>.*?</select>', page, re.S)
    assert found, f"no select {name}"
    return found.group(0)


def _options(page: str, name: str) -> int:
    return _select(page, name).count("<option")


def _form_page(client, count_queries, url: str) -> tuple[str, int]:
    with count_queries() as statements:
        response = client.get(url)
    assert response.status_code == 200, url
    return response.get_data(as_text=True), len(statements)


def test_the_customer_form_stays_the_same_size_with_many_customers_and_users(
    client, login, org, count_queries, password_hash
):
    login(client, org["admin"])
    _many_customers(org["m1"], SHOWN + 10)
    _many_people(org["team1"], SHOWN + 10, password_hash)
    page, statements = _form_page(client, count_queries, "/customers/new")

    _many_customers(org["m1"], 400, start=SHOWN + 10)
    _many_people(org["team1"], 200, password_hash, start=SHOWN + 10)
    more_page, more_statements = _form_page(client, count_queries, "/customers/new")

    for field in ("parent_id", "owner_id"):
        assert _options(more_page, field) <= SHOWN + 2, field  # "—" and the chosen one
        assert 'data-picker="' in _select(more_page, field), field
    assert more_statements == statements
    assert abs(len(more_page) - len(page)) < 100, (len(page), len(more_page))


def test_a_short_list_is_a_plain_select(client, login, org, make_customer):
    make_customer(org["m1"], name="唯一的集团有限公司")
    login(client, org["m1"])

    page = client.get("/customers/new").get_data(as_text=True)

    assert "唯一的集团有限公司" in _select(page, "parent_id")
    assert "data-picker" not in _select(page, "parent_id")  # no type-ahead for a few choices


# Owner filters and people pickers: (url, select name) as an admin sees them.
ADMIN_PICKERS = [
    ("/customers/", "owner"),
    ("/customers/at-risk", "owner"),
    ("/service/", "owner"),
    ("/opportunities/", "owner"),
    ("/opportunities/board", "owner"),
    ("/visits/", "member"),
    ("/reminders/", "owner"),
    ("/handovers/new", "owner"),
    ("/handovers/new", "to_owner"),
    ("/reports/", "manager"),
    ("/reports/plans", "manager"),
    ("/admin/teams/new", "supervisor_id"),
]


def test_every_people_picker_holds_a_short_list(client, login, org, password_hash):
    _many_people(org["team1"], SHOWN + 30, password_hash)
    db.session.add_all(
        User(
            username=f"lead{i:03d}",
            display_name=f"批量主管{i:03d}",
            password_hash=password_hash,
            session_token=new_session_token(),
            role=Role.SUPERVISOR,
            level=Level.SENIOR,
        )
        for i in range(SHOWN + 5)
    )
    db.session.commit()
    login(client, org["admin"])

    for url, name in [*ADMIN_PICKERS, (f"/admin/teams/{org['team1'].id}", "user_id")]:
        page = client.get(url)
        assert page.status_code == 200, url
        html = _select(page.get_data(as_text=True), name)
        assert html.count("<option") <= SHOWN + 2, (url, name, html.count("<option"))
        assert 'data-picker="/people/pick.json' in html, (url, name)


def test_a_chosen_owner_beyond_the_short_list_stays_chosen(client, login, org, password_hash):
    _many_people(org["team1"], SHOWN + 10, password_hash)
    last = db.session.scalar(select(User).order_by(User.display_name.desc()))
    login(client, org["admin"])

    page = client.get(f"/customers/?owner={last.id}").get_data(as_text=True)

    assert f'<option value="{last.id}" selected>{last.display_name}</option>' in _select(
        page, "owner"
    )


def test_another_teams_owner_is_not_put_in_a_supervisors_filter(client, login, org):
    login(client, org["sup1"])

    page = client.get(f"/customers/?owner={org['m3'].id}").get_data(as_text=True)

    assert org["m3"].display_name not in _select(page, "owner")


def test_a_managers_own_customer_pickers_hold_a_short_list(client, login, org):
    """The log-a-visit page and the week and month plans' add forms: a portfolio of hundreds."""
    from datetime import UTC, datetime

    from crm.services.plans import lifecycle, periods
    from models import PlanKind

    m1 = org["m1"]
    _many_customers(m1, SHOWN + 20)
    today = datetime.now(UTC).date()
    week = lifecycle.start_plan(
        PlanKind.WEEK, periods.starts_on_for(PlanKind.WEEK, periods.today_for(m1)), actor=m1
    )
    month = lifecycle.start_plan(
        PlanKind.MONTH, periods.starts_on_for(PlanKind.MONTH, today), actor=m1
    )
    db.session.commit()
    login(client, m1)

    for url in ("/visits/new", f"/plans/{week.id}", f"/plans/{month.id}"):
        html = _select(client.get(url).get_data(as_text=True), "customer_id")
        assert html.count("<option") <= SHOWN + 1, (url, html.count("<option"))
        assert 'data-picker="/customers/pick.json"' in html, url
