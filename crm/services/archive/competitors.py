"""The competitor registry, competitor profiles per customer, and where competitors are present."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, and_, case, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import contains_eager
from sqlalchemy.orm.exc import StaleDataError

from crm.extensions import db
from crm.i18n import today_in, user_zone
from crm.permissions import customer_scope, within_customer_scope
from crm.services import audit
from crm.services.archive.identity import is_record_id
from crm.services.archive.reference import require_admin
from crm.services.errors import DomainError, StaleEdit, check_version
from crm.services.scope import check_customer_in_scope
from models import (
    AuditAction,
    Competitor,
    CompetitorProfile,
    Customer,
    InfoSource,
    Opportunity,
    OpportunityCompetitor,
    ThreatLevel,
    User,
)

COMPETITOR_FIELDS = ("name", "notes", "active")
PROFILE_FIELDS = (
    "competitor_id",
    "products",
    "offer",
    "discount_percent",
    "contract_expiry",
    "strengths",
    "weaknesses",
    "threat",
    "source",
    "confirmed_on",
)
# Fields a user edits on a profile (the competitor itself is fixed once profiled).
EDITABLE_FIELDS = PROFILE_FIELDS[1:]
WINDOW_CHOICES = (30, 60, 90, 180, 365)
DEFAULT_WINDOW = 90
# The customer page highlights a competitor's contract ending this soon (or already ended)...
EXPIRY_WARNING_DAYS = 90
# ...and information nobody has confirmed for this long.
CONFIRMATION_STALE_DAYS = 180


class DuplicateProfile(DomainError):
    """The customer already has a profile of this competitor; `existing` is that profile."""

    def __init__(self, message: object, existing: CompetitorProfile | None) -> None:
        super().__init__(message, field="competitor_id")
        self.existing = existing


# The registry -----------------------------------------------------------------


def all_competitors() -> list[Competitor]:
    """Every registry entry, active ones first."""
    stmt = select(Competitor).order_by(Competitor.active.desc(), Competitor.name)
    return list(db.session.scalars(stmt))


def competitor_usage() -> dict[int, int]:
    """{competitor id: number of customer profiles naming it}."""
    rows = db.session.execute(
        select(CompetitorProfile.competitor_id, func.count()).group_by(
            CompetitorProfile.competitor_id
        )
    )
    return {competitor_id: count for competitor_id, count in rows}


def _check_competitor_name(name: str, competitor: Competitor | None) -> str:
    name = " ".join((name or "").split())
    if not name:
        raise DomainError(_l("Enter the competitor's name."), field="name")
    # lower() in SQL only folds ASCII on SQLite; names that differ beyond that are rare.
    stmt = select(Competitor).where(func.lower(Competitor.name) == name.lower())
    if competitor is not None:
        stmt = stmt.where(Competitor.id != competitor.id)
    if db.session.scalar(stmt):
        raise DomainError(_l("A competitor named %(name)s exists.", name=name), field="name")
    return name


def create_competitor(*, actor: User, name: str, notes: str | None = None) -> Competitor:
    """Add a registry entry; names are unique regardless of case."""
    require_admin(actor)
    competitor = Competitor(name=_check_competitor_name(name, None), notes=notes or None)
    db.session.add(competitor)
    db.session.flush()
    audit.record(
        AuditAction.CREATE,
        competitor,
        actor=actor,
        customer_id=None,
        changes=audit.snapshot(competitor, COMPETITOR_FIELDS),
    )
    return competitor


def update_competitor(
    competitor: Competitor, *, actor: User, name: str, notes: str | None = None
) -> None:
    require_admin(actor)
    name = _check_competitor_name(name, competitor)
    before = audit.snapshot(competitor, COMPETITOR_FIELDS)
    competitor.name, competitor.notes = name, notes or None
    _record_registry_change(competitor, before, actor)


def set_competitor_active(competitor: Competitor, *, actor: User, active: bool) -> None:
    """Retire an entry (no new profiles; existing ones stay) or bring it back."""
    require_admin(actor)
    before = audit.snapshot(competitor, COMPETITOR_FIELDS)
    competitor.active = active
    _record_registry_change(competitor, before, actor)


def delete_competitor(competitor: Competitor, *, actor: User) -> None:
    """Delete an entry no profile names; one in use can only be retired."""
    require_admin(actor)
    used = db.session.scalar(
        select(func.count())
        .select_from(CompetitorProfile)
        .where(CompetitorProfile.competitor_id == competitor.id)
    )
    if used:
        raise DomainError(
            _l(
                "%(name)s appears in %(n)d customer profiles and cannot be deleted; "
                "retire it instead.",
                name=competitor.name,
                n=used,
            )
        )
    on_opportunities = db.session.scalar(
        select(func.count(Opportunity.id.distinct()))
        .select_from(Opportunity)
        .outerjoin(OpportunityCompetitor, OpportunityCompetitor.opportunity_id == Opportunity.id)
        .where(
            (Opportunity.lost_to_id == competitor.id)
            | (OpportunityCompetitor.competitor_id == competitor.id)
        )
    )
    if on_opportunities:
        raise DomainError(
            _l(
                "%(name)s is named on %(n)d opportunities and cannot be deleted; "
                "retire it instead.",
                name=competitor.name,
                n=on_opportunities,
            )
        )
    lost_to_it = db.session.scalar(
        select(func.count()).select_from(Customer).where(Customer.lost_to_id == competitor.id)
    )
    if lost_to_it:
        raise DomainError(
            _l(
                "%(n)d lost customers went to %(name)s, so it cannot be deleted; retire it "
                "instead.",
                name=competitor.name,
                n=lost_to_it,
            )
        )
    audit.record(
        AuditAction.DELETE,
        competitor,
        actor=actor,
        customer_id=None,
        changes=audit.snapshot(competitor, COMPETITOR_FIELDS),
    )
    db.session.delete(competitor)
    db.session.flush()


def _record_registry_change(competitor: Competitor, before: dict, actor: User) -> None:
    db.session.flush()
    after = audit.snapshot(competitor, COMPETITOR_FIELDS)
    audit.record(
        AuditAction.UPDATE,
        competitor,
        actor=actor,
        customer_id=None,
        changes=audit.diff(before, after),
    )


# Profiles -------------------------------------------------------------------


def competitor_by_id(competitor_id: int | None) -> Competitor | None:
    """The registry entry a form chose, or None when there is none with that id."""
    return db.session.get(Competitor, competitor_id or 0)


def available_competitors(customer: Customer) -> list[Competitor]:
    """Active registry entries this customer has no profile of yet."""
    profiled = select(CompetitorProfile.competitor_id).where(
        CompetitorProfile.customer_id == customer.id
    )
    stmt = (
        select(Competitor)
        .where(Competitor.active.is_(True), Competitor.id.not_in(profiled))
        .order_by(Competitor.name)
    )
    return list(db.session.scalars(stmt))


def _validated(values: dict[str, Any], actor: User) -> dict[str, Any]:
    """The profile's values checked and normalised; unknown fields are refused."""
    unknown = set(values) - set(EDITABLE_FIELDS)
    if unknown:
        raise TypeError(f"not profile fields: {sorted(unknown)}")
    clean = {name: values.get(name) for name in EDITABLE_FIELDS}
    for name in ("products", "offer", "strengths", "weaknesses"):
        clean[name] = (clean[name] or "").strip() or None
    discount = clean["discount_percent"]
    if discount is not None:
        discount = Decimal(discount)
        if not discount.is_finite() or not Decimal(0) <= discount <= Decimal(100):
            raise DomainError(
                _l("The discount must be between 0 and 100 percent off the list price."),
                field="discount_percent",
            )
        clean["discount_percent"] = discount.quantize(Decimal("0.01"))
    clean["threat"] = ThreatLevel(clean["threat"] or ThreatLevel.MEDIUM)
    clean["source"] = InfoSource(clean["source"]) if clean["source"] else None
    today = today_in(user_zone(actor))
    if clean["confirmed_on"] is None:
        clean["confirmed_on"] = today
    elif clean["confirmed_on"] > today:
        raise DomainError(
            _l("The information cannot have been confirmed in the future."),
            field="confirmed_on",
        )
    return clean


