"""Payment rules: checkout, bringing a payment in line with the gateway, refunds, receipts, reports.

Nothing here marks money as received on the word of a URL or a webhook payload: ``sync`` reads the
session and its payment back from the gateway and moves our records to match, once. The ledger's
unique ``reference`` (the gateway's payment or refund id) makes recording the same money twice
impossible, whatever the order or number of deliveries.
"""

from __future__ import annotations

import math
import re
import secrets
from collections.abc import Callable, Iterable
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import Select, or_, select
from sqlalchemy.orm import Session, selectinload

from incubator.accounts.models import User
from incubator.booking import services as booking_services
from incubator.booking.models import Booking, BookingStatus
from incubator.core import formatting
from incubator.core.db import utcnow
from incubator.core.errors import Conflict, DomainError
from incubator.core.tenancy import lock_row
from incubator.core.timezones import day_start_utc
from incubator.intake import services as intake_services
from incubator.intake.models import Application
from incubator.ledger import signals
from incubator.ledger.models import LedgerEntry, LedgerKind, Payment, PaymentPurpose, PaymentStatus
from incubator.orgs.models import Organisation
from incubator.payments import credentials, tasks, vat
from incubator.payments import gateway as gateways
from incubator.payments.models import GatewayChoice, PaymentAccount
from incubator.payments.payos import FakePayOS, PayOSGateway, RefundNotSupported
from incubator.payments.transfer import TransferGateway
from incubator.webhooks.services import emit_for

GRACE = timedelta(minutes=5)  # the slot stays held a little past the session, for a late webhook


def account_for(session: Session, org: Organisation | int) -> PaymentAccount | None:
    org_id = org if isinstance(org, int) else org.id
    return session.execute(select(PaymentAccount).where(PaymentAccount.org_id == org_id)
                           # all_orgs: the owner's account is read while a partner pays for a shared resource
                           .execution_options(all_orgs=True)).scalar_one_or_none()


def connect_account(session: Session, org: Organisation, account_id: str) -> PaymentAccount:
    account_id = account_id.strip()
    if not account_id.startswith("acct_") or not account_id[5:].isalnum() or len(account_id) > 64:
        message = _("A Stripe account id looks like acct_1AbCdEf…")
        raise DomainError(message, code="invalid_account", fields={"stripe_account_id": message})
    account = account_for(session, org)
    if account is None:
        account = PaymentAccount(org_id=org.id, stripe_account_id=account_id)
        session.add(account)
    else:
        account.stripe_account_id, account.connected_at = account_id, utcnow()
    session.flush()
    return account


def _gateway_errors(gateway: str, values: dict[str, str], given: list[str]) -> dict[str, str]:
    errors: dict[str, str] = {}
    if gateway not in {choice.value for choice in GatewayChoice}:
        errors["gateway"] = _("Choose Stripe, payOS, bank transfer or the platform's default.")
    if given and len(given) < 3:
        for name in {"payos_client_id", "payos_api_key", "payos_checksum_key"} - set(given):
            errors[name] = _("Enter the client id, the API key and the checksum key together.")
    for name, longest in (("payos_client_id", 64), ("payos_api_key", 200), ("payos_checksum_key", 200),
                          ("bank_account_name", 100)):
        if len(values[name]) > longest:
            errors[name] = _("At most %(count)d characters.", count=longest)
    if values["bank_bin"] and not re.fullmatch(r"\d{6}", values["bank_bin"]):
        errors["bank_bin"] = _("A bank's NAPAS BIN has 6 digits, e.g. 970436.")
    if values["bank_account"] and not re.fullmatch(r"[0-9A-Za-z]{1,19}", values["bank_account"]):
        errors["bank_account"] = _("An account number has at most 19 letters and digits.")
    if gateway == GatewayChoice.TRANSFER and not values["bank_account"]:
        errors["bank_account"] = _("Enter the bank account that receives the transfers.")
    if bool(values["bank_bin"]) != bool(values["bank_account"]):
        errors["bank_account" if values["bank_bin"] else "bank_bin"] = _("Enter the bank and the account together.")
    return errors


