"""The CRM on the core's task queue: a broadcast to a segment, the recompute as a job."""
from sqlalchemy import delete, select

from siyu.plugin import Broadcast, Conversation, jobs, Message, write_transaction
from siyu.plugin.testing import csrf_token, fresh, make_member

from siyu_crm_tags import segments
from siyu_crm_tags import tags as tags_mod
from siyu_crm_tags.models import MemberStats, RecomputeJob


def test_segment_broadcast_reaches_only_its_members(kernel, db, owner_client):
    mum = make_member(kernel, db, "mum@example.com")
    make_member(kernel, db, "other@example.com")
    tag = tags_mod.create_tag(db, "宝妈")
    tags_mod.tag_member(db, mum.id, tag.id, None)
    segment = segments.save(db, "宝妈", {"tags_any": [tag.id]})
    keys = [a.key for a in kernel.pm.hook.broadcast_audiences(session=db) for a in a]
    assert f"crm_tags:segment:{segment.id}" in keys
    token = csrf_token(owner_client, f"/admin/crm/segments/{segment.id}")
    response = owner_client.post(f"/admin/crm/segments/{segment.id}/broadcast",
                                 data={"text": "新品到了", "csrf_token": token})
    assert response.status_code == 302
    assert fresh(db).scalar(select(Broadcast.status)) == "queued"  # the request only queued it
    assert jobs.run_pending(kernel) >= 1
    broadcast = fresh(db).scalar(select(Broadcast))
    assert (broadcast.status, broadcast.total, broadcast.sent) == ("done", 1, 1)
    receivers = db.scalars(select(Conversation.member_id).join(Message, Message.conversation_id == Conversation.id)
                           .where(Message.broadcast_id == broadcast.id)).all()
    assert receivers == [mum.id]


def test_recompute_runs_on_the_queue(kernel, db, owner_client):
    member = make_member(kernel, db, "late@example.com")
    with write_transaction(db):
        db.execute(delete(MemberStats))
    token = csrf_token(owner_client, "/admin/crm/recompute")
    owner_client.post("/admin/crm/recompute", data={"csrf_token": token})
    assert fresh(db).scalar(select(RecomputeJob.status)) == "queued"
    jobs.run_pending(kernel)
    assert fresh(db).scalar(select(RecomputeJob.status)) == "done"
    assert db.get(MemberStats, member.id) is not None
