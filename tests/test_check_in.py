"""On-site check-in (外勤签到): distance, the badge, the customer's site, the visit form."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from html import unescape

import pytest
from flask_babel import force_locale
from sqlalchemy import func, select

from crm.extensions import db
from crm.services import settings
from crm.services.activity import check_in as check_in_service
from crm.services.activity import visits as visit_service
from crm.services.activity.check_in import Placement, Point, check_in_of, distance_m
from crm.services.activity.timeline import customer_timeline
from crm.services.errors import DomainError, NotAllowed
from models import AuditEntry, Customer, Visit

# The customer's site (People's Square, Shanghai) and points due north of it. One degree of
# latitude is R·π/180 = 111,195.08 m on the haversine sphere.
SITE = Point(31.230416, 121.473701)
METRES_PER_DEGREE = 6_371_008.8 * 3.141592653589793 / 180


def north(metres: float) -> Point:
    return Point(SITE.lat + metres / METRES_PER_DEGREE, SITE.lng)


def ago(**delta) -> datetime:
    return datetime.now(UTC).replace(microsecond=0) - timedelta(**delta)


@pytest.fixture
def customer(org, make_customer):
    return make_customer(org["m1"], name="华东电力集团")


@pytest.fixture
def english(org):
    for user in org.values():
        if hasattr(user, "locale"):
            user.locale = "en"
    db.session.commit()
    return org


@pytest.fixture
def in_english(app):
    """The badge's words in English (outside a request the app speaks Chinese)."""
    with app.test_request_context(), force_locale("en"):
        yield


def with_site(customer: Customer, point: Point = SITE) -> Customer:
    customer.site_lat, customer.site_lng = point.lat, point.lng
    db.session.commit()
    return customer


def checked_in(make_visit, customer: Customer, point: Point, accuracy: float = 20.0) -> Visit:
    return make_visit(
        customer,
        check_in_lat=point.lat,
        check_in_lng=point.lng,
        check_in_accuracy_m=accuracy,
        checked_in_at=datetime.now(UTC),
    )


def visit_count() -> int:
    return db.session.scalar(select(func.count()).select_from(Visit))


def form_data(**extra) -> dict:
    now = ago(hours=1).astimezone(UTC)
    return {
        "occurred_on": now.date().isoformat(),
        "occurred_time": now.strftime("%H:%M"),
        "kind": "on_site",
        "opportunity_id": "0",
        "outcome": "Met the IT head",
        **extra,
    }


def located(point: Point, accuracy: str = "15.0", **extra) -> dict:
    return form_data(
        check_in_lat=f"{point.lat:.6f}",
        check_in_lng=f"{point.lng:.6f}",
        check_in_accuracy_m=accuracy,
        **extra,
    )


# Distance ---------------------------------------------------------------------------


def test_haversine_distance_of_known_points():
    assert distance_m(Point(0, 0), Point(1, 0)) == pytest.approx(METRES_PER_DEGREE, abs=0.01)
    assert distance_m(Point(0, 0), Point(0, 1)) == pytest.approx(METRES_PER_DEGREE, abs=0.01)
    # Beijing (Tiananmen) to Shanghai (People's Square): about 1,067 km.
    beijing = Point(39.908722, 116.397499)
    assert distance_m(beijing, SITE) == pytest.approx(1_067_000, rel=0.005)
    assert distance_m(SITE, SITE) == 0
    assert distance_m(SITE, north(250)) == pytest.approx(250, abs=0.5)
    assert distance_m(SITE, north(350)) == pytest.approx(350, abs=0.5)


# The badge --------------------------------------------------------------------------


def test_250_metres_is_on_site_and_350_is_not(org, customer, make_visit, in_english):
    with_site(customer)
    near = check_in_of(checked_in(make_visit, customer, north(250)))
    far = check_in_of(checked_in(make_visit, customer, north(350)))

    assert near.placement is Placement.ON_SITE and near.text == "On site"
    assert far.placement is Placement.AWAY
    assert far.distance_m == pytest.approx(350, abs=0.5)
    assert far.text == "350 m from the site"


def test_the_on_site_distance_is_an_admin_setting(org, customer, make_visit):
    with_site(customer)
    visit = checked_in(make_visit, customer, north(350))
    assert settings.value("checkin.on_site_metres") == 300

    settings.change("checkin.on_site_metres", "400", actor=org["admin"])
    db.session.commit()

    assert check_in_of(visit).placement is Placement.ON_SITE
    with pytest.raises(DomainError):
        settings.change("checkin.on_site_metres", "-5", actor=org["admin"])


