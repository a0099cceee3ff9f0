"""Back office: products — list (agents), create, edit, deactivate and images (owners)."""
from __future__ import annotations

from decimal import InvalidOperation

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from sqlalchemy import or_, select
from wtforms import BooleanField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, NumberRange, Optional

from siyu.core.errors import SiyuError, ValidationError
from siyu.core.media import add_product_image, remove_product_image
from siyu.core.models import Product
from siyu.core.money import SUPPORTED_CURRENCIES, parse_major, to_decimal
from siyu.core.products import save_product, set_active
from siyu.storefront.admin import staff_required
from siyu.storefront.admin.common import get_or_404, paginate, require_csrf, show_error
from siyu.storefront.context import db, shop_settings
from siyu.storefront.media import media_root

bp = Blueprint("admin_products", __name__, url_prefix="/admin/products")
TITLE = _l("Products")


class ProductForm(FlaskForm):
    sku = StringField(_l("SKU"), validators=[InputRequired(), Length(max=64)])
    title_zh = StringField(_l("Title (Chinese)"), validators=[InputRequired(), Length(max=200)])
    title_en = StringField(_l("Title (English)"), validators=[InputRequired(), Length(max=200)])
    description_zh = TextAreaField(_l("Description (Chinese)"), validators=[Length(max=20000)])
    description_en = TextAreaField(_l("Description (English)"), validators=[Length(max=20000)])
    price = StringField(_l("Price"), validators=[InputRequired(), Length(max=20)])
    currency = SelectField(_l("Currency"), choices=[SelectChoice(c, c) for c in SUPPORTED_CURRENCIES])
    stock = IntegerField(_l("Stock"), default=0, validators=[Optional(), NumberRange(min=0)])
    position = IntegerField(_l("Position"), default=0, validators=[Optional()])
    active = BooleanField(_l("On sale"), default=True)
    requires_shipping = BooleanField(_l("Ships to the shopper (untick for virtual products: cards, courses)"),
                                     default=True)


class ImageForm(FlaskForm):
    image = FileField(_l("Image (PNG, JPEG, WebP or GIF, at most 5 MB)"))
    alt = StringField(_l("Description for screen readers"), validators=[Length(max=200)])


def _data(form: ProductForm) -> dict:
    try:
        price = parse_major(form.price.data, form.currency.data)
    except (InvalidOperation, ValueError):
        raise ValidationError(_("Please correct the highlighted fields."),
                              fields={"price": _("Enter an amount such as 12.50.")}) from None
    return {"sku": form.sku.data, "title_zh": form.title_zh.data, "title_en": form.title_en.data,
            "description_zh": form.description_zh.data or "", "description_en": form.description_en.data or "",
            "price": price, "currency": form.currency.data, "stock": form.stock.data or 0,
            "position": form.position.data or 0, "active": bool(form.active.data),
            "requires_shipping": bool(form.requires_shipping.data)}


@bp.get("")
@staff_required("agent")
def index():
    query = select(Product)
    q = (request.args.get("q") or "").strip()[:100]
    if q:
        like = f"%{q}%"
        query = query.where(or_(Product.sku.ilike(like), Product.title_zh.ilike(like), Product.title_en.ilike(like)))
    state = request.args.get("state")
    if state in ("active", "inactive"):
        query = query.where(Product.active.is_(state == "active"))
    result = paginate(query.order_by(Product.position, Product.id))
    return render_template("admin/products/index.html", result=result, q=q, state=state)


@bp.route("/new", methods=["GET", "POST"])
@staff_required("owner")
def new():
    form = ProductForm(currency=shop_settings().get("currency"))
    status = 200
    if request.method == "POST":
        if form.validate():
            try:
                product = save_product(db(), _data(form))
            except SiyuError as exc:
                show_error(exc, form)
            else:
                flash(_("Product saved."), "success")
                return redirect(url_for("admin_products.edit", product_id=product.id))
        status = 422
    return render_template("admin/products/form.html", form=form, product=None), status


@bp.route("/<int:product_id>", methods=["GET", "POST"])
@staff_required("owner")
def edit(product_id: int):
    product = get_or_404(Product, product_id)
    form = ProductForm(obj=product)
    status = 200
    if request.method == "GET":
        form.price.data = str(to_decimal(product.price, product.currency))
    elif form.validate():
        try:
            save_product(db(), _data(form), product)
        except SiyuError as exc:
            show_error(exc, form)
            status = 422
        else:
            flash(_("Product saved."), "success")
            return redirect(url_for("admin_products.edit", product_id=product.id))
    else:
        status = 422
    return render_template("admin/products/form.html", form=form, product=product,
                           image_form=ImageForm()), status


@bp.post("/<int:product_id>/active")
@staff_required("owner")
def toggle_active(product_id: int):
    require_csrf()
    product = get_or_404(Product, product_id)
    product = set_active(db(), product, request.form.get("active") == "1")
    flash(_("Product is on sale.") if product.active else _("Product is no longer on sale."), "success")
    if request.form.get("back") == "list":
        return redirect(url_for("admin_products.index"))
    return redirect(url_for("admin_products.edit", product_id=product.id))


@bp.post("/<int:product_id>/images")
@staff_required("owner")
def upload_image(product_id: int):
    product = get_or_404(Product, product_id)
    form = ImageForm()
    if not form.validate():
        flash(_("This form has expired. Please try again."), "error")
    else:
        upload = form.image.data
        data = upload.read(5 * 1024 * 1024 + 1) if upload else b""
        try:
            add_product_image(db(), media_root(), product, data, form.alt.data or "")
        except SiyuError as exc:
            show_error(exc)
        else:
            flash(_("Image added."), "success")
    return redirect(url_for("admin_products.edit", product_id=product.id))


@bp.post("/<int:product_id>/images/<int:image_id>/delete")
@staff_required("owner")
def delete_image(product_id: int, image_id: int):
    require_csrf()
    product = get_or_404(Product, product_id)
    try:
        remove_product_image(db(), media_root(), product, image_id)
    except SiyuError as exc:
        show_error(exc)
    else:
        flash(_("Image removed."), "success")
    return redirect(url_for("admin_products.edit", product_id=product.id))
