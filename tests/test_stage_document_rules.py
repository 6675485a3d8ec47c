"""Stage document rules: REQUIRE refuses a move without the document, SUGGEST hints, OFF is off."""

from __future__ import annotations

from datetime import UTC, datetime
from html import unescape

import pytest
from sqlalchemy import select

from crm.extensions import db
from crm.services.errors import DomainError
from crm.services.pipeline import opportunities as pipeline
from crm.services.pipeline import stages as stage_service
from crm.services.pipeline.document_rules import DocumentMissing, clean_rule
from models import Document, DocumentKind, DocumentRule, Opportunity, OpportunityHistory


@pytest.fixture
def english(org):
    for user in org.values():
        if hasattr(user, "locale"):
            user.locale = "en"
    db.session.commit()
    return org


@pytest.fixture
def opportunity(org, make_customer, make_opportunity):
    return make_opportunity(make_customer(org["m1"]), stage="Negotiation", title="IDC 扩容")


def rule(stage, document_rule: DocumentRule, kind: str | None) -> None:
    stage.document_rule, stage.document_kind = document_rule, kind
    db.session.commit()


def attach(opportunity: Opportunity, code: str, *, deleted: bool = False) -> Document:
    """A document of the kind on the opportunity (the rows an upload leaves)."""
    kind = db.session.scalar(select(DocumentKind).where(DocumentKind.code == code))
    document = Document(
        customer_id=opportunity.customer_id,
        opportunity_id=opportunity.id,
        kind=kind,
        title=f"{code} v1",
        created_by_id=opportunity.owner_id,
        current_version=1,
        deleted_at=datetime.now(UTC) if deleted else None,
    )
    db.session.add(document)
    db.session.commit()
    return document


def moves(opportunity: Opportunity) -> int:
    return len(
        db.session.scalars(
            select(OpportunityHistory).where(OpportunityHistory.opportunity_id == opportunity.id)
        ).all()
    )


# The service ------------------------------------------------------------------------


def test_rules_are_off_by_default_and_off_asks_nothing(org, opportunity, stages):
    assert {stage.document_rule for stage in stages.values()} == {DocumentRule.OFF}
    # Off, even with a kind left on the stage.
    rule(stages["Contract"], DocumentRule.OFF, "contract")

    pipeline.move_to_stage(opportunity, stages["Contract"], actor=org["m1"])

    assert opportunity.stage == stages["Contract"]


def test_require_refuses_the_move_until_the_document_is_there(org, opportunity, stages):
    rule(stages["Contract"], DocumentRule.REQUIRE, "contract")
    attach(opportunity, "proposal")  # another kind does not count
    attach(opportunity, "contract", deleted=True)  # nor a deleted one
    before = moves(opportunity)

    with pytest.raises(DocumentMissing) as refused:
        pipeline.move_to_stage(opportunity, stages["Contract"], actor=org["m1"])
    db.session.rollback()

    assert refused.value.kind_code == "contract" and refused.value.field == "stage_id"
    assert refused.value.opportunity_id == opportunity.id
    db.session.expire_all()
    assert db.session.get(Opportunity, opportunity.id).stage == stages["Negotiation"]
    assert moves(opportunity) == before

    attach(opportunity, "contract")
    pipeline.move_to_stage(opportunity, stages["Contract"], actor=org["m1"])
    assert opportunity.stage == stages["Contract"]


def test_a_rule_whose_kind_was_retired_asks_nothing(org, opportunity, stages):
    rule(stages["Contract"], DocumentRule.REQUIRE, "contract")
    kind = db.session.scalar(select(DocumentKind).where(DocumentKind.code == "contract"))
    kind.active = False
    db.session.commit()

    pipeline.move_to_stage(opportunity, stages["Contract"], actor=org["m1"])

    assert opportunity.stage == stages["Contract"]


def test_an_admin_sets_a_rule_only_with_an_active_kind(org, stages):
    stage = stages["Proposal"]
    common = {
        "actor": org["admin"],
        "name_zh": stage.name_zh,
        "name_en": stage.name_en,
        "phase": stage.phase,
        "probability": stage.probability,
        "is_contract": False,
    }
    with pytest.raises(DomainError) as refused:
        stage_service.update_stage(stage, **common, document_rule="suggest", document_kind="")
    assert refused.value.field == "document_kind"
    db.session.rollback()
    with pytest.raises(DomainError):
        clean_rule("require", "no_such_kind")
    with pytest.raises(DomainError):
        clean_rule("sometimes", "proposal")

    stage_service.update_stage(stage, **common, document_rule="suggest", document_kind="proposal")
    assert (stage.document_rule, stage.document_kind) == (DocumentRule.SUGGEST, "proposal")
    # Saved without the rule's fields (an older form): the rule stays.
    stage_service.update_stage(stage, **common)
    assert stage.document_rule is DocumentRule.SUGGEST
    stage_service.update_stage(stage, **common, document_rule="off", document_kind="proposal")
    assert (stage.document_rule, stage.document_kind) == (DocumentRule.OFF, None)


