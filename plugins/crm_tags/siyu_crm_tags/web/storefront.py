"""The member card on the storefront: level, points, progress and the recent ledger."""
from __future__ import annotations

from flask import Blueprint, render_template
from flask_login import current_user, login_required
from sqlalchemy import select

from siyu.plugin.web import db

from siyu_crm_tags.models import PointEntry
from siyu_crm_tags.web.panels import card_figures

bp = Blueprint("crm_card", "siyu_crm_tags", template_folder="templates")
RECENT = 20


@bp.get("/account/member-card")
@login_required
def member_card():
    entries = list(db().scalars(select(PointEntry).where(PointEntry.member_id == current_user.id)
                                .order_by(PointEntry.id.desc()).limit(RECENT)))
    return render_template("crm_tags/member_card.html", entries=entries, **card_figures(db(), current_user.id))