def configure_gateway(session: Session, org: Organisation, *, gateway: str, payos_client_id: str = "",
                      payos_api_key: str = "", payos_checksum_key: str = "", bank_bin: str = "", bank_account: str = "",
                      bank_account_name: str = "") -> PaymentAccount:
    """The organisation's gateway and its payOS channel, from the payments page or the API. The payOS
    credentials are replaced only when all three are given (blank: the stored ones stay), are stored
    encrypted and are never answered back. Every field's error is told at once; nothing is half-saved."""
    values = {"payos_client_id": payos_client_id.strip(), "payos_api_key": payos_api_key.strip(),
              "payos_checksum_key": payos_checksum_key.strip(), "bank_bin": bank_bin.strip(),
              "bank_account": bank_account.strip().replace(" ", ""), "bank_account_name": bank_account_name.strip()}
    given = [name for name in ("payos_client_id", "payos_api_key", "payos_checksum_key") if values[name]]
    errors = _gateway_errors(gateway, values, given)
    if errors:
        raise DomainError(next(iter(errors.values())), code="invalid_gateway", fields=errors)
    account = account_for(session, org)
    if account is None:
        account = PaymentAccount(org_id=org.id, stripe_account_id="")
        session.add(account)
    account.gateway = GatewayChoice(gateway)
    if given:
        account.payos_client_id = values["payos_client_id"]
        account.payos_api_key = credentials.encrypt(values["payos_api_key"])
        account.payos_checksum_key = credentials.encrypt(values["payos_checksum_key"])
    account.bank_bin, account.bank_account = values["bank_bin"], values["bank_account"]
    account.bank_account_name = values["bank_account_name"]
    session.flush()
    return account


TAX_CODE = re.compile(r"\d{10}(-\d{3})?")  # mã số thuế: 10 digits, a branch's 10 + "-" + 3


def _tax_code_error(tax_code: str) -> str | None:
    if tax_code and not TAX_CODE.fullmatch(tax_code):
        return str(_("A tax code has 10 digits, or 10 digits, a dash and 3 digits (0312345678-001)."))
    return None


def _length_errors(values: dict[str, str], longest: dict[str, int]) -> dict[str, str]:
    return {name: _("At most %(count)d characters.", count=most) for name, most in longest.items()
            if len(values[name]) > most}


def configure_seller(session: Session, org: Organisation, *, legal_name: str = "", legal_address: str = "",
                     tax_code: str = "", vat_rate: int | str | None = None) -> PaymentAccount:
    """The seller on the organisation's receipts and e-invoice export: its legal name, address, tax code
    and VAT rate (0, 5, 8 or 10 %, or ``None``: not charged; prices include it). The legal name and
    address are required once VAT is charged or a tax code is given. Every error at once, nothing saved."""
    values = {"legal_name": legal_name.strip(), "legal_address": legal_address.strip(),
              "tax_code": tax_code.strip().replace(" ", "")}
    errors = _length_errors(values, {"legal_name": 200, "legal_address": 300})
    rate: int | None = None
    if vat_rate not in (None, ""):
        try:
            rate = int(vat_rate)  # an int, or a form's digits
        except (TypeError, ValueError):
            rate = -1
        if rate not in vat.RATES:
            errors["vat_rate"] = _("Choose 0, 5, 8 or 10 %, or VAT not charged.")
    if (message := _tax_code_error(values["tax_code"])) is not None:
        errors["tax_code"] = message
    if rate is not None or values["tax_code"]:
        for name in ("legal_name", "legal_address"):
            if not values[name]:
                errors[name] = _("Required on receipts once VAT is charged or a tax code is given.")
    if errors:
        raise DomainError(next(iter(errors.values())), code="invalid_seller", fields=errors)
    account = account_for(session, org)
    if account is None:
        account = PaymentAccount(org_id=org.id, stripe_account_id="")
        session.add(account)
    account.legal_name, account.legal_address = values["legal_name"], values["legal_address"]
    account.tax_code, account.vat_rate = values["tax_code"], rate
    session.flush()
    return account


