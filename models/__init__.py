"""SQLAlchemy models, one module per aggregate."""

from models.audit import AuditAction, AuditEntry
from models.competitor import Competitor, CompetitorProfile, InfoSource, ThreatLevel
from models.contact import Attitude, BuyingRole, Contact
from models.customer import Customer, CustomerStatus, Industry, Strategy, Tier
from models.user import Level, Role, Team, User

__all__ = [
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
    "Team",
    "ThreatLevel",
    "Tier",
    "User",
]
