"""The agents' inbox: access by role, unread counts, assignment, replies, cards, windows."""
from datetime import timedelta

import pytest
from chat_helpers import GiftCards, staff_login
from conftest import csrf, fresh
from sqlalchemy import select

from siyu.core import hookimpl
from siyu.core.channels import WECHAT_STYLE, Channel
from siyu.core.conversations import conversation_for, receive_message
from siyu.core.db import utcnow, write_transaction
from siyu.core.members import sign_up
from siyu.core.models import Conversation, Message
from siyu.core.staff import create_staff

OWNER_PW, AGENT_PW = "green-tea-garden-2026", "oolong-hills-2026"


class WxChannel:
    @hookimpl
    def register_channels(self, register):
        register(Channel(name="wx", label="WeChat", policy=WECHAT_STYLE))


@pytest.fixture
def siyu_plugins():
    return [GiftCards(), WxChannel()]


@pytest.fixture
def team(db):
    owner = create_staff(db, email="owner@shop.cn", password=OWNER_PW, role="owner", name="Owner")
    a = create_staff(db, email="a@shop.cn", password=AGENT_PW, role="agent", name="Agent A")
    b = create_staff(db, email="b@shop.cn", password=AGENT_PW, role="agent", name="Agent B")
    return owner, a, b


@pytest.fixture
def chat(kernel, db, member):
    message = receive_message(kernel, db, member, "<b>Hello</b> shop")
    return db.get(Conversation, message.conversation_id)


def post(client, path, data, page):
    return client.post(path, data={**data, "csrf_token": csrf(client, page)})


