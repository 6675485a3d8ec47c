"""Personal access tokens: made on the account page and shown once, kept hashed, revocable by
their user and by an admin, ended by expiry and by deactivation; read-only ones cannot write;
the session cookie never signs an API call in; the secret never reaches a log."""

from __future__ import annotations

import hashlib
import logging
import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from crm.extensions import db
from crm.services.people import tokens, users
from models import ApiToken, Customer, TokenScope
from tests.api_support import as_user, bearer, problem_of, token_for

SECRET_ON_PAGE = re.compile(r'id="new-token-secret"[^>]*value="([^"]+)"')


def _make_on_account_page(client, scope="read_write", name="billing import") -> str:
    response = client.post(
        "/account/tokens",
        data={"token-name": name, "token-scope": scope, "token-lifetime_days": "30"},
    )
    assert response.status_code == 201, response.get_data(as_text=True)[:500]
    return SECRET_ON_PAGE.search(response.get_data(as_text=True)).group(1)


def test_a_token_made_on_the_account_page_is_shown_once_and_kept_only_as_a_hash(client, login, org):
    login(client, org["m1"])
    secret = _make_on_account_page(client)
    assert secret.startswith("crm_")
    response = client.post(
        "/account/tokens",
        data={"token-name": "x", "token-scope": "read", "token-lifetime_days": "30"},
    )
    assert secret not in response.get_data(as_text=True)  # the next answer does not repeat it
    # Not in the cookie either: the browser keeps that.
    assert secret not in (response.headers.get("Set-Cookie") or "")
    page = client.get("/account").get_data(as_text=True)
    assert secret not in page and "billing import" in page
    token = db.session.scalar(select(ApiToken).where(ApiToken.name == "billing import"))
    assert token.secret_hash == hashlib.sha256(secret.encode()).hexdigest()
    row = db.session.execute(select(ApiToken.__table__).where(ApiToken.id == token.id)).one()
    assert not any(isinstance(value, str) and secret in value for value in row)
    assert token.prefix in secret and len(token.prefix) < len(secret) // 3
    assert token.scope is TokenScope.READ_WRITE and token.user_id == org["m1"].id
    assert client.get("/api/v1/customers/", headers=bearer(secret)).status_code == 200


def test_the_account_page_refuses_a_token_without_a_name(client, login, org):
    login(client, org["m1"])
    response = client.post(
        "/account/tokens",
        data={"token-name": " ", "token-scope": "read", "token-lifetime_days": "30"},
    )
    assert response.status_code == 400
    assert db.session.scalar(select(ApiToken)) is None


def test_the_user_revokes_their_token_and_it_stops_at_once(client, login, org):
    login(client, org["m1"])
    secret = _make_on_account_page(client)
    token = db.session.scalar(select(ApiToken))
    response = client.post(f"/account/tokens/{token.id}/revoke", data={"confirmed": "1"})
    assert response.status_code == 302
    problem_of(client.get("/api/v1/customers/", headers=bearer(secret)), 401)
    db.session.expire_all()
    assert token.revoked_at is not None and token.revoked_by_id == org["m1"].id


def test_only_the_owner_or_an_admin_may_revoke_a_token(client, login, org):
    secret = token_for(org["m1"])
    token = db.session.scalar(select(ApiToken))
    for other in ("m2", "sup1"):  # a teammate and even the supervisor: not theirs
        login(client, org[other])
        assert (
            client.post(f"/account/tokens/{token.id}/revoke", data={"confirmed": "1"}).status_code
            == 404
        )
    assert client.get("/api/v1/customers/", headers=bearer(secret)).status_code == 200
    login(client, org["admin"])
    page = client.get(f"/admin/users/{org['m1'].id}").get_data(as_text=True)
    assert f'id="revoke-token-{token.id}"' in page and token.prefix in page
    response = client.post(f"/account/tokens/{token.id}/revoke", data={"confirmed": "1"})
    assert response.status_code == 302 and f"/admin/users/{org['m1'].id}" in response.location
    problem_of(client.get("/api/v1/customers/", headers=bearer(secret)), 401)


def test_deactivating_a_user_revokes_their_tokens(org):
    secret = token_for(org["m4"])
    users.deactivate_user(org["m4"], actor=org["admin"])
    db.session.commit()
    token = tokens.token_by_secret(secret)
    assert token.revoked_at is not None and not tokens.usable(token)
    # Reactivated, the account signs in again; the scripts need new tokens.
    users.reactivate_user(org["m4"], actor=org["admin"])
    db.session.commit()
    assert not tokens.usable(tokens.token_by_secret(secret))


