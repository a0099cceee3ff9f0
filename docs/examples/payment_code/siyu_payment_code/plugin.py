"""Payment code: hook implementations (entry point ``siyu: payment_code``)."""
from __future__ import annotations

from pathlib import Path

from flask import Blueprint
from marshmallow import Schema, fields, validate

from siyu.plugin import hookimpl, lazy_gettext as _l
from siyu_payment_code.gateway import NAME, PaymentCodeGateway

HERE = Path(__file__).resolve().parent
# No routes: the blueprint only lends the pay page its template (payment_code/pay.html).
templates = Blueprint("payment_code", __name__, template_folder=str(HERE / "templates"))


class PaymentCodeSettings(Schema):
    code = fields.String(
        load_default="", validate=validate.Length(max=500),
        metadata={"label": _l("Payment code content"),
                  "help": _l("The text inside your WeChat or Alipay collection code (scan it once to read it).")})
    instructions = fields.String(
        load_default="", validate=validate.Length(max=300),
        metadata={"label": _l("Instructions"), "help": _l("Shown under the code; empty for the default.")})


@hookimpl
def register_payment_providers(register):
    register(PaymentCodeGateway())


@hookimpl
def register_settings_schemas(register):
    register(NAME, PaymentCodeSettings)


@hookimpl
def register_blueprints(register):
    register(templates)
