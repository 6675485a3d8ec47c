"""One handover across two teams: each person sees only the customers in their scope.

An administrator hands one of m2's customers (team one) and one of m3's (team two) to
m1 (team one) in one handover. m3 and supervisor two must not learn anything of team
one's customer from the handover's page, the list, the emails or the undo.
"""

from __future__ import annotations

import pytest
from flask_babel import force_locale
from sqlalchemy import select

from crm.extensions import db
from crm.services.errors import NotAllowed
from crm.services.handover.transfer import HandoverOptions, Selection, hand_over
from crm.services.handover.undo import undo
from models import Customer, Handover, OutboxMessage, Tier

TEAM_ONE_NAME = "武汉光谷电子集团"
TEAM_TWO_NAME = "襄阳汽车配件有限公司"
TEAM_ONE_MANAGER = "Wang Yifan"


@pytest.fixture
def english(org):
    for user in org.values():
        if hasattr(user, "locale"):
            user.locale = "en"
    org["m2"].display_name = TEAM_ONE_MANAGER
    db.session.commit()
    with force_locale("en"):
        yield org


@pytest.fixture
def mixed(english, make_customer):
    """The handover #id, and the two customers it moved."""
    org = english
    team_one = make_customer(org["m2"], name=TEAM_ONE_NAME, tier=Tier.B)
    team_two = make_customer(org["m3"], name=TEAM_TWO_NAME, tier=Tier.C)
    handover = hand_over(
        actor=org["admin"],
        selection=Selection(ids=[team_one.id, team_two.id]),
        to_owner=org["m1"],
        options=HandoverOptions(),
        note="Regional reorganisation",
        token="mixed",
        expected_fingerprint=None,
    )
    db.session.commit()
    return handover.id, team_one, team_two


@pytest.mark.parametrize("viewer", ["m3", "sup2"])
def test_the_other_teams_customer_is_not_on_the_handover_page(
    client, login, english, mixed, viewer
):
    handover_id, team_one, team_two = mixed
    login(client, english[viewer])

    response = client.get(f"/handovers/{handover_id}")

    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert TEAM_TWO_NAME in page
    assert TEAM_ONE_NAME not in page
    assert TEAM_ONE_MANAGER not in page  # team one's previous owner
    assert "1 other customers of this handover are outside your scope" in page
    # Where their customer went is theirs to know; whom it is with now is not shown.
    assert f"/handovers/customers/{team_two.id}" not in page


@pytest.mark.parametrize("viewer", ["admin", "sup1", "m1"])
def test_the_new_owners_side_sees_every_customer(client, login, english, mixed, viewer):
    handover_id, _, _ = mixed
    login(client, english[viewer])

    page = client.get(f"/handovers/{handover_id}").get_data(as_text=True)

    assert TEAM_ONE_NAME in page and TEAM_TWO_NAME in page
    assert "outside your scope" not in page


def test_a_handover_without_a_customer_in_scope_is_not_found(client, login, english, mixed):
    handover_id, _, _ = mixed
    login(client, english["m4"])  # team two, but none of these was theirs

    assert client.get(f"/handovers/{handover_id}").status_code == 404
    assert f"/handovers/{handover_id}" not in client.get("/handovers/").get_data(as_text=True)


def test_the_list_counts_what_it_does_not_show(client, login, english, mixed):
    handover_id, _, _ = mixed
    login(client, english["sup2"])

    page = client.get("/handovers/").get_data(as_text=True)

    row = page[page.index(f'data-handover-id="{handover_id}"') :]
    row = row[: row.index("</tr>")]
    assert "1 more not shown" in row
    assert TEAM_ONE_NAME not in page


def test_each_email_names_only_the_customers_in_its_readers_scope(english, mixed):
    handover_id, _, _ = mixed
    bodies = {
        message.recipient_id: message.body_text + message.body_html
        for message in db.session.scalars(select(OutboxMessage))
    }

    for reader in ("m3", "sup2"):
        body = bodies[english[reader].id]
        assert TEAM_TWO_NAME in body
        assert TEAM_ONE_NAME not in body, reader
        assert TEAM_ONE_MANAGER not in body, reader  # nor is team one's previous owner
        assert "1 other customers of this handover are outside your scope" in body
    for reader in ("m1", "sup1"):
        body = bodies[english[reader].id]
        assert TEAM_ONE_NAME in body and TEAM_TWO_NAME in body


