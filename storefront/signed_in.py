"""The signed-in member, loaded once per request together with the chat badge's count.

Every page a signed-in shopper opens needs both: Flask-Login loads the member, and the nav
shows how many shop messages are unread. One statement reads them together; the statement
is built once per process (building a ``select()`` costs about as much as running it).
The same statement checks the member's session version (``Member.get_id``), so a session
or remember cookie from before a sign-out or a password change loads nobody.
"""
from __future__ import annotations

import re

from flask import g
from flask_login import current_user
from sqlalchemy import bindparam, select

from siyu.core.channels import WEB
from siyu.core.models import Conversation, Member
from siyu.storefront.context import db


def _unread(member_id):
    return select(Conversation.unread_by_member).where(
        Conversation.member_id == member_id, Conversation.channel == WEB)


# The session version is compared in the same statement: a session or remember cookie made
# before the member signed out (or changed the password) finds no row.
_MEMBER = select(Member, _unread(Member.id).scalar_subquery()).where(
    Member.id == bindparam("member_id"), Member.session_version == bindparam("version"))
_UNREAD_ONLY = _unread(bindparam("member_id"))
_USER_ID = re.compile(r"m:([0-9]{1,10}):([0-9]{1,10})", re.ASCII)
_MAX_INT = 2**31 - 1


def load_member(user_id: str) -> Member | None:
    """Flask-Login's user loader: ``m:<id>:<session version>`` of an active member whose
    session version is still that one, else nobody."""
    match = _USER_ID.fullmatch(user_id or "")
    if match is None:
        return None
    member_id, version = int(match.group(1)), int(match.group(2))
    if not 0 < member_id <= _MAX_INT or version > _MAX_INT:
        return None
    row = db().execute(_MEMBER, {"member_id": member_id, "version": version}).first()
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
