"""Demo check-ins (外勤签到): customer sites and the recent on-site visits checked in near them.

Most customers have a site (set by their manager's first confirmed check-in); the on-site
visits of the last months mostly carry a check-in, nearly always on site, now and then a
kilometre or two away (a meeting at a branch, a check-in from the car), and some at a
customer whose site nobody has confirmed yet. Its own random stream, so the pipeline's
and the plans' demo data stay exactly as they were. Skipped when any site exists.
"""

from __future__ import annotations

import math
import random
from datetime import datetime, timedelta

from sqlalchemy import bindparam, func, select, update

from crm.extensions import db
from models import Customer, Visit, VisitKind
from models.base import utcnow

# The demo's customers lie around the city centre (People's Square, Shanghai).
CENTRE = (31.230416, 121.473701)
SPREAD_KM = 25
RECENT = timedelta(days=120)
METRES_PER_DEGREE_LAT = 111_195.0


def _offset(lat: float, lng: float, metres: float, bearing: float) -> tuple[float, float]:
    """A point `metres` away in direction `bearing` (radians); flat-earth is plenty here."""
    d_lat = metres * math.cos(bearing) / METRES_PER_DEGREE_LAT
    d_lng = metres * math.sin(bearing) / (METRES_PER_DEGREE_LAT * math.cos(math.radians(lat)))
    return round(lat + d_lat, 6), round(lng + d_lng, 6)


def ensure_check_ins(now: datetime | None = None) -> int:
    """Give customers sites and recent on-site visits check-ins; return the check-ins added."""
    if db.session.scalar(
        select(func.count()).select_from(Customer).where(Customer.site_lat.is_not(None))
    ):
        return 0
    now = now or utcnow()
    rng = random.Random("demo-check-ins")
    customers = db.session.execute(
        select(Customer.id, Customer.owner_id).order_by(Customer.id)
    ).all()
    sites: dict[int, tuple[float, float] | None] = {}
    site_rows = []
    for row in customers:
        site = _offset(*CENTRE, rng.uniform(0, SPREAD_KM * 1000), rng.uniform(0, 2 * math.pi))
        # One customer in five: nobody has confirmed its site yet.
        if rng.random() < 0.2:
            sites[row.id] = None
            continue
        sites[row.id] = site
        site_rows.append(
            {
                "row_id": row.id,
                "lat": site[0],
                "lng": site[1],
                "by": row.owner_id,
                "at": now - RECENT - timedelta(days=rng.randint(1, 200)),
            }
        )
    visits = db.session.execute(
        select(Visit.id, Visit.customer_id, Visit.occurred_at)
        .where(Visit.kind == VisitKind.ON_SITE, Visit.occurred_at >= now - RECENT)
        .order_by(Visit.id)
    ).all()
    check_ins = []
    for visit in visits:
        if rng.random() < 0.15:  # logged without a check-in (no signal, refused, forgot)
            continue
        site = sites.get(visit.customer_id)
        if site is None:
            site = _offset(*CENTRE, rng.uniform(0, SPREAD_KM * 1000), rng.uniform(0, 2 * math.pi))
            distance = rng.uniform(5, 120)
        elif rng.random() < 0.12:
            distance = rng.uniform(400, 3000)  # not at the site
        else:
            distance = rng.uniform(5, 220)
        lat, lng = _offset(*site, distance, rng.uniform(0, 2 * math.pi))
        check_ins.append(
            {
                "row_id": visit.id,
                "lat": lat,
                "lng": lng,
                "accuracy": float(rng.choice((8, 12, 15, 20, 35, 60))),
                "at": visit.occurred_at + timedelta(minutes=rng.randint(2, 50)),
            }
        )
    # One executemany UPDATE per table; the rows keep their updated_at and version (the
    # demo's history says when they were last edited, and these are no edits).
    customers_table, visits_table = Customer.__table__, Visit.__table__
    if site_rows:
        db.session.execute(
            update(customers_table)
            .where(customers_table.c.id == bindparam("row_id"))
            .values(
                site_lat=bindparam("lat"),
                site_lng=bindparam("lng"),
                site_set_by_id=bindparam("by"),
                site_set_at=bindparam("at"),
                updated_at=customers_table.c.updated_at,
            ),
            site_rows,
        )
    if check_ins:
        db.session.execute(
            update(visits_table)
            .where(visits_table.c.id == bindparam("row_id"))
            .values(
                check_in_lat=bindparam("lat"),
                check_in_lng=bindparam("lng"),
                check_in_accuracy_m=bindparam("accuracy"),
                checked_in_at=bindparam("at"),
                updated_at=visits_table.c.updated_at,
            ),
            check_ins,
        )
    db.session.expire_all()
    return len(check_ins)
