"""The opportunity pages: board totals, scope, moves, list filters, the page and its forms."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import select

from crm.extensions import db
from crm.services.pipeline import board, search
from crm.services.pipeline import opportunities as pipeline
from models import (
    BuyingRole,
    LostReason,
    Opportunity,
    OpportunityContact,
    OpportunityHistory,
    OpportunityStatus,
    Tier,
)


@pytest.fixture
def m1(org):
    for name in ("m1", "sup1", "admin", "m3"):
        org[name].locale = "en"
    db.session.commit()
    return org["m1"]


@pytest.fixture
def pipeline_data(org, m1, make_customer, make_opportunity):
    """A known board: m1's opportunities, one of m2's, and one of m3's (other team)."""
    a_customer = make_customer(m1, tier=Tier.A)
    c_customer = make_customer(m1, tier=Tier.C)
    made = {
        "big": make_opportunity(a_customer, title="Big deal", amount=Decimal("100000")),
        "small": make_opportunity(c_customer, title="Small deal", amount=Decimal("50000")),
        "blank": make_opportunity(c_customer, title="No amount yet"),
        "proposal": make_opportunity(
            a_customer, "Proposal", title="Proposal deal", amount=Decimal("200000"),
            expected_close=date(2026, 7, 15),
        ),
        "override": make_opportunity(
            c_customer, "Proposal", title="Override deal", amount=Decimal("10000.50"),
            probability=35,
        ),
        "won": make_opportunity(
            a_customer, "Order submitted", title="Won deal", amount=Decimal("300000"),
            status=OpportunityStatus.WON, probability=100,
        ),
        "lost": make_opportunity(
            c_customer, "Negotiation", title="Lost deal", amount=Decimal("70000"),
            status=OpportunityStatus.LOST, lost_reason=LostReason.PRICE, probability=0,
        ),
        "team": make_opportunity(
            make_customer(org["m2"]), title="Teammate deal", amount=Decimal("40000")
        ),
        "other": make_opportunity(
            make_customer(org["m3"]), title="Other team deal", amount=Decimal("999999")
        ),
    }  # fmt: skip
    return made


def _column(html: str, stage_id: int) -> str:
    start = html.index(f'id="stage-{stage_id}"')
    end = html.find('class="board-column', start + 1)
    return html[start : end if end > 0 else None]


def _text(element: str, html: str) -> str:
    return re.search(rf'class="{element}"[^>]*>([^<]*)<', html).group(1).strip()


# The board ---------------------------------------------------------------------


def test_board_columns_show_count_total_and_weighted_amount(pipeline_data, m1, stages):
    phases = board.board(m1, search.OpportunityFilters())
    columns = {c.stage.name_en: c for phase in phases for c in phase.columns}
    assert (columns["Initial contact"].count, columns["Initial contact"].total) == (3, 150000)
    assert columns["Initial contact"].weighted == Decimal("15000.00")
    # 200000 × 60 % + 10000.50 × 35 % = 120000 + 3500.175
    assert columns["Proposal"].total == Decimal("210000.50")
    assert columns["Proposal"].weighted == Decimal("123500.18")
    assert (columns["Order submitted"].count, columns["Order submitted"].weighted) == (1, 300000)
    assert columns["Negotiation"].count == 0  # lost ones are off the default board
    assert [p.phase.value for p in phases] == ["pre_sale", "in_sale", "after_sale"]
    assert phases[0].weighted == Decimal("138500.18")


def test_board_page_shows_the_totals_in_the_column_headers(
    client, login, pipeline_data, m1, stages
):
    login(client, m1)
    html = client.get("/opportunities/board").get_data(as_text=True)

    proposal = _column(html, stages["Proposal"].id)
    assert _text("badge text-bg-light column-count", proposal) == "2"
    assert _text("column-total", proposal) == "¥210,000.5"
    assert "¥123,500.18" in _text("column-weighted", proposal)
    assert "Override deal" in proposal and "Proposal deal" in proposal
    assert _text("column-total", _column(html, stages["Initial contact"].id)) == "¥150,000"


