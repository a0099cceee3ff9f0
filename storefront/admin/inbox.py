"""The agents' inbox: conversations with unread counts, assignment, quick replies, cards,
the member's recent orders beside the thread, and who is about to become unreachable.

Owners see every conversation; an agent those assigned to them or to nobody (others'
answer 404). Threads poll ``messages.json?since=<id>``: state lives in the database only.
"""
from __future__ import annotations

from datetime import datetime, timezone

from flask import Blueprint, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from siyu.core import cards, settings
from siyu.core.channels import can_send, channels, closing_soon
from siyu.core.conversations import (
    assign, conversation_for_staff, mark_read, messages_since, send_message, visible_filter,
)
from siyu.core.db import write_transaction
from siyu.core.errors import SiyuError, ValidationError
from siyu.core.models import Conversation, Member, Message, Order, StaffUser
from siyu.core.staff import may
from siyu.core.validation import to_int
from siyu.storefront.admin import current_staff, staff_required
from siyu.storefront.chat import message_views
from siyu.storefront.context import db, kernel

bp = Blueprint("inbox", __name__, url_prefix="/admin/inbox")
TITLE = _l("Inbox")
PAGE_SIZE = 30
HISTORY = 50
MAX_QUICK = 20


def _json() -> bool:
    return request.is_json or request.accept_mimetypes.best == "application/json"


def quick_replies() -> list[str]:
    return list(settings.get(db(), "conversations", "quick_replies", []) or [])


@bp.get("")
@staff_required("agent")
def index():
    staff = current_staff()
    show = request.args.get("show", "mine" if not may(staff, "owner") else "all")
    query = select(Conversation, Member).join(Member, Member.id == Conversation.member_id) \
        .where(visible_filter(staff), Conversation.last_message_at.is_not(None))
    if show == "mine":
        query = query.where(Conversation.assigned_staff_id == staff.id)
    elif show == "unassigned":
        query = query.where(Conversation.assigned_staff_id.is_(None))
    elif show == "unread":
        query = query.where(Conversation.unread_by_staff > 0)
    total = db().scalar(select(func.count()).select_from(query.subquery())) or 0
    pages = max((total + PAGE_SIZE - 1) // PAGE_SIZE, 1)
    page = min(max(request.args.get("page", 1, type=int) or 1, 1), pages)
    # Unread first, then the most recent.
    rows = db().execute(query.order_by((Conversation.unread_by_staff > 0).desc(),
                                       Conversation.last_message_at.desc(), Conversation.id.desc())
                        .limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE)).all()
    last = _last_messages([c.id for c, _m in rows])
    agents = {s.id: s for s in db().scalars(select(StaffUser))}
    unread = db().scalar(select(func.coalesce(func.sum(Conversation.unread_by_staff), 0))
                         .where(visible_filter(staff))) or 0
    return render_template("admin/inbox/index.html", rows=rows, last=last, agents=agents, show=show,
                           page=page, pages=pages, total=total, unread=unread,
                           channels=channels(kernel()))


def _last_messages(ids: list[int]) -> dict[int, Message]:
    if not ids:
        return {}
    latest = select(func.max(Message.id)).where(Message.conversation_id.in_(ids)) \
        .group_by(Message.conversation_id)
    return {m.conversation_id: m for m in db().scalars(select(Message).where(Message.id.in_(latest)))}


@bp.get("/<int:conversation_id>")
@staff_required("agent")
def thread(conversation_id: int):
    staff = current_staff()
    conversation = conversation_for_staff(db(), staff, conversation_id)
    member = db().get(Member, conversation.member_id)
    messages = messages_since(db(), conversation, 0, HISTORY)
    mark_read(db(), conversation, "staff")
    now = datetime.now(timezone.utc)
    reach = [(c, can_send(kernel(), db(), member, c.name, now)) for c in channels(kernel()).values()]
    orders = db().scalars(select(Order).where(Order.member_id == member.id)
                          .order_by(Order.placed_at.desc(), Order.id.desc()).limit(5)).all()
    card_choices = cards.card_choices(kernel(), db())  # a broken plugin's are left out, logged
    agents = db().scalars(select(StaffUser).where(StaffUser.active.is_(True)).order_by(StaffUser.name)).all() \
        if may(staff, "owner") else []
    return render_template("admin/inbox/thread.html", conversation=conversation, member=member,
                           messages=message_views(messages, "agent"),
                           last_id=messages[-1].id if messages else 0, reach=reach, orders=orders,
                           quick=quick_replies(), card_choices=card_choices, agents=agents,
                           assigned=db().get(StaffUser, conversation.assigned_staff_id)
                           if conversation.assigned_staff_id else None)


