"""My follow-ups: the list, a new reminder, one reminder and its actions."""

from __future__ import annotations

from datetime import timedelta

from flask import flash, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy.orm import joinedload

from blueprints.common import confirm_or_ask, write
from blueprints.outbox_admin.labels import STATUS_BADGES, STATUS_LABELS
from blueprints.reminders import bp
from blueprints.reminders.forms import (
    DismissForm,
    DoneForm,
    ReminderForm,
    RescheduleForm,
    SnoozeForm,
)
from blueprints.reminders.row_texts import follow_up_actions
from crm.auth import safe_next_url
from crm.i18n import user_zone
from crm.permissions import (
    get_customer_or_404,
    get_in_scope_or_404,
    refuse,
)
from crm.services.archive import hub as customer_hub
from crm.services.archive import picker as customer_picker
from crm.services.followups import completion as follow_up_completion
from crm.services.followups import reminders as reminder_service
from crm.services.people import picker as people_picker
from crm.services.people import users as user_service
from crm.services.pickers import Shortlist
from models import (
    Reminder,
    User,
    VisitKind,
)

# Overdue, today and the next week in full (LIST_LIMIT a page); later ones in pages of their own.
DAYS_AHEAD = 7
LIST_LIMIT = 300
MAX_PAGE = 100_000  # a page number out of the database's integer range is the last page
MATCH_LIMIT = 30
# Every page may show follow-up rows (home, the customer page): their macros call this.
bp.add_app_template_global(follow_up_actions)


@bp.context_processor
def reminder_helpers() -> dict:
    return {
        "due_text": due_text,
        "message_status_labels": STATUS_LABELS,
        "message_status_badges": STATUS_BADGES,
    }


def due_text(reminder: Reminder) -> str:
    """The due day, and time when it has one, in the owner's zone (named if not the viewer's)."""
    at = reminder_service.due_time_of(reminder)
    text = reminder.due_on.isoformat() + (f" {at:%H:%M}" if at else "")
    if at and reminder.owner.timezone != current_user.timezone:
        text += f" ({reminder.owner.timezone})"
    return text


# Loaded with each Reminder its pages show.
FOLLOW_UP_PAGE = (
    joinedload(Reminder.customer),
    joinedload(Reminder.owner),
    joinedload(Reminder.opportunity),
)


def _whose_list() -> User:
    """The owner whose follow-ups are shown: me, or (?owner=) someone in my scope."""
    owner_id = request.args.get("owner", type=int)
    if not owner_id or owner_id == current_user.id:
        return current_user
    owner = user_service.person_in_scope(owner_id, viewer=current_user)
    if owner is None:
        refuse(404, f"follow-ups of user {owner_id}", current_user)
    return owner


def _switchable_owners(owner: User) -> Shortlist | None:
    """Whose lists a supervisor (their team) or an admin (everybody) may open, as the
    switch's picker shows them (the first by name and the one shown)."""
    if current_user.is_manager:
        return None
    shortlist = people_picker.people_shortlist(current_user, chosen=owner.id)
    return shortlist.keeping(owner.id, owner.display_name)  # one who left is still shown


@bp.route("/")
@login_required
def index():
    owner = _whose_list()
    page = min(max(request.args.get("page", 1, type=int), 1), MAX_PAGE)
    follow_ups = reminder_service.pending_reminders_for(
        owner,
        viewer=current_user,
        days_ahead=DAYS_AHEAD,
        limit=LIST_LIMIT,
        offset=(page - 1) * LIST_LIMIT,
    )
    later = reminder_service.later_reminders_for(
        owner,
        viewer=current_user,
        days_ahead=DAYS_AHEAD,
        page=min(request.args.get("later", 1, type=int), MAX_PAGE),
    )
    return render_template(
        "reminders/index.html",
        owner=owner,
        owners=_switchable_owners(owner),
        follow_ups=follow_ups,
        page=page,
        later=later,
        back=request.full_path if request.query_string else request.path,
    )


# A new reminder ---------------------------------------------------------------


def _pick_customer():
    """Without a customer id: find one in my portfolio first."""
    q = (request.args.get("q") or "").strip()[:100]
    matches = []
    if q:
        matches = customer_picker.customers_matching(q, viewer=current_user, limit=MATCH_LIMIT)
    return render_template("reminders/pick.html", q=q, matches=matches)


@bp.route("/new", methods=["GET", "POST"])
@login_required
def new():
    customer_id = request.args.get("customer_id", type=int)
    if not customer_id:
        return _pick_customer()
    customer = get_customer_or_404(customer_id, current_user)
    opportunities = customer_hub.opportunity_choices(customer)
    form = ReminderForm(opportunities=opportunities)
    if not form.is_submitted():
        wanted = request.args.get("opportunity_id", type=int)
        form.opportunity_id.data = wanted if wanted in {o.id for o in opportunities} else 0
    if form.validate_on_submit():
        outcome = write(
            lambda: reminder_service.create_reminder(
                customer,
                actor=current_user,
                due_on=form.due_on.data,
                due_time=form.due_time.data,
                note=form.note.data,
                opportunity=form.opportunity_id.data or None,
            ),
            done=_("The follow-up for %(name)s is set.", name=customer.name),
            to=lambda reminder: (
                safe_next_url(request.args.get("next"))
                or url_for("reminders.show", reminder_id=reminder.id)
            ),
            form=form,
        )
        if outcome.response:
            return outcome.response
    return render_template(
        "reminders/new.html", form=form, customer=customer, owner=customer.owner
    ), 400 if form.errors else 200


