"""The member's chat with the shop (web channel): a page, polling JSON, card actions.

Delivery is polling ``messages.json?since=<last id>``: everything is in the database, so
any worker answers any poll. Posts are CSRF-protected (the form token, or the
``X-CSRFToken`` header from the script).
"""
from __future__ import annotations

from flask import Blueprint, flash, jsonify, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy import select

from siyu.core import cards
from siyu.core.channels import WEB
from siyu.core.conversations import conversation_for, mark_read, messages_since, receive_message
from siyu.core.db import write_transaction
from siyu.core.errors import SiyuError
from siyu.core.models import Conversation, Message
from siyu.storefront.chat import card_markup, delivery_label, message_views
from siyu.storefront.context import db, kernel
from siyu.storefront.extensions import limiter
from siyu.storefront.signed_in import chat_unread, forget_chat_unread

bp = Blueprint("chat", __name__)
bp.add_app_template_global(card_markup)
bp.add_app_template_global(delivery_label)
HISTORY = 50


def _wants_json() -> bool:
    return request.is_json or request.accept_mimetypes.best == "application/json"


def _conversation() -> Conversation:
    session = db()
    found = session.scalar(select(Conversation).where(
        Conversation.member_id == current_user.id, Conversation.channel == WEB))
    if found is None:
        with write_transaction(session):
            found = conversation_for(session, current_user.id, WEB)
    return found


def _visible(messages: list[Message]) -> list[Message]:
    # The member sees what reached them; refused messages stay in the agents' view.
    return [m for m in messages if m.direction == "in" or m.delivery in ("delivered", "pending")]


bp.add_app_template_global(chat_unread)


@bp.get("/chat")
@login_required
def page():
    conversation = _conversation()
    messages = _visible(messages_since(db(), conversation, 0, HISTORY))
    mark_read(db(), conversation, "member")
    forget_chat_unread()
    return render_template("chat/chat.html", messages=message_views(messages, "member"),
                           last_id=messages[-1].id if messages else 0)


@bp.get("/chat/messages.json")
@login_required
def poll():
    since = request.args.get("since", 0, type=int) or 0
    conversation = _conversation()
    messages = _visible(messages_since(db(), conversation, max(since, 0), 100))
    if messages:
        mark_read(db(), conversation, "member")
    forget_chat_unread()
    return jsonify(messages=message_views(messages, "member"))


@bp.post("/chat/messages")
@login_required
@limiter.limit("30/minute")
def post():
    data = request.get_json(silent=True) if request.is_json else request.form
    text = (data or {}).get("text")
    try:
        message = receive_message(kernel(), db(), current_user, text if isinstance(text, str) else "", WEB)
    except SiyuError as exc:
        if _wants_json():
            raise
        flash(str(exc.message), "error")
        return redirect(url_for("chat.page"))
    if _wants_json():
        return jsonify(message=message_views([message], "member")[0]), 201
    return redirect(url_for("chat.page", _anchor=f"m{message.id}"))


@bp.post("/chat/cards/<int:message_id>/<action>")
@login_required
@limiter.limit("30/minute")
def card_action(message_id: int, action: str):
    try:
        outcome = cards.perform_action(kernel(), db(), current_user, message_id, action[:32])
    except SiyuError as exc:
        if _wants_json():
            raise
        flash(str(exc.message), "error")
        return redirect(url_for("chat.page"))
    if _wants_json():
        message = db().get(Message, message_id)
        return jsonify(result=outcome.result, replayed=outcome.replayed,
                       message=message_views([message], "member")[0])
    if outcome.result.get("message"):
        flash(str(outcome.result["message"]), "success")
    return redirect(url_for("chat.page", _anchor=f"m{message_id}"))
