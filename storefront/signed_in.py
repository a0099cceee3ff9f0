"""The signed-in member, loaded once per request together with the chat badge's count.

Every page a signed-in shopper opens needs both: Flask-Login loads the member, and the nav
shows how many shop messages are unread. One statement reads them together; the statement
is built once per process (building a ``select()`` costs about as much as running it).
"""
from __future__ import annotations

from flask import g
from flask_login import current_user
from sqlalchemy import bindparam, select

from siyu.core.channels import WEB
from siyu.core.models import Conversation, Member
from siyu.storefront.context import db


def _unread(member_id):
    return select(Conversation.unread_by_member).where(
        Conversation.member_id == member_id, Conversation.channel == WEB)


_MEMBER = select(Member, _unread(Member.id).scalar_subquery()).where(Member.id == bindparam("member_id"))
_UNREAD_ONLY = _unread(bindparam("member_id"))


def load_member(user_id: str) -> Member | None:
    """Flask-Login's user loader: ``m:<id>`` of an active member, else nobody."""
    if not user_id.startswith("m:") or not user_id[2:].isdigit():
        return None
    row = db().execute(_MEMBER, {"member_id": int(user_id[2:])}).first()
    if row is None or not row[0].active:
        return None
    g.siyu_chat_unread = row[1] or 0
    return row[0]


def chat_unread() -> int:
    """Unread shop messages for the signed-in member (the nav badge)."""
    if not current_user.is_authenticated:
        return 0
    count = g.get("siyu_chat_unread")
    if count is None:  # signed in during this request, or read since the member was loaded
        count = db().scalar(_UNREAD_ONLY, {"member_id": current_user.id}) or 0
        g.siyu_chat_unread = count
    return count


def forget_chat_unread() -> None:
    """Call after marking the member's messages read, so the page shows the new count."""
    g.pop("siyu_chat_unread", None)