def create_profile(
    customer: Customer, *, actor: User, competitor: Competitor | None, **values: Any
) -> CompetitorProfile:
    """Record a competitor's position at a customer: one profile per competitor and customer."""
    check_customer_in_scope(customer, actor=actor)
    if competitor is None:
        raise DomainError(_l("Choose a competitor from the list."), field="competitor_id")
    existing = db.session.scalar(
        select(CompetitorProfile).where(
            CompetitorProfile.customer_id == customer.id,
            CompetitorProfile.competitor_id == competitor.id,
        )
    )
    if existing is not None:
        raise DuplicateProfile(
            _l("This customer already has a profile of %(name)s.", name=competitor.name),
            existing,
        )
    if not competitor.active:
        raise DomainError(
            _l("%(name)s is retired from the registry.", name=competitor.name),
            field="competitor_id",
        )
    profile = CompetitorProfile(
        customer=customer, competitor=competitor, **_validated(values, actor)
    )
    db.session.add(profile)
    try:
        db.session.flush()
    except IntegrityError as error:  # a colleague saved the same competitor a moment ago
        raise DuplicateProfile(
            _l("This customer already has a profile of %(name)s.", name=competitor.name), None
        ) from error
    audit.record(
        AuditAction.CREATE,
        profile,
        actor=actor,
        customer_id=customer.id,
        changes=audit.snapshot(profile, PROFILE_FIELDS),
        label=competitor.name,
    )
    return profile


