"""SQLAlchemy models, one module per aggregate."""

from models.customer import Customer
from models.user import Level, Role, Team, User

__all__ = ["Customer", "Level", "Role", "Team", "User"]
