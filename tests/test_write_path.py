"""Views write through one path, blueprints/common.write: one service call, one commit.

A refusal rolls back and re-renders (or, for a button, flashes and goes back); a row a
colleague changed meanwhile is refused as stale, also when only SQLAlchemy's version
check at the flush notices it (StaleDataError), never answered with a 500.
"""

from __future__ import annotations

import re
from contextlib import contextmanager
from pathlib import Path

import pytest
from flask_babel import force_locale
from sqlalchemy import event, update
from sqlalchemy.orm import Session

from crm.extensions import db
from models import CompetitorProfile

BLUEPRINTS = Path(__file__).resolve().parent.parent / "blueprints"

# A view that commits or rolls back itself writes a second path.
OWN_WRITE = re.compile(r"db\.session\.(commit|rollback)\(")

# Still to be moved onto the write path (remove a file here when it is).
NOT_YET = {"auth/routes.py", "handovers/routes.py"}


def _own_writes(path: Path) -> list[str]:
    return [line.strip() for line in path.read_text().splitlines() if OWN_WRITE.search(line)]


def test_views_commit_only_through_the_write_path():
    found = {
        str(path.relative_to(BLUEPRINTS)): _own_writes(path)
        for path in sorted(BLUEPRINTS.rglob("*.py"))
        if path.name != "common.py"
    }
    assert {name: lines for name, lines in found.items() if lines and name not in NOT_YET} == {}


@contextmanager
def colleague_changes_before_the_delete(statement, record_class):
    """Run `statement` as a colleague's committed save just before the request flushes
    its delete of a `record_class` row (see tests/test_stale_races.py for the method)."""
    done = []

    def before_flush(session, flush_context, instances):
        if done or not any(isinstance(record, record_class) for record in session.deleted):
            return
        done.append(True)
        if db.engine.dialect.name == "postgresql":
            with db.engine.connect() as other:
                other.execute(statement)
                other.commit()
        else:
            session.connection().execute(statement)

    event.listen(Session, "before_flush", before_flush)
    try:
        yield
    finally:
        event.remove(Session, "before_flush", before_flush)
    assert done, "the request deleted no such record"


@pytest.fixture
def english(org):
    for user in org.values():
        if hasattr(user, "locale"):
            user.locale = "en"
    db.session.commit()
    with force_locale("en"):
        yield org


def test_deleting_a_profile_a_colleague_just_changed_is_refused_not_500(
    client, login, english, make_customer, make_profile
):
    customer = make_customer(english["m1"])
    profile = make_profile(customer, offer="Original")
    login(client, english["m1"])
    colleague = (
        update(CompetitorProfile)
        .where(CompetitorProfile.id == profile.id)
        .values(offer="Colleague's offer", version=CompetitorProfile.version + 1)
    )

    with colleague_changes_before_the_delete(colleague, CompetitorProfile):
        response = client.post(
            f"/competitors/profiles/{profile.id}/delete", data={"confirmed": "1"}
        )

    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/customers/{customer.id}#competition")
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Someone else saved this record" in page
    assert "is deleted" not in page
    db.session.expire_all()
    assert db.session.get(CompetitorProfile, profile.id) is not None  # nothing was deleted