def update_profile(
    profile: CompetitorProfile, *, actor: User, version: int | None, **values: Any
) -> None:
    """Save changes made from `version` of the profile; a stale version is refused."""
    check_customer_in_scope(profile.customer, actor=actor)
    check_version(profile, version)
    clean = _validated(values, actor)
    before = audit.snapshot(profile, PROFILE_FIELDS)
    for name, value in clean.items():
        setattr(profile, name, value)
    try:
        db.session.flush()
    except StaleDataError:  # saved by someone else between our check and this write
        raise StaleEdit(
            _l(
                "Someone else saved this record while you were editing it. "
                "Their version is shown below; your changes were not saved."
            ),
            current=profile,
        )
    audit.record(
        AuditAction.UPDATE,
        profile,
        actor=actor,
        customer_id=profile.customer_id,
        changes=audit.diff(before, audit.snapshot(profile, PROFILE_FIELDS)),
        label=profile.competitor.name,
    )


def delete_profile(profile: CompetitorProfile, *, actor: User) -> None:
    """Remove a profile (the competitor left the customer); its last values stay in the log."""
    check_customer_in_scope(profile.customer, actor=actor)
    audit.record(
        AuditAction.DELETE,
        profile,
        actor=actor,
        customer_id=profile.customer_id,
        changes=audit.snapshot(profile, PROFILE_FIELDS),
        label=profile.competitor.name,
    )
    db.session.delete(profile)
    db.session.flush()


# Where competitors are present ------------------------------------------------

SORTS = {
    "expiry": (CompetitorProfile.contract_expiry.is_(None), CompetitorProfile.contract_expiry),
    "-expiry": (
        CompetitorProfile.contract_expiry.is_(None),
        CompetitorProfile.contract_expiry.desc(),
    ),
    "customer": (Customer.name,),
    "competitor": (Competitor.name, Customer.name),
    "threat": (
        case(
            (CompetitorProfile.threat == ThreatLevel.HIGH, 0),
            (CompetitorProfile.threat == ThreatLevel.MEDIUM, 1),
            else_=2,
        ),
        CompetitorProfile.contract_expiry.is_(None),
        CompetitorProfile.contract_expiry,
    ),
}


