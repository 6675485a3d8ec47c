"""The API's conventions: problem+json errors with a field list, cursor pagination in a
stable order, Idempotency-Key on POST, the record's version on PATCH (409 when stale), a
rate limit per token (429 with Retry-After), UTC RFC 3339 times and money as strings."""

from __future__ import annotations

import json
import re
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from crm.extensions import db
from models import Customer
from tests.api_support import PROBLEM_JSON, as_user, bearer, problem_of, token_for

# Errors ----------------------------------------------------------------------------------


def test_refused_input_is_a_problem_with_one_entry_per_field(client, org):
    response = client.post(
        "/api/v1/customers/",
        headers=as_user(org["m1"]),
        json={"tier": "Z", "employees": "many", "colour": "red"},
    )
    body = problem_of(response, 422)
    fields = {(e["field"], e["location"]) for e in body["errors"]}
    assert fields == {("name", "json"), ("tier", "json"), ("employees", "json"), ("colour", "json")}
    assert all(e["message"] for e in body["errors"])
    assert body["instance"] == "/api/v1/customers/"
    assert db.session.scalar(select(func.count()).select_from(Customer)) == 0


def test_a_control_character_in_the_body_is_refused_with_the_webs_message(client, org):
    body = problem_of(
        client.post("/api/v1/customers/", headers=as_user(org["m1"]), json={"name": "A\x00B"}),
        422,
    )
    assert body["errors"][0]["field"] == "name" and "U+0000" in body["errors"][0]["message"]


@pytest.mark.parametrize(
    ("method", "url", "status"),
    [
        ("get", "/api/v1/no-such-thing", 404),
        ("get", "/api/v1/customers/12345", 404),
        ("get", "/api/v1/customers/" + "9" * 40, 404),  # fits no id column
        ("delete", "/api/v1/customers/", 405),
        ("get", "/api/v1/customers/?q=%01", 400),  # a control character in the query
    ],
)
def test_http_errors_under_the_api_are_problems_not_pages(client, org, method, url, status):
    response = getattr(client, method)(url, headers=as_user(org["m1"]))
    problem_of(response, status)
    assert "<html" not in response.get_data(as_text=True)


def test_the_web_keeps_its_html_error_pages(client, login, org):
    login(client, org["m1"])
    response = client.get("/customers/12345")
    assert response.status_code == 404 and "text/html" in response.content_type


def test_messages_come_in_the_token_owners_language(client, org, make_user):
    chinese = make_user("zh_user", locale="zh_CN")
    english = make_user("en_user", locale="en")
    body = {"name": "语言客户", "credit_code": "123"}
    zh = problem_of(client.post("/api/v1/customers/", headers=as_user(chinese), json=body), 422)
    en = problem_of(client.post("/api/v1/customers/", headers=as_user(english), json=body), 422)
    assert "18" in zh["detail"] and re.search(r"[\u4e00-\u9fff]", zh["detail"])
    assert en["detail"].startswith("A unified social credit code has 18 characters")
    assert re.search(r"[\u4e00-\u9fff]", zh["title"]) and en["title"] == "Invalid input"


# Representations ------------------------------------------------------------------------


def test_times_are_utc_rfc3339_and_money_is_a_decimal_string(client, org, make_customer):
    customer = make_customer(org["m1"], annual_spend=Decimal("1234567.50"))
    body = client.get(f"/api/v1/customers/{customer.id}", headers=as_user(org["m1"])).get_json()
    assert body["annual_spend"] == "1234567.50"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z", body["created_at"])
    assert body["version"] == customer.version


# Pagination ---------------------------------------------------------------------------------


def _walk(client, headers, url: str) -> list[dict]:
    items, cursor = [], None
    while True:
        query = f"{url}{'&' if '?' in url else '?'}limit=2" + (
            f"&cursor={cursor}" if cursor else ""
        )
        page = client.get(query, headers=headers).get_json()
        items += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            return items


@pytest.mark.parametrize("sort", ["name", "-name", "tier", "updated", "expiry"])
def test_pages_follow_a_stable_order_without_gaps_or_repeats(client, org, make_customer, sort):
    from datetime import date

    for number, tier in enumerate(["A", "B", "A", "C", "B", "A+", "C"]):
        make_customer(
            org["m1"],
            name=f"客户{number % 3}",  # names repeat: the id breaks the tie
            tier=tier,
            contract_expiry=date(2027, 1, number + 1) if number % 2 else None,
        )
    headers = as_user(org["m1"])
    everything = client.get(f"/api/v1/customers/?sort={sort}&limit=100", headers=headers)
    expected = [c["id"] for c in everything.get_json()["items"]]
    assert len(expected) == 7
    assert [c["id"] for c in _walk(client, headers, f"/api/v1/customers/?sort={sort}")] == expected


