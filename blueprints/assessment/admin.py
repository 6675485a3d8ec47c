"""The indicator catalog and the weight sets (admins): what is in force, its versions, and a
new version from a period on."""

from __future__ import annotations

from decimal import Decimal

from flask import abort, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from blueprints.assessment import admin_bp
from blueprints.assessment.forms import weights_form
from blueprints.common import write
from crm.labels import label
from crm.permissions import admin_required
from crm.services.assessment import catalog, periods
from crm.services.assessment import weights as weight_sets
from crm.services.assessment.catalog import LineSpec, SetSpec
from models import Level, Marking, PeriodKind, ScoringMethod

FUTURE_PERIODS = 3


@admin_bp.route("/assessment")
@admin_required
def index():
    in_force = {
        kind: weight_sets.in_force(kind, periods.current(kind).first) for kind in PeriodKind
    }
    return render_template(
        "assessment/admin.html",
        indicators=catalog.INDICATORS,
        parts=catalog.PARTS,
        in_force=in_force,
        kinds=list(PeriodKind),
        levels=list(Level),
        versions=weight_sets.all_versions(),
    )


def _kind_and_level(kind: str, level: str) -> tuple[PeriodKind, Level]:
    try:
        return PeriodKind(kind), Level(level)
    except ValueError:
        abort(404)


def _starts(kind: PeriodKind) -> list[tuple[str, str]]:
    period = periods.current(kind)
    found = [period]
    for _step in range(FUTURE_PERIODS):
        found.append(found[-1].following())
    return [(p.key, p.key) for p in found]


def _form_data(spec: SetSpec, starts: str) -> dict:
    data: dict = {"starts_on": starts, "task_weight": spec.task_weight}
    for code, line in spec.lines.items():
        prefix = f"w{code}_"
        data |= {
            prefix + "weight": line.weight,
            prefix + "marking": line.marking.value,
            prefix + "cap": line.cap,
            prefix + "floor": line.floor,
            prefix + "method": line.method.value,
            prefix + "default_target": line.default_target,
            prefix + "per_unit": line.per_unit,
        }
    return data


def _spec(form) -> SetSpec:
    lines = {}
    for code in catalog.CODES:
        prefix = f"w{code}_"

        def value(name: str, prefix: str = prefix):
            field = form._fields.get(prefix + name)
            return field.data if field is not None else None

        lines[code] = LineSpec(
            weight=value("weight") or Decimal(0),
            marking=Marking(value("marking")),
            method=ScoringMethod(value("method") or ScoringMethod.TARGET.value),
            cap=value("cap"),
            floor=value("floor"),
            default_target=value("default_target"),
            per_unit=value("per_unit"),
        )
    return SetSpec(form.task_weight.data, lines)


@admin_bp.route("/assessment/<kind>/<level>", methods=["GET", "POST"])
@admin_required
def edit(kind: str, level: str):
    period_kind, chosen_level = _kind_and_level(kind, level)
    starts = _starts(period_kind)
    current = weight_sets.in_force(period_kind, periods.current(period_kind).first)[chosen_level]
    form = weights_form(starts, data=_form_data(current.spec, starts[1][0]))
    status = 200
    if form.validate_on_submit():
        start = periods.parse(form.starts_on.data)
        outcome = write(
            lambda: weight_sets.save_version(
                chosen_level,
                period_kind,
                start.first,
                _spec(form),
                note=form.note.data,
                actor=current_user,
            ),
            done=_(
                "The weights for %(level)s are saved, in force from %(period)s.",
                level=label(chosen_level),
                period=start.key,
            ),
            to=url_for("assessment_admin.index"),
            form=form,
        )
        if outcome.response is not None:
            return outcome.response
        status = outcome.status
    elif form.is_submitted():
        status = 400
    return (
        render_template(
            "assessment/admin_edit.html",
            form=form,
            kind=period_kind,
            level=chosen_level,
            current=current,
            indicators=catalog.INDICATORS,
        ),
        status,
    )


@admin_bp.route("/assessment/versions/<int:set_id>")
@admin_required
def version(set_id: int):
    weight_set = weight_sets.version(set_id)
    if weight_set is None:
        abort(404)
    return render_template(
        "assessment/admin_version.html",
        weight_set=weight_set,
        spec=weight_sets.spec_of(weight_set),
        indicators=catalog.INDICATORS,
    )
