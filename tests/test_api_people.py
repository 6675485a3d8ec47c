"""Users and teams over the API, read only, in the registry's scope: an admin everyone,
a supervisor the teams they lead, a manager themselves and their active teammates."""

from __future__ import annotations

from crm.extensions import db
from crm.permissions import scoped
from models import Team, TokenScope, User
from tests.api_support import as_user, problem_of


def _usernames(client, headers, query: str = "") -> set[str]:
    response = client.get("/api/v1/users/" + query, headers=headers)
    assert response.status_code == 200, response.get_data(as_text=True)
    return {item["username"] for item in response.get_json()["items"]}


def test_each_role_sees_the_people_the_web_shows_it(client, org, make_user):
    org["m2"].active = False  # a teammate who left: a manager no longer sees them
    everyone = {"admin", "sup1", "sup2", "m1", "m2", "m3", "m4"}
    assert _usernames(client, as_user(org["admin"])) == everyone
    assert _usernames(client, as_user(org["sup1"])) == {"sup1", "m1", "m2"}
    assert _usernames(client, as_user(org["m1"])) == {"sup1", "m1"}
    assert _usernames(client, as_user(org["m3"])) == {"sup2", "m3", "m4"}
    loner = make_user("loner")  # in no team: only themselves
    assert _usernames(client, as_user(loner)) == {"loner"}


def test_people_out_of_scope_are_not_found(client, org):
    m1 = as_user(org["m1"])
    assert client.get(f"/api/v1/users/{org['m2'].id}", headers=m1).status_code == 200
    problem_of(client.get(f"/api/v1/users/{org['m3'].id}", headers=m1), 404)
    problem_of(client.get(f"/api/v1/users/{org['sup2'].id}", headers=as_user(org["sup1"])), 404)
    record = client.get(f"/api/v1/users/{org['m3'].id}", headers=as_user(org["admin"])).get_json()
    assert record["team_id"] == org["team2"].id and record["role"] == "manager"
    assert "password_hash" not in record and "email" not in record


def test_the_list_filters_by_team_role_and_active(client, org):
    admin = as_user(org["admin"])
    assert _usernames(client, admin, f"?team={org['team2'].id}") == {"sup2", "m3", "m4"}
    assert _usernames(client, admin, "?role=supervisor") == {"sup1", "sup2"}
    org["m4"].active = False
    assert "m4" not in _usernames(client, admin, "?active=true")
    problem_of(
        client.get(f"/api/v1/users/?team={org['team2'].id}", headers=as_user(org["m1"])), 404
    )


def test_teams_are_the_ones_of_the_persons_scope(client, org, make_team):
    make_team("Team Three")
    names = {
        persona: {
            t["name"]
            for t in client.get("/api/v1/teams/", headers=as_user(org[persona])).get_json()["items"]
        }
        for persona in ("admin", "sup1", "m3")
    }
    assert names == {
        "admin": {"Team One", "Team Two", "Team Three"},
        "sup1": {"Team One"},
        "m3": {"Team Two"},
    }
    problem_of(client.get(f"/api/v1/teams/{org['team1'].id}", headers=as_user(org["m3"])), 404)
    record = client.get(f"/api/v1/teams/{org['team1'].id}", headers=as_user(org["m1"])).get_json()
    assert record == {"id": org["team1"].id, "name": "Team One", "supervisor_id": org["sup1"].id}


def test_a_read_only_token_reads_people_and_nobody_writes_them_here(client, org):
    reader = as_user(org["m1"], TokenScope.READ)
    assert client.get("/api/v1/users/", headers=reader).status_code == 200
    assert client.get("/api/v1/teams/", headers=reader).status_code == 200
    # Accounts and teams are kept on the admin pages: not even an admin writes them here.
    problem_of(client.post("/api/v1/users/", json={}, headers=as_user(org["admin"])), 405)


def test_a_deactivated_user_sees_nobody(app, org):
    """Their tokens are revoked and sessions ended; the registry refuses them all the same."""
    org["m1"].active = False
    db.session.commit()
    assert db.session.scalars(scoped(User, org["m1"])).all() == []
    assert db.session.scalars(scoped(Team, org["m1"])).all() == []