def test_expired_unknown_and_malformed_tokens_answer_401(client, org):
    secret = token_for(org["m1"])
    token = tokens.token_by_secret(secret)
    token.expires_at = datetime.now(UTC) - timedelta(seconds=1)
    db.session.commit()
    for headers in (
        bearer(secret),  # expired
        bearer(secret[:-2] + "xx"),  # unknown
        bearer("not-a-token"),
        {"Authorization": f"Basic {secret}"},  # another scheme
        {"Authorization": "Bearer"},
        {},
    ):
        body = problem_of(client.get("/api/v1/customers/", headers=headers), 401)
        assert body["detail"]
    response = client.get("/api/v1/customers/")
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_a_token_of_a_deactivated_user_answers_401_even_if_not_revoked(client, org):
    secret = token_for(org["m4"])
    org["m4"].active = False  # as an old row or a direct change might leave it
    db.session.commit()
    problem_of(client.get("/api/v1/customers/", headers=bearer(secret)), 401)


def test_a_token_in_the_url_is_refused_and_not_used(client, org, make_customer):
    secret = token_for(org["m1"])
    make_customer(org["m1"], name="网址里的客户")
    for key in ("access_token", "token", "api_key"):
        response = client.get(f"/api/v1/customers/?{key}={secret}")
        body = problem_of(response, 400)
        assert "网址里的客户" not in response.get_data(as_text=True)
        assert "Authorization" in body["detail"]
    # Refused even with a valid header beside it: the URL has leaked already, say so.
    problem_of(client.get(f"/api/v1/customers/?access_token={secret}", headers=bearer(secret)), 400)


@pytest.mark.parametrize(
    ("method", "url", "body"),
    [
        ("post", "/api/v1/customers/", {"name": "只读令牌客户"}),
        ("patch", "/api/v1/customers/{id}", {"name": "改名", "version": 1}),
        ("delete", "/api/v1/competitor-profiles/{profile}", None),
    ],
)
def test_a_read_only_token_reads_but_cannot_write(
    client, org, make_customer, make_profile, method, url, body
):
    customer = make_customer(org["m1"], name="只读客户")
    profile = make_profile(customer)
    headers = as_user(org["m1"], TokenScope.READ)
    assert client.get(f"/api/v1/customers/{customer.id}", headers=headers).status_code == 200
    url = url.format(id=customer.id, profile=profile.id)
    response = getattr(client, method)(url, headers=headers, json=body)
    problem_of(response, 403)
    db.session.expire_all()
    assert db.session.get(Customer, customer.id).name == "只读客户"
    assert db.session.scalar(select(Customer).where(Customer.name == "只读令牌客户")) is None
    assert db.session.get(type(profile), profile.id) is not None


def test_the_session_cookie_does_not_sign_an_api_call_in(client, login, org, make_customer):
    make_customer(org["m1"], name="饼干客户")
    login(client, org["m1"])
    assert client.get("/customers/").status_code == 200  # signed in on the web
    response = client.get("/api/v1/customers/")
    problem_of(response, 401)
    problem_of(client.post("/api/v1/customers/", json={"name": "跨站请求"}), 401)
    assert db.session.scalar(select(Customer).where(Customer.name == "跨站请求")) is None
    # With a token, the token's user acts, whoever the cookie names.
    response = client.get("/api/v1/customers/", headers=as_user(org["m3"]))
    assert response.status_code == 200 and "饼干客户" not in response.get_data(as_text=True)


def test_the_last_use_is_recorded_at_most_once_a_minute(client, org, count_queries):
    secret = token_for(org["m1"])
    assert tokens.token_by_secret(secret).last_used_at is None
    client.get("/api/v1/customers/", headers=bearer(secret))
    first = tokens.token_by_secret(secret).last_used_at
    assert first is not None
    with count_queries() as statements:
        client.get("/api/v1/customers/", headers=bearer(secret))
    assert not [s for s in statements if s.lstrip().upper().startswith("UPDATE")]
    db.session.expire_all()
    assert tokens.token_by_secret(secret).last_used_at == first


def test_the_secret_never_reaches_a_log(client, login, org, caplog):
    caplog.set_level(logging.DEBUG)
    login(client, org["m1"])
    secret = _make_on_account_page(client)
    client.get("/api/v1/customers/", headers=bearer(secret))
    client.get("/api/v1/customers/999", headers=bearer(secret))  # a refused record is logged
    client.get(f"/api/v1/customers/?access_token={secret}")
    client.get("/api/v1/customers/", headers=bearer(secret + "x"))
    token = db.session.scalar(select(ApiToken))
    client.post(f"/account/tokens/{token.id}/revoke", data={"confirmed": "1"})
    client.get("/api/v1/customers/", headers=bearer(secret))
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "API token refused" in logged and token.prefix in logged  # named by its prefix
    assert secret not in logged
    assert secret.split("_", 2)[2] not in logged  # nor its secret part alone
