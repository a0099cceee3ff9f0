"""The member's chat: posting, polling across app instances, escaping, privacy, cards."""
import pytest
from chat_helpers import GiftCards, json_headers
from conftest import csrf, fresh, login
from sqlalchemy import func, select

from siyu.core.cards import send_card
from siyu.core.conversations import conversation_for, send_message
from siyu.core.db import write_transaction
from siyu.core.members import sign_up
from siyu.core.models import CardActionResult, Conversation, MemberInteraction, Message

XSS = '<script>alert(1)</script><img src=x onerror=alert(2)>'


@pytest.fixture
def gifts():
    return GiftCards()


@pytest.fixture
def siyu_plugins(gifts):
    return [gifts]


def web_conversation(db, member):
    with write_transaction(db):
        return conversation_for(db, member.id, "web")


def test_chat_requires_login_and_the_nav_links_to_it(client):
    assert 'href="/chat"' in client.get("/").get_data(as_text=True)
    response = client.get("/chat")
    assert response.status_code == 302 and "/account/login" in response.headers["Location"]
    assert client.get("/chat/messages.json").status_code in (302, 401)


def test_member_posts_and_polls(member_client, member, db):
    headers = json_headers(member_client)
    response = member_client.post("/chat/messages", json={"text": "Is the oolong in stock?"}, headers=headers)
    assert response.status_code == 201, response.get_data(as_text=True)
    first = response.get_json()["message"]
    assert first["direction"] == "in" and first["text"] == "Is the oolong in stock?"
    fresh(db)
    conversation = db.scalar(select(Conversation).where(Conversation.member_id == member.id))
    assert conversation.unread_by_staff == 1 and conversation.last_inbound_at is not None
    assert db.scalar(select(MemberInteraction.kind)) == "message"
    reply = send_message(member_client.application.extensions["siyu"], db, conversation, "Yes, 12 left.")
    polled = member_client.get(f"/chat/messages.json?since={first['id']}").get_json()["messages"]
    assert [m["text"] for m in polled] == ["Yes, 12 left."] and polled[0]["id"] == reply.id
    assert member_client.get(f"/chat/messages.json?since={reply.id}").get_json()["messages"] == []


def test_form_post_without_script_and_empty_text(member_client):
    token = csrf(member_client, "/chat")
    response = member_client.post("/chat/messages", data={"text": "plain form", "csrf_token": token})
    assert response.status_code == 302
    assert "plain form" in member_client.get("/chat").get_data(as_text=True)
    bad = member_client.post("/chat/messages", json={"text": "   "}, headers=json_headers(member_client))
    assert bad.status_code == 422 and bad.get_json()["errors"]["text"]


def test_posts_need_csrf(member_client):
    assert member_client.post("/chat/messages", json={"text": "hi"}).status_code == 400
    assert member_client.post("/chat/messages", json={"text": "hi"},
                              headers={"X-CSRFToken": "forged"}).status_code == 400


def test_message_text_is_escaped(member_client, kernel, db, member):
    member_client.post("/chat/messages", json={"text": XSS}, headers=json_headers(member_client))
    html = member_client.get("/chat").get_data(as_text=True)
    assert "<script>alert(1)" not in html and "<img src=x" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    polled = member_client.get("/chat/messages.json").get_json()["messages"]
    assert polled[-1]["text"] == XSS  # JSON carries text; the page inserts it with textContent


def test_two_app_instances_share_state(app, tmp_path, member):
    """Like two gunicorn workers: a message posted through one is seen through the other."""
    from siyu.storefront import create_app

    other = create_app({**app.config, "TESTING": True}, instance_path=app.instance_path)
    try:
        one, two = app.test_client(), other.test_client()
        login(one)
        login(two)
        posted = one.post("/chat/messages", json={"text": "from worker one"}, headers=json_headers(one))
        assert posted.status_code == 201
        seen = two.get("/chat/messages.json").get_json()["messages"]
        assert [m["text"] for m in seen] == ["from worker one"]
    finally:
        other.extensions["siyu"].db.dispose()


