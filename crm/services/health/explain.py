"""Each stored factor in words, and which records it rests on.

The words are made when they are read (the page's or the email recipient's language);
the records are named as an endpoint and its arguments, which the page and the email
turn into links (a service builds no URLs).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from flask_babel import format_date, format_decimal, get_timezone, gettext, ngettext

from crm.services.health.signals import BY_CODE

# Where the evidence of each kind lives. The figures and service pages belong to other
# parts of the app: a link whose endpoint is missing is left out, the reason stays.
FIGURES = "figures.show"
TICKET = "service.show"
TICKETS = "service.index"


@dataclass(frozen=True)
class Reason:
    signal: str
    label: str
    text: str
    points: int
    # (endpoint, arguments) of the records behind the reason; None when there are none.
    evidence: tuple[str, dict[str, Any]] | None


def _day(iso: str) -> str:
    return format_date(date.fromisoformat(iso))


def _days_from_today(iso: str) -> int:
    """Days from the reader's today to the stored day (negative: before today).

    The pass stores days, not counts of days, so a reason does not change every night.
    """
    today = datetime.now(UTC).astimezone(get_timezone()).date()
    return (date.fromisoformat(iso) - today).days


def _amount(value: float) -> str:
    return format_decimal(value, format="#,##0.00")


def _number(value: float) -> str:
    return format_decimal(value, format="#,##0.#")


def reason(factor: dict[str, Any], customer_id: int) -> Reason:
    """The factor {"signal", "points", "detail"} of a customer's health, explained."""
    code, detail = factor["signal"], factor.get("detail") or {}
    text, evidence = _EXPLAIN.get(code, _unknown)(detail, customer_id)
    signal = BY_CODE.get(code)
    label = str(signal.label) if signal else code
    return Reason(code, label, text, int(factor["points"]), evidence)


def reasons(factors: list[dict[str, Any]], customer_id: int) -> list[Reason]:
    return [reason(factor, customer_id) for factor in factors or []]


def _revenue(d: dict, customer_id: int):
    text = gettext(
        "Revenue of the last three months fell %(percent)s%% against the three before "
        "(%(before)s → %(recent)s).",
        percent=_number(abs(d["percent"])),
        before=_amount(d["before"]),
        recent=_amount(d["recent"]),
    )
    return text, (FIGURES, {"customer_id": customer_id})


def _lines(d: dict, customer_id: int):
    text = ngettext(
        "%(num)s line lost in the last three months: %(percent)s%% of the lines.",
        "%(num)s lines lost in the last three months: %(percent)s%% of the lines.",
        d["lines"],
        percent=_number(d["percent"]),
    )
    return text, (FIGURES, {"customer_id": customer_id})


def _arrears(d: dict, customer_id: int):
    text = gettext(
        "Arrears grew from %(before)s to %(now)s in three months.",
        before=_amount(d["before"]),
        now=_amount(d["now"]),
    )
    return text, (FIGURES, {"customer_id": customer_id})


def _overdue(d: dict, customer_id: int):
    text = ngettext(
        "%(num)d complaint is open past its SLA.",
        "%(num)d complaints are open past their SLA.",
        d["count"],
    )
    if d["count"] == 1:
        return text, (TICKET, {"ticket_id": d["ticket_id"]})
    return text, (TICKETS, {"customer": customer_id, "overdue": 1})


def _repeated(d: dict, customer_id: int):
    text = gettext(
        "%(count)d complaints in the last %(days)d days.", count=d["count"], days=d["days"]
    )
    return text, (TICKETS, {"customer": customer_id, "kind": "complaint", "status": "all"})


def _satisfaction(d: dict, customer_id: int):
    text = ngettext(
        "Satisfaction averaged %(average)s of 5 at %(num)d revisit in the last %(days)d days.",
        "Satisfaction averaged %(average)s of 5 at %(num)d revisits in the last %(days)d days.",
        d["ratings"],
        average=_number(d["average"]),
        days=d["days"],
    )
    return text, (TICKETS, {"customer": customer_id, "status": "closed"})


def _silent(d: dict, customer_id: int):
    days = -_days_from_today(d["since"])
    if d.get("visited", True):
        text = gettext(
            "No visit for %(days)d days; its tier is to be visited every %(cadence)d days.",
            days=days,
            cadence=d["cadence"],
        )
    else:
        text = gettext(
            "Never visited in the %(days)d days since it was recorded; its tier is to be "
            "visited every %(cadence)d days.",
            days=days,
            cadence=d["cadence"],
        )
    return text, ("customers.timeline", {"customer_id": customer_id})


def _no_decision_maker(d: dict, customer_id: int):
    text = gettext("No active contact is recorded as the decision maker.")
    return text, ("contacts.relationship_map", {"customer_id": customer_id})


def _competitor_contract(d: dict, customer_id: int):
    text = ngettext(
        "%(competitor)s's contract here ends on %(on)s, in %(num)d day.",
        "%(competitor)s's contract here ends on %(on)s, in %(num)d days.",
        _days_from_today(d["on"]),
        competitor=d["competitor"],
        on=_day(d["on"]),
    )
    return text, ("competitors.edit_profile", {"profile_id": d["profile_id"]})


def _high_threat(d: dict, customer_id: int):
    if d.get("count", 1) > 1:
        text = gettext(
            "%(competitor)s and %(more)d more competitors are marked a high threat here.",
            competitor=d["competitor"],
            more=d["count"] - 1,
        )
    else:
        text = gettext("%(competitor)s is marked a high threat here.", competitor=d["competitor"])
    return text, ("competitors.edit_profile", {"profile_id": d["profile_id"]})


def _contract(d: dict, customer_id: int):
    text = ngettext(
        "Our main contract ends on %(on)s, in %(num)d day.",
        "Our main contract ends on %(on)s, in %(num)d days.",
        _days_from_today(d["on"]),
        on=_day(d["on"]),
    )
    return text, ("customers.edit", {"customer_id": customer_id})


def _lost_opportunity(d: dict, customer_id: int):
    text = gettext(
        "The opportunity “%(title)s” was lost to %(competitor)s.",
        title=d["title"],
        competitor=d["competitor"],
    )
    return text, ("opportunities.show", {"opportunity_id": d["opportunity_id"]})


def _unknown(d: dict, customer_id: int):
    """A code from an older release (the factors are stored): named, not explained."""
    return gettext("A signal this version does not know."), None


_EXPLAIN = {
    "revenue_falling": _revenue,
    "lines_lost": _lines,
    "arrears_growing": _arrears,
    "complaints_overdue": _overdue,
    "complaints_repeated": _repeated,
    "low_satisfaction": _satisfaction,
    "silent": _silent,
    "no_decision_maker": _no_decision_maker,
    "competitor_contract_ending": _competitor_contract,
    "competitor_high_threat": _high_threat,
    "contract_ending": _contract,
    "lost_to_competitor": _lost_opportunity,
}
