"""The personal calendar feed: valid iCalendar, only the owner's pending follow-ups, revocable."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from hashlib import sha256

import pytest
from sqlalchemy import select

from crm.extensions import db
from crm.services.followups import calendar
from models import ReminderStatus, User

BASE_URL = "https://crm.example.cn"
TEXT_PROPERTIES = {"SUMMARY", "DESCRIPTION", "X-WR-CALNAME"}


@pytest.fixture
def app_overrides():
    return {"BASE_URL": BASE_URL}


@pytest.fixture
def english(org):
    for user in org.values():
        if hasattr(user, "locale"):
            user.locale = "en"
    db.session.commit()
    return org


# A strict reader: what a picky calendar client would refuse, this refuses ------------


def unescape(value: str) -> str:
    """A TEXT value read back; a bare , or ; or an unknown escape is an error."""
    out, i = [], 0
    while i < len(value):
        char = value[i]
        if char == "\\":
            following = value[i + 1 : i + 2]
            assert following in ("\\", ";", ",", "n", "N"), f"bad escape in {value!r}"
            out.append("\n" if following in "nN" else following)
            i += 2
            continue
        assert char not in ",;", f"unescaped {char!r} in {value!r}"
        out.append(char)
        i += 1
    return "".join(out)


def parse_ics(body: bytes) -> dict:
    """Parse a VCALENDAR strictly: CRLF, folding, nesting, required properties."""
    text = body.decode("utf-8")  # a fold inside a UTF-8 character would fail here
    assert text.endswith("\r\n"), "the last line must end with CRLF"
    physical = text[:-2].split("\r\n")
    for line in physical:
        assert "\n" not in line and "\r" not in line, f"bare line break in {line!r}"
        assert len(line.encode()) <= 75, f"line longer than 75 octets: {line!r}"
        assert line, "empty line"
    logical: list[str] = []
    for line in physical:
        if line[0] in " \t":
            assert logical, "a continuation line cannot come first"
            logical[-1] += line[1:]
        else:
            logical.append(line)

    root: dict = {"name": None, "props": [], "children": []}
    stack = [root]
    for line in logical:
        match = re.fullmatch(r"([A-Z][A-Z0-9-]*)((?:;[A-Z-]+=[^:;]+)*):(.*)", line)
        assert match, f"not a content line: {line!r}"
        name, params, value = match.groups()
        if name == "BEGIN":
            component = {"name": value, "props": [], "children": []}
            stack[-1]["children"].append(component)
            stack.append(component)
        elif name == "END":
            assert len(stack) > 1 and stack[-1]["name"] == value, f"END:{value} out of place"
            stack.pop()
        else:
            assert len(stack) > 1, f"property outside any component: {line!r}"
            if name in TEXT_PROPERTIES:
                value = unescape(value)
            stack[-1]["props"].append((name, params, value))
    assert len(stack) == 1, "a component is not closed"
    assert [c["name"] for c in root["children"]] == ["VCALENDAR"]
    cal = root["children"][0]
    assert once(cal, "VERSION") == "2.0"
    assert once(cal, "PRODID")
    for event in cal["children"]:
        assert event["name"] == "VEVENT"
        for required in ("UID", "DTSTAMP", "DTSTART", "SUMMARY"):
            once(event, required)
        assert not (props(event, "DTEND") and props(event, "DURATION"))
    return cal


def props(component: dict, name: str) -> list[tuple[str, str]]:
    return [(params, value) for n, params, value in component["props"] if n == name]


def once(component: dict, name: str) -> str:
    found = props(component, name)
    assert len(found) == 1, f"{name} appears {len(found)} times in {component['name']}"
    return found[0][1]


def events(cal: dict) -> dict[str, dict]:
    return {once(e, "UID"): e for e in cal["children"]}


# Helpers --------------------------------------------------------------------------


def make_link(client, login, user) -> str:
    """Make the link on the account page, as the user would; returns the URL shown."""
    login(client, user)
    response = client.post("/account/calendar", data={"confirmed": "1"})  # asked when rotating
    assert response.status_code == 302
    page = client.get("/account").get_data(as_text=True)
    match = re.search(r'id="calendar-url" type="text" readonly value="([^"]+)"', page)
    assert match, "the new link is shown on the account page"
    return match[1]


def path_of(url: str) -> str:
    assert url.startswith(BASE_URL + "/calendar/") and url.endswith(".ics")
    return url[len(BASE_URL) :]


# Tests ----------------------------------------------------------------------------


def test_feed_is_valid_icalendar_with_the_owners_pending_follow_ups(
    app, client, login, english, make_customer, make_reminder
):
    owner = english["m1"]
    customer = make_customer(owner, name="江城智慧交通集团")
    all_day = make_reminder(
        customer,
        due_on=date(2036, 3, 2),
        due_at=datetime(2036, 3, 2, 0, 30, tzinfo=UTC),
        note="Quote, v2; ask about C:\\temp\nand the SLA",
    )
    timed = make_reminder(
        customer,
        due_on=date(2036, 3, 3),
        due_at=datetime(2036, 3, 3, 6, 15, tzinfo=UTC),
        has_time=True,
        note="很长的备注" * 30,
    )
    done = make_reminder(customer, status=ReminderStatus.DONE)
    dismissed = make_reminder(customer, status=ReminderStatus.DISMISSED)
    others = make_reminder(make_customer(english["m2"]))
    url = make_link(client, login, owner)

    anonymous = app.test_client()  # calendar apps do not sign in
    response = anonymous.get(path_of(url))

    assert response.status_code == 200
    assert response.mimetype == "text/calendar"
    assert response.content_type == "text/calendar; charset=utf-8"
    cal = parse_ics(response.data)
    assert once(cal, "X-WR-CALNAME") == "Follow-ups of M1"
    found = events(cal)
    host = "crm.example.cn"
    assert set(found) == {f"reminder-{all_day.id}@{host}", f"reminder-{timed.id}@{host}"}
    for absent in (done, dismissed, others):
        assert f"reminder-{absent.id}@" not in response.get_data(as_text=True)

    day_event = found[f"reminder-{all_day.id}@{host}"]
    assert props(day_event, "DTSTART") == [(";VALUE=DATE", "20360302")]
    assert props(day_event, "DTEND") == [(";VALUE=DATE", "20360303")]
    assert once(day_event, "SUMMARY") == "Follow-up: 江城智慧交通集团"
    assert once(day_event, "DESCRIPTION") == (
        f"Quote, v2; ask about C:\\temp\nand the SLA\n{BASE_URL}/reminders/{all_day.id}"
    )

    time_event = found[f"reminder-{timed.id}@{host}"]
    assert props(time_event, "DTSTART") == [("", "20360303T061500Z")]
    assert props(time_event, "DTEND") == [("", "20360303T064500Z")]  # 30 minutes
    assert once(time_event, "DESCRIPTION").startswith("很长的备注" * 30)
    assert "\r\n " in response.get_data(as_text=True)  # the long note was folded


def test_uid_is_stable_and_the_sequence_moves_with_a_change(
    app, client, login, english, make_customer, make_reminder
):
    reminder = make_reminder(make_customer(english["m1"]), due_on=date(2036, 1, 1))
    path = path_of(make_link(client, login, english["m1"]))
    first = events(parse_ics(app.test_client().get(path).data))
    reminder.note = "changed"
    db.session.commit()
    second = events(parse_ics(app.test_client().get(path).data))
    assert set(first) == set(second)
    (uid,) = first
    assert int(once(second[uid], "SEQUENCE")) > int(once(first[uid], "SEQUENCE"))


def test_only_a_hash_of_the_token_is_stored(client, login, english):
    url = make_link(client, login, english["m1"])
    token = url.rsplit("/", 1)[1].removesuffix(".ics")
    stored = db.session.scalar(select(User.calendar_token).where(User.id == english["m1"].id))
    assert stored == sha256(token.encode()).hexdigest()
    assert token not in stored
    # Shown once: the next visit of the account page no longer shows it.
    assert 'id="calendar-url"' not in client.get("/account").get_data(as_text=True)


def test_a_revoked_link_answers_404(app, client, login, english):
    path = path_of(make_link(client, login, english["m1"]))
    assert app.test_client().get(path).status_code == 200
    response = client.post("/account/calendar/revoke", data={"confirmed": "1"})
    assert response.status_code == 302
    assert app.test_client().get(path).status_code == 404
    page = client.get("/account").get_data(as_text=True)
    assert 'id="calendar-create"' in page


def test_a_new_link_retires_the_old_one(app, client, login, english):
    old = path_of(make_link(client, login, english["m1"]))
    new = path_of(make_link(client, login, english["m1"]))
    assert old != new
    assert app.test_client().get(old).status_code == 404
    assert app.test_client().get(new).status_code == 200


def test_unknown_or_odd_tokens_and_deactivated_users_answer_404(app, client, login, english):
    anonymous = app.test_client()
    assert anonymous.get("/calendar/nothing-here.ics").status_code == 404
    assert anonymous.get("/calendar/" + "x" * 500 + ".ics").status_code == 404
    path = path_of(make_link(client, login, english["m1"]))
    english["m1"].active = False
    db.session.commit()
    assert anonymous.get(path).status_code == 404


def test_a_reminder_on_a_customer_handed_over_leaves_the_old_owners_feed(
    app, client, login, english, make_customer, make_reminder
):
    customer = make_customer(english["m1"])
    reminder = make_reminder(customer)
    path = path_of(make_link(client, login, english["m1"]))
    assert f"reminder-{reminder.id}@" in app.test_client().get(path).get_data(as_text=True)
    customer.owner = english["m2"]
    db.session.commit()
    assert f"reminder-{reminder.id}@" not in app.test_client().get(path).get_data(as_text=True)


@pytest.mark.parametrize(
    "line",
    [
        "DESCRIPTION:" + "a" * 200,
        "SUMMARY:" + "跟进客户" * 40,
        "DESCRIPTION:" + "ab€" * 60,
        "X:" + "é" * 37 + "x",
    ],
)
def test_folding_keeps_lines_within_75_octets_and_characters_whole(line):
    folded = calendar.fold(line)
    parts = folded.split("\r\n")
    assert all(len(part.encode()) <= 75 for part in parts)
    assert all(part.startswith(" ") for part in parts[1:])
    assert parts[0] + "".join(p[1:] for p in parts[1:]) == line
    assert len(parts[0].encode()) > 72  # lines are filled, not cut early


def test_text_escaping():
    assert calendar.escape_text("a,b;c\\d\r\ne\nf") == "a\\,b\\;c\\\\d\\ne\\nf"


def test_the_account_page_offers_create_then_rotate_and_revoke(client, login, english):
    login(client, english["m1"])
    page = client.get("/account").get_data(as_text=True)
    assert 'id="calendar-create"' in page and 'id="calendar-revoke"' not in page
    client.post("/account/calendar")
    client.get("/account")  # the one showing of the link
    page = client.get("/account").get_data(as_text=True)
    assert 'id="calendar-rotate"' in page and 'id="calendar-revoke"' in page


def test_feed_is_not_cached_by_shared_caches(app, client, login, english):
    path = path_of(make_link(client, login, english["m1"]))
    response = app.test_client().get(path)
    assert "private" in response.headers["Cache-Control"]
    assert response.headers["X-Robots-Tag"] == "noindex"
    assert "Set-Cookie" not in response.headers


def test_dtstamp_is_utc(app, client, login, english, make_customer, make_reminder):
    make_reminder(make_customer(english["m1"]))
    path = path_of(make_link(client, login, english["m1"]))
    cal = parse_ics(app.test_client().get(path).data)
    (event,) = cal["children"]
    stamp = datetime.strptime(once(event, "DTSTAMP"), "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    assert abs(datetime.now(UTC) - stamp) < timedelta(minutes=5)
