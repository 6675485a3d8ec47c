"""The board's cards as the template prints them, with what is the same on every card
worked out once per board.

A supervisor's board shows hundreds of cards: url_for, gettext, label, the Jinja calls
and each card's stage list rendered through the template were most of the time spent
rendering it. What this module writes by hand (URL shapes, money, the move form's
<option>s) is held by tests to what url_for, Babel and the template would give.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from flask_babel import get_locale
from flask_babel import gettext as _
from markupsafe import Markup

from crm.labels import label
from crm.services.pipeline import opportunities as pipeline
from crm.services.pipeline.board import BoardCard
from crm.templating import money_format, url_shape
from models import OpportunityStatus, Stage


def option_html(value: object, text: str) -> Markup:
    """One <option> of a select, both parts escaped: what the template's
    `<option value="{{ value }}">{{ text }}</option>` renders."""
    return Markup('<option value="{}">{}</option>').format(value, text)


class MoveOptions:
    """The <option>s of a card's move form, built once per (status, current stage).

    A board shows hundreds of cards; rendering every card's stage list through the
    template (locale lookup and stage name per option) dominated the page's time.
    """

    def __init__(self, stages: list[Stage]):
        locale = str(get_locale())
        # Each stage's <option> is formatted (and its name escaped) once, not once per
        # (status, current stage) list it appears in.
        option = {stage.id: option_html(stage.id, stage.name_for(locale)) for stage in stages}
        self._targets = {
            status: [(s.id, option[s.id]) for s in pipeline.stages_open_to(status, stages)]
            for status in (OpportunityStatus.OPEN, OpportunityStatus.WON)
        }
        self._built: dict[tuple[OpportunityStatus, int], Markup] = {}

    def __call__(self, status: OpportunityStatus, current_stage_id: int) -> Markup:
        key = (status, current_stage_id)
        if key not in self._built:
            self._built[key] = Markup("").join(
                html
                for stage_id, html in self._targets.get(status, [])
                if stage_id != current_stage_id
            )
        return self._built[key]


@dataclass(slots=True)
class CardView:
    """One board card as the template prints it."""

    id: int
    title: str
    customer_name: str
    owner_name: str
    flagged: bool
    status: str  # "open", "won" or "lost"
    status_label: str
    amount: str  # as the money filter shows it; "" without an amount
    close: str  # "Close <date>"; "" without an expected close
    url: str
    move_url: str
    move_options: Markup  # "" when no stage is open to it


class CardViews:
    """Turns BoardCards into CardViews, with all that is the same on every card (URL
    shapes, translated pattern and labels, the locale's number symbols, move options)
    worked out once per board.

    A supervisor's board shows hundreds of cards: url_for, gettext, label and the Jinja
    calls themselves, several per card, were most of the time spent rendering it.
    """

    def __init__(self, stages: list[Stage]):
        self._show = url_shape("opportunities.show", "opportunity_id")
        self._move = url_shape("opportunities.move", "opportunity_id")
        self._close = _("Close %(date)s")  # no variables: the translated pattern, unfilled
        self._status_labels = {status: label(status) for status in OpportunityStatus}
        self._move_options = MoveOptions(stages)
        self._money = money_format()

    def __call__(self, card: BoardCard) -> CardView:
        return CardView(
            id=card.id,
            title=card.title,
            customer_name=card.customer_name,
            owner_name=card.owner_name,
            flagged=card.flagged,
            status=card.status.value,
            status_label=self._status_labels[card.status],
            amount=self._money(card.amount),
            close=self.close(card.expected_close),
            url=self._show.format(card.id),
            move_url=self._move.format(card.id),
            move_options=self._move_options(card.status, card.stage_id),
        )

    def close(self, day: date | None) -> str:
        # ISO is the `d` filter's yyyy-MM-dd, without a Babel pattern run per card.
        return self._close % {"date": day.isoformat()} if day else ""
