"""Conversation races proven on PostgreSQL: quotas, card actions, first messages, broadcasts."""
from datetime import timedelta

import pytest
from chat_helpers import GiftCards
from sqlalchemy import func, insert, select

from siyu.core import hookimpl, jobs
from siyu.core.broadcasts import create_broadcast
from siyu.core.cards import perform_action, send_card
from siyu.core.channels import WECHAT_STYLE, Channel
from siyu.core.conversations import conversation_for, receive_message, send_message
from siyu.core.db import utcnow, write_transaction
from siyu.core.members import sign_up
from siyu.core.models import Broadcast, CardActionResult, Conversation, Member, Message
from siyu.storefront.testing_checks import run_together

pytestmark = pytest.mark.postgres


class Wx:
    @hookimpl
    def register_channels(self, register):
        register(Channel(name="wx", label="WeChat", policy=WECHAT_STYLE))


@pytest.fixture
def gifts():
    return GiftCards()


@pytest.fixture
def siyu_plugins(gifts):
    return [gifts, Wx()]


@pytest.fixture
def pg(pg_app):
    return pg_app.extensions["siyu"]


def in_session(pg, work):
    session = pg.db.Session()
    try:
        return work(session)
    finally:
        session.close()


def test_twenty_agents_racing_a_quota_of_five_send_exactly_five(pg):
    session = pg.db.Session()
    member = sign_up(pg, session, email="q@example.com", password="password-123")
    receive_message(pg, session, member, "hi", channel="wx")
    conversation = conversation_for(session, member.id, "wx")
    session.commit()

    def send(i):
        return in_session(pg, lambda s: send_message(pg, s, s.get(Conversation, conversation.id), f"reply {i}").delivery)

    results, errors = run_together(20, send)
    assert errors == []
    assert sorted(results) == ["delivered"] * 5 + ["undelivered"] * 15
    session.expire_all()
    assert session.get(Conversation, conversation.id).window_sends == 5
    reasons = session.scalars(select(Message.reason).where(Message.delivery == "undelivered")).all()
    assert set(reasons) == {"quota_exhausted"} and len(reasons) == 15
    session.close()


def test_concurrent_claims_run_the_handler_once(pg, gifts):
    session = pg.db.Session()
    member = sign_up(pg, session, email="c@example.com", password="password-123")
    with write_transaction(session):
        conversation = conversation_for(session, member.id, "web")
    card = send_card(pg, session, conversation, "gift", {"title": "Tea"})

    def claim(i):
        return in_session(pg, lambda s: perform_action(pg, s, s.get(Member, member.id), card.id, "claim"))

    results, errors = run_together(12, claim)
    assert errors == []
    assert sorted(r.replayed for r in results) == [False] + [True] * 11
    assert all(r.result["code"] == "GIFT-1" for r in results)
    assert len(gifts.claims) == 1
    assert session.scalar(select(func.count()).select_from(CardActionResult)) == 1
    session.close()


def test_first_messages_at_once_make_one_conversation(pg):
    session = pg.db.Session()
    member = sign_up(pg, session, email="f@example.com", password="password-123")

    def write(i):
        return in_session(pg, lambda s: receive_message(pg, s, s.get(Member, member.id), f"hello {i}").conversation_id)

    results, errors = run_together(10, write)
    assert errors == [] and len(set(results)) == 1
    session.expire_all()
    conversation = session.get(Conversation, results[0])
    assert conversation.unread_by_staff == 10
    assert session.scalar(select(func.count()).select_from(Conversation)) == 1
    session.close()


def test_broadcast_on_postgresql_with_replies_racing_the_quota(pg):
    session = pg.db.Session()
    now = utcnow()
    with write_transaction(session):
        session.execute(insert(Member), [{"email": f"b{i}@example.com", "name": "", "password_hash": "x",
                                          "active": True, "created_at": now} for i in range(2000)])
    ids = list(session.scalars(select(Member.id).order_by(Member.id)))
    with write_transaction(session):
        session.execute(insert(Conversation), [
            {"member_id": i, "channel": "wx", "created_at": now, "window_sends": 4, "unread_by_staff": 0,
             "unread_by_member": 0, "last_inbound_at": now - timedelta(hours=1)} for i in ids[:100]])
    broadcast = create_broadcast(pg, session, None, channel="wx", audience="all", text="news")
    racing = dict(session.execute(select(Conversation.member_id, Conversation.id)).all())

    def work(i):
        if i == 0:
            return jobs.run_pending(pg)
        # agents replying to the same members while the broadcast runs: each has 1 message left
        return in_session(pg, lambda s: send_message(pg, s, s.get(Conversation, racing[ids[i]]), "reply").delivery)

    results, errors = run_together(11, work)
    assert errors == []
    session.expire_all()
    b = session.get(Broadcast, broadcast.id)
    replies = results.count("delivered")
    assert (b.status, b.total, b.sent + b.skipped + b.failed) == ("done", 2000, 2000)
    assert b.sent + replies == 100  # each of the 100 had exactly one message left
    assert session.scalar(select(func.max(Conversation.window_sends))) == 5
    session.close()
