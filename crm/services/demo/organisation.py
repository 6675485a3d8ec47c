"""The demo organisation: fictional people and companies for trying the app."""

from __future__ import annotations

from sqlalchemy import func, select

from crm.extensions import db
from crm.services.demo import archive as demo_archive
from crm.services.demo import assessment as demo_assessment
from crm.services.demo import check_ins as demo_check_ins
from crm.services.demo import figures as demo_figures
from crm.services.demo import health as demo_health
from crm.services.demo import pipeline as demo_pipeline
from crm.services.demo import plans as demo_plans
from crm.services.demo import service as demo_service
from crm.services.people import users as user_service
from crm.services.seed import seed_reference_data
from models import Level, Role, Team, User

DEMO_PASSWORD = "crm-demo"  # noqa: S105 - documented demo password, never in production

# username, display name, role, level, team index (None: no team)
DEMO_USERS = (
    ("admin", "系统管理员", Role.ADMIN, Level.SENIOR, None),
    ("supervisor1", "王建国", Role.SUPERVISOR, Level.SENIOR, 0),
    ("supervisor2", "李秀英", Role.SUPERVISOR, Level.SENIOR, 1),
    ("manager1", "张伟", Role.MANAGER, Level.SENIOR, 0),
    ("manager2", "刘洋", Role.MANAGER, Level.INTERMEDIATE, 0),
    ("manager3", "陈静", Role.MANAGER, Level.INTERMEDIATE, 0),
    ("manager4", "杨帆", Role.MANAGER, Level.JUNIOR, 0),
    ("manager5", "赵磊", Role.MANAGER, Level.SENIOR, 1),
    ("manager6", "黄丽", Role.MANAGER, Level.INTERMEDIATE, 1),
    ("manager7", "周敏", Role.MANAGER, Level.JUNIOR, 1),
    ("manager8", "吴超", Role.MANAGER, Level.JUNIOR, 1),
)
DEMO_TEAMS = ("政企一部", "政企二部")


def has_users() -> bool:
    return bool(db.session.scalar(select(func.count()).select_from(User)))


def load_demo() -> str:
    """Create what is missing of the demo organisation; running it twice adds nothing."""
    # A database made with create_all (the browser tests') has no stages otherwise.
    seed_reference_data()
    users = _ensure_users()
    customers = _ensure_customers(users)
    db.session.flush()
    opportunities = demo_pipeline.ensure_pipeline()
    plans = demo_plans.ensure_plans()
    demo_check_ins.ensure_check_ins()
    demo_assessment.ensure_figures()  # two years of business figures
    demo_figures.ensure_story()  # revenue trends; why the lost customers left
    tickets = demo_service.ensure_service()
    demo_health.assess()  # last: it reads everything the steps above wrote
    demo_assessment.ensure_assessment()  # after every step: the sheets count them all
    return (
        f"Demo organisation ready: {len(users)} users, {len(DEMO_TEAMS)} teams, "
        f"{customers} customers and {opportunities} opportunities with a year of visits, "
        f"{plans} work plans with their reviews, {tickets} service tickets added. "
        f"Password for every demo user: {DEMO_PASSWORD}"
    )


def _ensure_users() -> dict[str, User]:
    existing = {u.username: u for u in db.session.scalars(select(User))}
    teams = []
    for name in DEMO_TEAMS:
        team = db.session.scalar(select(Team).where(Team.name == name))
        if team is None:
            team = Team(name=name)
            db.session.add(team)
        teams.append(team)
    db.session.flush()
    for username, display_name, role, level, team_index in DEMO_USERS:
        if username in existing:
            continue
        existing[username] = user_service.create_user(
            actor=None,
            username=username,
            display_name=display_name,
            password=DEMO_PASSWORD,
            email=f"{username}@demo.crm.example",
            role=role,
            level=level,
            team=teams[team_index] if team_index is not None else None,
        )
    for index, team in enumerate(teams):
        if team.supervisor_id is None:
            team.supervisor = existing[f"supervisor{index + 1}"]
    db.session.flush()
    return existing


def _ensure_customers(users: dict[str, User]) -> int:
    return demo_archive.ensure_archive([users[f"manager{i}"] for i in range(1, 9)])