def test_the_board_never_shows_out_of_scope_opportunities(
    client, login, pipeline_data, m1, org, stages
):
    login(client, m1)
    html = client.get("/opportunities/board").get_data(as_text=True)
    initial = _column(html, stages["Initial contact"].id)
    assert "Other team deal" not in html and "Teammate deal" not in html
    assert _text("badge text-bg-light column-count", initial) == "3"

    login(client, org["sup1"])
    html = client.get("/opportunities/board").get_data(as_text=True)
    assert "Teammate deal" in html and "Other team deal" not in html
    assert _text("column-total", _column(html, stages["Initial contact"].id)) == "¥190,000"

    # A supervisor filters by team member.
    html = client.get(f"/opportunities/board?owner={org['m2'].id}").get_data(as_text=True)
    assert "Teammate deal" in html and "Big deal" not in html

    login(client, org["admin"])
    html = client.get(f"/opportunities/board?team={org['team2'].id}").get_data(as_text=True)
    assert "Other team deal" in html and "Big deal" not in html


def test_board_filters_by_tier_and_status(client, login, pipeline_data, m1, stages):
    login(client, m1)
    html = client.get("/opportunities/board?tier=A").get_data(as_text=True)
    assert "Big deal" in html and "Small deal" not in html
    html = client.get("/opportunities/board?status=lost").get_data(as_text=True)
    assert "Lost deal" in html and "Big deal" not in html


def test_board_columns_show_a_limited_number_of_cards(pipeline_data, m1, stages):
    phases = board.board(m1, search.OpportunityFilters(), per_column=2)
    initial = phases[0].columns[0]
    assert (len(initial.cards), initial.count, initial.more) == (2, 3, 1)


def _card(html: str, opportunity_id: int) -> str:
    start = html.index(f'id="opportunity-{opportunity_id}"')
    return html[start : html.index("</article>", start)]


def test_a_board_card_shows_the_opportunity_and_its_move_form(
    client, login, pipeline_data, m1, org, stages, make_contact
):
    decided = pipeline_data["override"]
    db.session.add(
        OpportunityContact(
            opportunity=decided,
            contact=make_contact(decided.customer),
            role=BuyingRole.DECISION_MAKER,
        )
    )
    db.session.commit()
    login(client, m1)
    html = client.get("/opportunities/board?tier=A").get_data(as_text=True)

    proposal = pipeline_data["proposal"]
    card = _card(html, proposal.id)
    assert f'data-move-url="/opportunities/{proposal.id}/stage"' in card
    assert (
        f'<a class="fw-semibold d-block" href="/opportunities/{proposal.id}">Proposal deal</a>'
        in card
    )
    assert f">{proposal.customer.name}<" in card and "¥200,000 · M1<" in card
    assert ">Close 2026-07-15<" in card
    assert "flag-no-decision-maker" in card  # past needs discovery, no decision maker
    assert f'<form method="post" action="/opportunities/{proposal.id}/stage"' in card
    assert 'name="next" value="/opportunities/board?tier=A"' in card
    moves = re.findall(r'<option value="(\d+)">', card)
    assert str(stages["Negotiation"].id) in moves and str(stages["Proposal"].id) not in moves
    assert str(stages["Trial"].id) not in moves  # an open one stays in pre-sale

    won = _card(html, pipeline_data["won"].id)
    assert '<span class="badge text-bg-success">Won</span>' in won
    assert "flag-no-decision-maker" not in won and "Close" not in won
    assert "<option" in won and str(stages["Trial"].id) in re.findall(r'value="(\d+)"', won)

    html = client.get("/opportunities/board").get_data(as_text=True)
    override = _card(html, decided.id)
    assert "¥10,000.5 · " in override and "flag-no-decision-maker" not in override
    assert "—" in _card(html, pipeline_data["blank"].id)  # no amount yet


