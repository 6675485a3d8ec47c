"""What the sheet's notes and target sources say, in the reader's language."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from crm.services.assessment import formulas

NOTES = {
    formulas.NO_BASE: _l("Nothing last period to grow from: counted as growth at the cap."),
    formulas.NO_FIGURES: _l("No business figures for the period."),
    formulas.NO_TARGET: _l("No target is set: the line earns nothing until one is."),
    formulas.TARGET_ZERO: _l("The target is zero."),
    formulas.NOTHING_DUE: _l("Nothing was due: met in full."),
    formulas.RANKED: _l("Ranked within the team: the lowest churn takes the full weight."),
    formulas.NO_KEY_CUSTOMERS: _l("No A+ or A customer to cover: met in full."),
    formulas.NONE_CLOSED: _l("No opportunity was won or lost in the period."),
    formulas.NOTHING_PLANNED: _l("No planned visit in the period's weekly plans."),
    formulas.NO_TASKS: _l("No temporary task was set for the period."),
    formulas.UNSCORED: _l("A task is not scored yet: it counts 0 until it is."),
}
SOURCES = {
    "set": _l("set by the supervisor"),
    "standing": _l("the manager's standing target"),
    "level": _l("the level's default"),
    "none": "",
}


def note(code: str | None) -> str:
    return str(NOTES.get(code, "")) if code else ""


def source(code: str) -> str:
    return str(SOURCES.get(code, ""))