BUYER_FIELDS = ("name", "company", "tax_code", "address")


def clean_buyer(buyer: dict[str, str] | None) -> dict[str, str]:
    """The buyer as typed at checkout, checked: all optional for a person; a company (its name given)
    gives its tax code and address. Errors name the fields ``buyer_<name>``."""
    values = {name: str((buyer or {}).get(name) or "").strip() for name in BUYER_FIELDS}
    values["tax_code"] = values["tax_code"].replace(" ", "")
    errors = {f"buyer_{name}": message for name, message in _length_errors(
        values, {"name": 200, "company": 200, "address": 300}).items()}
    if (message := _tax_code_error(values["tax_code"])) is not None:
        errors["buyer_tax_code"] = message
    if values["company"]:
        for name in ("tax_code", "address"):
            if not values[name]:
                errors.setdefault(f"buyer_{name}", _("A company gives its tax code and address for the receipt."))
    if errors:
        raise DomainError(next(iter(errors.values())), code="invalid_buyer", fields=errors, status=422)
    return values


def _set_buyer(payment: Payment, buyer: dict[str, str] | None) -> None:
    if buyer is not None:
        payment.buyer_name, payment.buyer_company = buyer["name"], buyer["company"]
        payment.buyer_tax_code, payment.buyer_address = buyer["tax_code"], buyer["address"]


def platform_fee(amount: int) -> int:
    percent = Decimal(str(current_app.config.get("PLATFORM_FEE_PERCENT") or "0"))
    return math.floor(Decimal(amount) * percent / 100)


def _gateway() -> gateways.Gateway:
    found = gateways.gateway()
    if found is None:
        raise DomainError(_("Online payment is not set up on this platform."), code="payments_disabled", status=503)
    return found


def chosen_gateway(account: PaymentAccount | None) -> str:
    """The organisation's gateway: its own choice, else the platform's ``PAYMENT_GATEWAY=payos``, else Stripe."""
    if account is not None and account.gateway:
        return str(account.gateway)
    return GatewayChoice.PAYOS if current_app.config.get("PAYMENT_GATEWAY") == "payos" else GatewayChoice.STRIPE


# A bank account that plainly is not one, for the fake payOS of an organisation that entered none
TEST_BANK = ("970436", "0000000000", "TAI KHOAN THU NGHIEM")


def gateway_for(account: PaymentAccount | None, name: str) -> gateways.Gateway:
    """The gateway that takes (or took) a payment: the platform's Stripe, or the organisation's payOS
    with its own credentials, or the fake payOS outside production when it has entered none."""
    if name == GatewayChoice.TRANSFER:
        return TransferGateway()
    if name != GatewayChoice.PAYOS:
        return _gateway()
    if account is not None and account.has_payos_credentials:
        return PayOSGateway(account.payos_client_id, credentials.decrypt(account.payos_api_key),
                            credentials.decrypt(account.payos_checksum_key),
                            base_url=current_app.config.get("PAYOS_API_BASE"))
    store = current_app.extensions.get("payos_fake")
    if store is None or account is None:
        raise DomainError(_("This organisation does not take online payments yet."), code="no_account", status=409)
    bank = (account.bank_bin, account.bank_account, account.bank_account_name) if account.bank_account else TEST_BANK
    return FakePayOS(store, bank_bin=bank[0], account=bank[1], account_name=bank[2])


def gateway_of(session: Session, payment: Payment) -> gateways.Gateway:
    return gateway_for(account_for(session, payment.org_id), payment.gateway)


# -- checkout ----------------------------------------------------------------------------------------

