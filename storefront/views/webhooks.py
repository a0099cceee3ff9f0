"""Payment notifications at ``/webhooks/<gateway>``: the only routes without CSRF, because the
gateway checks each notification's signature on the raw body before anything is written."""
from __future__ import annotations

import logging

from flask import Blueprint, abort, jsonify, request

from siyu.core.errors import PluginError, ProviderUnavailable, SiyuError
from siyu.core.payments.gateway import SignatureError
from siyu.core.payments.webhooks import process
from siyu.storefront.context import db, kernel
from siyu.storefront.extensions import csrf

bp = Blueprint("webhooks", __name__, url_prefix="/webhooks")
log = logging.getLogger("siyu.payments")


@bp.post("/<gateway>")
@csrf.exempt
def notification(gateway: str):
    provider = kernel().payment_providers.get(gateway)
    if provider is None or not provider.available(kernel().config):
        abort(404)
    try:
        events = provider.parse_notification(kernel(), request.get_data(cache=False), request.headers)
    except SignatureError as exc:
        return _answer(provider, 400, title=str(exc.message))
    results = []
    for event in events:
        try:
            results.append(process(kernel(), db(), gateway, event))
        except (PluginError, ProviderUnavailable) as exc:
            # Nothing was written for this event: ask the gateway to deliver it again later.
            log.warning("notification %s of %s not processed yet: %s", event.event_id, gateway, exc.message)
            return _answer(provider, 503, title=str(exc.message))
        except SiyuError as exc:
            return _answer(provider, exc.status, title=str(exc.message))
    return _answer(provider, 200, result=results[-1] if len(results) == 1 else results)


def _answer(provider, status: int, **details):
    """The gateway's own answer when it has one (WeChat Pay wants its JSON code), else ours:
    ``{"received": true, "result": ...}`` or a problem with a ``title``."""
    ok = status < 400
    reply = provider.reply(ok, str(details.get("title", "")))
    if reply.body:
        return reply.body, status if not ok else reply.status, {"Content-Type": reply.content_type}
    body = {"received": True, **details} if ok else {"title": details.get("title", ""), "status": status}
    return jsonify(body), status
