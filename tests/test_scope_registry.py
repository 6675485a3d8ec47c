"""The scope registry: every model that belongs to someone names its path to the owner."""

from __future__ import annotations

import pytest

from crm.extensions import db
from crm.permissions import SCOPES, get_in_scope_or_404, in_scope, scope_path, scoped
from models import (
    AuditEntry,
    Customer,
    Handover,
    HandoverCustomer,
    HandoverRequest,
    IdempotencyKey,
    MessageKind,
    OpportunityCompetitor,
    OpportunityContact,
    OpportunityHistory,
    OutboxMessage,
    Reminder,
    SearchGram,
    SearchGramBacklog,
    Target,
    UserSession,
)

# Models with an owner, a user or a customer that are not scoped on their own, and why.
# A new model with such a column must be registered in crm/permissions.py or named here.
UNSCOPED = {
    AuditEntry: "shown only inside its customer's page, which is loaded in scope",
    OpportunityHistory: "an opportunity's stage history: read with its opportunity, in scope",
    OpportunityContact: "a link row read through its opportunity, loaded in scope",
    OpportunityCompetitor: "a link row read through its opportunity, loaded in scope",
    UserSession: "a sign-in: read only for the signed-in user by the session loader",
    IdempotencyKey: "an API answer kept for a retry: read only for the token's own user",
    SearchGram: "the customer search's bigrams: read only inside search_customers, in scope",
    SearchGramBacklog: "customers whose bigrams are not cut yet: read only inside "
    "search_customers, in scope",
}
OWNING_COLUMNS = {
    "customer_id",
    "owner_id",
    "user_id",
    "to_owner_id",
    "from_owner_id",
    "requested_by_id",
    "opportunity_id",
    "recipient_id",
    "plan_id",
    "visit_id",
    "author_id",
}


def _owned_models():
    for mapper in db.Model.registry.mappers:
        model = mapper.class_
        columns = {column.key for column in mapper.columns}
        if columns & OWNING_COLUMNS:
            yield model


def test_every_model_with_an_owner_or_a_customer_is_registered(app):
    missing = sorted(
        model.__name__ for model in _owned_models() if model not in SCOPES and model not in UNSCOPED
    )
    assert not missing, (
        f"register a scope path in crm/permissions.py (or name the model in UNSCOPED "
        f"with a reason): {missing}"
    )


def test_the_unscoped_list_names_only_models_that_exist_and_are_not_registered(app):
    assert not set(UNSCOPED) & set(SCOPES)


def test_an_unregistered_model_cannot_be_loaded_unscoped(app, org):
    with pytest.raises(LookupError, match="AuditEntry has no scope path"):
        scoped(AuditEntry, org["admin"])
    with pytest.raises(LookupError):
        scope_path(UserSession)


@pytest.mark.parametrize("model", list(SCOPES), ids=lambda m: m.__name__)
def test_every_registered_path_builds_a_query_for_every_role(app, org, model):
    for user in (org["admin"], org["sup1"], org["m1"]):
        db.session.execute(scoped(model, user).limit(1)).all()


def test_records_load_only_in_scope(app, org, make_customer, make_reminder):
    mine = make_customer(org["m1"])
    theirs = make_customer(org["m3"])
    follow_up = make_reminder(mine, owner=org["m2"])  # a teammate's follow-up on m1's customer
    assert get_in_scope_or_404(Customer, mine.id, org["m1"]) is mine
    assert in_scope(Customer, mine.id, org["sup1"]) and not in_scope(Customer, theirs.id, org["m1"])
    assert not in_scope(Reminder, follow_up.id, org["m1"])  # the owner is in the path too
    assert in_scope(Reminder, follow_up.id, org["sup1"])
    ids = set(db.session.scalars(scoped(Customer, org["m1"]).with_only_columns(Customer.id)))
    assert ids == {mine.id}


@pytest.mark.parametrize("record_id", [0, -1, 2**63, None, "1"])
def test_ids_that_name_no_record_are_404(app, org, make_customer, record_id):
    from werkzeug.exceptions import NotFound

    make_customer(org["m1"])
    with app.test_request_context(), pytest.raises(NotFound):
        get_in_scope_or_404(Customer, record_id, org["admin"])


def _ids(model, user) -> set[int]:
    return set(db.session.scalars(scoped(model, user).with_only_columns(model.id)))


def test_handover_requests_show_to_who_asked_and_who_decides(app, org, make_customer):
    from crm.services.handover.requests import request_handover

    asked = request_handover(make_customer(org["m1"]), actor=org["m1"], note="moving")
    other = request_handover(make_customer(org["m3"]), actor=org["m3"], note="moving")
    db.session.commit()
    assert _ids(HandoverRequest, org["m1"]) == {asked.id}
    assert _ids(HandoverRequest, org["m2"]) == set()
    assert _ids(HandoverRequest, org["sup1"]) == {asked.id}
    assert _ids(HandoverRequest, org["admin"]) == {asked.id, other.id}


def test_handover_rows_show_only_the_customers_in_scope(app, org, make_customer):
    from crm.services.handover.transfer import HandoverOptions, Selection, hand_over

    ones, twos = make_customer(org["m2"]), make_customer(org["m4"])
    handover = hand_over(
        actor=org["admin"],
        selection=Selection(ids=[ones.id, twos.id]),
        to_owner=org["m1"],
        options=HandoverOptions(),
        note="Registry test",
        token="registry",
        expected_fingerprint=None,
    )
    db.session.commit()
    # m4 handed a customer over: that row is theirs to see, team one's is not.
    rows = db.session.scalars(scoped(HandoverCustomer, org["m4"])).all()
    assert [row.customer_id for row in rows] == [twos.id]
    assert _ids(Handover, org["m4"]) == {handover.id}
    assert _ids(Handover, org["m3"]) == set()
    # Once team one's customer moves on to m3, m3 sees where it came from.
    hand_over(
        actor=org["admin"],
        selection=Selection(ids=[ones.id]),
        to_owner=org["m3"],
        options=HandoverOptions(),
        note="Registry test",
        token="registry-2",
        expected_fingerprint=None,
    )
    db.session.commit()
    first = scoped(HandoverCustomer, org["m3"]).where(HandoverCustomer.handover_id == handover.id)
    assert [row.customer_id for row in db.session.scalars(first)] == [ones.id]


def test_targets_show_to_their_manager_and_supervisor(app, org):
    from decimal import Decimal

    from crm.services.reporting.targets import set_target

    mine = set_target(org["m1"], weekly_visits=5, quarterly_won=Decimal(1), actor=org["sup1"])
    theirs = set_target(org["m3"], weekly_visits=5, quarterly_won=Decimal(1), actor=org["sup2"])
    db.session.commit()
    assert _ids(Target, org["m1"]) == {mine.id}
    assert _ids(Target, org["sup1"]) == {mine.id}
    assert _ids(Target, org["admin"]) == {mine.id, theirs.id}


def test_outbox_messages_are_for_admins_only(app, org):
    from crm.services.followups import outbox

    row = {"key": "registry:1", "kind": MessageKind.REMINDER, "recipient_id": org["m1"].id}
    outbox.enqueue([{**row, "subject": "s", "body_text": "t"}])
    db.session.commit()
    assert _ids(OutboxMessage, org["m1"]) == set()
    assert len(_ids(OutboxMessage, org["admin"])) == 1