def checkout_booking(session: Session, org: Organisation, booking: Booking, user: User, *,
                     success_url: Callable[[int], str], cancel_url: str, now: datetime | None = None,
                     buyer: dict[str, str] | None = None) -> Payment:
    """The checkout of a booking awaiting payment: the open one if there is one, else a new one.
    ``buyer`` (``clean_buyer``) goes on the payment's receipt."""
    now = now or utcnow()
    cleaned = clean_buyer(buyer) if buyer is not None else None
    if booking.user_id != user.id:
        raise DomainError(_("Only the person who booked can pay for it."), code="not_yours", status=403)
    if booking.org_id != org.id:
        raise DomainError(_("This booking is not awaiting payment."), code="not_payable", status=409)
    # One checkout at a time per booking: racing requests wait here, then find the session the first
    # one opened (its row is read afresh) instead of all opening one.
    lock_row(session, booking)
    existing = session.execute(select(Payment).where(Payment.booking_id == booking.id)
                               # all_orgs: the booking may belong to a shared resource's owner
                               .execution_options(all_orgs=True)).scalar_one_or_none()
    if existing is not None and existing.is_settled:
        raise Conflict(_("This booking is already paid."), code="already_paid")
    if existing is not None and existing.status == PaymentStatus.PENDING and existing.checkout_url:
        _set_buyer(existing, cleaned)
        return existing
    if booking.status != BookingStatus.AWAITING_PAYMENT or booking.price <= 0:
        raise DomainError(_("This booking is not awaiting payment."), code="not_payable", status=409)
    if booking.hold_expires_at is not None and booking.hold_expires_at <= now:
        raise DomainError(_("The hold ran out: book the slot again."), code="hold_expired", status=409)
    if existing is not None:  # an expired session of a booking that is held again cannot be reused
        raise Conflict(_("This booking's payment has ended: book the slot again."), code="payment_ended")
    payment = _open_checkout(
        session, org, user, success_url=success_url, cancel_url=cancel_url, now=now,
        metadata={"org": org.slug, "booking_id": str(booking.id)},
        purpose=PaymentPurpose.BOOKING, booking_id=booking.id, startup_id=booking.startup_id, amount=booking.price,
        currency=booking.currency, idempotency_key=f"booking-{booking.id}-{secrets.token_hex(8)}",
        description=_describe(org, user, lambda _locale: _(
            "%(resource)s, %(when)s", resource=booking.resource.name,
            when=formatting.datetime_(booking.starts_at, tz=org.timezone))), buyer=cleaned)
    expires = payment.expires_at
    if expires is None:  # _open_checkout gives every checkout it opens or reuses an end
        raise Conflict(_("This booking's payment has ended: book the slot again."), code="payment_ended")
    booking.hold_expires_at = expires + GRACE  # the slot is kept as long as the customer can pay
    session.flush()
    return payment


def checkout_application(session: Session, org: Organisation, application: Application, user: User, *,
                         success_url: Callable[[int], str], cancel_url: str, now: datetime | None = None,
                         buyer: dict[str, str] | None = None) -> Payment:
    """The checkout of a call's application fee, once the application is otherwise ready to submit.

    At most one live checkout per application: racing requests wait on the application's row, then
    all answer the session the first one opened. ``buyer`` (``clean_buyer``) goes on the receipt."""
    now = now or utcnow()
    cleaned = clean_buyer(buyer) if buyer is not None else None
    lock_row(session, application)
    intake_services.check_submittable(session, application, user, now)
    fee = application.call.fee_minor or 0
    if fee <= 0 or intake_services.fee_paid(session, application):
        raise DomainError(_("This application has no fee to pay."), code="not_payable", status=409)
    open_one = session.execute(select(Payment).where(
        Payment.application_id == application.id, Payment.status == PaymentStatus.PENDING,
        Payment.expires_at > now)).scalars().first()
    if open_one is not None and open_one.checkout_url:
        _set_buyer(open_one, cleaned)
        return open_one
    return _open_checkout(
        session, org, user, success_url=success_url, cancel_url=cancel_url, now=now,
        metadata={"org": org.slug, "application_id": str(application.id)},
        purpose=PaymentPurpose.APPLICATION_FEE, application_id=application.id, amount=fee, currency=org.currency,
        idempotency_key=f"application-{application.id}-{secrets.token_hex(8)}",
        description=_describe(org, user, lambda locale: _(
            "Application fee: %(call)s", call=application.call.title(locale))), buyer=cleaned)


