"""On-site check-in (外勤签到): where the phone was when a visit was logged, and the site.

A visit may carry the browser's location (with its accuracy) from the moment it was
logged; the customer's site comes from the first check-in a manager confirmed as the
site, or from an administrator. A check-in is "on site" within a distance an admin sets
(`checkin.on_site_metres`), otherwise it shows how far from the site it was. No map
service is called: intranets have no internet. Distances are worked out on reading, so a
site set later also places the check-ins made before it.
"""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask_babel import format_decimal
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import update

from crm.extensions import db
from crm.services import audit, settings
from crm.services.archive.lock import lock_customer_for_write
from crm.services.errors import DomainError, NotAllowed
from models import AuditAction, Customer, User, Visit
from models.base import utcnow

ON_SITE_METRES = settings.declare(
    settings.Setting(
        "checkin.on_site_metres",
        _l("On site within (metres)"),
        300,
        settings.whole_number(10, 100_000),
        help=_l("A check-in this close to the customer's site shows as on site."),
        area=_l("Check-in"),
    )
)
# The mean Earth radius (IUGG), in metres: the haversine formula's sphere.
EARTH_RADIUS_M = 6_371_008.8
# The browser reports accuracy in metres; beyond this it is not a location worth keeping.
MAX_ACCURACY_M = 1_000_000.0


@dataclass(frozen=True)
class Point:
    lat: float
    lng: float

    @property
    def geo_uri(self) -> str:
        """A `geo:` link: a phone opens it in its own map app (RFC 5870)."""
        return f"geo:{self.lat:.6f},{self.lng:.6f}"


def distance_m(a: Point, b: Point) -> float:
    """The great-circle distance between two points, in metres (haversine formula)."""
    lat1, lat2 = math.radians(a.lat), math.radians(b.lat)
    d_lat = lat2 - lat1
    d_lng = math.radians(b.lng - a.lng)
    h = math.sin(d_lat / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin(d_lng / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(h)))


# Reading a check-in ---------------------------------------------------------------


class Placement(enum.StrEnum):
    ON_SITE = "on_site"
    AWAY = "away"  # checked in, further from the site than the on-site distance
    SITE_UNKNOWN = "site_unknown"  # checked in, the customer has no site yet


@dataclass(frozen=True)
class CheckIn:
    """One visit's check-in, placed against its customer's site."""

    at: Point
    accuracy_m: float | None
    checked_in_at: datetime | None
    placement: Placement
    distance_m: float | None  # None while the site is unknown

    @property
    def on_site(self) -> bool:
        return self.placement is Placement.ON_SITE

    @property
    def text(self) -> str:
        """The badge's words: "On site", "1.2 km from the site", "Checked in, site unknown"."""
        if self.placement is Placement.ON_SITE:
            return _("On site")
        if self.placement is Placement.SITE_UNKNOWN:
            return _("Checked in, site unknown")
        return _("%(distance)s from the site", distance=distance_text(self.distance_m or 0))

    @property
    def accuracy_text(self) -> str | None:
        if self.accuracy_m is None:
            return None
        return _("±%(metres)s m", metres=format_decimal(round(self.accuracy_m)))


def distance_text(metres: float) -> str:
    """A distance as people say it: "850 m", "1.2 km", "35 km"."""
    if metres < 1000:
        return _("%(metres)s m", metres=format_decimal(round(metres)))
    kilometres = metres / 1000
    shown = format_decimal(kilometres, "#,##0.0" if kilometres < 100 else "#,##0")
    return _("%(km)s km", km=shown)


def site_of(customer: Customer) -> Point | None:
    if customer.site_lat is None or customer.site_lng is None:
        return None
    return Point(customer.site_lat, customer.site_lng)


def check_in_of(visit: Visit) -> CheckIn | None:
    """The visit's check-in placed against its customer's site; None without a check-in.

    Reads only the visit's check-in columns and its customer's site (load them with the
    visits: a work log of many visits must not ask for each customer) and the on-site
    distance, which is read once per request.
    """
    if visit.check_in_lat is None or visit.check_in_lng is None:
        return None
    at = Point(visit.check_in_lat, visit.check_in_lng)
    site = site_of(visit.customer)
    if site is None:
        placement, distance = Placement.SITE_UNKNOWN, None
    else:
        distance = distance_m(at, site)
        within = distance <= settings.value(ON_SITE_METRES.key)
        placement = Placement.ON_SITE if within else Placement.AWAY
    return CheckIn(
        at=at,
        accuracy_m=visit.check_in_accuracy_m,
        checked_in_at=visit.checked_in_at,
        placement=placement,
        distance_m=distance,
    )


# Recording a check-in -------------------------------------------------------------


