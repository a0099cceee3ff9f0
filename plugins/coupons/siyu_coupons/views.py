"""Storefront pages: the claim page for posters and QR codes (``/coupon/<code>``) and the
member's wallet (``/account/coupons``).

Claims are CSRF-protected posts, rate-limited per address; the claim itself is one write
transaction (see ``claims``), so a double tap or a crowd at a poster never over-issues.
"""
from __future__ import annotations

from flask import Blueprint, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import func, select

from siyu.plugin import SiyuError, utcnow, write_transaction
from siyu.plugin.web import db, limiter, locale_code
from siyu_coupons import offers, wallet
from siyu_coupons.claims import claim, claim_check, template_for_claim
from siyu_coupons.models import WALLET_TABS, Coupon

bp = Blueprint("coupons", __name__, template_folder="templates", static_folder="static",
               static_url_path="/coupons/static")


def _wants_json() -> bool:
    return request.is_json or request.accept_mimetypes.best == "application/json"


@bp.get("/coupon/<code>")
def claim_page(code: str):
    template = template_for_claim(db(), code)
    problem = None
    try:
        claim_check(template, utcnow())
    except SiyuError as exc:
        problem = str(exc.message)
    held = 0
    if current_user.is_authenticated:
        held = db().scalar(select(func.count(Coupon.id)).where(
            Coupon.template_id == template.id, Coupon.member_id == current_user.id)) or 0
    payload = offers.card_payload(template)
    return render_template("coupons/claim.html", template=template, problem=problem, held=held,
                           headline=offers.headline(payload, locale_code()),
                           terms=offers.conditions(payload, locale_code()))


@bp.post("/coupon/<code>/claim")
@limiter.limit("10/minute")
@login_required
def claim_view(code: str):
    session = db()
    template = template_for_claim(session, code)
    try:
        with write_transaction(session):
            coupon = claim(session, template, current_user.id, source="page")
    except SiyuError as exc:
        if _wants_json():
            raise
        flash(str(exc.message), "error")
        return redirect(url_for("coupons.claim_page", code=template.code))
    if _wants_json():
        return jsonify(coupon_id=coupon.id, status=coupon.status,
                       valid_until=coupon.valid_until.isoformat() if coupon.valid_until else None), 201
    flash(_("Claimed: %(name)s is in your coupons.", name=template.name), "success")
    return redirect(url_for("coupons.wallet_page"))


@bp.get("/account/coupons")
@login_required
def wallet_page():
    tab = request.args.get("tab", "available")
    tab = tab if tab in WALLET_TABS else "available"
    rows, page, pages = wallet.page_of(db(), current_user.id, tab, request.args.get("page", 1, type=int) or 1)
    locale = locale_code()
    items = [{"coupon": c, "template": t, "order_number": number,
              "headline": offers.headline(offers.card_payload(t), locale),
              "terms": offers.conditions(offers.card_payload(t), locale)} for c, t, number in rows]
    return render_template("coupons/wallet.html", items=items, tab=tab, tabs=WALLET_TABS, page=page,
                           pages=pages, counts=wallet.counts(db(), current_user.id))
