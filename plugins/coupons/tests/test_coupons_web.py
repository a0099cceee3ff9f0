"""The coupon card in the chat, the claim page, the wallet and the coupon choice at checkout."""
import re

import pytest
from coupon_helpers import make_template
from sqlalchemy import func, select

from siyu.plugin import Conversation, Message, Order, receive_message, utcnow, write_transaction
from siyu.plugin.testing import (
    add_to_cart, checkout, CheckoutRefused, csrf_token, fresh, login, make_product, staff_login,
)
from siyu_coupons.claims import claim
from siyu_coupons.models import Coupon, CouponTemplate

CSRF_DATA = re.compile(r'data-csrf="([^"]+)"')
EN = {"Accept-Language": "en"}


def english(client):
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


def member_json(client):
    html = client.get("/chat").get_data(as_text=True)
    return {"X-CSRFToken": CSRF_DATA.search(html).group(1), "Accept": "application/json", **EN}


def send_coupon_card(app, kernel, db, member, template):
    """An agent opens the member's chat in the inbox and sends the coupon as a card."""
    message = receive_message(kernel, db, member, "Any offers?")
    staff = app.test_client()
    staff_login(staff)
    page = staff.get(f"/admin/inbox/{message.conversation_id}", headers=EN).get_data(as_text=True)
    assert f'value="coupon:{template.id}"' in page
    response = staff.post(f"/admin/inbox/{message.conversation_id}/cards",
                          data={"card": f"coupon:{template.id}",
                                "csrf_token": csrf_token(staff, f"/admin/inbox/{message.conversation_id}")})
    assert response.status_code == 302
    fresh(db)
    return db.scalar(select(Message).where(Message.card_type == "coupon").order_by(Message.id.desc()))


def test_agent_sends_a_coupon_card_and_the_member_claims_it_in_the_chat(app, kernel, client, db, member, owner):
    template = make_template(db, name="Tea lovers", amount=1500, min_spend=10000, quantity=10)
    card = send_coupon_card(app, kernel, db, member, template)
    assert card.delivery == "delivered" and card.payload["template_id"] == template.id
    login(client)
    chat = client.get("/chat", headers=EN).get_data(as_text=True)
    assert "Tea lovers" in chat and "CN¥15.00 off" in chat and "On CN¥100.00 or more" in chat and ">Claim<" in chat
    headers = member_json(client)
    first = client.post(f"/chat/cards/{card.id}/claim", headers=headers)
    assert first.status_code == 200, first.get_data(as_text=True)
    assert first.get_json()["replayed"] is False and "Tea lovers" in first.get_json()["result"]["message"]
    again = client.post(f"/chat/cards/{card.id}/claim", headers=headers)
    assert again.get_json()["replayed"] is True
    fresh(db)
    coupons = db.scalars(select(Coupon)).all()
    assert [(c.member_id, c.source, c.ref) for c in coupons] == [(member.id, "chat", f"chat:{card.id}")]
    assert "Claimed: Tea lovers" in client.get("/chat", headers=EN).get_data(as_text=True)
    assert db.get(CouponTemplate, template.id).issued == 1
    wallet = client.get("/account/coupons", headers=EN).get_data(as_text=True)
    assert "Tea lovers" in wallet and "Available (1)" in wallet


def test_a_sold_out_card_says_so_and_the_member_can_try_a_later_one(app, kernel, client, db, member, owner):
    template = make_template(db, quantity=1)
    card = send_coupon_card(app, kernel, db, member, template)
    with write_transaction(db):  # someone else took the last one
        db.get(CouponTemplate, template.id).issued = 1
    login(client)
    response = client.post(f"/chat/cards/{card.id}/claim", headers=member_json(client))
    assert response.status_code == 409 and "sold out" in response.get_json()["title"]
    fresh(db)
    assert db.scalar(select(func.count(Coupon.id))) == 0


def test_inbox_offers_only_claimable_coupons(app, kernel, db, member, owner):
    live = make_template(db, name="live")
    make_template(db, name="gone", quantity=1)
    with write_transaction(db):
        db.execute(CouponTemplate.__table__.update().where(CouponTemplate.name == "gone").values(issued=1))
        db.add(CouponTemplate(code="OFF1", name="off", active=False))
    message = receive_message(kernel, db, member, "hi")
    staff = app.test_client()
    staff_login(staff)
    page = staff.get(f"/admin/inbox/{message.conversation_id}").get_data(as_text=True)
    assert f"coupon:{live.id}" in page and page.count('value="coupon:') == 1


def test_claim_page_for_posters(client, db, member):
    template = make_template(db, name="Poster gift", code="POSTER1", kind="threshold", min_spend=20000, amount=3000)
    page = client.get("/coupon/POSTER1", headers=EN).get_data(as_text=True)
    assert "Spend CN¥200.00, save CN¥30.00" in page and "Log in to claim" in page
    assert client.get("/coupon/NOPE1", headers=EN).status_code == 404
    login(client)
    response = client.post("/coupon/POSTER1/claim", data={"csrf_token": csrf_token(client, "/coupon/POSTER1")})
    assert response.status_code == 302 and response.headers["Location"].endswith("/account/coupons")
    again = client.post("/coupon/POSTER1/claim", data={"csrf_token": csrf_token(client, "/coupon/POSTER1")},
                        headers=EN, follow_redirects=True).get_data(as_text=True)
    assert "You already have" in again
    assert client.post("/coupon/POSTER1/claim", data={}).status_code == 400  # no CSRF token
    fresh(db)
    assert db.scalar(select(func.count(Coupon.id))) == 1 and db.get(CouponTemplate, template.id).issued == 1


