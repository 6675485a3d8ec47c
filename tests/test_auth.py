"""Sign-in: passwords, rate limits, deactivation, ending sessions, redirects, headers."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import pytest
from flask_login.utils import _create_identifier
from sqlalchemy import func, select, update

from crm import create_app
from crm.extensions import db
from crm.services.people import users as user_service
from models import UserSession
from tests.conftest import TEST_PASSWORD


def sign_in(client, username, password=TEST_PASSWORD, next_url=None):
    data = {"username": username, "password": password}
    if next_url is not None:
        data["next"] = next_url
    return client.post("/login", data=data)


def test_sign_in_and_out(client, org):
    response = sign_in(client, "m1")
    assert response.status_code == 302 and response.location == "/"
    assert client.get("/").status_code == 200
    assert client.get("/logout").status_code == 405  # signing out is a POST
    assert client.post("/logout").status_code == 302
    assert client.get("/").status_code == 302


def copy_of_cookie(app, client):
    """Another client holding the same session cookie: a stolen or copied cookie."""
    copy = app.test_client()
    copy.set_cookie("session", client.get_cookie("session").value)
    return copy


def test_signing_out_ends_the_session_for_a_copy_of_its_cookie(app, org):
    laptop, phone = app.test_client(), app.test_client()
    assert sign_in(laptop, "m1").status_code == 302
    assert sign_in(phone, "m1").status_code == 302
    copy = copy_of_cookie(app, laptop)
    assert copy.get("/").status_code == 200

    assert laptop.post("/logout").status_code == 302
    response = copy.get("/")
    assert response.status_code == 302 and "/login" in response.location
    assert copy.get("/customers/").status_code == 302
    assert phone.get("/").status_code == 200  # signing out on the laptop ends only that one
    assert db.session.scalar(select(func.count()).select_from(UserSession)) == 1


def test_a_sign_in_ends_after_the_configured_hours(app, org):
    assert sign_in(app.test_client(), "m1").status_code == 302  # an older one, gone by now
    client = app.test_client()
    assert sign_in(client, "m1").status_code == 302
    db.session.execute(update(UserSession).values(expires_at=datetime.now(UTC)))
    db.session.commit()
    response = client.get("/")
    assert response.status_code == 302 and "/login" in response.location
    assert sign_in(client, "m1").status_code == 302  # and signing in again tidies up
    assert db.session.scalar(select(func.count()).select_from(UserSession)) == 1


def test_a_cookie_without_a_sign_in_key_is_signed_out(app, org):
    client = app.test_client()
    with app.test_request_context(environ_base=client.environ_base):
        identifier = _create_identifier()
    with client.session_transaction() as session:  # what a cookie from before looked like
        session["_user_id"] = org["m1"].get_id()
        session["_fresh"] = True
        session["_id"] = identifier
    response = client.get("/")
    assert response.status_code == 302 and "/login" in response.location


def test_wrong_password_is_refused_and_logged(client, org, caplog):
    with caplog.at_level(logging.WARNING):
        response = sign_in(client, "m1", "wrong-password")
    assert response.status_code == 200
    assert "Wrong username or password" in response.get_data(as_text=True) or "错误" in (
        response.get_data(as_text=True)
    )
    assert client.get("/").status_code == 302
    assert any(
        "failed sign-in" in r.getMessage() and "m1" in r.getMessage() for r in caplog.records
    )


def test_unknown_user_gets_the_same_answer(client, org):
    unknown = sign_in(client, "nobody", "whatever-123")
    wrong = sign_in(client, "m1", "whatever-123")
    assert unknown.status_code == wrong.status_code == 200


@pytest.fixture
def app_overrides():
    return {"LOGIN_LIMIT_PER_USERNAME": "3 per 15 minutes", "LOGIN_LIMIT_PER_IP": "5 per minute"}


def test_failed_logins_are_limited_per_username(client, org, caplog):
    for _ in range(3):
        assert sign_in(client, "m1", "bad-password").status_code == 200
    with caplog.at_level(logging.WARNING):
        limited = sign_in(client, "m1", TEST_PASSWORD)
    assert limited.status_code == 429  # even the right password waits now
    assert "Too many" in limited.get_data(as_text=True) or "过多" in limited.get_data(as_text=True)
    assert any("rate limit" in r.getMessage() for r in caplog.records)
    # Another user from the same address is not locked out by m1's failures.
    assert sign_in(client, "m2").status_code == 302


def test_failed_logins_are_limited_per_address(client, org):
    for name in ("a1", "a2", "a3", "a4", "a5"):
        assert sign_in(client, name, "bad-password").status_code == 200
    assert sign_in(client, "m1").status_code == 429


def test_successful_logins_do_not_count(client, org):
    for _ in range(4):
        assert sign_in(client, "m1").status_code == 302
        client.post("/logout")


def test_deactivated_user_cannot_sign_in(client, org):
    user_service.deactivate_user(org["m2"], actor=org["admin"])
    db.session.commit()
    assert sign_in(client, "m2").status_code == 200
    assert client.get("/").status_code == 302


def test_deactivation_ends_an_open_session(client, org):
    assert sign_in(client, "m2").status_code == 302
    assert client.get("/").status_code == 200
    user_service.deactivate_user(org["m2"], actor=org["admin"])
    db.session.commit()
    response = client.get("/")
    assert response.status_code == 302 and "/login" in response.location


def test_password_change_ends_other_sessions(app, org):
    phone, laptop = app.test_client(), app.test_client()
    assert sign_in(phone, "m1").status_code == 302
    assert sign_in(laptop, "m1").status_code == 302

    response = laptop.post(
        "/account/password",
        data={
            "pw-current_password": TEST_PASSWORD,
            "pw-new_password": "a-new-password-1",
            "pw-confirm": "a-new-password-1",
        },
    )
    assert response.status_code == 302
    assert laptop.get("/").status_code == 200  # the session that changed it goes on
    assert phone.get("/").status_code == 302  # every other session has ended
    assert sign_in(app.test_client(), "m1", "a-new-password-1").status_code == 302


def test_password_change_needs_the_current_password(client, org):
    sign_in(client, "m1")
    response = client.post(
        "/account/password",
        data={
            "pw-current_password": "not-it-at-all",
            "pw-new_password": "a-new-password-1",
            "pw-confirm": "a-new-password-1",
        },
    )
    assert response.status_code == 400
    assert client.get("/").status_code == 200
    assert org["m1"].check_password(TEST_PASSWORD)


def test_admin_password_reset_ends_the_users_sessions(client, app, org):
    assert sign_in(client, "m1").status_code == 302
    user_service.reset_password(org["m1"], actor=org["admin"], new_password="reset-by-admin-1")
    db.session.commit()
    assert client.get("/").status_code == 302


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("/customers/", "/customers/"),
        ("/customers/?tier=A", "/customers/?tier=A"),
        ("https://evil.example/phish", "/"),
        ("//evil.example/phish", "/"),
        ("\\\\evil.example", "/"),
        ("javascript:alert(1)", "/"),
        ("http://localhost.evil.example/", "/"),
    ],
)
def test_next_redirects_only_within_the_site(client, org, target, expected):
    response = sign_in(client, "m1", next_url=target)
    assert response.status_code == 302
    assert response.location == expected


def test_login_page_keeps_next_from_the_query(client, org):
    response = client.get("/customers/")
    assert response.status_code == 302
    page = client.get(response.location).get_data(as_text=True)
    assert 'value="/customers/"' in page


def test_security_headers(client, org):
    response = client.get("/login")
    csp = response.headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"


def test_production_cookie_flags(monkeypatch, database_url):
    monkeypatch.setenv("CRM_SECRET_KEY", "x" * 32)
    monkeypatch.setenv("CRM_DATABASE_URL", database_url)
    app = create_app("production")
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["SESSION_COOKIE_HTTPONLY"] is True
    assert app.config["SESSION_COOKIE_SAMESITE"] == "Lax"
    assert app.config["DEMO_ALLOWED"] is False
    with app.test_request_context():
        response = app.test_client().get("/login")
    cookie = response.headers.get("Set-Cookie", "")
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie


@pytest.mark.parametrize("missing", ["CRM_SECRET_KEY", "CRM_DATABASE_URL"])
def test_production_refuses_to_start_without_settings(monkeypatch, missing):
    monkeypatch.setenv("CRM_SECRET_KEY", "x" * 32)
    monkeypatch.setenv("CRM_DATABASE_URL", "sqlite://")
    monkeypatch.delenv(missing)
    with pytest.raises(RuntimeError, match=missing):
        create_app("production")


def test_refused_access_is_logged(client, org, make_customer, login, caplog):
    other = make_customer(org["m3"])
    login(client, org["m1"])
    with caplog.at_level(logging.WARNING):
        assert client.get(f"/customers/{other.id}").status_code == 404
        assert client.get("/admin/users").status_code == 403
    messages = [r.getMessage() for r in caplog.records]
    assert any("access refused: status=404 user=m1" in m for m in messages)
    assert any("access refused: status=403 user=m1" in m for m in messages)