def test_board_phase_filter_keeps_the_phase_columns_and_totals(
    client, login, pipeline_data, m1, stages
):
    phases = board.board(m1, search.OpportunityFilters(phase="in_sale"))
    assert [p.phase.value for p in phases] == ["in_sale"]
    login(client, m1)
    html = client.get("/opportunities/board?phase=in_sale").get_data(as_text=True)
    assert "Won deal" in html and "Big deal" not in html
    won_column = _column(html, stages["Order submitted"].id)
    assert _text("column-total", won_column) == "¥300,000"


def test_moving_a_card_with_the_plain_form(client, login, pipeline_data, m1, stages):
    login(client, m1)
    big = pipeline_data["big"]

    response = client.post(
        f"/opportunities/{big.id}/stage",
        data={"stage_id": stages["Solution design"].id, "next": "/opportunities/board?tier=A"},
    )

    assert response.status_code == 302 and response.location.endswith("/opportunities/board?tier=A")
    db.session.refresh(big)
    assert (big.stage, big.probability) == (stages["Solution design"], 40)
    assert len(big.history) == 1  # the factory wrote none; the move wrote one


def test_a_refused_move_shows_the_reason(client, login, pipeline_data, m1, stages):
    login(client, m1)
    big = pipeline_data["big"]
    response = client.post(
        f"/opportunities/{big.id}/stage",
        data={"stage_id": stages["Order submitted"].id},
        follow_redirects=True,
    )
    assert "mark it won at the contract stage" in response.get_data(as_text=True)
    db.session.refresh(big)
    assert big.stage == stages["Initial contact"]


def test_drag_and_drop_moves_answer_json(client, login, pipeline_data, m1, stages):
    login(client, m1)
    big = pipeline_data["big"]
    headers = {"Accept": "application/json"}
    ok = client.post(
        f"/opportunities/{big.id}/stage", data={"stage_id": stages["Proposal"].id}, headers=headers
    )
    assert ok.status_code == 200 and ok.json["ok"] is True
    refused = client.post(
        f"/opportunities/{big.id}/stage", data={"stage_id": stages["Trial"].id}, headers=headers
    )
    assert refused.status_code == 400 and "pre-sale" in refused.json["message"]


def test_board_statement_count_does_not_grow_with_opportunities(
    client, login, m1, org, make_customer, make_opportunity, make_contact, count_queries, stages
):
    login(client, org["sup1"])  # a supervisor: several owners, owner filter choices
    names = ["Initial contact", "Solution design", "Proposal", "Order submitted", "Revisit"]

    def add(n):
        for i in range(n):
            customer = make_customer(org["m1"] if i % 2 else org["m2"], tier=list(Tier)[i % 4])
            make_opportunity(customer, names[i % 5], amount=Decimal(i + 1))
            if i % 3 == 0:
                make_contact(customer, role=BuyingRole.DECISION_MAKER)

    def counted(url):
        client.get(url)  # warm up
        # The test's session outlives requests: forget what it has loaded, as a new
        # request's session would, or lazy loads would be served from memory.
        db.session.expire_all()
        with count_queries() as statements:
            assert client.get(url).status_code == 200
        return len(statements)

    add(5)
    few_board, few_list = counted("/opportunities/board"), counted("/opportunities/")
    add(45)
    assert counted("/opportunities/board") == few_board
    assert counted("/opportunities/") == few_list


# The list ------------------------------------------------------------------------


def _titles(client, query: str = "") -> list[str]:
    html = client.get(f"/opportunities/{query}").get_data(as_text=True)
    table = html[html.index('id="opportunities"') :]
    return re.findall(r'<a href="/opportunities/\d+">([^<]+)</a>', table)


