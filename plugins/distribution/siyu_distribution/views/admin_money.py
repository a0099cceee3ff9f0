"""Back office: the ledger, payouts (approve, pay, reject; CSV) and per-product rates."""
from __future__ import annotations

from flask import Response, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import func, select

from siyu.plugin import NotFound, Product, ValidationError, write_transaction
from siyu.plugin.web import current_staff, db, kernel, staff_required

from siyu_distribution import payouts, reports
from siyu_distribution.models import Distributor, Payout, PayoutStatus, ProductRate
from siyu_distribution.views.blueprints import admin_bp

PAGE_SIZE = 50


def _page() -> int:
    return max(request.args.get("page", 1, type=int) or 1, 1)


def payout_providers() -> dict:
    """Providers other plugins registered through ``distribution_register_payout_providers``."""
    if "distribution_payout_providers" not in current_app.extensions:
        found: dict = {}
        kernel().pm.hook.distribution_register_payout_providers(register=lambda p: found.setdefault(p.name, p))
        current_app.extensions["distribution_payout_providers"] = found
    return current_app.extensions["distribution_payout_providers"]


@admin_bp.get("/ledger", endpoint="ledger")
@staff_required("owner")
def ledger_page():
    distributor_id = request.args.get("distributor", type=int)
    page = _page()
    total = reports.entry_count(db(), distributor_id)
    return render_template("distribution/admin/ledger.html", distributor_id=distributor_id,
                           entries=reports.entries(db(), distributor_id, PAGE_SIZE, (page - 1) * PAGE_SIZE),
                           page=page, pages=max((total + PAGE_SIZE - 1) // PAGE_SIZE, 1))


@admin_bp.get("/d/<int:distributor_id>/statement.csv")
@staff_required("owner")
def statement(distributor_id: int):
    if db().get(Distributor, distributor_id) is None:
        raise NotFound(_("Distributor not found."))
    body = payouts.statement_csv(payouts.statement_entries(db(), distributor_id))
    return Response(body, mimetype="text/csv", headers={
        "Content-Disposition": f'attachment; filename="statement-{distributor_id}.csv"'})


def _payout_query(status: str | None):
    query = select(Payout)
    if status:
        query = query.where(Payout.status == status)
    return query


@admin_bp.get("/payouts", endpoint="payouts")
@staff_required("owner")
def payouts_page():
    status = request.args.get("status") or None
    if status not in {s.value for s in PayoutStatus} | {None}:
        status = None
    page = _page()
    total = db().scalar(select(func.count()).select_from(_payout_query(status).subquery()))
    rows = db().scalars(_payout_query(status).order_by(Payout.id.desc()).limit(PAGE_SIZE)
                        .offset((page - 1) * PAGE_SIZE)).all()
    return render_template("distribution/admin/payouts.html", rows=rows, status=status, page=page,
                           pages=max((total + PAGE_SIZE - 1) // PAGE_SIZE, 1), providers=payout_providers())


@admin_bp.get("/payouts.csv")
@staff_required("owner")
def payouts_csv():
    status = request.args.get("status") or None
    rows = db().scalars(_payout_query(status).order_by(Payout.id).limit(50000))
    return Response(payouts.payouts_csv(rows), mimetype="text/csv",
                    headers={"Content-Disposition": 'attachment; filename="payouts.csv"'})


@admin_bp.post("/payouts/<int:payout_id>/<action>")
@staff_required("owner")
def payout_action(payout_id: int, action: str):
    staff_id = current_staff().id
    if action == "approve":
        payouts.approve(db(), payout_id, staff_id)
    elif action == "paid":
        payouts.mark_paid(kernel(), db(), payout_id, request.form.get("reference", ""), staff_id=staff_id)
    elif action == "send":
        provider = payout_providers().get(request.form.get("provider", ""))
        if provider is None:
            raise ValidationError(_("Choose a payout provider."), fields={"provider": _("unknown")})
        payouts.send_with_provider(kernel(), db(), payout_id, provider, staff_id)
    elif action == "reject":
        payouts.reject(db(), payout_id, request.form.get("reason", ""), staff_id)
    else:
        raise NotFound(_("Unknown action."))
    flash(_("Saved."), "success")
    return redirect(url_for("distribution_admin.payouts", status=request.args.get("status")))


@admin_bp.route("/rates", methods=["GET", "POST"])
@staff_required("owner")
def rates():
    if request.method == "POST":
        product_id = request.form.get("product_id", type=int)
        values = [request.form.get(f"tier{t}_bps", type=int) for t in (1, 2, 3)]
        if db().get(Product, product_id or 0) is None:
            raise NotFound(_("Product not found."))
        with write_transaction(db()):
            row = db().get(ProductRate, product_id)
            if request.form.get("remove"):
                if row is not None:
                    db().delete(row)
            else:
                if any(v is None or not 0 <= v <= 10000 for v in values) or sum(values) > 10000:
                    raise ValidationError(_("Rates are basis points from 0 to 10000, at most 10000 in all."),
                                          fields={"tier1_bps": _("0 to 10000")})
                row = row or ProductRate(product_id=product_id)
                row.tier1_bps, row.tier2_bps, row.tier3_bps = values
                db().add(row)
        flash(_("Saved."), "success")
        return redirect(url_for("distribution_admin.rates"))
    rows = db().execute(select(Product, ProductRate).outerjoin(ProductRate, ProductRate.product_id == Product.id)
                        .order_by(Product.position, Product.id).limit(500)).all()
    return render_template("distribution/admin/rates.html", rows=rows)