def _number(
    value: Any, low: float, high: float, message: Any, field: str = "check_in_lat"
) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise DomainError(message, field=field) from None
    # float() reads "nan" and "inf": neither is a place.
    if not math.isfinite(number) or not low <= number <= high:
        raise DomainError(message, field=field)
    return number


def clean_location(lat: Any, lng: Any, accuracy_m: Any) -> tuple[float, float, float | None] | None:
    """The check-in's latitude, longitude and accuracy, or None when none was sent.

    All or none: a latitude without a longitude is refused, not half kept. The
    accuracy comes with them (browsers always report it); it may be absent only when
    the coordinates are too.
    """
    given = [v for v in (lat, lng, accuracy_m) if v is not None and str(v).strip() != ""]
    if not given:
        return None
    if len(given) != 3:
        raise DomainError(
            _l("The check-in location came incomplete: check in again, or log without it."),
            field="check_in_lat",
        )
    return (
        _number(lat, -90, 90, _l("The check-in latitude must be from -90 to 90.")),
        _number(lng, -180, 180, _l("The check-in longitude must be from -180 to 180.")),
        _number(
            accuracy_m,
            0,
            MAX_ACCURACY_M,
            _l("The check-in accuracy must be a distance in metres, zero or more."),
        ),
    )


def record_check_in(
    visit: Visit,
    location: tuple[float, float, float | None] | None,
    *,
    actor: User,
    confirm_site: bool,
) -> None:
    """Put a cleaned location on a visit being logged (the server's clock says when).

    `confirm_site`: the person logging it says they are at the customer's site; the site
    is set from this check-in when the customer has none yet. Refused when the browser's
    accuracy is too coarse to place a site (the on-site distance itself).
    """
    if location is None:
        return
    lat, lng, accuracy = location
    visit.check_in_lat, visit.check_in_lng, visit.check_in_accuracy_m = lat, lng, accuracy
    visit.checked_in_at = utcnow()
    if not confirm_site or site_of(visit.customer) is not None:
        return
    limit = settings.value(ON_SITE_METRES.key)
    if accuracy is not None and accuracy > limit:
        raise DomainError(
            _l(
                "The location is too imprecise (±%(accuracy)s m) to mark the customer's "
                "site: untick the box, or check in again outdoors.",
                accuracy=round(accuracy),
            ),
            field="confirm_site",
        )
    _set_site(visit.customer, lat, lng, actor=actor, only_if_unset=True)


def _set_site(
    customer: Customer, lat: float | None, lng: float | None, *, actor: User, only_if_unset: bool
) -> bool:
    """Write the site with one UPDATE and audit it; False when a site was set meanwhile.

    A plain UPDATE: the site is not part of the customer form, so setting it must not
    make someone's open edit of the customer stale (no version bump).
    """
    before = [customer.site_lat, customer.site_lng]
    stmt = update(Customer).where(Customer.id == customer.id)
    if only_if_unset:
        stmt = stmt.where(Customer.site_lat.is_(None))
    moment = utcnow() if lat is not None else None
    result = db.session.execute(
        stmt.values(
            site_lat=lat,
            site_lng=lng,
            site_set_by_id=actor.id if lat is not None else None,
            site_set_at=moment,
            updated_at=Customer.updated_at,
        ).execution_options(synchronize_session=False)
    )
    db.session.expire(customer, ["site_lat", "site_lng", "site_set_by_id", "site_set_at"])
    if result.rowcount == 0:
        return False
    audit.record(
        AuditAction.UPDATE,
        customer,
        actor=actor,
        customer_id=customer.id,
        changes={"site": [_site_text(*before), _site_text(lat, lng)]},
    )
    return True


def _site_text(lat: float | None, lng: float | None) -> str | None:
    return None if lat is None or lng is None else f"{lat:.6f},{lng:.6f}"


def set_customer_site(customer: Customer, *, actor: User, lat: Any, lng: Any) -> Customer:
    """An administrator sets (or, with both empty, clears) the customer's site."""
    if not actor.is_admin:
        raise NotAllowed(_l("Only an administrator sets a customer's site."))
    customer = lock_customer_for_write(customer.id, actor=actor)
    blank = [v for v in (lat, lng) if v is None or str(v).strip() == ""]
    if len(blank) == 2:
        site = (None, None)
    elif blank:
        raise DomainError(_l("Enter both the latitude and the longitude."), field="site_lat")
    else:
        site = (
            _number(lat, -90, 90, _l("The latitude must be from -90 to 90."), "site_lat"),
            _number(lng, -180, 180, _l("The longitude must be from -180 to 180."), "site_lng"),
        )
    if site == (customer.site_lat, customer.site_lng):
        return customer
    _set_site(customer, *site, actor=actor, only_if_unset=False)
    return customer