def test_the_list_is_scoped_filtered_and_sorted(client, login, pipeline_data, m1, stages):
    login(client, m1)
    assert sorted(_titles(client)) == sorted(
        ["Big deal", "Small deal", "No amount yet", "Proposal deal", "Override deal", "Won deal"]
    )
    assert _titles(client, "?status=lost") == ["Lost deal"]
    assert set(_titles(client, "?status=all")) >= {"Lost deal", "Won deal"}
    assert _titles(client, "?phase=in_sale") == ["Won deal"]
    assert sorted(_titles(client, f"?stage={stages['Proposal'].id}")) == [
        "Override deal",
        "Proposal deal",
    ]
    assert _titles(client, "?close=2026-07") == ["Proposal deal"]
    assert _titles(client, "?close=2026-08") == []
    assert set(_titles(client, "?tier=A")) == {"Big deal", "Proposal deal", "Won deal"}
    assert _titles(client, "?sort=amount")[:3] == ["Won deal", "Proposal deal", "Big deal"]
    assert _titles(client, "?sort=amount")[-1] == "No amount yet"
    assert _titles(client, "?q=Override") == ["Override deal"]
    by_stage = _titles(client, "?sort=stage")
    assert by_stage[-1] == "Won deal" and set(by_stage[:3]) == {
        "Big deal",
        "Small deal",
        "No amount yet",
    }


def test_the_list_never_shows_out_of_scope_opportunities(client, login, pipeline_data, org, m1):
    login(client, org["m3"])
    assert _titles(client, "?status=all") == ["Other team deal"]
    login(client, org["sup1"])
    titles = _titles(client, f"?owner={org['m2'].id}")
    assert titles == ["Teammate deal"]
    assert _titles(client, f"?owner={org['m3'].id}") == []  # not theirs: nothing leaks


def test_the_list_flags_missing_decision_makers(client, login, m1, make_customer, make_opportunity):
    flagged = make_opportunity(make_customer(m1), "Proposal", title="Flagged deal")
    make_opportunity(make_customer(m1), "Needs discovery", title="Early deal")
    login(client, m1)
    html = client.get("/opportunities/").get_data(as_text=True)
    row = html[html.index(f'id="opportunity-{flagged.id}"') :]
    assert "No decision maker" in row[: row.index("</tr>")]
    assert _titles(client, "?flagged=1") == ["Flagged deal"]


# Creating ---------------------------------------------------------------------------


def test_creating_an_opportunity_for_a_customer(client, login, m1, org, make_customer, stages):
    customer = make_customer(m1)
    login(client, m1)
    assert client.get(f"/opportunities/new?customer_id={customer.id}").status_code == 200

    response = client.post(
        f"/opportunities/new?customer_id={customer.id}",
        data={"title": "IDC 托管", "amount": "88000", "stage_id": stages["Initial contact"].id,
              "owner_id": m1.id, "expected_close": "2026-10-31"},
    )  # fmt: skip

    assert response.status_code == 302
    made = db.session.scalar(select(Opportunity).where(Opportunity.title == "IDC 托管"))
    assert (made.customer, made.owner, made.probability) == (customer, m1, 10)
    assert made.expected_close == date(2026, 10, 31)
    assert len(made.history) == 1


def test_an_owner_id_of_no_account_is_refused_not_read_as_nobody(
    client, login, m1, make_customer, make_opportunity, stages
):
    # The owner picker takes any id its type-ahead may offer: a made-up one used to fall
    # back to the customer's owner without a word.
    customer = make_customer(m1)
    login(client, m1)
    response = client.post(
        f"/opportunities/new?customer_id={customer.id}",
        data={"title": "幽灵", "stage_id": stages["Initial contact"].id, "owner_id": 999_999},
    )
    assert response.status_code == 400
    assert "Choose an active owner from your team." in response.get_data(as_text=True)
    assert db.session.scalar(select(Opportunity).where(Opportunity.title == "幽灵")) is None

    opportunity = make_opportunity(customer, title="真实")
    response = client.post(
        f"/opportunities/{opportunity.id}/edit",
        data={"title": "改名", "owner_id": 999_999, "version": opportunity.version},
    )
    assert response.status_code == 400
    db.session.refresh(opportunity)
    assert (opportunity.title, opportunity.owner) == ("真实", m1)