def _describe(org: Organisation, user: User, line: Callable[[str], str]) -> str:
    """The line a payment shows on the gateway's page and on the receipt, in one language throughout:
    the payer's own, else the organisation's, whatever language the request that opened it had."""
    locale = user.locale or org.default_locale
    with force_locale(locale):
        return line(locale)


def _open_checkout(session: Session, org: Organisation, user: User, *, success_url: Callable[[int], str],
                   cancel_url: str, now: datetime, metadata: dict[str, str], buyer: dict[str, str] | None,
                   **fields: Any) -> Payment:
    account = account_for(session, org)
    name = chosen_gateway(account)
    if account is None or (name == GatewayChoice.STRIPE and not account.stripe_account_id):
        raise DomainError(_("This organisation does not take online payments yet."), code="no_account", status=409)
    if name in (GatewayChoice.PAYOS, GatewayChoice.TRANSFER) and fields["currency"] != "VND":
        raise DomainError(_("payOS takes payments in VND only."), code="currency_not_supported", status=409)
    if name == GatewayChoice.TRANSFER and not account.bank_account:
        raise DomainError(_("This organisation does not take online payments yet."), code="no_account", status=409)
    destination = account.stripe_account_id if name == GatewayChoice.STRIPE else \
        f"payos:{account.payos_client_id or 'test'}"[:64] if name == GatewayChoice.PAYOS else \
        f"bank:{account.bank_bin}:{account.bank_account}"
    expires = now + timedelta(minutes=current_app.config["CHECKOUT_MINUTES"] + 1)
    payment = Payment(org_id=org.id, user_id=user.id, platform_fee=platform_fee(fields["amount"]), gateway=name,
                      destination_account=destination, expires_at=expires, vat_rate=account.vat_rate, **fields)
    _set_buyer(payment, buyer)
    session.add(payment)
    session.flush()  # a unique booking_id turns a second, racing checkout away before the gateway is asked
    try:
        checkout = gateway_for(account, name).create_checkout(
            amount=payment.amount, currency=payment.currency, description=payment.description,
            metadata={**metadata, "payment_id": str(payment.id)},
            success_url=success_url(payment.id), cancel_url=cancel_url, expires_at=int(expires.timestamp()),
            destination=payment.destination_account, application_fee=payment.platform_fee,
            idempotency_key=payment.idempotency_key, customer_email=user.email)
    except gateways.GatewayError as exc:  # answered as an error, the request keeps no payment row
        raise DomainError(_("The payment could not be started: %(reason)s", reason=str(exc)), code="gateway_error",
                          status=502) from exc
    payment.checkout_session_id, payment.checkout_url = checkout.id, checkout.url
    session.flush()
    return payment


# -- keeping in line with the gateway ---------------------------------------------------------------------

def payment_for_event(session: Session, obj: dict[str, Any]) -> Payment | None:
    """The payment an event's object belongs to: by session id, by payment intent id, or by the booking
    in its metadata (an intent can fail before we have read its id back)."""
    by_all = {"all_orgs": True}  # a gateway event names no organisation: found by its ids
    if str(obj.get("id", "")).startswith("cs_"):
        return session.execute(select(Payment).where(Payment.checkout_session_id == obj["id"])
                               .execution_options(**by_all)).scalar_one_or_none()
    if obj.get("object") == "payos.payment":  # payOS names its payment link by our order code, the payment's id
        order_code = obj.get("orderCode")
        found = session.get(Payment, order_code) if isinstance(order_code, int) and 0 < order_code < 2**31 else None
        return found if found is not None and found.gateway == GatewayChoice.PAYOS else None
    intent = obj.get("id") if obj.get("object") == "payment_intent" else obj.get("payment_intent")
    if intent:
        found = session.execute(select(Payment).where(Payment.payment_intent_id == str(intent))
                                .execution_options(**by_all)).scalar_one_or_none()
        if found is not None:
            return found
    booking_id = str((obj.get("metadata") or {}).get("booking_id", ""))
    if booking_id.isdigit() and int(booking_id) < 2**31:
        return session.execute(select(Payment).where(Payment.booking_id == int(booking_id))
                               .execution_options(**by_all)).scalar_one_or_none()
    application_id = str((obj.get("metadata") or {}).get("application_id", ""))
    if application_id.isdigit() and int(application_id) < 2**31:  # its latest checkout
        return session.execute(select(Payment).where(Payment.application_id == int(application_id))
                               .order_by(Payment.id.desc()).limit(1).execution_options(**by_all)).scalar_one_or_none()
    return None


