"""Users and teams over the API, read only: whom a script may name as owner or filter by.

The scope is the registry's (crm/permissions.py people_scope and team_scope): an admin
sees everyone and every team, a supervisor themselves and the teams they lead, a manager
themselves and their active teammates (the colleagues the web offers for a handover
request) and their own team. Accounts and teams are managed on the web's admin pages.
"""

from __future__ import annotations

from typing import Any

from flask.views import MethodView

from blueprints.api.auth import api_user
from blueprints.api.common import ApiBlueprint, load
from blueprints.api.fields import (
    ApiSchema,
    Bool,
    Id,
    Int,
    ListArgs,
    Str,
    Timestamp,
    choice,
    page_of,
)
from blueprints.api.pagination import Key, Order, paginate
from crm.services.people import teams as team_service
from crm.services.people import users as user_service
from models import Level, Role, Team, User

blp = ApiBlueprint(
    "api_people",
    __name__,
    url_prefix="/api/v1",
    description="Users and teams in your scope (read only).",
)


class UserSchema(ApiSchema):
    id = Int()
    username = Str()
    display_name = Str()
    role = choice(Role)
    level = choice(Level, metadata={"description": "junior, intermediate or senior."})
    team_id = Int(allow_none=True)
    active = Bool(metadata={"description": "False: deactivated (cannot own customers)."})
    locale = Str(metadata={"description": "The language of their emails and messages."})
    timezone = Str(metadata={"description": "Their follow-ups' days and times are in it."})
    created_at = Timestamp()


class TeamSchema(ApiSchema):
    id = Int()
    name = Str()
    supervisor_id = Int(allow_none=True)


class UserListArgs(ListArgs):
    team = Id(strict=False, metadata={"description": "A team in your scope."})
    role = choice(Role)
    active = Bool()


UserPage = page_of(UserSchema, "UserPage")
TeamPage = page_of(TeamSchema, "TeamPage")
# The web's order of people and teams: by name.
USER_ORDER = Order(
    "name", (Key(User.display_name, lambda u: u.display_name), Key(User.id, lambda u: u.id))
)
TEAM_ORDER = Order("name", (Key(Team.name, lambda t: t.name), Key(Team.id, lambda t: t.id)))


@blp.route("/users/")
class Users(MethodView):
    @blp.reads
    @blp.arguments(UserListArgs, location="query")
    @blp.response(200, UserPage)
    def get(self, args: dict[str, Any]):
        """The people in your scope, by name."""
        team = load(Team, args["team"]) if args.get("team") is not None else None
        stmt = user_service.visible_people(
            viewer=api_user(),
            team=team,
            role=Role(args["role"]) if args.get("role") else None,
            active=args.get("active"),
        )
        return paginate(stmt, USER_ORDER, limit=args["limit"], cursor=args["cursor"])


@blp.route("/users/<int:user_id>")
class UserRecord(MethodView):
    @blp.reads
    @blp.response(200, UserSchema)
    def get(self, user_id: int):
        """One person in your scope."""
        return load(User, user_id)


@blp.route("/teams/")
class Teams(MethodView):
    @blp.reads
    @blp.arguments(ListArgs, location="query")
    @blp.response(200, TeamPage)
    def get(self, args: dict[str, Any]):
        """Your team, the teams you lead, or (admins) every team, by name."""
        stmt = team_service.visible_teams(viewer=api_user())
        return paginate(stmt, TEAM_ORDER, limit=args["limit"], cursor=args["cursor"])


@blp.route("/teams/<int:team_id>")
class TeamRecord(MethodView):
    @blp.reads
    @blp.response(200, TeamSchema)
    def get(self, team_id: int):
        """One team in your scope (its members: /api/v1/users/?team=)."""
        return load(Team, team_id)
