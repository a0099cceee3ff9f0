"""Back office: channels, their codes and posters. Agents may print; owners create and edit."""
from __future__ import annotations

from datetime import timedelta

from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from sqlalchemy import func, select
from wtforms import BooleanField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Length

from siyu.plugin import may, utcnow, ValidationError
from siyu.plugin.web import current_staff, db, shop_settings, staff_required
from siyu_qr_channels import codes
from siyu_qr_channels.channels import create_channel, update_channel
from siyu_qr_channels.models import Channel, DailyStats
from siyu_qr_channels.scans import local_day, shop_zone
from siyu_qr_channels.views import bp, short_url

PAGE_SIZE = 30
KIND_LABELS = {"store": _l("Store counter"), "event": _l("Event"), "poster": _l("Poster"),
               "partner": _l("Partner shop"), "staff": _l("Staff card")}
TARGET_LABELS = {"home": _l("Home page"), "product": _l("A product"),
                 "coupon": _l("Coupon claim page"), "signup": _l("Sign-up page")}


class ChannelForm(FlaskForm):
    name = StringField(_l("Channel name"), validators=[Length(max=100)])
    kind = SelectField(_l("Kind"), choices=[SelectChoice(k, v) for k, v in KIND_LABELS.items()])
    target = SelectField(_l("Leads to"), choices=[SelectChoice(k, v) for k, v in TARGET_LABELS.items()])
    target_value = StringField(_l("Product number or coupon code"), validators=[Length(max=64)])
    scene = StringField(_l("Scene (blank: next permanent scene id)"), validators=[Length(max=64)])
    notes = TextAreaField(_l("Notes"), validators=[Length(max=1000)])
    active = BooleanField(_l("Active"), default=True)


def _channel(channel_id: int) -> Channel:
    channel = db().get(Channel, channel_id)
    if channel is None:
        abort(404)
    return channel


def _apply_errors(form: FlaskForm, exc: ValidationError) -> None:
    for field, message in exc.fields.items():
        if field in form:
            form[field].errors = [str(message)]
    flash(str(exc.message), "error")


@bp.get("/admin/channels")
@staff_required("agent")
def channels():
    page = max(request.args.get("page", 1, type=int) or 1, 1)
    total = db().scalar(select(func.count(Channel.id))) or 0
    rows = db().scalars(select(Channel).order_by(Channel.active.desc(), Channel.id.desc())
                        .limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE)).all()
    today = local_day(utcnow(), shop_zone(db()))
    scans = dict(db().execute(
        select(DailyStats.channel_id, func.sum(DailyStats.scans))
        .where(DailyStats.channel_id.in_([c.id for c in rows]), DailyStats.day > today - timedelta(days=30))
        .group_by(DailyStats.channel_id)).all()) if rows else {}
    return render_template("qr_channels/admin/list.html", channels=rows, scans=scans, page=page,
                           pages=max((total + PAGE_SIZE - 1) // PAGE_SIZE, 1), total=total,
                           kinds=KIND_LABELS, targets=TARGET_LABELS,
                           can_edit=may(current_staff(), "owner"))


@bp.route("/admin/channels/new", methods=["GET", "POST"])
@staff_required("owner")
def new_channel():
    form = ChannelForm()
    status = 200
    if request.method == "POST":
        if form.validate():
            try:
                channel = create_channel(db(), form.data)
            except ValidationError as exc:
                _apply_errors(form, exc)
                status = 422
            else:
                flash(_("Channel created. Print its code from this page."), "success")
                return redirect(url_for("qr_channels.channel", channel_id=channel.id))
        else:
            status = 422
    return render_template("qr_channels/admin/form.html", form=form, channel=None), status


@bp.route("/admin/channels/<int:channel_id>", methods=["GET", "POST"])
@staff_required("agent")
def channel(channel_id: int):
    item = _channel(channel_id)
    form = ChannelForm(obj=item)
    status = 200
    if request.method == "POST":
        if not may(current_staff(), "owner"):
            abort(403)
        if form.validate():
            try:
                update_channel(db(), item, form.data)
            except ValidationError as exc:
                _apply_errors(form, exc)
                status = 422
            else:
                flash(_("Channel saved."), "success")
                return redirect(url_for("qr_channels.channel", channel_id=item.id))
        else:
            status = 422
    url = short_url(item)
    return render_template("qr_channels/admin/form.html", form=form, channel=item, url=url,
                           qr=codes.qr_inline(url), kinds=KIND_LABELS,
                           can_edit=may(current_staff(), "owner")), status


def _download(body: bytes, mimetype: str, name: str) -> Response:
    response = Response(body, mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    response.headers["Cache-Control"] = "private, max-age=300"
    return response


@bp.get("/admin/channels/<int:channel_id>/qr.svg")
@staff_required("agent")
def qr_svg(channel_id: int):
    item = _channel(channel_id)
    return _download(codes.qr_svg(short_url(item)), "image/svg+xml", f"channel-{item.scene}.svg")


@bp.get("/admin/channels/<int:channel_id>/qr.png")
@staff_required("agent")
def qr_png(channel_id: int):
    item = _channel(channel_id)
    return _download(codes.qr_png(short_url(item)), "image/png", f"channel-{item.scene}.png")


@bp.get("/admin/channels/<int:channel_id>/poster.svg")
@staff_required("agent")
def poster(channel_id: int):
    item = _channel(channel_id)
    body = codes.poster_svg(str(shop_settings().get("shop_name") or ""), item.name, short_url(item),
                            _("Scan to visit the shop"))
    return _download(body, "image/svg+xml", f"poster-{item.scene}.svg")