def test_far_check_ins_read_in_kilometres(org, customer, make_visit, in_english):
    with_site(customer)
    assert check_in_of(checked_in(make_visit, customer, north(1234))).text == (
        "1.2 km from the site"
    )
    assert check_in_of(checked_in(make_visit, customer, north(250_000))).text == (
        "250 km from the site"
    )


def test_no_site_yet_and_no_check_in(org, customer, make_visit, in_english):
    unknown = check_in_of(checked_in(make_visit, customer, north(10)))
    assert unknown.placement is Placement.SITE_UNKNOWN and unknown.distance_m is None
    assert unknown.text == "Checked in, site unknown"
    assert check_in_of(make_visit(customer)) is None


def test_the_badge_on_the_visit_page_with_geo_links(client, login, english, customer, make_visit):
    with_site(customer)
    visit = checked_in(make_visit, customer, north(350), accuracy=12.4)
    plain = make_visit(customer)
    login(client, english["m1"])

    page = client.get(f"/visits/{visit.id}").get_data(as_text=True)

    assert 'data-check-in="away"' in page and "350 m from the site" in page
    assert "±12 m" in page
    assert f'href="{north(350).geo_uri}"' in page
    assert f'href="geo:{SITE.lat:.6f},{SITE.lng:.6f}"' in page
    # No map service is called or linked.
    assert "http://" not in page.split('id="visit-check-in"')[1].split("</dd>")[0]
    assert "Not checked in" in client.get(f"/visits/{plain.id}").get_data(as_text=True)


def test_the_work_log_shows_badges_without_a_query_per_row(
    client, login, english, make_customer, make_visit, count_queries
):
    login(client, english["sup1"])
    customers = [
        with_site(make_customer(english[m]), north(i * 10)) for i, m in enumerate(("m1", "m2"))
    ]
    counts = []
    for added in (2, 12):
        for i in range(added):
            customer = customers[i % 2]
            checked_in(make_visit, customer, north(i % 2 * 10 + (400 if i % 3 == 0 else 100)))
        db.session.expire_all()
        with count_queries() as statements:
            page = client.get("/visits/").get_data(as_text=True)
        counts.append(len(statements))
    assert counts[0] == counts[1], counts
    assert page.count('data-check-in="on_site"') == 9
    assert page.count('data-check-in="away"') == 5


def test_the_timeline_entry_of_a_visit_carries_its_check_in(
    client, login, english, customer, make_visit
):
    with_site(customer)
    checked_in(make_visit, customer, north(100))
    login(client, english["m1"])

    with client.application.test_request_context(), force_locale("en"):
        [item] = customer_timeline(customer, kinds=["visit"]).items
        assert item.title.endswith(" · On site")
    with client.application.test_request_context(), force_locale("zh_Hans_CN"):
        [item] = customer_timeline(customer, kinds=["visit"]).items
        assert item.title.endswith(" · 在现场")
    page = client.get(f"/customers/{customer.id}/timeline").get_data(as_text=True)
    assert "On site" in page


# Logging a visit with a check-in ------------------------------------------------------


def test_logging_with_a_check_in_records_it_at_the_servers_time(client, login, english, customer):
    with_site(customer)
    login(client, english["m1"])
    before = datetime.now(UTC)

    response = client.post(f"/visits/new?customer_id={customer.id}", data=located(north(120)))

    assert response.status_code == 302
    visit = db.session.scalar(select(Visit))
    assert visit.check_in_lat == pytest.approx(north(120).lat, abs=1e-6)
    assert visit.check_in_lng == pytest.approx(SITE.lng, abs=1e-6)
    assert visit.check_in_accuracy_m == 15.0
    assert before - timedelta(seconds=1) <= visit.checked_in_at <= datetime.now(UTC)
    page = client.get(response.location).get_data(as_text=True)
    assert "Checked in." in page and 'data-check-in="on_site"' in page


