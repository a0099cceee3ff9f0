"""The short URL ``/q/<scene>``: count the scan, then send the shopper to the target with
the channel in ``?ch=`` so the core records the touch for attribution."""
from __future__ import annotations

import logging
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from flask import Blueprint, redirect, request, url_for
from flask_login import current_user
from sqlalchemy.exc import SQLAlchemyError

from siyu.plugin import Product, settings
from siyu.plugin.web import db, kernel, limiter, visitor_id
from siyu_qr_channels.channels import active_channel_by_scene
from siyu_qr_channels.models import Channel
from siyu_qr_channels.scans import device_class, record_scan

bp = Blueprint("qr_channels", __name__, template_folder="templates", static_folder="static",
               static_url_path="/qr_channels/static")
log = logging.getLogger("siyu.qr_channels")
PARAM = "ch"


def _no_store(response):
    # Every scan must reach the shop: no browser or proxy may answer from a cache.
    response.headers["Cache-Control"] = "no-store"
    return response


def with_channel(path: str, scene: str) -> str:
    parts = urlsplit(path)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != PARAM]
    return urlunsplit(("", "", parts.path, urlencode(query + [(PARAM, scene)]), ""))


def target_path(channel: Channel) -> str:
    """Where a scan lands; a missing or inactive product falls back to the home page."""
    custom = kernel().pm.hook.qr_channels_target_url(target=channel.target, value=channel.target_value)
    if isinstance(custom, str) and custom.startswith("/") and not custom.startswith("//"):
        return custom
    if channel.target == "product" and channel.target_value.isdigit():
        product = db().get(Product, int(channel.target_value))
        if product is not None and product.active:
            return url_for("catalog.product", product_id=product.id)
    if channel.target == "signup":
        return url_for("account.signup")
    return url_for("catalog.home")


def short_url(channel: Channel) -> str:
    """The absolute URL printed in the code: the plugin's ``base_url`` setting, else this host."""
    base = str(settings.get(db(), "qr_channels", "base_url", "") or "").strip() or request.url_root
    return base.rstrip("/") + url_for("qr_channels.scan", scene=channel.scene)


@bp.get("/q/<scene>")
@limiter.limit("600/minute")
def scan(scene: str):
    channel = active_channel_by_scene(db(), scene)
    if channel is None:  # unknown or disabled: the shop's front door, no error
        return _no_store(redirect(url_for("catalog.home")))
    if request.method == "GET":  # HEAD (link checkers) is not a scan
        member_id = current_user.id if current_user.is_authenticated else None
        try:
            record_scan(db(), channel, visitor_id=visitor_id(), member_id=member_id,
                        device=device_class(request.headers.get("User-Agent")))
        except SQLAlchemyError:
            # Losing one count beats stranding a shopper in front of a poster.
            log.exception("scan of channel %s not recorded", channel.id)
    return _no_store(redirect(with_channel(target_path(channel), channel.scene)))


def attribution_from_request(args, session):
    """``?ch=<scene>`` of an active channel becomes the touch ``("channel", "<id>")``."""
    scene = args.get(PARAM)
    if not scene:
        return None
    channel = active_channel_by_scene(session, scene)
    return [("channel", str(channel.id))] if channel is not None else None
