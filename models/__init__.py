"""SQLAlchemy models, one module per aggregate."""

from models.activity import (
    Reminder,
    ReminderSource,
    ReminderStatus,
    TierCadence,
    Visit,
    VisitComment,
    VisitKind,
    visit_contacts,
)
from models.api import ApiToken, IdempotencyKey, TokenScope
from models.audit import AuditAction, AuditEntry
from models.competitor import Competitor, CompetitorProfile, InfoSource, ThreatLevel
from models.contact import Attitude, BuyingRole, Contact
from models.customer import Customer, CustomerStatus, Industry, LossReason, Strategy, Tier
from models.figures import MonthlyFigure
from models.health import CustomerHealth, HealthBand, HealthSnapshot
from models.document import Document, DocumentKind, DocumentVersion
from models.handover import (
    Handover,
    HandoverCustomer,
    HandoverRequest,
    HandoverRequestStatus,
    HandoverStatus,
)
from models.notice import Notice, NoticeKind
from models.outbox import MessageKind, MessageStatus, OutboxMessage, SchedulerState
from models.pipeline import (
    DocumentRule,
    LostReason,
    Opportunity,
    OpportunityCompetitor,
    OpportunityContact,
    OpportunityHistory,
    OpportunityStatus,
    Phase,
    Stage,
)
from models.plan import (
    KeyCustomerAim,
    PlanChange,
    PlanKeyCustomer,
    PlanKind,
    PlannedVisit,
    PlanReview,
    PlanStatus,
    PlanTask,
    Rating,
    Verdict,
    VisitMatch,
    WorkPlan,
    plan_visit_contacts,
)
from models.session import UserSession
from models.service import (
    ServiceTicket,
    TicketCategory,
    TicketEvent,
    TicketKind,
    TicketSeverity,
    TicketStatus,
)
from models.setting import AppSetting
from models.target import Target
from models.user import Level, Role, Team, User

__all__ = [
    "Handover",
    "HandoverCustomer",
    "HandoverRequest",
    "HandoverRequestStatus",
    "HandoverStatus",
    "MessageKind",
    "MessageStatus",
    "OutboxMessage",
    "SchedulerState",
    "LostReason",
    "Opportunity",
    "OpportunityCompetitor",
    "OpportunityContact",
    "OpportunityHistory",
    "OpportunityStatus",
    "Phase",
    "Reminder",
    "ReminderSource",
    "ReminderStatus",
    "Stage",
    "TierCadence",
    "Visit",
    "VisitKind",
    "visit_contacts",
    "Attitude",
    "AuditAction",
    "AuditEntry",
    "BuyingRole",
    "Competitor",
    "CompetitorProfile",
    "Contact",
    "Customer",
    "CustomerStatus",
    "Industry",
    "InfoSource",
    "Level",
    "Role",
    "Strategy",
    "Target",
    "Team",
    "ThreatLevel",
    "Tier",
    "User",
    "UserSession",
    "VisitComment",
    "Notice",
    "NoticeKind",
    "DocumentRule",
    "KeyCustomerAim",
    "PlanChange",
    "PlanKeyCustomer",
    "PlanKind",
    "PlanReview",
    "PlanStatus",
    "PlannedVisit",
    "PlanTask",
    "Rating",
    "Verdict",
    "VisitMatch",
    "WorkPlan",
    "plan_visit_contacts",
    "AppSetting",
    "Document",
    "DocumentKind",
    "DocumentVersion",
    "LossReason",
    "MonthlyFigure",
    "CustomerHealth",
    "HealthBand",
    "HealthSnapshot",
    "ServiceTicket",
    "TicketCategory",
    "TicketEvent",
    "TicketKind",
    "TicketSeverity",
    "TicketStatus",
    "ApiToken",
    "IdempotencyKey",
    "TokenScope",
]
