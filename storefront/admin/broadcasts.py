"""Broadcasts (owner): send a message or a card to an audience as a background job, then
follow its progress and report. The request only queues the job."""
from __future__ import annotations

from flask import Blueprint, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from siyu.core import cards
from siyu.core.broadcasts import audiences, create_broadcast
from siyu.core.channels import REASONS, channels
from siyu.core.errors import NotFound, SiyuError
from siyu.core.models import Broadcast
from siyu.storefront.admin import current_staff, staff_required
from siyu.storefront.context import db, kernel

bp = Blueprint("broadcasts", __name__, url_prefix="/admin/broadcasts")
TITLE = _l("Broadcasts")
PAGE_SIZE = 25


@bp.app_template_global()
def broadcast_status(status: str) -> str:
    return {"queued": _("Queued"), "running": _("Sending"), "done": _("Done"),
            "failed": _("Failed, will retry")}.get(status, status)


def _form_context() -> dict:
    return {"audiences": audiences(kernel(), db()), "channels": list(channels(kernel()).values()),
            "card_choices": cards.card_choices(kernel(), db())}


@bp.get("")
@staff_required("owner")
def index():
    total = db().scalar(select(func.count(Broadcast.id))) or 0
    pages = max((total + PAGE_SIZE - 1) // PAGE_SIZE, 1)
    page = min(max(request.args.get("page", 1, type=int) or 1, 1), pages)
    rows = db().scalars(select(Broadcast).order_by(Broadcast.id.desc())
                        .limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE)).all()
    return render_template("admin/broadcasts/index.html", rows=rows, page=page, pages=pages,
                           form=request.form, errors={}, **_form_context())


@bp.post("")
@staff_required("owner")
def create():
    card_type, _sep, key = (request.form.get("card") or "").partition(":")
    try:
        broadcast = create_broadcast(
            kernel(), db(), current_staff(), channel=request.form.get("channel") or "web",
            audience=request.form.get("audience"), text=request.form.get("text"),
            card_type=card_type or None, card_key=key or None)
    except SiyuError as exc:
        flash(str(exc.message), "error")
        rows = db().scalars(select(Broadcast).order_by(Broadcast.id.desc()).limit(PAGE_SIZE)).all()
        return render_template("admin/broadcasts/index.html", rows=rows, page=1, pages=1, form=request.form,
                               errors={k: str(v) for k, v in exc.fields.items()}, **_form_context()), exc.status
    flash(_("Broadcast queued: it is sent in the background."), "success")
    return redirect(url_for("broadcasts.detail", broadcast_id=broadcast.id))


def _get(broadcast_id: int) -> Broadcast:
    broadcast = db().get(Broadcast, broadcast_id)
    if broadcast is None:
        raise NotFound(_l("We could not find that broadcast."))
    return broadcast


def report(broadcast: Broadcast) -> dict:
    return {"id": broadcast.id, "status": broadcast.status, "progress": broadcast.progress,
            "total": broadcast.total, "processed": broadcast.processed, "sent": broadcast.sent,
            "skipped": broadcast.skipped, "failed": broadcast.failed, "error": broadcast.error,
            "reasons": {k: {"count": n, "text": str(REASONS.get(k, k))} for k, n in (broadcast.reasons or {}).items()}}


@bp.get("/<int:broadcast_id>")
@staff_required("owner")
def detail(broadcast_id: int):
    broadcast = _get(broadcast_id)
    return render_template("admin/broadcasts/detail.html", broadcast=broadcast, report=report(broadcast))


@bp.get("/<int:broadcast_id>.json")
@staff_required("owner")
def detail_json(broadcast_id: int):
    return jsonify(report(_get(broadcast_id)))
