"""Outgoing webhooks for administrators: subscriptions, their secrets and their delivery logs."""

from __future__ import annotations

from flask import abort, current_app, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user

from blueprints.common import confirm_or_ask, require_confirmation, write
from blueprints.outbox_admin.labels import STATUS_BADGES, STATUS_LABELS
from blueprints.webhooks_admin import bp
from blueprints.webhooks_admin.forms import ConfirmForm, SubscriptionForm
from crm.extensions import db
from crm.permissions import admin_required, get_in_scope_or_404
from crm.services.followups.scheduler_state import last_tick
from crm.services.webhooks import subscriptions as subscription_service
from crm.services.webhooks.catalog import EVENT_LABELS, FORMAT_LABELS
from crm.services.webhooks.outgoing import SIGNATURE_HEADER
from models import MessageStatus, WebhookDelivery, WebhookSubscription


@bp.context_processor
def webhook_helpers() -> dict:
    return {
        "status_labels": STATUS_LABELS,
        "status_badges": STATUS_BADGES,
        "event_labels": EVENT_LABELS,
        "format_labels": FORMAT_LABELS,
        "signature_header": SIGNATURE_HEADER,
    }


@bp.route("/")
@admin_required
def index():
    return render_template(
        "webhooks_admin/index.html",
        subscriptions=subscription_service.all_subscriptions(),
        counts=subscription_service.delivery_counts(),
        last_tick=last_tick(),
    )


def _fields(form: SubscriptionForm) -> dict:
    return {
        "name": form.name.data,
        "url": form.url.data,
        "events": form.events.data or [],
        "payload_format": form.payload_format.data,
        "language": form.language.data,
        "active": form.active.data,
    }


@bp.route("/new", methods=["GET", "POST"])
@admin_required
def new():
    form = SubscriptionForm()
    if form.validate_on_submit():
        outcome = write(
            lambda: subscription_service.create_subscription(actor=current_user, **_fields(form)),
            done=_("The subscription is saved. Give its secret (below) to the receiver."),
            to=lambda subscription: url_for("webhooks_admin.show", subscription_id=subscription.id),
            form=form,
        )
        if outcome.response is not None:
            return outcome.response
    return render_template("webhooks_admin/form.html", form=form, subscription=None), (
        400 if form.errors else 200
    )


@bp.route("/<int:subscription_id>/edit", methods=["GET", "POST"])
@admin_required
def edit(subscription_id: int):
    subscription = get_in_scope_or_404(WebhookSubscription, subscription_id, current_user)
    form = SubscriptionForm(obj=subscription)
    if not form.is_submitted():
        form.payload_format.data = subscription.payload_format.value
        form.version.data = subscription.version
    if form.validate_on_submit():
        outcome = write(
            lambda: subscription_service.update_subscription(
                subscription, actor=current_user, version=form.version.data, **_fields(form)
            ),
            done=_("The subscription is saved."),
            to=url_for("webhooks_admin.show", subscription_id=subscription.id),
            form=form,
        )
        if outcome.response is not None:
            return outcome.response
        if outcome.stale:  # the subscription reloaded with what the other admin saved
            # Saving again now is a deliberate choice made with their values in view.
            form.version.data = subscription.version
            return render_template(
                "webhooks_admin/form.html",
                form=form,
                subscription=subscription,
                stale=str(outcome.stale.message),
            ), 409
    return render_template("webhooks_admin/form.html", form=form, subscription=subscription), (
        400 if form.errors else 200
    )


def _status_arg() -> MessageStatus | None:
    value = request.args.get("status")
    return MessageStatus(value) if value in set(MessageStatus) else None


@bp.route("/<int:subscription_id>")
@admin_required
def show(subscription_id: int):
    subscription = get_in_scope_or_404(WebhookSubscription, subscription_id, current_user)
    status = _status_arg()
    page = db.paginate(
        subscription_service.delivery_log(subscription, status),
        per_page=current_app.config["PAGE_SIZE"],
        error_out=False,
    )
    counts = subscription_service.delivery_counts().get(subscription.id, {})
    return render_template(
        "webhooks_admin/show.html",
        subscription=subscription,
        page=page,
        status=status,
        counts=counts,
        failed=counts.get(MessageStatus.FAILED, 0),
        confirm_form=ConfirmForm(),
    )


def _button(subscription_id: int, change, done):
    """A one-button change of a subscription (CSRF-checked), back to its page."""
    subscription = get_in_scope_or_404(WebhookSubscription, subscription_id, current_user)
    require_confirmation()
    page = url_for("webhooks_admin.show", subscription_id=subscription.id)
    return write(
        lambda: change(subscription, actor=current_user),
        done=done,
        category=lambda result: "success" if result != 0 else "info",
        to=page,
        back=page,
    ).response


@bp.route("/<int:subscription_id>/rotate-secret", methods=["POST"])
@admin_required
def rotate_secret(subscription_id: int):
    return _button(
        subscription_id,
        subscription_service.rotate_secret,
        _("A new secret signs the calls from now on: give it to the receiver."),
    )


@bp.route("/<int:subscription_id>/retry-failed", methods=["POST"])
@admin_required
def retry_failed(subscription_id: int):
    return _button(
        subscription_id,
        subscription_service.retry_failed,
        lambda queued: ngettext(
            "%(num)d failed call is queued again.", "%(num)d failed calls are queued again.", queued
        ),
    )


@bp.route("/<int:subscription_id>/delete", methods=["POST"])
@admin_required
def delete(subscription_id: int):
    subscription = get_in_scope_or_404(WebhookSubscription, subscription_id, current_user)
    confirm_or_ask(
        _(
            "Delete the subscription %(name)s with its delivery log? Calls still queued are "
            "not made.",
            name=subscription.name,
        ),
        button=_("Delete"),
    )
    name = subscription.name
    return write(
        lambda: subscription_service.delete_subscription(subscription, actor=current_user),
        done=_("The subscription %(name)s is deleted.", name=name),
        to=url_for("webhooks_admin.index"),
        back=url_for("webhooks_admin.show", subscription_id=subscription_id),
    ).response


@bp.route("/deliveries/<int:delivery_id>")
@admin_required
def delivery(delivery_id: int):
    found = get_in_scope_or_404(WebhookDelivery, delivery_id, current_user)
    return render_template(
        "webhooks_admin/delivery.html", delivery=found, confirm_form=ConfirmForm()
    )


@bp.route("/deliveries/<int:delivery_id>/retry", methods=["POST"])
@admin_required
def retry(delivery_id: int):
    found = get_in_scope_or_404(WebhookDelivery, delivery_id, current_user)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    page = url_for("webhooks_admin.show", subscription_id=found.subscription_id)
    return write(
        lambda: subscription_service.retry_delivery(found, actor=current_user),
        done=_("The call is queued again; the scheduler makes it at its next tick."),
        to=page,
        back=page,
    ).response