def test_location_refused_still_logs_the_visit(client, login, english, customer):
    login(client, english["m1"])
    # The browser shared nothing: the hidden fields come back empty.
    data = form_data(check_in_lat="", check_in_lng="", check_in_accuracy_m="")

    response = client.post(f"/visits/new?customer_id={customer.id}", data=data)

    assert response.status_code == 302
    visit = db.session.scalar(select(Visit))
    assert visit.outcome == "Met the IT head"
    assert visit.check_in_lat is None and visit.checked_in_at is None
    assert "Not checked in" in client.get(response.location).get_data(as_text=True)


def test_the_form_offers_the_check_in_and_the_site_box_only_without_a_site(
    client, login, english, customer
):
    login(client, english["m1"])
    page = client.get(f"/visits/new?customer_id={customer.id}").get_data(as_text=True)
    assert 'id="check-in-button"' in page and 'name="check_in_lat"' in page
    assert 'name="confirm_site"' in page
    assert re.search(r"js/check-in\.[0-9a-f]{8}\.js", page)  # fingerprinted (crm/static_files.py)

    with_site(customer)
    page = client.get(f"/visits/new?customer_id={customer.id}").get_data(as_text=True)
    assert 'name="check_in_lat"' in page and 'name="confirm_site"' not in page


@pytest.mark.parametrize(
    "fields, message",
    [
        ({"check_in_lat": "90.5"}, "latitude must be from -90 to 90"),
        ({"check_in_lat": "-91"}, "latitude must be from -90 to 90"),
        ({"check_in_lng": "180.01"}, "longitude must be from -180 to 180"),
        ({"check_in_lng": "-181"}, "longitude must be from -180 to 180"),
        ({"check_in_lat": "nan"}, "latitude must be from -90 to 90"),
        ({"check_in_lng": "inf"}, "longitude must be from -180 to 180"),
        ({"check_in_lat": "north"}, "latitude must be from -90 to 90"),
        ({"check_in_accuracy_m": "-1"}, "accuracy must be a distance in metres"),
        ({"check_in_lng": ""}, "came incomplete"),
        ({"check_in_accuracy_m": ""}, "came incomplete"),
    ],
)
def test_bad_coordinates_are_refused_with_nothing_saved(
    client, login, english, customer, fields, message
):
    login(client, english["m1"])
    data = {**located(north(50), confirm_site="y"), **fields}

    response = client.post(f"/visits/new?customer_id={customer.id}", data=data)

    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert visit_count() == 0
    db.session.expire_all()
    assert db.session.get(Customer, customer.id).site_lat is None


def test_the_service_refuses_half_a_location(org, customer):
    with pytest.raises(DomainError):
        visit_service.log_visit(
            customer, actor=org["m1"], occurred_at=ago(hours=1), check_in_lat=31.2
        )
    db.session.rollback()
    assert visit_count() == 0


# The customer's site ----------------------------------------------------------------


def test_the_first_confirmed_check_in_sets_the_site_once(client, login, english, customer):
    login(client, english["m1"])
    first = north(40)

    response = client.post(
        f"/visits/new?customer_id={customer.id}", data=located(first, confirm_site="y")
    )

    assert response.status_code == 302
    db.session.expire_all()
    saved = db.session.get(Customer, customer.id)
    assert (saved.site_lat, saved.site_lng) == (
        pytest.approx(first.lat, abs=1e-6),
        pytest.approx(first.lng, abs=1e-6),
    )
    assert saved.site_set_by_id == english["m1"].id and saved.site_set_at is not None
    assert saved.version == customer.version  # no edit of the customer made stale
    entry = db.session.scalar(
        select(AuditEntry).where(
            AuditEntry.entity_type == "customers", AuditEntry.customer_id == customer.id
        )
    )
    assert entry.actor_id == english["m1"].id
    assert entry.changes == {"site": [None, f"{first.lat:.6f},{first.lng:.6f}"]}
    shown = unescape(client.get(response.location).get_data(as_text=True))
    assert "this check-in is now the customer's site" in shown

    # A later confirmation (a stale form, or the service called directly) moves nothing.
    client.post(
        f"/visits/new?customer_id={customer.id}", data=located(north(900), confirm_site="y")
    )
    visit_service.log_visit(
        saved,
        actor=english["m1"],
        occurred_at=ago(minutes=5),
        check_in_lat=0.0,
        check_in_lng=0.0,
        check_in_accuracy_m=5,
        confirm_site=True,
    )
    db.session.commit()
    db.session.expire_all()
    saved = db.session.get(Customer, customer.id)
    assert saved.site_lat == pytest.approx(first.lat, abs=1e-6)
    assert visit_count() == 3