def test_member_sees_only_their_own_conversation(client, kernel, db, member):
    other = sign_up(kernel, db, email="other@example.com", password="correct-horse")
    send_message(kernel, db, web_conversation(db, other), "private note for other")
    login(client)
    assert "private note" not in client.get("/chat").get_data(as_text=True)
    assert client.get("/chat/messages.json").get_json()["messages"] == []


def test_card_claim_is_idempotent_and_stays_in_the_chat(member_client, kernel, db, member, gifts):
    message = send_card(kernel, db, web_conversation(db, member), "gift", {"title": "Tea <sample>"})
    html = member_client.get("/chat").get_data(as_text=True)
    assert "<strong>Tea &lt;sample&gt;</strong>" in html and f"/chat/cards/{message.id}/claim" in html
    headers = json_headers(member_client)
    first = member_client.post(f"/chat/cards/{message.id}/claim", headers=headers)
    again = member_client.post(f"/chat/cards/{message.id}/claim", headers=headers)
    assert first.status_code == again.status_code == 200
    assert first.get_json()["replayed"] is False and again.get_json()["replayed"] is True
    assert again.get_json()["result"] == {"message": "Claimed Tea <sample>", "code": "GIFT-1"}
    assert first.get_json()["message"]["card"]["actions"][0]["done"] is True
    assert gifts.claims == [(member.id, message.id)]
    fresh(db)
    assert db.scalar(select(func.count()).select_from(CardActionResult)) == 1
    assert "click" in db.scalars(select(MemberInteraction.kind)).all()
    assert member_client.post(f"/chat/cards/{message.id}/claim").status_code == 400  # no CSRF token


def test_card_actions_refused_for_other_members_and_unknown_actions(client, kernel, db, member, gifts):
    other = sign_up(kernel, db, email="other@example.com", password="correct-horse")
    theirs = send_card(kernel, db, web_conversation(db, other), "gift", {"title": "Tea"})
    login(client)
    headers = json_headers(client)
    assert client.post(f"/chat/cards/{theirs.id}/claim", headers=headers).status_code == 404
    mine = send_card(kernel, db, web_conversation(db, member), "gift", {"title": "Tea"})
    assert client.post(f"/chat/cards/{mine.id}/steal", headers=headers).status_code == 404
    text = send_message(kernel, db, web_conversation(db, member), "not a card")
    assert client.post(f"/chat/cards/{text.id}/claim", headers=headers).status_code == 404
    assert gifts.claims == []


def test_a_refusing_handler_writes_nothing_and_can_be_retried(member_client, kernel, db, member, gifts):
    message = send_card(kernel, db, web_conversation(db, member), "gift", {"title": "Tea"})
    gifts.stock = 0
    headers = json_headers(member_client)
    refused = member_client.post(f"/chat/cards/{message.id}/claim", headers=headers)
    assert refused.status_code == 422 and refused.get_json()["title"] == "All gifts have been claimed."
    fresh(db)
    assert db.scalar(select(func.count()).select_from(CardActionResult)) == 0
    gifts.stock = 1
    assert member_client.post(f"/chat/cards/{message.id}/claim", headers=headers).get_json()["replayed"] is False


def test_unread_badge_for_the_member(member_client, kernel, db, member):
    send_message(kernel, db, web_conversation(db, member), "New arrivals today")
    nav = member_client.get("/account/orders").get_data(as_text=True)
    assert 'class="chat-link">' in nav and '<span class="badge">1</span></a>' in nav
    chat = member_client.get("/chat").get_data(as_text=True)
    assert 'class="chat-link">' in chat and 'class="badge">1<' not in chat, "the page that read them shows none"
    fresh(db)
    assert db.scalar(select(Conversation.unread_by_member)) == 0
    assert db.scalar(select(func.count()).select_from(Message)) == 1
    nav = member_client.get("/account/orders").get_data(as_text=True)
    assert 'class="badge">1<' not in nav
    send_message(kernel, db, web_conversation(db, member), "And a second one")
    send_message(kernel, db, web_conversation(db, member), "And a third")
    assert '<span class="badge">2</span></a>' in member_client.get("/").get_data(as_text=True)