@pytest.mark.parametrize("sort", ["name", "-name", "tier", "updated", "expiry"])
def test_a_teams_list_is_sorted_as_an_administrators(client, org, make_customer, sort):
    """A supervisor's rows are sorted whole (crm/services/ordering.py), an admin's are
    read in order from the index: the same order either way."""
    from datetime import date

    for number, tier in enumerate(["A", "B", "A", "C", "B", "A+", "C"]):
        for owner in ("m1", "m2", "m3"):  # m3: another team's, left out of the supervisor's
            make_customer(
                org[owner],
                name=f"客户{(number * 5) % 4}",
                tier=tier,
                contract_expiry=date(2027, 1, number + 1) if number % 2 else None,
            )
    url = f"/api/v1/customers/?sort={sort}"
    team = _walk(client, as_user(org["sup1"]), url)
    everyone = _walk(client, as_user(org["admin"]), url)
    team_ids = {c["id"] for c in team}
    assert len(team) == 14
    assert [c["id"] for c in team] == [c["id"] for c in everyone if c["id"] in team_ids]


@pytest.mark.parametrize("viewer", ["m1", "admin"])
def test_contact_pages_cross_from_the_active_to_the_departed_without_gaps_or_repeats(
    client, org, make_customer, make_contact, viewer
):
    """The contacts' order starts with a true/false key (still at the customer first),
    compared by IS in the cursor (blueprints/api/pagination.flag): walked two at a time,
    the pages give the order of one page of 100, across the flag's change."""
    customer = make_customer(org["m1"])
    for number in range(7):
        make_contact(customer, name=f"联系人{number % 3}", active=number % 3 != 1)
    headers = as_user(org[viewer])
    everything = client.get("/api/v1/contacts/?limit=100", headers=headers).get_json()["items"]
    assert len(everything) == 7
    flags = [c["active"] for c in everything]
    assert flags == sorted(flags, reverse=True) and False in flags  # active ones first
    walked = _walk(client, headers, "/api/v1/contacts/")  # two a page
    assert [c["id"] for c in walked] == [c["id"] for c in everything]


def test_a_row_added_between_two_pages_neither_repeats_nor_hides_a_row(client, org, make_customer):
    for name in ("甲", "乙", "丙", "丁"):
        make_customer(org["m1"], name=name)
    headers = as_user(org["m1"])
    first = client.get("/api/v1/customers/?limit=2", headers=headers).get_json()
    make_customer(
        org["m1"], name="丁丁"
    )  # sorts before the next page's rows... or not: a cursor keeps its place
    second = client.get(
        f"/api/v1/customers/?limit=10&cursor={first['next_cursor']}", headers=headers
    ).get_json()
    seen = [c["name"] for c in first["items"] + second["items"]]
    assert len(seen) == len(set(seen))
    assert set(seen) >= {"甲", "乙", "丙", "丁"}


def test_a_limit_above_100_and_a_forged_cursor_are_refused(client, org):
    headers = as_user(org["m1"])
    body = problem_of(client.get("/api/v1/customers/?limit=101", headers=headers), 422)
    assert body["errors"][0] == {**body["errors"][0], "field": "limit", "location": "query"}
    problem_of(client.get("/api/v1/customers/?cursor=abc", headers=headers), 422)


def test_a_cursor_of_another_order_is_refused(client, org, make_customer):
    for _ in range(3):
        make_customer(org["m1"])
    headers = as_user(org["m1"])
    cursor = client.get("/api/v1/customers/?limit=1", headers=headers).get_json()["next_cursor"]
    problem_of(client.get(f"/api/v1/customers/?sort=tier&cursor={cursor}", headers=headers), 422)


def test_a_page_of_100_customers_takes_a_fixed_number_of_statements(
    client, org, make_customer, count_queries
):
    headers = as_user(org["m1"])
    client.get("/api/v1/customers/", headers=headers)  # the token's last use is recorded
    for _ in range(3):
        make_customer(org["m1"])
    with count_queries() as few:
        client.get("/api/v1/customers/?limit=100", headers=headers)
    for _ in range(60):
        make_customer(org["m1"])
    with count_queries() as many:
        client.get("/api/v1/customers/?limit=100", headers=headers)
    assert len(many) == len(few) <= 3


# Idempotency keys -----------------------------------------------------------------------------


def _customers_named(name: str) -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).where(Customer.name == name))


