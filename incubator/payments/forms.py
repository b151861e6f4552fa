"""The payments pages' forms (Flask-WTF): what each page posts, with its CSRF check.

The Stripe account id is taken as typed; ``services.connect_account`` checks it and words the error."""

from __future__ import annotations

from wtforms import StringField

from incubator.core.forms import FlaskForm


class ConnectAccountForm(FlaskForm):
    stripe_account_id = StringField(default="")