def test_a_supervisor_cannot_undo_a_handover_that_spans_another_team(client, login, english, mixed):
    handover_id, team_one, team_two = mixed
    for supervisor in ("sup1", "sup2"):
        login(client, english[supervisor])
        page = client.get(f"/handovers/{handover_id}").get_data(as_text=True)
        assert 'id="undo-handover"' not in page
        with pytest.raises(NotAllowed):
            undo(db.session.get(Handover, handover_id), actor=english[supervisor])
        db.session.rollback()

    client.post(f"/handovers/{handover_id}/undo", data={"confirmed": "1"})
    db.session.expire_all()
    owners = set(db.session.scalars(select(Customer.owner_id)))
    assert owners == {english["m1"].id}  # nothing went back


def test_a_customer_handed_on_stays_in_both_teams_records(client, login, english, make_customer):
    """m2 → m1 inside team one, on to m3 in team two, then m3 → m4 inside team two: team
    one keeps its record of the first handover without learning where the customer is now,
    and its owner now can open every handover in the customer's ownership history."""
    org = english
    org["m4"].display_name = "Li Na"
    customer = make_customer(org["m2"], name=TEAM_ONE_NAME)
    moves = [("sup1", "m1"), ("admin", "m3"), ("sup2", "m4")]
    first, *_ = [
        hand_over(
            actor=org[actor],
            selection=Selection(ids=[customer.id]),
            to_owner=org[to_owner],
            options=HandoverOptions(),
            note=f"To {to_owner}",
            token=to_owner,
            expected_fingerprint=None,
        )
        for actor, to_owner in moves
    ]
    db.session.commit()

    login(client, english["sup1"])
    page = client.get(f"/handovers/{first.id}").get_data(as_text=True)
    assert TEAM_ONE_NAME in page
    assert "Li Na" not in page  # whom it is with now is not team one's to know

    login(client, english["m4"])
    history = client.get(f"/handovers/customers/{customer.id}").get_data(as_text=True)
    assert f"/handovers/{first.id}" in history
    response = client.get(f"/handovers/{first.id}")
    assert response.status_code == 200
    assert TEAM_ONE_NAME in response.get_data(as_text=True)


def test_the_receiving_team_keeps_its_record_after_the_customer_moved_on(
    client, login, english, make_customer
):
    """Admin: m3 → m1 (into team one), then m1 → m4 (back to team two)."""
    org = english
    customer = make_customer(org["m3"], name=TEAM_TWO_NAME)
    received, _ = [
        hand_over(
            actor=org["admin"],
            selection=Selection(ids=[customer.id]),
            to_owner=org[to_owner],
            options=HandoverOptions(),
            note=f"To {to_owner}",
            token=to_owner,
            expected_fingerprint=None,
        )
        for to_owner in ("m1", "m4")
    ]
    db.session.commit()
    login(client, english["sup1"])

    response = client.get(f"/handovers/{received.id}")

    assert response.status_code == 200
    assert TEAM_TWO_NAME in response.get_data(as_text=True)
    assert "outside your scope" not in response.get_data(as_text=True)


def test_a_supervisor_cannot_undo_a_handover_into_another_team(english, make_customer):
    """Admin: m3 → m1. Supervisor two led the previous owner, not the new one."""
    org = english
    customer = make_customer(org["m3"], name=TEAM_TWO_NAME)
    handover = hand_over(
        actor=org["admin"],
        selection=Selection(ids=[customer.id]),
        to_owner=org["m1"],
        options=HandoverOptions(),
        note="Into team one",
        token="into-team-one",
        expected_fingerprint=None,
    )
    db.session.commit()

    with pytest.raises(NotAllowed):
        undo(handover, actor=org["sup2"])
    db.session.rollback()
    assert db.session.get(Customer, customer.id).owner_id == org["m1"].id
