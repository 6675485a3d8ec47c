"""Customers, contacts and competitor profiles over the API: each write goes through the web
form's service, so a rule of the web form holds over the API with the same message."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import func, select

from crm.extensions import db
from crm.services.archive.customers import credit_code_error
from crm.services.archive.customers import history as customer_history
from models import CompetitorProfile, Contact, Customer
from tests.api_support import as_user, problem_of

VALID_CODE = "91350100M000100Y43"


def _count(model, *where) -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


# Customers -------------------------------------------------------------------------------


def test_a_customer_is_created_with_the_webs_rules_and_audit(client, org):
    response = client.post(
        "/api/v1/customers/",
        headers=as_user(org["m1"]),
        json={"name": " 福州软件有限公司 ", "credit_code": VALID_CODE.lower(), "tier": "A"},
    )
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    # The service normalised it as it does for the form: trimmed, the code in capitals.
    assert body["name"] == "福州软件有限公司" and body["credit_code"] == VALID_CODE
    assert body["owner_id"] == org["m1"].id  # a manager owns what they create
    assert response.headers["Location"].endswith(f"/api/v1/customers/{body['id']}")
    assert [e.action.value for e in customer_history(body["id"])] == ["create"]


def test_a_wrong_credit_code_is_refused_with_the_forms_message(client, org):
    body = problem_of(
        client.post(
            "/api/v1/customers/",
            headers=as_user(org["m1"]),
            json={"name": "校验位错误", "credit_code": "91350100M000100Y44"},
        ),
        422,
    )
    assert body["errors"] == [
        {
            "field": "credit_code",
            "location": "json",
            "message": str(credit_code_error("91350100M000100Y44")),
        }
    ]
    assert _count(Customer) == 0


def test_a_similar_name_needs_the_same_confirmation_as_on_the_web(client, org):
    headers = as_user(org["m1"])
    first = client.post(  # through the service, which keeps the name's key
        "/api/v1/customers/", headers=as_user(org["m3"]), json={"name": "厦门港务集团有限公司"}
    )
    assert first.status_code == 201
    refused = problem_of(
        client.post("/api/v1/customers/", headers=headers, json={"name": "厦门港务集团 有限公司"}),
        422,
    )
    assert refused["errors"][0]["field"] == "name"
    assert "m3" not in str(refused)  # another team's customer is not linked or owned-named
    confirmed = client.post(
        "/api/v1/customers/",
        headers=headers,
        json={"name": "厦门港务集团 有限公司", "confirm_duplicate": True},
    )
    assert confirmed.status_code == 201


def test_a_manager_cannot_give_a_customer_to_another_team(client, org, make_customer):
    customer = make_customer(org["m1"])
    body = problem_of(
        client.patch(
            f"/api/v1/customers/{customer.id}",
            headers=as_user(org["m1"]),
            json={"owner_id": org["m3"].id, "version": customer.version},
        ),
        422,
    )
    assert body["errors"][0]["field"] == "owner_id"
    db.session.expire_all()
    assert db.session.get(Customer, customer.id).owner_id == org["m1"].id


def test_a_supervisor_moves_a_customer_within_the_team(client, org, make_customer):
    customer = make_customer(org["m1"])
    response = client.patch(
        f"/api/v1/customers/{customer.id}",
        headers=as_user(org["sup1"]),
        json={"owner_id": org["m2"].id, "version": customer.version},
    )
    assert response.status_code == 200 and response.get_json()["owner_id"] == org["m2"].id


def test_the_group_parent_follows_the_webs_rules(client, org, make_customer):
    group = make_customer(org["m1"], name="福建集团")
    branch = make_customer(org["m1"], name="福建集团厦门分公司", parent=group)
    elsewhere = make_customer(org["m3"], name="外队集团")
    headers = as_user(org["m1"])
    got = client.get(f"/api/v1/customers/{branch.id}", headers=headers).get_json()
    assert got["parent_id"] == group.id
    # A loop (the group under its own branch) is refused with the form's message...
    loop = problem_of(
        client.patch(
            f"/api/v1/customers/{group.id}",
            headers=headers,
            json={"parent_id": branch.id, "version": group.version},
        ),
        422,
    )
    assert loop["errors"][0]["field"] == "parent_id"
    # ...and so is a parent outside the scope, as on the web form.
    outside = problem_of(
        client.post(
            "/api/v1/customers/",
            headers=headers,
            json={"name": "新分公司", "parent_id": elsewhere.id},
        ),
        422,
    )
    assert outside["errors"][0]["field"] == "parent_id"


def test_the_list_takes_the_web_lists_filters(client, org, make_customer, make_contact):
    from models import BuyingRole, Tier

    with_dm = make_customer(org["m1"], name="有决策者", tier=Tier.A, region="福州")
    make_contact(with_dm, role=BuyingRole.DECISION_MAKER)
    make_customer(org["m1"], name="无决策者", tier=Tier.A, region="厦门")
    make_customer(org["m1"], name="C类客户", tier=Tier.C, region="福州")
    make_customer(org["m3"], name="外队客户", tier=Tier.A, region="福州")
    headers = as_user(org["m1"])

    def names(query: str) -> set[str]:
        page = client.get(f"/api/v1/customers/?{query}", headers=headers).get_json()
        return {c["name"] for c in page["items"]}

    assert names("tier=A") == {"有决策者", "无决策者"}
    assert names("region=福州") == {"有决策者", "C类客户"}
    assert names("tier=A&no_decision_maker=true") == {"无决策者"}
    assert names("q=决策") == {"有决策者", "无决策者"}
    sup = as_user(org["sup1"])
    page = client.get(f"/api/v1/customers/?owner={org['m1'].id}", headers=sup).get_json()
    assert {c["name"] for c in page["items"]} == {"有决策者", "无决策者", "C类客户"}


# Contacts -----------------------------------------------------------------------------


def test_a_reporting_loop_is_refused_with_the_forms_message(
    client, org, make_customer, make_contact
):
    customer = make_customer(org["m1"])
    boss = make_contact(customer, name="王总")
    deputy = make_contact(customer, name="李副总", reports_to=boss)
    body = problem_of(
        client.patch(
            f"/api/v1/contacts/{boss.id}",
            headers=as_user(org["m1"]),
            json={"reports_to_id": deputy.id, "version": boss.version},
        ),
        422,
    )
    assert body["errors"][0]["field"] == "reports_to_id"
    assert "李副总" in body["detail"] and "王总" in body["detail"]
    db.session.expire_all()
    assert db.session.get(Contact, boss.id).reports_to_id is None


def test_a_contact_reports_to_someone_of_the_same_customer_only(
    client, org, make_customer, make_contact
):
    customer, other = make_customer(org["m1"]), make_customer(org["m1"])
    stranger = make_contact(other, name="别家的人")
    body = problem_of(
        client.post(
            "/api/v1/contacts/",
            headers=as_user(org["m1"]),
            json={
                "customer_id": customer.id,
                "name": "新联系人",
                "role": "influencer",
                "attitude": "neutral",
                "reports_to_id": stranger.id,
            },
        ),
        422,
    )
    assert "别家的人" not in str(body)
    assert _count(Contact, Contact.name == "新联系人") == 0


def test_a_contact_who_left_is_kept_inactive_and_listed_last(
    client, org, make_customer, make_contact
):
    customer = make_customer(org["m1"])
    leaving = make_contact(customer, name="甲")
    make_contact(customer, name="乙")
    headers = as_user(org["m1"])
    response = client.patch(
        f"/api/v1/contacts/{leaving.id}",
        headers=headers,
        json={"active": False, "version": leaving.version},
    )
    assert response.status_code == 200 and response.get_json()["active"] is False
    page = client.get(f"/api/v1/contacts/?customer_id={customer.id}&limit=1", headers=headers)
    first = page.get_json()
    rest = client.get(
        f"/api/v1/contacts/?customer_id={customer.id}&cursor={first['next_cursor']}",
        headers=headers,
    ).get_json()
    assert [c["name"] for c in first["items"] + rest["items"]] == ["乙", "甲"]


# Competitor profiles ----------------------------------------------------------------------


def test_one_profile_per_competitor_and_customer_as_on_the_web(
    client, org, make_customer, make_competitor, make_profile
):
    customer, rival = make_customer(org["m1"]), make_competitor(name="中国联通")
    make_profile(customer, rival)
    body = problem_of(
        client.post(
            "/api/v1/competitor-profiles/",
            headers=as_user(org["m1"]),
            json={"customer_id": customer.id, "competitor_id": rival.id},
        ),
        422,
    )
    assert body["errors"][0]["field"] == "competitor_id" and "中国联通" in body["detail"]
    assert _count(CompetitorProfile) == 1


def test_a_discount_above_100_percent_is_refused_by_the_service(
    client, org, make_customer, make_competitor
):
    customer, rival = make_customer(org["m1"]), make_competitor()
    body = problem_of(
        client.post(
            "/api/v1/competitor-profiles/",
            headers=as_user(org["m1"]),
            json={"customer_id": customer.id, "competitor_id": rival.id, "discount_percent": "150"},
        ),
        422,
    )
    assert body["errors"][0]["field"] == "discount_percent"


def test_a_patch_keeps_the_fields_it_leaves_out(client, org, make_customer, make_profile):
    profile = make_profile(make_customer(org["m1"]), offer="七折", discount_percent=Decimal("30"))
    response = client.patch(
        f"/api/v1/competitor-profiles/{profile.id}",
        headers=as_user(org["m1"]),
        json={"threat": "high", "version": profile.version},
    )
    body = response.get_json()
    assert response.status_code == 200
    assert (body["threat"], body["offer"], body["discount_percent"]) == ("high", "七折", "30.00")


def test_a_retired_competitor_takes_no_new_profile(client, org, make_customer, make_competitor):
    rival = make_competitor(name="退役对手", active=False)
    problem_of(
        client.post(
            "/api/v1/competitor-profiles/",
            headers=as_user(org["m1"]),
            json={"customer_id": make_customer(org["m1"]).id, "competitor_id": rival.id},
        ),
        422,
    )
    registry = client.get("/api/v1/competitors/", headers=as_user(org["m1"])).get_json()
    assert {"id": rival.id, "name": "退役对手", "active": False} in registry["items"]
