"""The health pass: every customer's score, band and reasons, in one set-based sweep.

Each source is read once for all customers (crm/services/health/sources.py), the scores
are added up in memory, and only what changed is written back, in bulk statements:
the customers whose health changed, a history row for those whose score or band moved,
and their entries into "at risk". The caller commits (the scheduler job, the demo).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import Text, cast, delete, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from crm.extensions import db
from crm.i18n import today_in
from crm.services.health import signals, sources
from crm.services.health.signals import Rules
from models import Customer, CustomerHealth, CustomerStatus, HealthBand, HealthSnapshot
from models.base import utcnow

# Rows per bulk statement: SQLite's limit on bound parameters is far above this.
CHUNK = 5000


@dataclass
class PassReport:
    assessed: int = 0
    changed: int = 0  # customers whose score or band moved (a history row each)
    rewritten: int = 0  # customers whose stored health changed at all (its reasons too)
    entered: list[int] = field(default_factory=list)  # customers that entered "at risk"
    left: int = 0  # customers that left "at risk"


def organisation_zone() -> ZoneInfo:
    """The pass runs for everyone at once: days are counted in the organisation's zone."""
    return ZoneInfo(current_app.config["DEFAULT_TIMEZONE"])


def fired_signals(now: datetime, rules: Rules, customer_ids: list[int]) -> dict:
    """{signal code: {customer id: detail}} for every signal, each from one read."""
    zone = organisation_zone()
    today = today_in(zone, now)
    revenue, lines, arrears = sources.figures(rules)
    repeated, unhappy = sources.complaints_and_ratings(now, rules)
    ending, threats = sources.competitors(today, rules)
    return {
        signals.REVENUE_FALLING.code: revenue,
        signals.LINES_LOST.code: lines,
        signals.ARREARS_GROWING.code: arrears,
        signals.COMPLAINTS_OVERDUE.code: sources.complaints_overdue(now),
        signals.COMPLAINTS_REPEATED.code: repeated,
        signals.LOW_SATISFACTION.code: unhappy,
        signals.SILENT.code: sources.silent(today, zone),
        signals.NO_DECISION_MAKER.code: sources.without_decision_maker(customer_ids),
        signals.COMPETITOR_CONTRACT_ENDING.code: ending,
        signals.COMPETITOR_HIGH_THREAT.code: threats,
        signals.CONTRACT_ENDING.code: sources.contract_ending(today, rules),
        signals.LOST_TO_COMPETITOR.code: sources.lost_to_competitor(now, rules),
    }


def factors_by_customer(
    customer_ids: list[int], fired: dict, rules: Rules
) -> dict[int, list[dict[str, Any]]]:
    """Each customer's fired signals, heaviest first (ties in the signals' order).

    Walks what fired, not every customer times every signal: most customers fire few.
    """
    factors: dict[int, list[dict[str, Any]]] = {customer_id: [] for customer_id in customer_ids}
    for signal in signals.SIGNALS:
        points = rules.weights[signal.code]
        if points <= 0:  # a weight of 0 switches a signal off
            continue
        for customer_id, detail in fired[signal.code].items():
            found = factors.get(customer_id)
            if found is not None:  # a lost customer's records may fire: it is not assessed
                found.append({"signal": signal.code, "points": points, "detail": detail})
    for found in factors.values():
        if len(found) > 1:
            found.sort(key=_heaviest_first)
    return factors


def _heaviest_first(factor: dict[str, Any]) -> int:
    return -factor["points"]


def assess_all(now: datetime | None = None) -> PassReport:
    """Score every customer still served; write what changed (the caller commits)."""
    now = now or utcnow()
    rules = signals.current_rules()
    customer_ids = sources.customer_ids()
    fired = fired_signals(now, rules, customer_ids)
    day = today_in(organisation_zone(), now)
    h = CustomerHealth.__table__.c
    # The stored factors as their JSON text: comparing the new ones' text with it costs
    # far less than reading every customer's back into objects.
    previous = {
        row.customer_id: row
        for row in db.session.execute(
            select(
                h.customer_id,
                h.score,
                h.band,
                cast(h.factors, Text).label("factors"),
                h.signal_codes,
                h.at_risk_since,
            )
        )
    }
    report = PassReport(assessed=len(customer_ids))
    health_rows: list[dict[str, Any]] = []
    history_rows: list[dict[str, Any]] = []
    for customer_id, factors in factors_by_customer(customer_ids, fired, rules).items():
        score = signals.score_of(factors)
        band = rules.band(score)
        old = previous.get(customer_id)
        was_at_risk = old is not None and old.band == HealthBand.AT_RISK
        at_risk_since = None
        if band is HealthBand.AT_RISK:
            at_risk_since = old.at_risk_since if was_at_risk else now
            if not was_at_risk:
                report.entered.append(customer_id)
        elif was_at_risk:
            report.left += 1
        moved = old is None or old.score != score or old.band != band
        codes = signal_codes(factors)
        if moved or old.factors != json.dumps(factors) or old.signal_codes != codes:
            health_rows.append(
                {
                    "customer_id": customer_id,
                    "score": score,
                    "band": band,
                    "factors": factors,
                    "signal_codes": codes,
                    "computed_at": now,
                    "at_risk_since": at_risk_since,
                }
            )
        if moved:
            history_rows.append(
                {
                    "customer_id": customer_id,
                    "day": day,
                    "score": score,
                    "band": band,
                    "signals": [factor["signal"] for factor in factors],
                }
            )
    report.changed = len(history_rows)
    report.rewritten = len(health_rows)
    _write(now, health_rows, history_rows)
    return report


def signal_codes(factors: list[dict[str, Any]]) -> str:
    """The codes of the factors as the list's filter matches them: " a b " (see the model)."""
    return "".join(f" {factor['signal']}" for factor in factors) + " " if factors else ""


def _insert():
    return pg_insert if db.session.get_bind().dialect.name == "postgresql" else sqlite_insert


def _write(now: datetime, health_rows: list[dict], history_rows: list[dict]) -> None:
    """Bulk writes: every row's time of assessment, then the changed rows, then history."""
    h = CustomerHealth.__table__
    # A lost customer is no longer assessed: its health goes, its history stays.
    db.session.execute(
        delete(h).where(
            h.c.customer_id.in_(select(Customer.id).where(Customer.status == CustomerStatus.LOST))
        )
    )
    db.session.execute(update(h).values(computed_at=now))
    insert = _insert()
    upsert = insert(h)
    upsert = upsert.on_conflict_do_update(
        index_elements=[h.c.customer_id],
        set_={
            name: upsert.excluded[name]
            for name in (
                "score",
                "band",
                "factors",
                "signal_codes",
                "computed_at",
                "at_risk_since",
            )
        },
    )
    for start in range(0, len(health_rows), CHUNK):
        db.session.execute(upsert, health_rows[start : start + CHUNK])
    s = HealthSnapshot.__table__
    history = insert(s)
    # A second pass on the same day (after an import) corrects that day's row.
    history = history.on_conflict_do_update(
        index_elements=[s.c.customer_id, s.c.day],
        set_={name: history.excluded[name] for name in ("score", "band", "signals")},
    )
    for start in range(0, len(history_rows), CHUNK):
        db.session.execute(history, history_rows[start : start + CHUNK])