def test_inbox_lists_unread_and_escapes(client, team, chat):
    staff_login(client, "a@shop.cn", AGENT_PW)
    html = client.get("/admin/inbox?show=all", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "Buyer" in html and "&lt;b&gt;Hello&lt;/b&gt; shop" in html and '<span class="badge"' in html
    page = client.get(f"/admin/inbox/{chat.id}").get_data(as_text=True)
    assert "&lt;b&gt;Hello&lt;/b&gt; shop" in page and "<b>Hello" not in page
    assert client.application.extensions["siyu"].db.Session().get(Conversation, chat.id).unread_by_staff == 0


def test_members_and_logged_out_visitors_cannot_open_the_inbox(client, chat, member):
    assert client.get("/admin/inbox").status_code == 302
    from conftest import login

    login(client)
    assert client.get(f"/admin/inbox/{chat.id}/messages.json").status_code == 302


def test_agents_see_only_their_own_or_unassigned(client, db, team, chat):
    owner, a, b = team
    with write_transaction(db):
        db.get(Conversation, chat.id).assigned_staff_id = a.id
    staff_login(client, "b@shop.cn", AGENT_PW)
    assert client.get(f"/admin/inbox/{chat.id}").status_code == 404
    assert client.get(f"/admin/inbox/{chat.id}/messages.json").status_code == 404
    assert post(client, f"/admin/inbox/{chat.id}/messages", {"text": "hijack"}, "/admin/inbox").status_code == 404
    assert "Buyer" not in client.get("/admin/inbox?show=all").get_data(as_text=True)
    client.post("/admin/logout", data={"csrf_token": csrf(client, "/admin/")})
    staff_login(client, "a@shop.cn", AGENT_PW)
    assert client.get(f"/admin/inbox/{chat.id}").status_code == 200


def test_agent_takes_a_conversation_and_cannot_give_it_away(client, db, team, chat):
    owner, a, b = team
    staff_login(client, "a@shop.cn", AGENT_PW)
    page = f"/admin/inbox/{chat.id}"
    assert post(client, f"{page}/assign", {"staff_id": str(a.id)}, page).status_code == 302
    assert fresh(db).get(Conversation, chat.id).assigned_staff_id == a.id
    post(client, f"{page}/assign", {"staff_id": str(b.id)}, page)
    assert fresh(db).get(Conversation, chat.id).assigned_staff_id == a.id


def test_owner_assigns_and_replies(client, kernel, db, team, chat, member):
    owner, a, b = team
    staff_login(client, "owner@shop.cn", OWNER_PW)
    page = f"/admin/inbox/{chat.id}"
    post(client, f"{page}/assign", {"staff_id": str(b.id)}, page)
    assert fresh(db).get(Conversation, chat.id).assigned_staff_id == b.id
    response = post(client, f"{page}/messages", {"text": "Hi! <i>welcome</i>"}, page)
    assert response.status_code == 302
    reply = fresh(db).scalars(select(Message).where(Message.direction == "out")).one()
    assert reply.staff_id == owner.id and reply.delivery == "delivered"
    assert "&lt;i&gt;welcome&lt;/i&gt;" in client.get(page).get_data(as_text=True)
    polled = client.get(f"{page}/messages.json?since={reply.id - 1}").get_json()["messages"]
    assert polled[0]["text"] == "Hi! <i>welcome</i>" and polled[0]["delivery"] == "delivered"


def test_quick_replies_and_cards_from_the_thread(client, db, team, chat):
    staff_login(client, "owner@shop.cn", OWNER_PW)
    post(client, "/admin/inbox/quick-replies", {"replies": "Thanks for your order!\n\nShips tomorrow"},
         "/admin/inbox/quick-replies")
    page = f"/admin/inbox/{chat.id}"
    html = client.get(page).get_data(as_text=True)
    assert 'value="Thanks for your order!"' in html and 'value="Ships tomorrow"' in html
    assert 'value="gift:tea"' in html
    post(client, f"{page}/cards", {"card": "gift:tea"}, page)
    card = fresh(db).scalars(select(Message).where(Message.kind == "card")).one()
    assert card.payload == {"title": "Tea <sample>"} and card.body == "Gift: Tea <sample>"
    assert "<em>Tea &lt;sample&gt;</em> (open)" in client.get(page).get_data(as_text=True)
    assert post(client, f"{page}/cards", {"card": "gift:forged"}, page).status_code == 302
    assert fresh(db).scalars(select(Message).where(Message.kind == "card")).all() == [card]


def test_agents_cannot_edit_quick_replies(client, team):
    staff_login(client, "a@shop.cn", AGENT_PW)
    assert client.get("/admin/inbox/quick-replies").status_code == 403


def test_reachable_until_and_closing_soon(client, kernel, db, team, member):
    other = sign_up(kernel, db, email="later@example.com", password="correct-horse", name="Later")
    now = utcnow()
    receive_message(kernel, db, member, "hi on wx", channel="wx", at=now - timedelta(hours=40))
    receive_message(kernel, db, other, "hi on wx", channel="wx", at=now - timedelta(hours=10))
    staff_login(client, "owner@shop.cn", OWNER_PW)
    conversation = conversation_for(db, member.id, "wx")
    html = client.get(f"/admin/inbox/{conversation.id}", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "reachable until" in html and "5 messages left" in html and "always reachable" in html
    soon = client.get("/admin/inbox/closing?hours=12", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "Buyer" in soon and "Later" not in soon
    wide = client.get("/admin/inbox/closing?hours=48").get_data(as_text=True)
    assert "Buyer" in wide and "Later" in wide and wide.index("Buyer") < wide.index("Later")


def test_reply_outside_the_window_is_kept_and_explained(client, kernel, db, team, member):
    receive_message(kernel, db, member, "old", channel="wx", at=utcnow() - timedelta(hours=49))
    conversation = conversation_for(db, member.id, "wx")
    staff_login(client, "owner@shop.cn", OWNER_PW)
    page = f"/admin/inbox/{conversation.id}"
    response = client.post(f"{page}/messages", json={"text": "still there?"},
                           headers={"X-CSRFToken": csrf(client, page), "Accept": "application/json",
                                    "Accept-Language": "en"})
    body = response.get_json()["message"]
    assert response.status_code == 201 and body["delivery"] == "undelivered" and "window" in body["reason"]
    assert fresh(db).get(Message, body["id"]).reason == "window_closed"
