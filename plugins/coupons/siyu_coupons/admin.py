"""Back office: coupons with their figures, create and edit (owners), the claim link and its
QR code for posters, and the dashboard widget. Agents see the list to know what to send."""
from __future__ import annotations

from datetime import timedelta

from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from markupsafe import Markup
from sqlalchemy import func, select
from wtforms.fields.choices import SelectChoice

from siyu.plugin import may, Product, SiyuError, utcnow, ValidationError
from siyu.plugin.web import current_staff, db, shop_settings, staff_required
from siyu_coupons import codes, offers, stats
from siyu_coupons.admin_form import TemplateForm, form_data, prefill
from siyu_coupons.definitions import delete_template, save_template, scope_product_ids
from siyu_coupons.models import CouponTemplate
from siyu_coupons.views import bp

PAGE_SIZE = 30


def _template(template_id: int) -> CouponTemplate:
    template = db().get(CouponTemplate, template_id)
    if template is None:
        abort(404)
    return template


def _form(template: CouponTemplate | None = None) -> TemplateForm:
    form = TemplateForm(formdata=request.form if request.method == "POST" else None)
    form.product_ids.choices = [SelectChoice(p.id, f"{p.sku} · {p.title_zh}") for p in
                                db().scalars(select(Product).order_by(Product.position, Product.id))]
    if request.method != "POST":
        prefill(form, template, scope_product_ids(db(), template.id) if template else [], db())
    return form


def _save(form: TemplateForm, template: CouponTemplate | None):
    if not form.validate():
        return None
    currency = template.currency if template else str(shop_settings().get("currency") or "CNY")
    try:
        return save_template(db(), form_data(form, currency, db()), template)
    except ValidationError as exc:
        for name, message in exc.fields.items():
            name = "percent" if name == "percent_bp" else name
            if name in form:
                form[name].errors = [str(message)]
        flash(str(exc.message), "error")
    return None


@bp.get("/admin/coupons")
@staff_required("agent")
def admin_list():
    page = max(request.args.get("page", 1, type=int) or 1, 1)
    total = db().scalar(select(func.count(CouponTemplate.id))) or 0
    pages = max((total + PAGE_SIZE - 1) // PAGE_SIZE, 1)
    rows = db().scalars(select(CouponTemplate).order_by(CouponTemplate.active.desc(), CouponTemplate.id.desc())
                        .limit(PAGE_SIZE).offset((min(page, pages) - 1) * PAGE_SIZE)).all()
    figures = stats.figures(db(), [t.id for t in rows])
    return render_template("coupons/admin/list.html", templates=rows, figures=figures, page=min(page, pages),
                           pages=pages, total=total, can_edit=may(current_staff(), "owner"),
                           summary=lambda t: offers.headline(offers.card_payload(t)))


@bp.route("/admin/coupons/new", methods=["GET", "POST"])
@staff_required("owner")
def admin_new():
    form = _form()
    if request.method == "POST":
        template = _save(form, None)
        if template is not None:
            flash(_("Coupon created. Send it from the inbox or print its claim code."), "success")
            return redirect(url_for("coupons.admin_edit", template_id=template.id))
        return render_template("coupons/admin/form.html", form=form, template=None, can_edit=True), 422
    return render_template("coupons/admin/form.html", form=form, template=None, can_edit=True)


@bp.route("/admin/coupons/<int:template_id>", methods=["GET", "POST"])
@staff_required("agent")
def admin_edit(template_id: int):
    template = _template(template_id)
    can_edit = may(current_staff(), "owner")
    form = _form(template)
    status = 200
    if request.method == "POST":
        if not can_edit:
            abort(403)
        if _save(form, template) is not None:
            flash(_("Coupon saved."), "success")
            return redirect(url_for("coupons.admin_edit", template_id=template.id))
        status = 422
    url = claim_url(template)
    payload = offers.card_payload(template)
    return render_template("coupons/admin/form.html", form=form, template=template, can_edit=can_edit,
                           url=url, qr=codes.qr_inline(url), figures=stats.figures(db(), [template.id])[template.id],
                           headline=offers.headline(payload), terms=offers.conditions(payload)), status


@bp.post("/admin/coupons/<int:template_id>/delete")
@staff_required("owner")
def admin_delete(template_id: int):
    template = _template(template_id)
    try:
        delete_template(db(), template)
    except SiyuError as exc:
        flash(str(exc.message), "error")
        return redirect(url_for("coupons.admin_edit", template_id=template_id))
    flash(_("Coupon deleted."), "success")
    return redirect(url_for("coupons.admin_list"))


def claim_url(template: CouponTemplate) -> str:
    return url_for("coupons.claim_page", code=template.code, _external=True)


def _download(body: bytes, mimetype: str, name: str) -> Response:
    response = Response(body, mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@bp.get("/admin/coupons/<int:template_id>/qr.svg")
@staff_required("agent")
def admin_qr_svg(template_id: int):
    template = _template(template_id)
    return _download(codes.qr_svg(claim_url(template)), "image/svg+xml", f"coupon-{template.code}.svg")


@bp.get("/admin/coupons/<int:template_id>/qr.png")
@staff_required("agent")
def admin_qr_png(template_id: int):
    template = _template(template_id)
    return _download(codes.qr_png(claim_url(template)), "image/png", f"coupon-{template.code}.png")


def dashboard_widget(session, staff) -> Markup:
    """The last 30 days: issued, used, redemption rate, revenue; the five most used coupons."""
    since = utcnow() - timedelta(days=30)
    ids = list(session.scalars(select(CouponTemplate.id)))
    found = stats.figures(session, ids, since=since)
    names = {tid: name for tid, name in session.execute(select(CouponTemplate.id, CouponTemplate.name))}
    top = sorted((f for f in found.items() if f[1].issued or f[1].used), key=lambda kv: -kv[1].used)[:5]
    return Markup(render_template("coupons/admin/widget.html", total=stats.totals(found), top=top, names=names))
