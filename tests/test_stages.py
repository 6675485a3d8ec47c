"""Stage administration: order per phase, the contract stage, retiring and deleting."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from crm.extensions import db
from crm.services.errors import DomainError, NotAllowed
from crm.services.pipeline import opportunities as pipeline
from crm.services.pipeline import stages as stage_service
from models import Phase, Stage


def _order() -> list[str]:
    return [s.name_en for s in stage_service.all_stages()]


@pytest.fixture
def admin(org):
    org["admin"].locale = "en"
    db.session.commit()
    return org["admin"]


# The service ----------------------------------------------------------------------


def test_only_admins_change_stages(org, stages):
    with pytest.raises(NotAllowed):
        stage_service.set_stage_active(stages["Proposal"], actor=org["sup1"], active=False)


def test_a_new_pre_sale_stage_goes_before_the_contract_stage(admin):
    stage_service.create_stage(
        actor=admin, name_zh="资格确认", name_en="Qualification", phase="pre_sale", probability=70
    )
    stage_service.create_stage(
        actor=admin, name_zh="续约", name_en="Renewal", phase=Phase.AFTER_SALE, probability=100
    )
    order = _order()
    assert order[4:7] == ["Negotiation", "Qualification", "Contract"]
    assert order[-1] == "Renewal"
    assert [s.position for s in stage_service.all_stages()] == list(range(1, len(order) + 1))
    with pytest.raises(DomainError):  # names are unique
        stage_service.create_stage(
            actor=admin, name_zh="续约", name_en="x", phase=Phase.AFTER_SALE, probability=1
        )


def test_stages_move_up_and_down_within_their_phase(admin, stages):
    stage_service.move_stage(stages["Proposal"], actor=admin, up=True)
    assert _order()[2:4] == ["Proposal", "Solution design"]
    with pytest.raises(DomainError):  # first of in-sale: not into pre-sale
        stage_service.move_stage(stages["Order submitted"], actor=admin, up=True)
    with pytest.raises(DomainError):  # the contract stage stays last in pre-sale
        stage_service.move_stage(stages["Negotiation"], actor=admin, up=False)
    with pytest.raises(DomainError):
        stage_service.move_stage(stages["Contract"], actor=admin, up=True)


def test_a_stage_in_use_cannot_be_deleted_only_retired(admin, org, stages, make_customer):
    customer = make_customer(org["m1"])
    opportunity = pipeline.create_opportunity(customer, actor=org["m1"], title="x")
    pipeline.move_to_stage(opportunity, stages["Needs discovery"], actor=org["m1"])
    db.session.commit()
    # Needs discovery holds the opportunity; initial contact only its history.
    for name in ("Needs discovery", "Initial contact"):
        with pytest.raises(DomainError):
            stage_service.delete_stage(stages[name], actor=admin)
    stage_service.set_stage_active(stages["Initial contact"], actor=admin, active=False)
    db.session.commit()
    assert not stages["Initial contact"].active
    assert opportunity.history[0].stage is stages["Initial contact"]


def test_a_stage_nothing_refers_to_can_be_deleted(admin, stages):
    stage_service.delete_stage(stages["Trial"], actor=admin)
    db.session.commit()
    assert "Trial" not in _order()
    assert [s.position for s in stage_service.all_stages()] == list(range(1, 16))


def test_retired_stages_are_not_offered_for_new_moves(admin, org, stages, make_customer):
    stage_service.set_stage_active(stages["Proposal"], actor=admin, active=False)
    stage_service.set_stage_active(stages["Initial contact"], actor=admin, active=False)
    customer = make_customer(org["m1"])
    opportunity = pipeline.create_opportunity(customer, actor=org["m1"], title="x")
    assert opportunity.stage is stages["Needs discovery"]  # first ACTIVE pre-sale stage
    offered = pipeline.target_stages(opportunity, stage_service.active_stages())
    assert stages["Proposal"] not in offered and stages["Solution design"] in offered
    with pytest.raises(DomainError):
        pipeline.move_to_stage(opportunity, stages["Proposal"], actor=org["m1"])
    with pytest.raises(DomainError):
        pipeline.create_opportunity(
            customer, actor=org["m1"], title="y", stage=stages["Initial contact"]
        )


def test_exactly_one_contract_stage_remains(admin, stages):
    contract = stages["Contract"]
    with pytest.raises(DomainError):
        stage_service.set_stage_active(contract, actor=admin, active=False)
    with pytest.raises(DomainError):
        stage_service.delete_stage(contract, actor=admin)
    with pytest.raises(DomainError):
        _update(contract, admin, is_contract=False)
    with pytest.raises(DomainError):
        _update(contract, admin, phase=Phase.IN_SALE)
    with pytest.raises(DomainError):  # the contract stage is a pre-sale stage
        _update(stages["Trial"], admin, is_contract=True)
    _update(stages["Negotiation"], admin, is_contract=True)
    db.session.commit()
    assert db.session.scalars(select(Stage.name_en).where(Stage.is_contract)).all() == [
        "Negotiation"
    ]
    assert _order()[4:6] == ["Contract", "Negotiation"]  # it ends pre-sale


def test_a_stage_holding_opportunities_cannot_change_phase(
    admin, org, stages, make_opportunity, make_customer
):
    make_opportunity(make_customer(org["m1"]), "Trial")
    with pytest.raises(DomainError):
        _update(stages["Trial"], admin, phase=Phase.AFTER_SALE)
    _update(stages["Provisioning"], admin, phase=Phase.AFTER_SALE, probability=90)
    assert stages["Provisioning"].phase is Phase.AFTER_SALE
    assert _order().index("Provisioning") == _order().index("In commercial use") + 1


def _update(stage: Stage, admin, **changes):
    values = {
        "name_zh": stage.name_zh,
        "name_en": stage.name_en,
        "phase": stage.phase,
        "probability": stage.probability,
        "is_contract": stage.is_contract,
    } | changes
    return stage_service.update_stage(stage, actor=admin, **values)


# The pages ---------------------------------------------------------------------------


def test_the_stage_page_is_for_admins(client, login, org):
    login(client, org["sup1"])
    assert client.get("/admin/stages/").status_code == 403


def test_admin_lists_creates_and_renames_stages(client, login, admin, stages):
    login(client, admin)
    page = client.get("/admin/stages/").get_data(as_text=True)
    assert "需求挖掘" in page and "Contract stage" in page
    assert 'id="delete-{}"'.format(stages["Trial"].id) in page

    response = client.post(
        "/admin/stages/new",
        data={"name_zh": "资格确认", "name_en": "Qualification", "phase": "pre_sale",
              "probability": "30"},
    )  # fmt: skip
    assert response.status_code == 302
    assert "Qualification" in _order()

    proposal = stages["Proposal"]
    response = client.post(
        f"/admin/stages/{proposal.id}",
        data={"name_zh": "方案呈现", "name_en": "Proposal", "phase": "pre_sale",
              "probability": "0"},
    )  # fmt: skip
    assert response.status_code == 302
    db.session.refresh(proposal)
    assert (proposal.name_zh, proposal.probability) == ("方案呈现", 0)


def test_deleting_a_stage_in_use_shows_why_and_keeps_it(
    client, login, admin, org, stages, make_opportunity, make_customer
):
    make_opportunity(make_customer(org["m1"]), "Proposal")
    login(client, admin)
    page = client.get("/admin/stages/").get_data(as_text=True)
    assert 'id="delete-{}"'.format(stages["Proposal"].id) not in page

    response = client.post(
        f"/admin/stages/{stages['Proposal'].id}/delete",
        data={"confirmed": "1"},
        follow_redirects=True,
    )

    assert "only retired" in response.get_data(as_text=True)
    assert db.session.get(Stage, stages["Proposal"].id) is not None
    client.post(f"/admin/stages/{stages['Proposal'].id}/retire", data={"confirmed": "1"})
    db.session.refresh(stages["Proposal"])
    assert not stages["Proposal"].active


def test_move_buttons_reorder(client, login, admin, stages):
    login(client, admin)
    client.post(f"/admin/stages/{stages['Solution design'].id}/down")
    assert _order()[2:4] == ["Proposal", "Solution design"]
    client.post(f"/admin/stages/{stages['Solution design'].id}/up")
    assert _order()[2:4] == ["Solution design", "Proposal"]


def test_nav_offers_stages_to_admins_only(client, login, admin, org):
    login(client, admin)
    assert "/admin/stages/" in client.get("/").get_data(as_text=True)
    login(client, org["m1"])
    home = client.get("/").get_data(as_text=True)
    assert "/admin/stages/" not in home and "/opportunities/board" in home


def test_the_stage_page_counts_the_opportunities_in_each_stage(
    client, login, admin, org, stages, make_customer
):
    """From the totals the database keeps (no pass over every opportunity): a new
    opportunity and a move both count."""
    customer = make_customer(org["m1"])
    moved = pipeline.create_opportunity(customer, actor=org["m1"], title="moved")
    pipeline.create_opportunity(customer, actor=org["m1"], title="stays")
    pipeline.move_to_stage(moved, stages["Needs discovery"], actor=org["m1"])
    db.session.commit()
    login(client, admin)
    page = client.get("/admin/stages/").get_data(as_text=True)

    def count(name: str) -> int:
        row = page.split(f'id="stage-{stages[name].id}"', 1)[1].split("</tr>", 1)[0]
        return int(row.split('<td class="text-end">')[2].split("<", 1)[0])

    assert (count("Initial contact"), count("Needs discovery"), count("Proposal")) == (1, 1, 0)
    assert stage_service.stages_in_use() == {
        stages["Initial contact"].id,
        stages["Needs discovery"].id,
    }