def test_claim_endpoint_answers_json(client, db, member):
    make_template(db, code="JSON1", quantity=1)
    login(english(client))
    headers = {"X-CSRFToken": csrf_token(client, "/coupon/JSON1"), "Accept": "application/json"}
    assert client.post("/coupon/JSON1/claim", headers=headers).status_code == 201
    refused = client.post("/coupon/JSON1/claim", headers=headers)
    assert refused.status_code == 409 and "sold out" in refused.get_json()["title"]


def test_checkout_suggests_the_best_coupon_and_explains_the_others(client, kernel, db, member):
    product = make_product(db, price=6000)
    best = make_template(db, name="Best ten", amount=1000)
    small = make_template(db, name="Small five", amount=500)
    far = make_template(db, name="Big spender", amount=5000, min_spend=50000)
    with write_transaction(db):
        ids = {t.name: claim(db, t, member.id, source="page").id for t in (best, small, far)}
    login(english(client))
    add_to_cart(client, product.id)
    html = client.get("/checkout").get_data(as_text=True)
    assert f'<option value="{ids["Best ten"]}" selected>' in html
    assert "Small five" in html and "Big spender" in html and "Spend CN¥440.00 more" in html
    assert "¥50.00" in html  # the total shown already uses the best coupon
    order = checkout(client, db, coupon_id=str(ids["Small five"]))
    assert order.total == 5500 and db.get(Coupon, ids["Small five"]).status == "reserved"
    wallet = client.get("/account/coupons?tab=reserved", headers=EN).get_data(as_text=True)
    assert order.number in wallet and "Small five" in wallet


def test_checkout_refuses_a_coupon_that_does_not_apply(client, db, member):
    product = make_product(db, price=3000)
    template = make_template(db, name="Big", amount=1000, min_spend=9000)
    with write_transaction(db):
        coupon = claim(db, template, member.id, source="page")
    login(english(client))
    add_to_cart(client, product.id)
    with pytest.raises(CheckoutRefused) as refused:
        checkout(client, db, coupon_id=str(coupon.id))
    response = refused.value.response
    assert response.status_code == 422
    assert "Spend ¥60.00 more" in response.get_data(as_text=True)
    fresh(db)
    assert db.scalar(select(func.count(Order.id))) == 0


def test_wallet_tabs_and_account_link(client, db, member):
    expired = make_template(db, name="Old one")
    fresh_one = make_template(db, name="New one")
    with write_transaction(db):
        claim(db, expired, member.id, source="page").valid_until = utcnow()
        claim(db, fresh_one, member.id, source="page")
    login(client)
    assert "My coupons (1 available)" in client.get("/account/orders", headers=EN).get_data(as_text=True)
    available = client.get("/account/coupons", headers=EN).get_data(as_text=True)
    assert "New one" in available and "Old one" not in available and "Expired (1)" in available
    assert "Old one" in client.get("/account/coupons?tab=expired", headers=EN).get_data(as_text=True)
    empty = client.get("/account/coupons?tab=used", headers=EN).get_data(as_text=True)
    assert "Nothing here." in empty
    client.post("/account/logout", data={"csrf_token": csrf_token(client, "/")})
    assert client.get("/account/coupons").status_code == 302


def test_chinese_pages(client, db, member):
    make_template(db, name="新客礼", code="NEW1", kind="percent", amount=0, percent_bp=1250, max_discount=3000)
    zh = {"Accept-Language": "zh-CN"}
    page = client.get("/coupon/NEW1", headers=zh).get_data(as_text=True)
    assert "12.5%" in page and "最多减" in page and "登录后领取" in page
    login(client)
    assert "我的优惠券" in client.get("/account/coupons", headers=zh).get_data(as_text=True)


def test_conversation_is_the_members_own(kernel, db, member):
    # a card sent to one member cannot be claimed by another: the core answers 404
    from siyu.plugin import perform_action, send_card
    from siyu.plugin import NotFound
    from siyu.plugin import sign_up

    template = make_template(db)
    message = receive_message(kernel, db, member, "hi")
    conversation = db.get(Conversation, message.conversation_id)
    from siyu_coupons.offers import card_payload

    card = send_card(kernel, db, conversation, "coupon", card_payload(template))
    stranger = sign_up(kernel, db, email="s@example.com", password="correct-horse")
    try:
        perform_action(kernel, db, stranger, card.id, "claim")
    except NotFound:
        pass
    else:  # pragma: no cover
        raise AssertionError("a stranger claimed another member's card")
    assert fresh(db).scalar(select(func.count(Coupon.id))) == 0