@bp.get("/<int:conversation_id>/messages.json")
@staff_required("agent")
def poll(conversation_id: int):
    conversation = conversation_for_staff(db(), current_staff(), conversation_id)
    since = max(request.args.get("since", 0, type=int) or 0, 0)
    messages = messages_since(db(), conversation, since, 100)
    if messages:
        mark_read(db(), conversation, "staff")
    return jsonify(messages=message_views(messages, "agent"))


@bp.post("/<int:conversation_id>/messages")
@staff_required("agent")
def reply(conversation_id: int):
    conversation = conversation_for_staff(db(), current_staff(), conversation_id)
    data = request.get_json(silent=True) if request.is_json else request.form
    text = (data or {}).get("text")
    try:
        message = send_message(kernel(), db(), conversation, text if isinstance(text, str) else "",
                               staff=current_staff())
    except SiyuError as exc:
        if _json():
            raise
        flash(str(exc.message), "error")
        return redirect(url_for("inbox.thread", conversation_id=conversation.id))
    if _json():
        return jsonify(message=message_views([message], "agent")[0]), 201
    if message.delivery == "undelivered":
        flash(_("Not delivered: %(reason)s", reason=message_views([message], "agent")[0]["reason"]), "warning")
    return redirect(url_for("inbox.thread", conversation_id=conversation.id, _anchor=f"m{message.id}"))


@bp.post("/<int:conversation_id>/cards")
@staff_required("agent")
def send_card(conversation_id: int):
    conversation = conversation_for_staff(db(), current_staff(), conversation_id)
    card_type, _sep, key = (request.form.get("card") or "").partition(":")
    try:
        message = cards.send_choice(kernel(), db(), conversation, card_type, key, staff=current_staff())
    except SiyuError as exc:
        flash(str(exc.message), "error")
    else:
        if message.delivery == "undelivered":
            flash(_("Not delivered: %(reason)s", reason=message_views([message], "agent")[0]["reason"]), "warning")
        else:
            flash(_("Card sent."), "success")
    return redirect(url_for("inbox.thread", conversation_id=conversation.id))


@bp.post("/<int:conversation_id>/assign")
@staff_required("agent")
def assign_view(conversation_id: int):
    staff = current_staff()
    conversation = conversation_for_staff(db(), staff, conversation_id)
    raw = request.form.get("staff_id", "").strip()
    try:
        to_staff_id = to_int(raw, 1) if raw else None
        if raw and to_staff_id is None:
            raise ValidationError(_("Choose an active staff member."), fields={"staff_id": _("Unknown.")})
        assign(db(), conversation, staff, to_staff_id)
    except SiyuError as exc:
        flash(str(exc.message), "error")
    else:
        flash(_("Assignment saved."), "success")
    if not may(staff, "owner") and conversation.assigned_staff_id not in (None, staff.id):
        return redirect(url_for("inbox.index"))
    return redirect(url_for("inbox.thread", conversation_id=conversation.id))


@bp.get("/closing")
@staff_required("agent")
def closing():
    """Members whose contact window closes within the next N hours (default 24)."""
    hours = min(max(request.args.get("hours", 24, type=int) or 24, 1), 168)
    page = max(request.args.get("page", 1, type=int) or 1, 1)
    rows = closing_soon(kernel(), db(), hours, limit=PAGE_SIZE + 1, offset=(page - 1) * PAGE_SIZE,
                        where=visible_filter(current_staff()))
    members = {m.id: m for m in db().scalars(select(Member).where(Member.id.in_([c.member_id for c, _u in rows])))}
    return render_template("admin/inbox/closing.html", rows=rows[:PAGE_SIZE], members=members, hours=hours,
                           page=page, more=len(rows) > PAGE_SIZE, channels=channels(kernel()))


@bp.route("/quick-replies", methods=["GET", "POST"])
@staff_required("owner")
def quick_replies_view():
    if request.method == "POST":
        lines = [line.strip() for line in (request.form.get("replies") or "").splitlines() if line.strip()]
        try:
            if len(lines) > MAX_QUICK or any(len(line) > 500 for line in lines):
                raise ValidationError(_("Keep at most %(n)d quick replies of up to 500 characters.", n=MAX_QUICK))
            with write_transaction(db()):
                settings.put(db(), "conversations", "quick_replies", lines)
        except SiyuError as exc:
            flash(str(exc.message), "error")
            return render_template("admin/inbox/quick_replies.html", replies="\n".join(lines)), 422
        flash(_("Quick replies saved."), "success")
        return redirect(url_for("inbox.quick_replies_view"))
    return render_template("admin/inbox/quick_replies.html", replies="\n".join(quick_replies()))
