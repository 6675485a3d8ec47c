"""My follow-ups and a single reminder."""

from __future__ import annotations

from flask import render_template
from flask_login import current_user, login_required
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from blueprints.reminders import bp
from crm.extensions import db
from crm.permissions import customer_scope, refuse
from models import Customer, Reminder, ReminderStatus


@bp.route("/")
@login_required
def index():
    reminders = db.session.scalars(
        select(Reminder)
        .where(Reminder.owner_id == current_user.id, Reminder.status == ReminderStatus.PENDING)
        .options(joinedload(Reminder.customer))
        .order_by(Reminder.due_at)
        .limit(200)
    )
    return render_template("reminders/index.html", reminders=list(reminders))


@bp.route("/<int:reminder_id>")
@login_required
def show(reminder_id: int):
    reminder = db.session.scalar(
        select(Reminder)
        .join(Customer, Reminder.customer_id == Customer.id)
        .where(Reminder.id == reminder_id, customer_scope(current_user))
        .options(joinedload(Reminder.customer))
    )
    if reminder is None:
        refuse(404, f"reminder {reminder_id}", current_user)
    return render_template("reminders/show.html", reminder=reminder)