def sync(session: Session, payment: Payment) -> list[str]:
    """Read the payment back from the gateway and move our records to match. Answers what changed."""
    gw = gateway_of(session, payment)
    changes: list[str] = []
    checkout = gw.get_checkout(payment.checkout_session_id) if payment.checkout_session_id else None
    if checkout is not None and checkout.payment_intent:
        payment.payment_intent_id = checkout.payment_intent
    if checkout is not None and checkout.status == "complete" and checkout.payment_status == "paid":
        if payment.status in (PaymentStatus.PENDING, PaymentStatus.EXPIRED):
            if checkout.amount_total != payment.amount or checkout.currency.upper() != payment.currency:
                current_app.logger.error("payment %s: the gateway took %s %s, we asked %s %s", payment.id,
                                         checkout.amount_total, checkout.currency, payment.amount, payment.currency)
            _mark_paid(session, payment, checkout.amount_total)
            changes.append("paid")
    elif checkout is not None and checkout.status == "expired" and payment.status == PaymentStatus.PENDING:
        payment.status = PaymentStatus.EXPIRED
        signals.payment_expired.send(payment, session=session)  # booking releases the slot it held
        changes.append("expired")
    if payment.payment_intent_id:
        info = gw.get_payment(payment.payment_intent_id)
        if info.last_error and payment.status == PaymentStatus.PENDING:
            payment.failure_message = info.last_error[:500]
            changes.append("failed_attempt")
        if payment.is_settled:
            changes += _record_refunds(session, payment, info.refunds)
    session.flush()
    return changes


WEBHOOK_FIELDS = ("purpose", "booking_id", "application_id", "startup_id", "amount", "currency", "status")


def _mark_paid(session: Session, payment: Payment, amount: int, recorded_by: User | None = None) -> None:
    payment.status, payment.paid_at, payment.failure_message = PaymentStatus.PAID, utcnow(), ""
    entry = LedgerEntry(org_id=payment.org_id, kind=LedgerKind.PAYMENT, startup_id=payment.startup_id,
                        amount=amount, currency=payment.currency, booking_id=payment.booking_id,
                        payment_id=payment.id, reference=f"payment:{payment.payment_intent_id}",
                        recorded_by_id=recorded_by.id if recorded_by else None)
    session.add(entry)
    session.flush()
    tasks.send_receipt(session, entry)
    emit_for(payment, "payment.succeeded", *WEBHOOK_FIELDS, "paid_at")
    # Booking confirms the booking, intake submits the application; either sends refund_requested
    # when the thing paid for can no longer be had (a released hold, a call that filled up).
    signals.payment_settled.send(payment, session=session)


def _record_refunds(session: Session, payment: Payment, refunds: list[gateways.RefundInfo]) -> list[str]:
    known = set(session.execute(select(LedgerEntry.reference).where(LedgerEntry.payment_id == payment.id)
                                # all_orgs: refunds are recorded from the gateway's events, outside any organisation
                                .execution_options(all_orgs=True)).scalars())
    changes = []
    for refund_info in refunds:
        if refund_info.status in ("succeeded", "pending") and f"refund:{refund_info.id}" not in known:
            _add_refund(session, payment, refund_info)
            changes.append("refunded")
    return changes


