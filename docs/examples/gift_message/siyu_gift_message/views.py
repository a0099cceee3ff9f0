"""The back-office page: every order with a gift message, newest first."""
from __future__ import annotations

from flask import Blueprint, render_template
from sqlalchemy import select

from siyu.plugin.web import paginate, staff_required
from siyu_gift_message.models import GiftMessage

# Templates live in templates/gift_message/..., so they never shadow another's.
admin_bp = Blueprint("gift_message_admin", __name__, url_prefix="/admin/gift-messages",
                     template_folder="templates")


@admin_bp.get("/")
@staff_required("agent")
def index():
    result = paginate(select(GiftMessage).order_by(GiftMessage.id.desc()))
    return render_template("gift_message/admin.html", result=result)
