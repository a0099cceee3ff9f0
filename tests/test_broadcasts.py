"""Broadcasts run as queued jobs (never in the request) with progress and a correct report."""
import time
from datetime import timedelta

import pytest
from chat_helpers import GiftCards, staff_login
from conftest import csrf, fresh
from sqlalchemy import func, insert, select

from siyu.core import hookimpl, jobs
from siyu.core.broadcasts import Audience, create_broadcast, run_broadcast
from siyu.core.channels import WECHAT_STYLE, Channel
from siyu.core.conversations import receive_message
from siyu.core.db import utcnow, write_transaction
from siyu.core.models import Broadcast, Conversation, Member, Message
from siyu.core.staff import create_staff

OWNER_PW = "green-tea-garden-2026"


class Audiences:
    """A plugin offering its own lists (as a segments plugin would)."""

    @hookimpl
    def register_channels(self, register):
        register(Channel(name="wx", label="WeChat", policy=WECHAT_STYLE))

    @hookimpl
    def broadcast_audiences(self, session):
        return [Audience("test:even", "Even ids", lambda s: s.scalars(select(Member.id).where(Member.id % 2 == 0)))]


@pytest.fixture
def siyu_plugins():
    return [GiftCards(), Audiences()]


def bulk_members(db, n, start=0):
    with write_transaction(db):
        db.execute(insert(Member), [{"email": f"m{start + i}@example.com", "name": f"M{start + i}",
                                     "password_hash": "x", "active": True, "created_at": utcnow()}
                                    for i in range(n)])
    return list(db.scalars(select(Member.id).order_by(Member.id)))


