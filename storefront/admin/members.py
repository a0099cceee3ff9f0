"""Back office: members — search and a member's page with orders and plugin panels."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from markupsafe import Markup
from sqlalchemy import func, or_, select

from siyu.core import signin
from siyu.core.metrics import PAID
from siyu.core.models import Member, Order
from siyu.core.plugins import call_isolated
from siyu.storefront.admin import current_staff, staff_required
from siyu.storefront.admin.common import get_or_404, paginate, require_csrf
from siyu.storefront.context import db, kernel

bp = Blueprint("admin_members", __name__, url_prefix="/admin/members")
TITLE = _l("Members")
RECENT_ORDERS = 50


@bp.get("")
@staff_required("agent")
def index():
    query = select(Member)
    q = (request.args.get("q") or "").strip()[:254]
    if q:
        like = f"%{q}%"
        query = query.where(or_(Member.email.ilike(like), Member.name.ilike(like)))
    result = paginate(query.order_by(Member.id.desc()))
    return render_template("admin/members/index.html", result=result, q=q)


@bp.get("/<int:member_id>")
@staff_required("agent")
def detail(member_id: int):
    member = get_or_404(Member, member_id)
    orders = db().scalars(select(Order).where(Order.member_id == member.id)
                          .order_by(Order.placed_at.desc(), Order.id.desc()).limit(RECENT_ORDERS)).all()
    paid = db().execute(select(func.count(Order.id), func.coalesce(func.sum(Order.total - Order.refunded_amount), 0))
                        .where(Order.member_id == member.id, Order.status.in_(PAID))).one()
    panels = call_isolated(kernel().pm, "admin_member_panel", member=member, session=db(), staff=current_staff())
    panels = [p if isinstance(p, Markup) else Markup.escape(p) for p in panels]
    failures = signin.state(db(), "member", member.email)
    return render_template("admin/members/detail.html", member=member, orders=orders, paid_count=paid[0],
                           paid_total=int(paid[1]), panels=panels, recent=RECENT_ORDERS,
                           signin_failures=failures.failures if failures else 0,
                           locked_until=signin.locked_until(failures))


@bp.post("/<int:member_id>/unlock")
@staff_required("owner")
def unlock(member_id: int):
    """Lift the member's sign-in lock (after repeated wrong passwords) and forget the failures."""
    require_csrf()
    member = get_or_404(Member, member_id)
    signin.clear(db(), "member", member.email)
    flash(_("%(email)s can sign in again.", email=member.email), "success")
    return redirect(url_for("admin_members.detail", member_id=member.id))