def _add_refund(session: Session, payment: Payment, refund_info: gateways.RefundInfo,
                recorded_by: User | None = None) -> LedgerEntry:
    entry = LedgerEntry(org_id=payment.org_id, kind=LedgerKind.REFUND, startup_id=payment.startup_id,
                        amount=-refund_info.amount, currency=payment.currency, booking_id=payment.booking_id,
                        payment_id=payment.id, reference=f"refund:{refund_info.id}",
                        recorded_by_id=recorded_by.id if recorded_by else None)
    session.add(entry)
    payment.amount_refunded = min(payment.amount, payment.amount_refunded + refund_info.amount)
    payment.status = PaymentStatus.REFUNDED if payment.amount_refunded >= payment.amount \
        else PaymentStatus.PARTIALLY_REFUNDED
    session.flush()
    tasks.send_receipt(session, entry)
    emit_for(payment, "payment.refunded", *WEBHOOK_FIELDS, "amount_refunded", refund_amount=refund_info.amount)
    signals.payment_refunded.send(payment, session=session, amount=refund_info.amount)
    return entry


def refund(session: Session, payment: Payment) -> LedgerEntry | None:
    """Give back what is left of a payment, once: a second call finds nothing left and asks nothing."""
    if not payment.is_settled or not payment.payment_intent_id:
        raise DomainError(_("Only a paid payment can be refunded."), code="not_refundable", status=409)
    left = payment.amount - payment.amount_refunded - payment.refund_owed
    if left <= 0:
        return None
    try:
        refund_info = gateway_of(session, payment).refund(
            payment.payment_intent_id, left, idempotency_key=f"refund-{payment.id}-{payment.amount_refunded}")
    except RefundNotSupported:  # payOS: the money goes back by bank transfer, which a manager confirms
        payment.refund_owed += left
        session.flush()
        return None
    except gateways.GatewayError as exc:
        raise DomainError(_("The refund could not be made: %(reason)s", reason=str(exc)), code="refund_failed",
                          status=502) from exc
    if session.execute(select(LedgerEntry.id).where(LedgerEntry.reference == f"refund:{refund_info.id}")
                       .execution_options(all_orgs=True)).first():  # references are unique across organisations
        return None
    return _add_refund(session, payment, refund_info)


def mark_received(session: Session, payment: Payment, user: User) -> bool:
    """A manager saw a bank transfer's money arrive (the organisation takes no gateway): the payment is
    paid, in the ledger with who recorded it, once. A transfer that came after its hold was released
    is settled all the same, and booking asks for its refund (owed, by bank transfer)."""
    session.refresh(payment, with_for_update=True)  # two managers marking at once record it once
    if payment.gateway != GatewayChoice.TRANSFER:
        raise Conflict(_("Only a bank transfer is marked received by hand."), code="not_a_transfer")
    if payment.is_settled:
        return False
    payment.payment_intent_id = f"transfer_{payment.id}"
    _mark_paid(session, payment, payment.amount, recorded_by=user)
    return True


def confirm_refund_sent(session: Session, payment: Payment, user: User) -> LedgerEntry | None:
    """A manager confirms the bank transfer that gave back what payOS could not refund: it is recorded in
    the ledger with who confirmed it, once (a second confirmation finds nothing owed)."""
    session.refresh(payment, with_for_update=True)  # two managers confirming at once record it once
    if payment.refund_owed <= 0:
        return None
    owed, payment.refund_owed = payment.refund_owed, 0
    transfer = gateways.RefundInfo(f"transfer-{payment.id}-{payment.amount_refunded}", owed, "succeeded")
    return _add_refund(session, payment, transfer, recorded_by=user)