def test_owner_queues_a_broadcast_and_the_worker_sends_it(client, kernel, db):
    create_staff(db, email="owner@shop.cn", password=OWNER_PW, role="owner")
    bulk_members(db, 5)
    staff_login(client, "owner@shop.cn", OWNER_PW)
    response = client.post("/admin/broadcasts", data={
        "audience": "all", "channel": "web", "text": "Spring tea is here <b>!</b>",
        "csrf_token": csrf(client, "/admin/broadcasts")})
    assert response.status_code == 302
    broadcast = fresh(db).scalars(select(Broadcast)).one()
    # the request only queued it: nothing was sent yet
    assert broadcast.status == "queued" and broadcast.sent == 0
    assert db.scalar(select(func.count()).select_from(Message)) == 0
    detail = client.get(response.headers["Location"], headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "Queued" in detail and 'http-equiv="refresh"' in detail and "&lt;b&gt;!" in detail
    assert jobs.run_pending(kernel) == 1  # what `flask siyu worker` does
    report = client.get(f"/admin/broadcasts/{broadcast.id}.json").get_json()
    assert report["status"] == "done" and report["progress"] == 100
    assert (report["total"], report["sent"], report["skipped"], report["failed"]) == (5, 5, 0, 0)
    assert fresh(db).scalar(select(func.sum(Conversation.unread_by_member))) == 5


def test_broadcast_form_errors_are_shown(client, db):
    create_staff(db, email="owner@shop.cn", password=OWNER_PW, role="owner")
    staff_login(client, "owner@shop.cn", OWNER_PW)
    response = client.post("/admin/broadcasts", data={"audience": "nobody", "channel": "web", "text": "",
                                                      "csrf_token": csrf(client, "/admin/broadcasts")})
    assert response.status_code == 422
    assert fresh(db).scalar(select(func.count()).select_from(Broadcast)) == 0


def test_agents_cannot_broadcast(client, db):
    create_staff(db, email="agent@shop.cn", password="oolong-hills-2026", role="agent")
    staff_login(client, "agent@shop.cn", "oolong-hills-2026")
    assert client.get("/admin/broadcasts").status_code == 403


def test_window_skips_failures_and_plugin_audiences(kernel, db):
    ids = bulk_members(db, 6)
    now = utcnow()
    members = {m.id: m for m in db.scalars(select(Member))}
    receive_message(kernel, db, members[ids[0]], "recent", channel="wx", at=now - timedelta(hours=1))
    receive_message(kernel, db, members[ids[1]], "too old", channel="wx", at=now - timedelta(hours=48))
    with write_transaction(db):
        db.get(Member, ids[2]).active = False
    broadcast = create_broadcast(kernel, db, None, channel="wx", member_ids=ids + [999999],
                                 card_type="gift", card_key="tea")
    jobs.run_pending(kernel)
    b = fresh(db).get(Broadcast, broadcast.id)
    assert (b.status, b.total, b.sent, b.skipped, b.failed) == ("done", 7, 1, 4, 2)
    assert b.reasons == {"window_closed": 1, "no_interaction": 3, "member_inactive": 1, "member_missing": 1}
    kept = db.scalars(select(Message).where(Message.broadcast_id == b.id, Message.delivery == "undelivered")).all()
    assert len(kept) == 5 and all(m.kind == "card" and m.reason for m in kept)
    even = create_broadcast(kernel, db, None, audience="test:even", text="evens")
    jobs.run_pending(kernel)
    assert fresh(db).get(Broadcast, even.id).sent == len([i for i in ids if i % 2 == 0 and i != ids[2]])


def test_a_retried_job_sends_nobody_twice(kernel, db):
    ids = bulk_members(db, 1200)
    broadcast = create_broadcast(kernel, db, None, member_ids=ids, text="once")
    jobs.queue(kernel).flush()  # run it by hand instead
    calls = {"n": 0}
    from siyu.core import broadcasts

    original = broadcasts._send_batch

    def crash_on_second_batch(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 2:
            raise RuntimeError("worker killed")
        return original(*args, **kwargs)

    broadcasts._send_batch = crash_on_second_batch
    try:
        with pytest.raises(RuntimeError):
            run_broadcast(kernel, broadcast.id)
    finally:
        broadcasts._send_batch = original
    b = fresh(db).get(Broadcast, broadcast.id)
    assert (b.status, b.processed, b.sent) == ("failed", 500, 500) and "worker killed" in b.error
    run_broadcast(kernel, broadcast.id)
    b = fresh(db).get(Broadcast, broadcast.id)
    assert (b.status, b.processed, b.sent, b.skipped, b.failed) == ("done", 1200, 1200, 0, 0)
    per_conversation = db.execute(select(Message.conversation_id, func.count()).where(
        Message.broadcast_id == b.id).group_by(Message.conversation_id).having(func.count() > 1)).all()
    assert per_conversation == [] and db.scalar(select(func.count()).select_from(Message)) == 1200
    run_broadcast(kernel, broadcast.id)  # a late duplicate of the task does nothing
    assert fresh(db).scalar(select(func.count()).select_from(Message)) == 1200


def test_ten_thousand_members(kernel, db):
    bulk_members(db, 10_000)
    now = utcnow()
    # 300 members wrote on wx recently, 200 too long ago: the rest never did.
    with write_transaction(db):
        db.execute(insert(Conversation), [
            {"member_id": i, "channel": "wx", "created_at": now, "window_sends": 0, "unread_by_staff": 0,
             "unread_by_member": 0,
             "last_inbound_at": now - (timedelta(hours=1) if i <= 300 else timedelta(hours=50))}
            for i in range(1, 501)])
    broadcast = create_broadcast(kernel, db, None, channel="wx", audience="all", text="Daily check-in reminder")
    started = time.perf_counter()
    assert jobs.run_pending(kernel) == 1
    elapsed = time.perf_counter() - started
    b = fresh(db).get(Broadcast, broadcast.id)
    assert (b.status, b.total, b.processed, b.progress) == ("done", 10_000, 10_000, 100)
    assert (b.sent, b.skipped, b.failed) == (300, 9_700, 0)
    assert b.reasons == {"window_closed": 200, "no_interaction": 9_500}
    assert db.scalar(select(func.count()).select_from(Message).where(Message.broadcast_id == b.id)) == 10_000
    assert db.scalar(select(func.sum(Conversation.window_sends))) == 300
    assert elapsed < 60, elapsed