def test_new_opportunity_for_an_out_of_scope_customer_is_404(client, login, org, m1, make_customer):
    theirs = make_customer(org["m3"])
    mine = make_customer(m1, name="我的客户")
    login(client, m1)
    assert client.get(f"/opportunities/new?customer_id={theirs.id}").status_code == 404
    assert client.post(f"/opportunities/new?customer_id={theirs.id}").status_code == 404
    picker = client.get("/opportunities/new").get_data(as_text=True)
    assert "我的客户" in picker and theirs.name not in picker and str(mine.id) in picker


# One opportunity -------------------------------------------------------------------------


@pytest.fixture
def opened(m1, make_customer):
    opportunity = pipeline.create_opportunity(
        make_customer(m1), actor=m1, title="云专线", amount="120000"
    )
    db.session.commit()
    return opportunity


def test_the_page_shows_history_and_days_in_stage(client, login, m1, opened, stages):
    pipeline.move_to_stage(opened, stages["Needs discovery"], actor=m1)
    db.session.commit()
    login(client, m1)
    html = client.get(f"/opportunities/{opened.id}").get_data(as_text=True)
    assert 'id="stage-history"' in html and "Initial contact → <strong>Needs discovery" in html
    assert f'id="stage-days-{stages["Needs discovery"].id}"' in html
    assert _text("col-sm-8", html[html.index('id="weighted-amount"') - 30 :]) == "¥24,000"


def test_the_page_reads_history_and_its_actors_in_statements_that_do_not_grow(
    client, login, org, m1, opened, stages, count_queries
):
    """History rows by many actors: their names come with the rows, not one query each."""
    login(client, m1)

    def counted() -> int:
        client.get(f"/opportunities/{opened.id}")
        db.session.expire_all()  # as a new request's session would start
        with count_queries() as statements:
            html = client.get(f"/opportunities/{opened.id}").get_data(as_text=True)
        assert m1.display_name in html[html.index('id="stage-history"') :]
        return len(statements)

    few = counted()
    names = ["Needs discovery", "Solution design", "Proposal", "Negotiation"]
    for name, actor in zip(names, [org["sup1"], org["admin"], m1, org["sup1"]], strict=True):
        pipeline.move_to_stage(opened, stages[name], actor=actor)
        db.session.commit()
    many = counted()
    html = client.get(f"/opportunities/{opened.id}").get_data(as_text=True)
    history = html[html.index('id="stage-history"') :]
    assert org["sup1"].display_name in history and org["admin"].display_name in history
    assert many == few


def test_winning_through_the_page(client, login, m1, opened, stages):
    login(client, m1)
    client.post(f"/opportunities/{opened.id}/stage", data={"stage_id": stages["Contract"].id})

    refused = client.post(f"/opportunities/{opened.id}/won", data={"amount": "130000"})
    assert refused.status_code == 400
    db.session.refresh(opened)
    assert opened.status is OpportunityStatus.OPEN

    response = client.post(
        f"/opportunities/{opened.id}/won", data={"contract_date": "2026-06-01", "amount": "130000"}
    )
    assert response.status_code == 302
    db.session.refresh(opened)
    assert (opened.status, opened.amount) == (OpportunityStatus.WON, Decimal("130000.00"))


def test_losing_to_a_competitor_through_the_page(client, login, m1, opened, make_competitor):
    rival = make_competitor("中国联通")
    login(client, m1)

    refused = client.post(f"/opportunities/{opened.id}/lost", data={"reason": "competitor"})
    assert refused.status_code == 400
    assert "Choose the competitor it was lost to." in refused.get_data(as_text=True)

    client.post(
        f"/opportunities/{opened.id}/lost",
        data={"reason": "competitor", "competitor_id": rival.id, "note": "价格低"},
    )
    db.session.refresh(opened)
    assert (opened.status, opened.lost_to) == (OpportunityStatus.LOST, rival)


