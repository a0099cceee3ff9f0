"""Back-office pages under ``/admin/curation``: catalogs, items, caps, settings, rotation."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from markupsafe import Markup
from marshmallow import ValidationError as SchemaError
from sqlalchemy import func, or_, select
from sqlalchemy.orm import selectinload

from siyu.plugin import Product, settings as core_settings, SiyuError, ValidationError, write_transaction
from siyu.plugin.web import current_staff, db, invalidate_settings, kernel, staff_required
from siyu_curation import service
from siyu_curation import settings as plugin_settings
from siyu_curation.models import MAIN, CurationCatalog, CurationItem
from siyu_curation.rotation import advise

bp = Blueprint("curation_admin", __name__, url_prefix="/admin/curation", template_folder="templates")
PER_PAGE = 20


def _int(name: str) -> int:
    raw = (request.form.get(name) or request.args.get(name) or "").strip()
    if not raw.lstrip("-").isdigit() or len(raw) > 9:
        raise ValidationError(_("Please choose a valid value."), fields={name: _("A whole number.")})
    return int(raw)


def _back(key: str):
    return redirect(url_for("curation_admin.catalog", key=key, q=request.form.get("q") or None), 303)


def _owner_label(owner_key):
    if not owner_key:
        return None
    return kernel().pm.hook.curation_owner_label(owner_key=owner_key) or owner_key


@bp.get("/")
@staff_required("agent")
def index():
    catalogs = db().scalars(select(CurationCatalog).order_by(CurationCatalog.key != MAIN, CurationCatalog.key)).all()
    counts = dict(db().execute(select(CurationItem.catalog_id, func.count()).group_by(CurationItem.catalog_id)).all())
    rows = [(c, counts.get(c.id, 0), service.effective_cap(db(), c), _owner_label(c.owner_key)) for c in catalogs]
    return render_template("curation/admin_index.html", rows=rows)


@bp.get("/c/<key>")
@staff_required("agent")
def catalog(key: str):
    session = db()
    cat = service.get_catalog(session, key)
    items = session.scalars(select(CurationItem).where(CurationItem.catalog_id == cat.id)
                            .order_by(CurationItem.position, CurationItem.id)
                            .options(selectinload(CurationItem.product))).all()
    report = service.cap_report(session, cat)
    q = (request.args.get("q") or "").strip()[:100]
    page = max(1, request.args.get("page", 1, type=int) or 1)
    listed = select(CurationItem.product_id).where(CurationItem.catalog_id == cat.id)
    query = select(Product).where(Product.active.is_(True), Product.id.not_in(listed))
    if q:
        like = f"%{q.replace('%', '').replace('_', '')}%"
        query = query.where(or_(Product.sku.ilike(like), Product.title_zh.ilike(like), Product.title_en.ilike(like)))
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    pages = max(1, -(-total // PER_PAGE))
    candidates = session.scalars(query.order_by(Product.position, Product.id)
                                 .offset((min(page, pages) - 1) * PER_PAGE).limit(PER_PAGE)).all()
    return render_template("curation/admin_catalog.html", catalog=cat, items=items, report=report, q=q,
                           candidates=candidates, page=min(page, pages), pages=pages, total=total,
                           owner_label=_owner_label(cat.owner_key),
                           max_featured=plugin_settings.load(session)["max_featured"])


def _act(key: str, action, success: str | None = None):
    """Run a catalog change; a refusal (cap reached, not listed...) is shown, never a 500."""
    try:
        action()
    except SiyuError as exc:
        flash(str(exc.message), "error")
        return redirect(url_for("curation_admin.catalog", key=key, q=request.form.get("q") or None), 303)
    invalidate_settings()  # this worker shows the new catalog revision at once
    if success:
        flash(success, "success")
    return _back(key)


@bp.post("/c/<key>/publish")
@staff_required("agent")
def publish(key: str):
    product_id = _int("product_id")
    return _act(key, lambda: service.publish(kernel(), db(), key, product_id, current_staff().id),
                _("Published."))


@bp.post("/c/<key>/unpublish")
@staff_required("agent")
def unpublish(key: str):
    product_id = _int("product_id")
    return _act(key, lambda: service.unpublish(kernel(), db(), key, product_id), _("Taken out."))


@bp.post("/c/<key>/move")
@staff_required("agent")
def move(key: str):
    product_id, offset = _int("product_id"), _int("offset")
    return _act(key, lambda: service.move(kernel(), db(), key, product_id, max(-50, min(50, offset))))


@bp.post("/c/<key>/feature")
@staff_required("agent")
def feature(key: str):
    product_id = _int("product_id")
    on = request.form.get("featured") == "1"
    return _act(key, lambda: service.set_featured(kernel(), db(), key, product_id, on))


@bp.post("/c/<key>/swap")
@staff_required("agent")
def swap(key: str):
    remove_id, add_id = _int("remove"), _int("add")
    outcome = _act(key, lambda: service.swap(kernel(), db(), key, remove_id, add_id, current_staff().id),
                   _("Swapped."))
    if request.form.get("next") == "dashboard":
        return redirect(url_for("admin.dashboard"), 303)
    return outcome


@bp.post("/c/<key>/fill")
@staff_required("agent")
def fill(key: str):
    def run():
        added = service.fill(kernel(), db(), key, current_staff().id)
        flash(_("%(n)d products added.", n=added), "success")
    return _act(key, run)


@bp.post("/c/<key>/cap")
@staff_required("owner")
def cap(key: str):
    value = _int("cap")

    return _act(key, lambda: _flash_report(service.set_cap(kernel(), db(), key, value)))


@bp.post("/catalogs")
@staff_required("owner")
def create_catalog():
    key = (request.form.get("key") or "").strip().lower()
    try:
        cat = service.ensure_catalog(kernel(), db(), key, (request.form.get("title") or "").strip(),
                                     cap=_int("cap"))
    except SiyuError as exc:
        flash(str(exc.message), "error")
        return redirect(url_for("curation_admin.index"), 303)
    return redirect(url_for("curation_admin.catalog", key=cat.key), 303)


@bp.post("/c/<key>/delete")
@staff_required("owner")
def delete_catalog(key: str):
    try:
        service.delete_catalog(kernel(), db(), key)
    except SiyuError as exc:
        flash(str(exc.message), "error")
        return _back(key)
    flash(_("Catalog deleted."), "success")
    return redirect(url_for("curation_admin.index"), 303)


@bp.route("/settings", methods=["GET", "POST"])
@staff_required("owner")
def settings():
    schema = plugin_settings.CurationSettings()
    values, errors, status = plugin_settings.load(db()), {}, 200
    if request.method == "POST":
        raw = {name: request.form.get(name, "") for name in schema.fields}
        try:
            loaded = schema.load(raw)
        except SchemaError as exc:
            values, errors, status = {**values, **raw}, {k: " ".join(v) for k, v in exc.messages.items()}, 422
        else:
            with write_transaction(db()):
                for name, value in loaded.items():
                    if name != "main_cap":
                        core_settings.put(db(), plugin_settings.NAME, name, value)
            return _save_main_cap(loaded["main_cap"])
    fields = [(name, field.metadata.get("label", name), field.metadata.get("help", ""))
              for name, field in schema.fields.items()]
    return render_template("curation/admin_settings.html", fields=fields, values=values, errors=errors), status


def _flash_report(report: service.CapReport) -> bool:
    """Tell the shop what a cap change means; True when items must be taken out."""
    if report.over:
        flash(_("The catalog now holds %(count)d items, %(over)d over its cap of %(cap)d. Nothing was "
                "taken out: remove %(over)d, starting with the weakest sellers marked below.",
                count=report.count, over=report.over, cap=report.cap), "warning")
        return True
    flash(_("Saved."), "success")
    return False


def _save_main_cap(value: int):
    if _flash_report(service.set_cap(kernel(), db(), MAIN, value)):
        return redirect(url_for("curation_admin.catalog", key=MAIN), 303)
    return redirect(url_for("curation_admin.settings"), 303)


def rotation_widget(session, staff) -> Markup:
    """Dashboard widget: listed items ranked, unlisted outsellers, one-click swaps."""
    cat = session.scalar(select(CurationCatalog).where(CurationCatalog.key == MAIN))
    if cat is None:
        return Markup("")
    return Markup(render_template("curation/_rotation.html", advice=advise(session, cat)))