def on_booking_cancelled(booking: Booking, *, session: Session, in_policy: bool, **_kw: Any) -> None:
    """Cancelling a paid booking within its policy gives the money back; a pending checkout just ends."""
    payment = session.execute(select(Payment).where(Payment.booking_id == booking.id)
                              # all_orgs: the booking may belong to a shared resource's owner
                              .execution_options(all_orgs=True)).scalar_one_or_none()
    if payment is None:
        return
    if payment.is_settled and in_policy:
        try:
            refund(session, payment)
        except DomainError as exc:
            raise DomainError(_("The refund could not be made, so the booking was not cancelled. Try again "
                                "later."), code="refund_failed", status=502) from exc
    elif payment.status == PaymentStatus.PENDING:
        payment.status = PaymentStatus.EXPIRED
        if payment.gateway == GatewayChoice.PAYOS and payment.checkout_session_id:  # no transfer can arrive late
            try:
                gateway_of(session, payment).cancel_checkout(payment.checkout_session_id)
            except (gateways.GatewayError, DomainError) as exc:  # the late payment is then refunded or flagged
                current_app.logger.warning("payment %s: the payOS link could not be cancelled: %s", payment.id, exc)


def on_refund_requested(payment: Payment, *, session: Session, **_kw: Any) -> LedgerEntry | None:
    return refund(session, payment)


booking_services.booking_cancelled.connect(on_booking_cancelled)
signals.refund_requested.connect(on_refund_requested)


# -- reading ------------------------------------------------------------------------------------------

def payments_query(org: Organisation, user: User, *, everyone: bool, start: date | None = None,
                   end: date | None = None, startup_id: int | None = None,
                   status: PaymentStatus | str | None = None) -> Select[Any]:
    """The payments ``user`` may list here, newest first: the organisation's (``everyone``) or their own,
    made between ``start`` and ``end`` (days in the organisation's time zone, both included)."""
    stmt = select(Payment).where(Payment.org_id == org.id)
    if not everyone:  # one's own, with what one paid from here for another organisation's shared resource
        stmt = (select(Payment).outerjoin(Booking, Booking.id == Payment.booking_id)
                .where(Payment.user_id == user.id, or_(Payment.org_id == org.id, Booking.partner_org_id == org.id))
                .execution_options(all_orgs=True))  # a partner's payments for shared resources are held by their owners
    if startup_id is not None:
        stmt = stmt.where(Payment.startup_id == startup_id)
    if status is not None:
        stmt = stmt.where(Payment.status == PaymentStatus(status))
    if start is not None:
        stmt = stmt.where(Payment.created_at >= day_start_utc(start, org.timezone))
    if end is not None:
        stmt = stmt.where(Payment.created_at < day_start_utc(end + timedelta(days=1), org.timezone))
    return stmt.options(selectinload(Payment.user)).order_by(Payment.created_at.desc(), Payment.id.desc())


def visible_payments(session: Session, org: Organisation, user: User, *, everyone: bool, start: date | None = None,
                     end: date | None = None, startup_id: int | None = None) -> list[Payment]:
    stmt = payments_query(org, user, everyone=everyone, start=start, end=end, startup_id=startup_id)
    return list(session.execute(stmt.limit(2000)).scalars())


def totals(payments: list[Payment]) -> dict[str, int]:
    """Received, refunded, net and the platform's fees of the settled payments among these."""
    settled = [p for p in payments if p.is_settled]
    received, refunded = sum(p.amount for p in settled), sum(p.amount_refunded for p in settled)
    return {"received": received, "refunded": refunded, "net": received - refunded,
            "fees": sum(p.platform_fee for p in settled)}


def ledger_for(session: Session, payment_ids: list[int]) -> dict[int, list[LedgerEntry]]:
    """The ledger rows of payments the caller may already see (a partner's payment belongs to the owner)."""
    rows: Iterable[LedgerEntry] = session.execute(select(LedgerEntry).where(LedgerEntry.payment_id.in_(payment_ids))
                           .order_by(LedgerEntry.created_at)
                           # all_orgs: the entries of those payments, whichever organisation holds them
                           .execution_options(all_orgs=True)).scalars() if payment_ids else []
    found: dict[int, list[LedgerEntry]] = {}
    for row in rows:
        found.setdefault(row.payment_id or 0, []).append(row)
    return found