@dataclass
class PresenceFilters:
    """The /competitors/ list's filters, read from and written back to the URL."""

    competitor: str = ""
    threat: str = ""
    days: int = DEFAULT_WINDOW
    expiring: str = ""  # "1": only contracts ending within `days`
    expired: str = ""  # "1": with `expiring`, also contracts that have already ended
    sort: str = "expiry"

    @classmethod
    def from_args(cls, args: Any) -> PresenceFilters:
        """Build from request.args; unknown values fall back to the defaults."""
        get = lambda name: (args.get(name) or "").strip()[:20]  # noqa: E731
        days = get("days")
        return cls(
            competitor=get("competitor") if is_record_id(get("competitor")) else "",
            threat=get("threat") if get("threat") in {t.value for t in ThreatLevel} else "",
            days=int(days) if days.isdigit() and int(days) in WINDOW_CHOICES else DEFAULT_WINDOW,
            expiring="1" if get("expiring") in {"1", "y", "on"} else "",
            expired="1" if get("expired") in {"1", "y", "on"} else "",
            sort=get("sort") if get("sort") in SORTS else "expiry",
        )


def window_end(today: date, days: int) -> date:
    """The last day of the window: a contract ending on day `days` is in, day `days`+1 out."""
    return today + timedelta(days=days)


def search_presence(user: User, filters: PresenceFilters, today: date) -> Select:
    """Profiles of the user's customers with their customer and competitor, filtered and sorted."""
    stmt = (
        select(CompetitorProfile)
        .join(CompetitorProfile.customer)
        .join(CompetitorProfile.competitor)
        .where(customer_scope(user))
        .options(
            contains_eager(CompetitorProfile.customer), contains_eager(CompetitorProfile.competitor)
        )
    )
    if filters.competitor:
        stmt = stmt.where(CompetitorProfile.competitor_id == int(filters.competitor))
    if filters.threat:
        stmt = stmt.where(CompetitorProfile.threat == ThreatLevel(filters.threat))
    if filters.expiring:
        expiry = CompetitorProfile.contract_expiry
        stmt = stmt.where(expiry <= window_end(today, filters.days))
        if not filters.expired:
            stmt = stmt.where(expiry >= today)
    return stmt.order_by(*SORTS[filters.sort], CompetitorProfile.id)


def presence_summary(user: User, days: int, today: date) -> list[dict[str, Any]]:
    """Per competitor: customers in the user's scope where present, and contracts ending soon."""
    expiry = CompetitorProfile.contract_expiry
    ending = and_(expiry >= today, expiry <= window_end(today, days))
    # A customer has one profile per competitor (unique), so counting profiles counts
    # customers: no DISTINCT, which cost an admin's overview a sort of every profile.
    customers = func.count()
    stmt = (
        select(
            Competitor.id,
            Competitor.name,
            customers.label("customers"),
            func.coalesce(func.sum(case((ending, 1), else_=0)), 0).label("expiring"),
        )
        .join(CompetitorProfile, CompetitorProfile.competitor_id == Competitor.id)
        .group_by(Competitor.id, Competitor.name)
        .order_by(customers.desc(), Competitor.name)
    )
    stmt = within_customer_scope(stmt, user, CompetitorProfile.customer)
    return [row._asdict() for row in db.session.execute(stmt)]


def active_competitors() -> list[Competitor]:
    """The registry's active entries, by name: whom an opportunity may be lost to."""
    return list(
        db.session.scalars(
            select(Competitor).where(Competitor.active.is_(True)).order_by(Competitor.name)
        )
    )
