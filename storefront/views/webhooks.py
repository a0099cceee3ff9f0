"""Payment provider webhooks: the only routes without CSRF, because they check a signature."""
from __future__ import annotations

from flask import Blueprint, current_app, jsonify, request

from siyu.core.errors import PluginError, SiyuError
from siyu.core.payments.webhooks import SignatureError, process_event, verify
from siyu.storefront.context import db, kernel
from siyu.storefront.extensions import csrf

bp = Blueprint("webhooks", __name__, url_prefix="/webhooks")


@bp.post("/stripe")
@csrf.exempt
def stripe_webhook():
    config = current_app.config
    try:
        event = verify(request.get_data(cache=False), request.headers.get("Stripe-Signature"),
                       config["STRIPE_WEBHOOK_SECRET"], int(config["WEBHOOK_TOLERANCE"]))
    except SignatureError as exc:
        return jsonify(title=str(exc.message), status=400), 400
    try:
        result = process_event(kernel(), db(), event)
    except PluginError as exc:
        # Nothing was written; answer 503 so the provider delivers the event again later.
        return jsonify(title=str(exc.message), status=503), 503
    except SiyuError as exc:
        return jsonify(title=str(exc.message), status=exc.status), exc.status
    return jsonify(received=True, result=result)
