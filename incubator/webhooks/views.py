"""The managers' webhook pages: list and create (the secret shown once), edit, pause, delete, the
delivery log with "send again", and a test event. The same services as the API."""

from __future__ import annotations

from typing import Any

from flask import abort, flash, g, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from incubator.core.actions import attempt
from incubator.core.pagination import paginate
from incubator.core.permissions import Permission, require
from incubator.core.tenancy import get_or_404, org_blueprint
from incubator.core.versioning import check_version
from incubator.extensions import db
from incubator.webhooks import services
from incubator.webhooks.forms import EVENT_LABELS, ButtonForm, EditWebhookForm, WebhookForm
from incubator.webhooks.models import WebhookDelivery, WebhookSubscription

bp = org_blueprint("webhooks", __name__, "/webhooks")


def _list_page(form: WebhookForm, *, created: WebhookSubscription | None = None, secret: str | None = None,
               status: int = 200) -> Any:
    subscriptions = db.session.execute(select(WebhookSubscription).where(WebhookSubscription.org_id == g.org.id)
                                       .order_by(WebhookSubscription.id)).scalars().all()
    return render_template("webhooks/index.html", form=form, subscriptions=subscriptions, created=created,
                           secret=secret, labels=EVENT_LABELS), status


@bp.route("")
@require(Permission.MANAGE_ORG)
def index() -> Any:
    return _list_page(WebhookForm(formdata=None))


@bp.route("", methods=["POST"])
@require(Permission.MANAGE_ORG)
def create() -> Any:
    form = WebhookForm()
    if form.validate_on_submit():
        with attempt(form=form) as outcome:
            subscription, secret = services.create_subscription(
                db.session, g.org.id, url=form.url.data, events=form.events.data or [],
                description=form.description.data or "", created_by_id=current_user.id)
        if outcome.ok:
            # Answered on this page, this once: the secret is stored encrypted and never shown again.
            return _list_page(WebhookForm(formdata=None), created=subscription, secret=secret)
    return _list_page(form, status=422)


def _detail_page(subscription: WebhookSubscription, form: EditWebhookForm, status: int = 200) -> Any:
    page = paginate(db.session, services.deliveries_stmt(subscription)
                    .options(selectinload(WebhookDelivery.attempts)), per_page=25)
    return render_template("webhooks/detail.html", subscription=subscription, form=form, deliveries=page,
                           button=ButtonForm(formdata=None), labels=EVENT_LABELS), status


def _edit_form(subscription: WebhookSubscription) -> EditWebhookForm:
    return EditWebhookForm(formdata=None, data={"url": subscription.url, "events": list(subscription.events),
                                                "description": subscription.description,
                                                "version": subscription.version})


@bp.route("/<int:webhook_subscription_id>")
@require(Permission.MANAGE_ORG)
def detail(webhook_subscription_id: int) -> Any:
    subscription = get_or_404(WebhookSubscription, webhook_subscription_id)
    return _detail_page(subscription, _edit_form(subscription))


@bp.route("/<int:webhook_subscription_id>", methods=["POST"])
@require(Permission.MANAGE_ORG)
def edit(webhook_subscription_id: int) -> Any:
    subscription = get_or_404(WebhookSubscription, webhook_subscription_id)
    form = EditWebhookForm()
    if form.validate_on_submit():
        with attempt(form=form) as outcome:
            check_version(subscription, form.version.data)
            services.update_subscription(db.session, subscription, url=form.url.data,
                                         events=form.events.data or [], description=form.description.data or "")
        if outcome.ok:
            flash(_("The webhook is saved."), "success")
            return redirect(url_for("webhooks.detail", webhook_subscription_id=subscription.id))
    return _detail_page(subscription, form, status=422)


def _button(webhook_subscription_id: int) -> WebhookSubscription:
    subscription = get_or_404(WebhookSubscription, webhook_subscription_id)
    if not ButtonForm().validate_on_submit():
        abort(400)
    return subscription


@bp.route("/<int:webhook_subscription_id>/pause", methods=["POST"], defaults={"paused": True})
@bp.route("/<int:webhook_subscription_id>/resume", methods=["POST"], defaults={"paused": False})
@require(Permission.MANAGE_ORG)
def pause(webhook_subscription_id: int, paused: bool) -> Any:
    subscription = _button(webhook_subscription_id)
    with attempt(flash_error=True) as outcome:
        services.update_subscription(db.session, subscription, paused=paused)
    if outcome.ok:
        flash(_("The webhook is paused: it receives nothing until it is resumed.") if paused
              else _("The webhook is active again."), "success")
    return redirect(url_for("webhooks.detail", webhook_subscription_id=subscription.id))


@bp.route("/<int:webhook_subscription_id>/delete", methods=["POST"])
@require(Permission.MANAGE_ORG)
def delete(webhook_subscription_id: int) -> Any:
    subscription = _button(webhook_subscription_id)
    with attempt(flash_error=True) as outcome:
        services.delete_subscription(db.session, subscription)
    if outcome.ok:
        flash(_("The webhook is deleted."), "success")
    return redirect(url_for("webhooks.index"))


@bp.route("/<int:webhook_subscription_id>/ping", methods=["POST"])
@require(Permission.MANAGE_ORG)
def ping(webhook_subscription_id: int) -> Any:
    subscription = _button(webhook_subscription_id)
    with attempt(flash_error=True) as outcome:
        services.ping(db.session, subscription)
    if outcome.ok:
        flash(_("A test event is on its way; its delivery shows below."), "success")
    return redirect(url_for("webhooks.detail", webhook_subscription_id=subscription.id))


@bp.route("/<int:webhook_subscription_id>/deliveries/<int:webhook_delivery_id>/redeliver", methods=["POST"])
@require(Permission.MANAGE_ORG)
def redeliver(webhook_subscription_id: int, webhook_delivery_id: int) -> Any:
    subscription = _button(webhook_subscription_id)
    item = get_or_404(WebhookDelivery, webhook_delivery_id)
    if item.subscription_id != subscription.id:
        abort(404)
    with attempt(flash_error=True) as outcome:
        services.redeliver(db.session, item)
    if outcome.ok:
        flash(_("The event is sent again."), "success")
    return redirect(url_for("webhooks.detail", webhook_subscription_id=subscription.id))