def test_a_stale_edit_answers_409_with_the_current_values(client, login, m1, org, opened):
    login(client, m1)
    seen = opened.version
    pipeline.update_opportunity(opened, actor=org["sup1"], version=seen, title="主管改的标题")
    db.session.commit()

    response = client.post(
        f"/opportunities/{opened.id}/edit",
        data={"title": "我的标题", "amount": "1", "probability": "10", "owner_id": m1.id,
              "version": seen},
    )  # fmt: skip

    assert response.status_code == 409
    html = response.get_data(as_text=True)
    assert 'id="current-values"' in html and "主管改的标题" in html and "我的标题" in html
    db.session.refresh(opened)
    assert (opened.title, opened.amount) == ("主管改的标题", Decimal("120000.00"))


def test_editing_writes_history_for_tracked_fields(client, login, m1, opened):
    login(client, m1)
    response = client.post(
        f"/opportunities/{opened.id}/edit",
        data={"title": "云专线", "amount": "150000", "probability": "15", "owner_id": m1.id,
              "version": opened.version},
    )  # fmt: skip
    assert response.status_code == 302
    last = db.session.scalars(
        select(OpportunityHistory).order_by(OpportunityHistory.id.desc())
    ).first()
    assert last.changes == {"amount": ["120000.00", "150000.00"], "probability": [10, 15]}


def test_contacts_and_competitors_through_the_page(
    client, login, m1, opened, make_contact, make_competitor
):
    boss = make_contact(opened.customer, "王总", role=BuyingRole.DECISION_MAKER)
    rival = make_competitor("中国电信")
    login(client, m1)
    client.post(
        f"/opportunities/{opened.id}/contacts",
        data={"contact_id": boss.id, "role": "decision_maker", "is_primary": "y"},
    )
    client.post(
        f"/opportunities/{opened.id}/competitors", data={"competitor_id": rival.id, "offer": "9折"}
    )
    html = client.get(f"/opportunities/{opened.id}").get_data(as_text=True)
    assert f'id="opportunity-contact-{boss.id}"' in html and "Primary" in html
    assert f'id="opportunity-competitor-{rival.id}"' in html and "9折" in html

    client.post(
        f"/opportunities/{opened.id}/contacts/remove",
        data={"contact_id": boss.id, "confirmed": "1"},
    )
    client.post(
        f"/opportunities/{opened.id}/competitors/remove",
        data={"competitor_id": rival.id, "confirmed": "1"},
    )
    db.session.refresh(opened)
    assert (opened.contacts, opened.competitors) == ([], [])


@pytest.mark.parametrize("language", ["zh_CN", "en"])
def test_a_cards_move_options_are_what_the_template_would_render(app, stages, language):
    """MoveOptions writes the board's <option>s by hand (once per board, not per card):
    they must read as the select's template loop would print them, names escaped."""
    from flask_babel import get_locale

    from blueprints.opportunities.board_cards import MoveOptions
    from crm.services.pipeline.stages import active_stages

    loop = app.jinja_env.from_string(
        '{% for s in targets %}<option value="{{ s.id }}">{{ s.name_for(locale) }}</option>'
        "{% endfor %}"
    )
    stages["Proposal"].name_en = stages["Proposal"].name_zh = 'Offer <b>"A&B"</b>'
    with app.test_request_context("/", headers={"Accept-Language": language}):
        active = active_stages()
        options = MoveOptions(active)
        locale = str(get_locale())
        for status in OpportunityStatus:
            for current in active:
                targets = [s for s in pipeline.stages_open_to(status, active) if s.id != current.id]
                expected = loop.render(targets=targets, locale=locale)
                assert str(options(status, current.id)) == expected
        assert "Offer &lt;b&gt;&#34;A&amp;B&#34;&lt;/b&gt;" in str(
            options(OpportunityStatus.OPEN, stages["Contract"].id)
        )
    db.session.rollback()