# One reminder -----------------------------------------------------------------


def _show_page(reminder: Reminder, *, failed=None, stale: bool = False):
    """The reminder with its actions; `failed` is a submitted form to show with its errors."""
    here = url_for("reminders.show", reminder_id=reminder.id)
    forms = {
        "done": DoneForm(formdata=None, version=reminder.version, next=here),
        "dismiss": DismissForm(formdata=None, version=reminder.version, next=here),
        "snooze": SnoozeForm(formdata=None, version=reminder.version, next=here),
        "reschedule": RescheduleForm(
            formdata=None,
            version=reminder.version,
            next=here,
            due_on=reminder.due_on,
            due_time=reminder_service.due_time_of(reminder),
        ),
    }
    if failed is not None:
        if stale:
            failed.version.data = reminder.version  # seen the stored values: may save over them
        forms[_FORM_NAMES[type(failed)]] = failed
    owner = reminder.owner
    return render_template(
        "reminders/show.html",
        reminder=reminder,
        forms=forms,
        stale=stale,
        emails=reminder_service.email_history(reminder),
        email_planned=(
            reminder.due_at - timedelta(minutes=owner.reminder_lead_minutes)
            if owner.email_reminders
            else None
        ),
        owner_zone=str(user_zone(owner)),
    )


_FORM_NAMES = {
    DoneForm: "done",
    DismissForm: "dismiss",
    SnoozeForm: "snooze",
    RescheduleForm: "reschedule",
}


@bp.route("/<int:reminder_id>")
@login_required
def show(reminder_id: int):
    return _show_page(get_in_scope_or_404(Reminder, reminder_id, current_user, *FOLLOW_UP_PAGE))


def _act(reminder_id: int, form, change, done_message):
    """Validate, change, commit once, go back; on any refusal nothing is saved."""
    reminder = get_in_scope_or_404(Reminder, reminder_id, current_user, *FOLLOW_UP_PAGE)
    if not form.validate_on_submit():
        return _show_page(reminder, failed=form), 400
    outcome = write(
        lambda: change(reminder, form),
        done=lambda result: done_message(reminder, form),
        to=lambda result: (
            safe_next_url(form.next.data) or url_for("reminders.show", reminder_id=reminder.id)
        ),
        form=form,
    )
    if outcome.response:
        return outcome.response
    if outcome.stale:
        flash(str(outcome.stale.message), "warning")
    reloaded = get_in_scope_or_404(Reminder, reminder_id, current_user, *FOLLOW_UP_PAGE)
    return _show_page(reloaded, failed=form, stale=bool(outcome.stale)), outcome.status


@bp.route("/<int:reminder_id>/done", methods=["POST"])
@login_required
def done(reminder_id: int):
    def change(reminder, form):
        if form.log_visit.data:
            follow_up_completion.complete_with_visit(
                reminder,
                actor=current_user,
                version=form.version.data,
                kind=VisitKind(form.kind.data),  # the form refuses a missing kind
                outcome=form.outcome.data,
                follow_up_on=form.follow_up_on.data,
            )
        else:
            reminder_service.complete(reminder, actor=current_user, version=form.version.data)

    def message(reminder, form):
        if form.log_visit.data:
            return _("Done, and the visit to %(name)s is logged.", name=reminder.customer.name)
        return _("The follow-up with %(name)s is done.", name=reminder.customer.name)

    return _act(reminder_id, DoneForm(), change, message)


@bp.route("/<int:reminder_id>/dismiss", methods=["POST"])
@login_required
def dismiss(reminder_id: int):
    reminder = get_in_scope_or_404(Reminder, reminder_id, current_user, *FOLLOW_UP_PAGE)
    confirm_or_ask(
        _(
            "Dismiss the follow-up with %(name)s? It is no longer needed.",
            name=reminder.customer.name,
        ),
        button=_("Dismiss"),
    )
    return _act(
        reminder_id,
        DismissForm(),
        lambda r, f: reminder_service.dismiss(r, actor=current_user, version=f.version.data),
        lambda r, f: _("The follow-up with %(name)s is dismissed.", name=r.customer.name),
    )


@bp.route("/<int:reminder_id>/snooze", methods=["POST"])
@login_required
def snooze(reminder_id: int):
    return _act(
        reminder_id,
        SnoozeForm(),
        lambda r, f: reminder_service.snooze(
            r, actor=current_user, version=f.version.data, days=f.days.data, until=f.until.data
        ),
        lambda r, f: _("Snoozed until %(due)s.", due=due_text(r)),
    )


@bp.route("/<int:reminder_id>/reschedule", methods=["POST"])
@login_required
def reschedule(reminder_id: int):
    return _act(
        reminder_id,
        RescheduleForm(),
        lambda r, f: reminder_service.reschedule(
            r,
            actor=current_user,
            version=f.version.data,
            due_on=f.due_on.data,
            due_time=f.due_time.data,
        ),
        lambda r, f: _("Rescheduled to %(due)s.", due=due_text(r)),
    )