def test_a_site_is_not_taken_from_a_coarse_location(client, login, english, customer):
    login(client, english["m1"])
    data = located(north(40), accuracy="1500", confirm_site="y")

    response = client.post(f"/visits/new?customer_id={customer.id}", data=data)

    assert response.status_code == 400
    assert "too imprecise" in response.get_data(as_text=True)
    assert visit_count() == 0
    # Without the box the same check-in logs the visit.
    del data["confirm_site"]
    assert client.post(f"/visits/new?customer_id={customer.id}", data=data).status_code == 302
    db.session.expire_all()
    assert db.session.get(Customer, customer.id).site_lat is None


def test_confirming_without_a_location_logs_the_visit_and_says_so(client, login, english, customer):
    login(client, english["m1"])
    response = client.post(
        f"/visits/new?customer_id={customer.id}", data=form_data(confirm_site="y")
    )
    assert response.status_code == 302
    assert "No location was recorded, so the site is not set." in client.get(
        response.location
    ).get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Customer, customer.id).site_lat is None


def test_an_admin_sets_corrects_and_clears_the_site(client, login, english, customer):
    login(client, english["admin"])
    page = client.get(f"/customers/{customer.id}").get_data(as_text=True)
    assert 'id="site-form"' in page and "Not known yet" in page

    response = client.post(
        f"/customers/{customer.id}/site", data={"site_lat": "31.2304", "site_lng": "121.4737"}
    )

    assert response.status_code == 302
    db.session.expire_all()
    saved = db.session.get(Customer, customer.id)
    assert (saved.site_lat, saved.site_lng) == (31.2304, 121.4737)
    assert saved.site_set_by_id == english["admin"].id
    page = client.get(response.location).get_data(as_text=True)
    assert "The site of 华东电力集团 is saved." in page
    assert 'href="geo:31.230400,121.473700"' in page

    # Out of range: refused, nothing changed.
    response = client.post(
        f"/customers/{customer.id}/site", data={"site_lat": "95", "site_lng": "121"}
    )
    assert response.status_code == 400
    assert "latitude must be from -90 to 90" in response.get_data(as_text=True)
    client.post(f"/customers/{customer.id}/site", data={"site_lat": "31.3", "site_lng": ""})
    db.session.expire_all()
    assert db.session.get(Customer, customer.id).site_lat == 31.2304

    client.post(f"/customers/{customer.id}/site", data={"site_lat": "", "site_lng": ""})
    db.session.expire_all()
    assert db.session.get(Customer, customer.id).site_lat is None
    changes = [
        e.changes["site"]
        for e in db.session.scalars(
            select(AuditEntry).where(AuditEntry.entity_type == "customers").order_by(AuditEntry.id)
        )
    ]
    assert changes == [[None, "31.230400,121.473700"], ["31.230400,121.473700", None]]


def test_only_an_admin_sets_the_site(client, login, english, customer):
    login(client, english["m1"])
    page = client.get(f"/customers/{customer.id}").get_data(as_text=True)
    assert 'id="site-form"' not in page
    response = client.post(
        f"/customers/{customer.id}/site", data={"site_lat": "31.2", "site_lng": "121.4"}
    )
    assert response.status_code == 403
    with pytest.raises(NotAllowed):
        check_in_service.set_customer_site(customer, actor=english["sup1"], lat=1, lng=1)
    db.session.rollback()
    db.session.expire_all()
    assert db.session.get(Customer, customer.id).site_lat is None


# Demo data --------------------------------------------------------------------------


def test_the_demo_has_sites_and_check_ins_of_every_placement(app, in_english):
    from crm.services.demo.check_ins import ensure_check_ins
    from crm.services.demo.organisation import load_demo

    load_demo()
    db.session.commit()
    visits = db.session.scalars(select(Visit).where(Visit.check_in_lat.is_not(None))).all()
    placements = {check_in_of(visit).placement for visit in visits}

    assert placements == set(Placement)
    assert all(visit.checked_in_at >= visit.occurred_at for visit in visits)
    without_site = db.session.scalar(
        select(func.count()).select_from(Customer).where(Customer.site_lat.is_(None))
    )
    assert 0 < without_site < db.session.scalar(select(func.count()).select_from(Customer))
    assert ensure_check_ins() == 0  # a second run adds nothing
