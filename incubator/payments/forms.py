"""The payments pages' forms (Flask-WTF): what each page posts, with its CSRF check.

The Stripe account id and the gateway's settings are taken as typed; ``services.connect_account`` and
``services.configure_gateway`` check them and word the errors (the API shares them)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import PasswordField, SelectField, StringField
from wtforms.fields.choices import SelectChoice

from incubator.core.forms import FlaskForm


class ConnectAccountForm(FlaskForm):
    stripe_account_id = StringField(default="")


class GatewayForm(FlaskForm):
    gateway = SelectField(choices=lambda: [
        SelectChoice("", _l("The platform's default")), SelectChoice("stripe", "Stripe"),
        SelectChoice("payos", "payOS (VietQR)"),
        SelectChoice("transfer", _l("Bank transfer (VietQR), marked received by hand"))],
                          validate_choice=False, default="")
    payos_client_id = StringField(default="")
    payos_api_key = PasswordField(default="")  # never shown again: left blank, the stored one stays
    payos_checksum_key = PasswordField(default="")
    bank_bin = StringField(default="")
    bank_account = StringField(default="")
    bank_account_name = StringField(default="")


class SellerForm(FlaskForm):
    """The seller on receipts; ``services.configure_seller`` checks it and words the errors."""

    legal_name = StringField(default="")
    legal_address = StringField(default="")
    tax_code = StringField(default="")
    vat_rate = SelectField(choices=lambda: [
        SelectChoice("", _l("VAT not charged")), SelectChoice("0", "0 %"), SelectChoice("5", "5 %"),
        SelectChoice("8", "8 %"), SelectChoice("10", "10 %")], validate_choice=False, default="")

    @classmethod
    def of(cls, account: object) -> SellerForm:
        rate = getattr(account, "vat_rate", None)
        return cls(formdata=None, data={name: getattr(account, name, "") for name in
                                        ("legal_name", "legal_address", "tax_code")} |
                   {"vat_rate": "" if rate is None else str(rate)})


class BuyerForm(FlaskForm):
    """Who the receipt names, asked at checkout (``services.clean_buyer`` checks it)."""

    buyer_name = StringField(default="")
    buyer_company = StringField(default="")
    buyer_tax_code = StringField(default="")
    buyer_address = StringField(default="")
