"""Translated display names for the domain's enums, in one place for views and forms."""

from __future__ import annotations

import enum
from collections.abc import Iterable

from flask_babel import get_locale, lazy_pgettext
from flask_babel import lazy_gettext as _l
from wtforms.fields.choices import SelectChoice

from models import (
    Attitude,
    AuditAction,
    BuyingRole,
    CustomerStatus,
    DocumentRule,
    HealthBand,
    InfoSource,
    KeyCustomerAim,
    Level,
    LossReason,
    LostReason,
    Marking,
    OpportunityStatus,
    PeriodKind,
    Phase,
    PlanKind,
    PlanStatus,
    Rating,
    ReminderStatus,
    Role,
    ScoringMethod,
    Strategy,
    ThreatLevel,
    TicketCategory,
    TicketKind,
    TicketSeverity,
    TicketStatus,
    Tier,
    TokenScope,
    Verdict,
    VisitKind,
)

# (member, label). Enums share values ("other", "lost", "active"...), so the lookup
# below is keyed by (enum class, value), never by the member alone.
_LABELLED: tuple[tuple[enum.Enum, object], ...] = (
    (Role.MANAGER, _l("Account manager")),
    (Role.SUPERVISOR, _l("Supervisor")),
    (Role.ADMIN, _l("Administrator")),
    (Level.JUNIOR, _l("Junior")),
    (Level.INTERMEDIATE, _l("Intermediate")),
    (Level.SENIOR, _l("Senior")),
    (Tier.A_PLUS, "A+"),
    (Tier.A, "A"),
    (Tier.B, "B"),
    (Tier.C, "C"),
    (Strategy.CONSOLIDATE, _l("Consolidate")),
    (Strategy.INVEST, _l("Invest")),
    (Strategy.HARVEST, _l("Harvest")),
    (Strategy.MAINTAIN, _l("Maintain")),
    (CustomerStatus.PROSPECT, _l("Prospect")),
    (CustomerStatus.ACTIVE, _l("Active customer")),
    (CustomerStatus.AT_RISK, _l("At risk")),
    (CustomerStatus.LOST, _l("Lost customer")),
    (BuyingRole.DECISION_MAKER, _l("Decision maker")),
    (BuyingRole.INFLUENCER, _l("Influencer")),
    (BuyingRole.USER, lazy_pgettext("buying role", "User")),  # not a user of this system
    (BuyingRole.CONTACT_PERSON, _l("Contact person")),
    (Attitude.SUPPORTER, _l("Supporter")),
    (Attitude.NEUTRAL, _l("Neutral")),
    (Attitude.OPPONENT, _l("Opponent")),
    (ThreatLevel.LOW, _l("Low")),
    (ThreatLevel.MEDIUM, _l("Medium")),
    (ThreatLevel.HIGH, _l("High")),
    (InfoSource.WEBSITE, _l("Website")),
    (InfoSource.BROCHURE, _l("Brochure")),
    (InfoSource.PRODUCT_USE, _l("Product use")),
    (InfoSource.CUSTOMER_VISIT, _l("Customer visit")),
    (InfoSource.RELATIONSHIP, _l("Relationship")),
    (AuditAction.CREATE, _l("created")),
    (AuditAction.UPDATE, _l("changed")),
    (AuditAction.DELETE, _l("deleted")),
    (AuditAction.MERGE, _l("merged")),
    (AuditAction.IMPORT, _l("imported")),
    (Phase.PRE_SALE, _l("Pre-sale")),
    (Phase.IN_SALE, _l("In-sale")),
    (Phase.AFTER_SALE, _l("After-sale")),
    (OpportunityStatus.OPEN, _l("Open")),
    (OpportunityStatus.WON, _l("Won")),
    (OpportunityStatus.LOST, _l("Lost")),
    (LostReason.PRICE, _l("Price")),
    (LostReason.COMPETITOR, _l("Competitor")),
    (LostReason.RELATIONSHIP, _l("Relationship")),
    (LostReason.PRODUCT_FIT, _l("Product fit")),
    (LostReason.TIMING, _l("Timing")),
    (LostReason.OTHER, _l("Other reason")),
    # Why a customer was lost: an opportunity's reasons, and three that end the company here.
    (LossReason.PRICE, _l("Price")),
    (LossReason.COMPETITOR, _l("Competitor")),
    (LossReason.RELATIONSHIP, _l("Relationship")),
    (LossReason.PRODUCT_FIT, _l("Product fit")),
    (LossReason.TIMING, _l("Timing")),
    (LossReason.MERGED, _l("Merged into another company")),
    (LossReason.CLOSED, _l("Closed down")),
    (LossReason.MOVED, _l("Moved out of the region")),
    (LossReason.OTHER, _l("Other reason")),
    (VisitKind.ON_SITE, _l("On-site visit")),
    (VisitKind.PHONE, _l("Phone call")),
    (VisitKind.MEETING, _l("Meeting")),
    (VisitKind.PRESENTATION, _l("Presentation")),
    (VisitKind.OTHER, _l("Other")),
    (ReminderStatus.PENDING, _l("Pending")),
    (ReminderStatus.DONE, _l("Done")),
    (ReminderStatus.DISMISSED, _l("Dismissed")),
    # After-sale service tickets: their own contexts ("Open", "High", "Other" mean other
    # things elsewhere).
    (TicketKind.COMPLAINT, lazy_pgettext("ticket kind", "Complaint")),
    (TicketKind.REQUEST, lazy_pgettext("ticket kind", "Service request")),
    (TicketCategory.NETWORK_QUALITY, lazy_pgettext("ticket category", "Network quality")),
    (TicketCategory.BILLING, lazy_pgettext("ticket category", "Billing")),
    (TicketCategory.INSTALLATION, lazy_pgettext("ticket category", "Installation")),
    (TicketCategory.SERVICE_ATTITUDE, lazy_pgettext("ticket category", "Service attitude")),
    (TicketCategory.PRODUCT_FAULT, lazy_pgettext("ticket category", "Product fault")),
    (TicketCategory.OTHER, lazy_pgettext("ticket category", "Other")),
    (TicketSeverity.CRITICAL, lazy_pgettext("severity", "Critical")),
    (TicketSeverity.HIGH, lazy_pgettext("severity", "High")),
    (TicketSeverity.MEDIUM, lazy_pgettext("severity", "Medium")),
    (TicketSeverity.LOW, lazy_pgettext("severity", "Low")),
    (TicketStatus.OPEN, lazy_pgettext("ticket status", "Open")),
    (TicketStatus.IN_PROGRESS, lazy_pgettext("ticket status", "In progress")),
    (TicketStatus.RESOLVED, lazy_pgettext("ticket status", "Resolved")),
    (TicketStatus.CLOSED, lazy_pgettext("ticket status", "Closed")),
    # Performance assessment: how a level's sheet marks an indicator, how churn is scored.
    (Marking.KEY, lazy_pgettext("marking", "Key")),
    (Marking.SECONDARY, lazy_pgettext("marking", "Secondary")),
    (Marking.NOT_ASSESSED, lazy_pgettext("marking", "Not assessed")),
    (ScoringMethod.TARGET, _l("Against a target")),
    (ScoringMethod.RANKING, _l("By ranking in the team")),
    (PeriodKind.MONTH, lazy_pgettext("period kind", "Month")),
    (PeriodKind.QUARTER, lazy_pgettext("period kind", "Quarter")),
    (KeyCustomerAim.ADVANCE, _l("Key customer to advance")),
    (KeyCustomerAim.DEVELOP, _l("Customer to develop")),
    (PlanKind.WEEK, _l("Weekly plan")),
    (PlanKind.MONTH, _l("Monthly plan")),
    (PlanStatus.DRAFT, lazy_pgettext("plan status", "Draft")),
    (PlanStatus.SUBMITTED, lazy_pgettext("plan status", "Submitted")),
    (PlanStatus.RETURNED, lazy_pgettext("plan status", "Returned for revision")),
    (PlanStatus.REVIEWED, lazy_pgettext("plan status", "Reviewed")),
    # The operators' four steps 优 / 良 / 中 / 差: "Good" and "Fair" mean other things elsewhere.
    (Rating.EXCELLENT, lazy_pgettext("rating", "Excellent")),
    (Rating.GOOD, lazy_pgettext("rating", "Good")),
    (Rating.FAIR, lazy_pgettext("rating", "Fair")),
    (Rating.POOR, lazy_pgettext("rating", "Poor")),
    (Verdict.REVIEWED, lazy_pgettext("verdict", "Reviewed")),
    (Verdict.RETURNED, lazy_pgettext("verdict", "Returned for revision")),
    (DocumentRule.OFF, lazy_pgettext("document rule", "Off")),
    (DocumentRule.REQUIRE, lazy_pgettext("document rule", "Require a document")),
    (DocumentRule.SUGGEST, lazy_pgettext("document rule", "Suggest a document")),
    (HealthBand.HEALTHY, lazy_pgettext("health band", "Healthy")),
    (HealthBand.WATCH, lazy_pgettext("health band", "Watch")),
    (HealthBand.AT_RISK, lazy_pgettext("health band", "At risk")),
    (TokenScope.READ, _l("Read only")),
    (TokenScope.READ_WRITE, _l("Read and write")),
)
LABELS: dict[tuple[type, str], object] = {(type(m), m.value): text for m, text in _LABELLED}


# locale -> every label in it. The catalogs are compiled before the app starts and
# never change while it runs, so each language is translated once per process.
_TRANSLATED: dict[str, dict[tuple[type, str], str]] = {}


def label(value: enum.Enum | None) -> str:
    """The user-facing name of an enum member, in the current language."""
    if value is None:
        return ""
    locale = str(get_locale())
    table = _TRANSLATED.get(locale)
    if table is None:
        table = _TRANSLATED[locale] = {key: str(text) for key, text in LABELS.items()}
    return table.get((type(value), value.value), value.value)


def options(pairs: Iterable[tuple[object, object]]) -> list[SelectChoice]:
    """Select-field choices from (value, label) pairs."""
    return [SelectChoice(value, str(text)) for value, text in pairs]


def choices(enum_cls: type[enum.Enum]) -> list[SelectChoice]:
    """Select-field choices for an enum, labelled in the current language."""
    return options((member.value, label(member)) for member in enum_cls)