def test_a_retried_create_with_the_same_key_creates_once_and_answers_the_same(client, org):
    headers = {**as_user(org["m1"]), "Idempotency-Key": "2d0c-retry-1"}
    first = client.post("/api/v1/customers/", headers=headers, json={"name": "重试客户"})
    again = client.post("/api/v1/customers/", headers=headers, json={"name": "重试客户"})
    assert first.status_code == again.status_code == 201
    assert again.get_json() == first.get_json()
    assert again.headers["Location"] == first.headers["Location"]
    assert again.headers["Idempotent-Replayed"] == "true"
    assert _customers_named("重试客户") == 1


def test_the_same_key_with_another_body_is_refused(client, org):
    headers = {**as_user(org["m1"]), "Idempotency-Key": "k-1"}
    client.post("/api/v1/customers/", headers=headers, json={"name": "第一个"})
    body = problem_of(
        client.post("/api/v1/customers/", headers=headers, json={"name": "第二个"}), 422
    )
    assert "Idempotency-Key" in body["detail"]
    assert _customers_named("第二个") == 0


def test_keys_belong_to_their_user_and_refusals_are_not_kept(client, org):
    key = {"Idempotency-Key": "shared-key"}
    refused = client.post(
        "/api/v1/customers/", headers={**as_user(org["m1"]), **key}, json={"name": ""}
    )
    assert refused.status_code == 422
    # The refusal made nothing and kept nothing: the corrected request goes through.
    ok = client.post(
        "/api/v1/customers/", headers={**as_user(org["m1"]), **key}, json={"name": "改正后"}
    )
    assert ok.status_code == 201
    other = client.post(
        "/api/v1/customers/", headers={**as_user(org["m3"]), **key}, json={"name": "另一家"}
    )
    assert other.status_code == 201 and "Idempotent-Replayed" not in other.headers
    assert other.get_json()["id"] != ok.get_json()["id"]


def test_without_a_key_two_posts_create_two(client, org):
    headers = as_user(org["m1"])
    for _ in range(2):
        client.post(
            "/api/v1/customers/",
            headers=headers,
            json={"name": "无键客户", "confirm_duplicate": True},
        )
    assert _customers_named("无键客户") == 2


def test_a_bad_key_is_refused(client, org):
    headers = {**as_user(org["m1"]), "Idempotency-Key": "x" * 201}
    problem_of(client.post("/api/v1/customers/", headers=headers, json={"name": "长键"}), 422)


# Versions ------------------------------------------------------------------------------------


def test_a_stale_version_answers_409_with_the_stored_record(client, org, make_customer):
    customer = make_customer(org["m1"], name="版本客户")
    headers = as_user(org["m1"])
    first = client.patch(
        f"/api/v1/customers/{customer.id}", headers=headers, json={"region": "上海", "version": 1}
    )
    assert first.status_code == 200 and first.get_json()["version"] == 2
    stale = client.patch(
        f"/api/v1/customers/{customer.id}", headers=headers, json={"region": "北京", "version": 1}
    )
    body = problem_of(stale, 409)
    assert body["current"]["region"] == "上海" and body["current"]["version"] == 2
    db.session.expire_all()
    assert db.session.get(Customer, customer.id).region == "上海"


def test_a_patch_without_its_version_is_refused(client, org, make_customer):
    customer = make_customer(org["m1"])
    body = problem_of(
        client.patch(
            f"/api/v1/customers/{customer.id}", headers=as_user(org["m1"]), json={"region": "x"}
        ),
        422,
    )
    assert [e["field"] for e in body["errors"]] == ["version"]


# Rate limit ------------------------------------------------------------------------------------


class TestRateLimit:
    @pytest.fixture
    def app_overrides(self):
        return {"API_RATE_LIMIT": "3 per minute"}

    def test_it_is_per_token_and_answers_429_with_retry_after(self, client, org):
        mine, theirs = token_for(org["m1"]), token_for(org["m2"])
        for _ in range(3):
            assert client.get("/api/v1/customers/", headers=bearer(mine)).status_code == 200
        response = client.get("/api/v1/customers/", headers=bearer(mine))
        problem_of(response, 429)
        assert int(response.headers["Retry-After"]) > 0
        # The budget is the token's across the API, not per resource...
        problem_of(client.get("/api/v1/contacts/", headers=bearer(mine)), 429)
        # ...and another token has its own.
        assert client.get("/api/v1/customers/", headers=bearer(theirs)).status_code == 200


def test_the_problem_document_is_json_with_its_media_type(client, org):
    response = client.get("/api/v1/customers/1")
    assert response.content_type == PROBLEM_JSON
    assert json.loads(response.get_data(as_text=True))["status"] == 401