# The pages --------------------------------------------------------------------------


def test_a_refused_move_names_the_kind_and_links_to_the_upload(
    client, login, english, opportunity, stages
):
    rule(stages["Contract"], DocumentRule.REQUIRE, "contract")
    login(client, english["m1"])

    response = client.post(
        f"/opportunities/{opportunity.id}/stage",
        data={"stage_id": stages["Contract"].id, "next": f"/opportunities/{opportunity.id}"},
    )

    assert response.status_code == 302
    page = unescape(client.get(response.location).get_data(as_text=True))
    assert "Contract needs a document of the kind Contract on the opportunity" in page
    assert f'href="/opportunities/{opportunity.id}/documents"' in page
    db.session.expire_all()
    assert db.session.get(Opportunity, opportunity.id).stage == stages["Negotiation"]

    # The board's drag and drop gets the same refusal as JSON, with the link.
    response = client.post(
        f"/opportunities/{opportunity.id}/stage",
        data={"stage_id": stages["Contract"].id},
        headers={"Accept": "application/json"},
    )
    assert response.status_code == 400
    answer = response.get_json()
    assert answer["ok"] is False and "kind Contract" in answer["message"]
    assert answer["link"] == f"/opportunities/{opportunity.id}/documents"


def test_the_message_is_in_the_readers_language(client, login, org, opportunity, stages):
    rule(stages["Contract"], DocumentRule.REQUIRE, "contract")
    login(client, org["m1"])  # Chinese

    response = client.post(
        f"/opportunities/{opportunity.id}/stage",
        data={"stage_id": stages["Contract"].id},
        headers={"Accept": "application/json"},
    )

    assert "合同" in response.get_json()["message"]


def test_suggest_moves_and_hints_to_attach(client, login, english, opportunity, stages):
    opportunity.stage = stages["Solution design"]
    db.session.commit()
    rule(stages["Proposal"], DocumentRule.SUGGEST, "proposal")
    login(client, english["m1"])

    response = client.post(
        f"/opportunities/{opportunity.id}/stage",
        data={"stage_id": stages["Proposal"].id, "next": f"/opportunities/{opportunity.id}"},
    )

    page = unescape(client.get(response.location).get_data(as_text=True))
    assert "moved to Proposal" in page
    assert "Proposal suggests a document of the kind Proposal" in page
    db.session.expire_all()
    assert db.session.get(Opportunity, opportunity.id).stage == stages["Proposal"]

    # With the proposal attached the hint is gone.
    moved = db.session.get(Opportunity, opportunity.id)
    moved.stage = stages["Solution design"]
    db.session.commit()
    attach(moved, "proposal")
    response = client.post(
        f"/opportunities/{opportunity.id}/stage",
        data={"stage_id": stages["Proposal"].id},
        headers={"Accept": "application/json"},
    )
    assert response.get_json()["ok"] is True
    page = client.get("/opportunities/board").get_data(as_text=True)
    assert "suggests a document" not in page


def test_the_stage_admin_page_sets_and_shows_the_rule(client, login, english, stages):
    login(client, english["admin"])
    stage = stages["Contract"]
    form = client.get(f"/admin/stages/{stage.id}").get_data(as_text=True)
    assert 'name="document_rule"' in form and 'value="contract"' in form

    response = client.post(
        f"/admin/stages/{stage.id}",
        data={
            "name_zh": stage.name_zh,
            "name_en": stage.name_en,
            "phase": stage.phase.value,
            "probability": stage.probability,
            "is_contract": "y",
            "document_rule": "require",
            "document_kind": "contract",
        },
    )

    assert response.status_code == 302
    db.session.expire_all()
    assert stages["Contract"].document_rule is DocumentRule.REQUIRE
    listing = client.get("/admin/stages/").get_data(as_text=True)
    assert f'id="document-rule-{stage.id}"' in listing
    assert "Require a document: Contract" in listing
