"""Order notices in the member's chat: shipped (carrier, tracking link), completed, each
after-sales decision, refund sent; service notices outside the marketing window, delivered to
external channels after the commit; a card that cannot be written never undoes the shipment and
is retried, in order (on SQLite and PostgreSQL)."""
from datetime import timedelta

import pytest
from conftest import fresh, login
from fulfilment_helpers import two_line_order
from sqlalchemy import func, select, text

from siyu.core import after_sales as svc
from siyu.core import hookimpl, notices, outbox_runner
from siyu.core.channels import WECHAT_STYLE, Channel, ProactivePolicy
from siyu.core.conversations import conversation_for
from siyu.core.db import utcnow, write_transaction
from siyu.core.fulfilment import confirm_receipt, ship_order
from siyu.core.models import Conversation, Message, Order, Shipment
from siyu.core.refunds import refund_order


def notices_of(db, member):
    fresh(db)
    return list(db.scalars(select(Message).join(Conversation, Conversation.id == Message.conversation_id)
                           .where(Conversation.member_id == member.id, Message.kind == "card")
                           .order_by(Message.id)))


def test_each_step_of_an_order_posts_its_card(kernel, db, member):
    order, *_ = two_line_order(kernel, db, member)
    line_a, line_b = order.lines
    ship_order(kernel, db, order, carrier_code="sf", tracking_number="SF1000001", lines={line_a.id: 2})
    ship_order(kernel, db, order, carrier_code="zto", tracking_number="ZT2000002")
    refused = svc.request_after_sale(kernel, db, order, member, line_id=line_b.id, kind="return_refund",
                                     reason="changed_mind")
    svc.reject(kernel, db, refused, "The seal is broken: opened tea cannot come back.")
    request = svc.request_after_sale(kernel, db, order, member, line_id=line_a.id, kind="return_refund",
                                     reason="damaged", quantity=1)
    svc.approve(kernel, db, request)
    svc.record_return_shipment(kernel, db, request, member, "sf", "SF9000001")
    svc.mark_received(kernel, db, request)
    svc.refund(kernel, db, request)
    svc.refund(kernel, db, request)  # a retry: one refund, one card
    confirm_receipt(kernel, db, fresh(db).get(Order, order.id), member)
    cards = notices_of(db, member)
    assert [m.card_type for m in cards] == ["order_shipped", "order_shipped", "after_sale_rejected",
                                            "after_sale_approved", "order_refunded", "order_completed"]
    assert all(m.delivery == "delivered" and m.author == "system" for m in cards)
    first, second = cards[0].payload, cards[1].payload
    assert (first["complete"], second["complete"]) == (False, True)
    assert first["tracking_url"].endswith("/SF1000001") and first["carrier_zh"] == "顺丰速运"
    assert first["items"] == [{"title_zh": "商品 A-two", "title_en": "Product A-two", "quantity": 2}]
    assert cards[2].payload["note"].startswith("The seal is broken")
    assert (cards[3].payload["kind"], cards[4].payload["amount"], cards[4].payload["item_en"]) == (
        "return_refund", 3000, "Product A-two")
    assert cards[5].payload["how"] == "member"
    conversation = db.get(Conversation, cards[0].conversation_id)
    assert conversation.channel == "web" and conversation.unread_by_member == 6


def test_a_back_office_refund_posts_a_refund_card_without_an_item(kernel, db, member):
    order, *_ = two_line_order(kernel, db, member)
    refund_order(kernel, db, order, 1000, "bo-refund-1")
    (card,) = notices_of(db, member)
    assert card.card_type == "order_refunded" and "item_en" not in card.payload
    assert (card.payload["amount"], card.payload["full"]) == (1000, False)


@pytest.mark.parametrize("locale, words", [
    ("zh_CN", ["订单已发货", "顺丰速运", "查询物流", "查看订单"]),
    ("en", ["Your order has shipped", "SF Express", "Track the parcel", "View the order"]),
])
def test_the_member_reads_the_card_in_their_language_with_a_tracking_link(kernel, db, client, member,
                                                                          locale, words):
    order, *_ = two_line_order(kernel, db, member)
    ship_order(kernel, db, order, carrier_code="sf", tracking_number="SF1000001")
    login(client)
    client.get(f"/locale/{locale}")
    html = client.get("/chat").get_data(as_text=True)
    for word in words:
        assert word in html, word
    assert 'href="https://www.sf-express.com/chn/sc/waybill/waybill-detail/SF1000001"' in html
    assert 'rel="noopener noreferrer"' in html and f'href="/orders/{order.number}"' in html
    polled = client.get("/chat/messages.json?since=0", headers={"Accept": "application/json"}).get_json()
    assert any(m.get("card") and words[2] in m["card"]["html"] for m in polled["messages"])


def test_the_agent_sees_the_notice_linked_to_the_back_office_order(kernel, db, client, member):
    from backoffice_helpers import make_staff, staff_login

    order, *_ = two_line_order(kernel, db, member)
    ship_order(kernel, db, order, carrier_code="sf", tracking_number="SF1000001")
    staff_login(client, make_staff(db, "owner"))
    conversation_id = notices_of(db, member)[0].conversation_id
    html = client.get(f"/admin/inbox/{conversation_id}").get_data(as_text=True)
    assert f'href="/admin/orders/{order.id}"' in html and "SF1000001" in html


def test_a_tracking_url_that_is_not_http_is_not_linked(kernel, db, member):
    from siyu.core.order_cards import render_shipped

    html = str(render_shipped({"order_number": "N1", "tracking_number": "X1234",
                               "tracking_url": "javascript:alert(1)"}, {}))
    assert "javascript" not in html and "<a" not in html
    html = str(render_shipped({"order_number": "<b>", "carrier_en": "<i>x</i>", "items": []}, {}))
    assert "<b>" not in html and "<i>" not in html


class BrokenChat:
    """A card writer that fails: in Python, or in the database (which on PostgreSQL
    aborts the whole transaction unless the failure is inside a savepoint)."""

    def __init__(self, how):
        self.how = how

    def __call__(self, *args, **kwargs):
        if self.how == "sql":
            session = args[1]
            session.execute(text("SELECT * FROM no_such_table"))
        raise RuntimeError("chat is down")


@pytest.mark.parametrize("how", ["python", "sql"])
def test_a_card_that_cannot_be_written_never_undoes_the_shipment(kernel, db, member, monkeypatch, how, caplog):
    order, *_ = two_line_order(kernel, db, member)
    monkeypatch.setattr("siyu.core.conversations.post_outbound", BrokenChat(how))
    shipment, created = ship_order(kernel, db, order, carrier_code="sf", tracking_number="SF1000001")
    assert created
    fresh(db)
    assert db.get(Order, order.id).status == "shipped"
    assert db.scalar(select(func.count(Shipment.id))) == 1
    assert notices_of(db, member) == []
    assert "service notice order_shipped" in caplog.text
    monkeypatch.undo()
    # Not lost: the notice is retried after a backoff, and the order's next one waits its turn.
    confirm_receipt(kernel, db, db.get(Order, order.id), member)
    assert notices_of(db, member) == []
    assert outbox_runner.drain(kernel, now=utcnow() + timedelta(minutes=1)) == {"done": 2}
    assert [m.card_type for m in notices_of(db, member)] == ["order_shipped", "order_completed"]


def test_a_shipment_that_rolls_back_leaves_no_card(kernel, db, member, register_plugin):
    class Refuses:
        @hookimpl(tryfirst=True)
        def on_order_shipped(self, order, shipment):
            raise RuntimeError("warehouse system offline")

    order, *_ = two_line_order(kernel, db, member)
    register_plugin(Refuses(), name="refuses")
    with pytest.raises(Exception):
        ship_order(kernel, db, order, carrier_code="sf", tracking_number="SF1000001")
    assert notices_of(db, member) == [] and fresh(db).get(Order, order.id).status == "paid"


class WeChatLike:
    """A messaging platform: 48 h window, 5 messages per interaction; notices as template
    messages, outside that window (``notice_policy`` None) or, for the second one, limited."""

    def __init__(self):
        self.delivered = []

    def deliver(self, kernel, conversation, message):
        self.delivered.append(message.id)

    @hookimpl
    def register_channels(self, register):
        register(Channel(name="wx", label="WeChat", policy=WECHAT_STYLE, external=True))
        register(Channel(name="strict", label="Strict", policy=WECHAT_STYLE, external=True,
                         notice_policy=ProactivePolicy(window=timedelta(hours=1), quota=1)))


def test_notices_follow_the_notice_policy_not_the_marketing_window(kernel, db, member, register_plugin):
    from siyu.core.cards import send_card

    register_plugin(WeChatLike(), name="wechatlike")  # the kernel's registries follow its plugins
    with write_transaction(db):
        wx = conversation_for(db, member.id, "wx")
        conversation_for(db, member.id, "strict")
    order, *_ = two_line_order(kernel, db, member)
    ship_order(kernel, db, order, carrier_code="sf", tracking_number="SF1000001")
    by_channel = {db.get(Conversation, m.conversation_id).channel: m for m in notices_of(db, member)}
    assert set(by_channel) == {"web", "wx", "strict"}
    # No interaction on wx at all: a coupon would be refused, the notice is sent (as a template),
    # handed to the channel's adapter after the notice committed.
    assert (by_channel["wx"].delivery, by_channel["wx"].reason) == ("delivered", None)
    assert (by_channel["strict"].delivery, by_channel["strict"].reason) == ("undelivered", "no_interaction")
    assert fresh(db).get(Conversation, wx.id).window_sends == 0  # the quota was not used
    marketing = send_card(kernel, db, db.get(Conversation, wx.id), "order_shipped", {"order_number": "x"})
    assert (marketing.delivery, marketing.reason) == ("undelivered", "no_interaction")


def test_notices_are_posted_once_per_shipment_even_when_imported_twice(kernel, db, member):
    order, *_ = two_line_order(kernel, db, member)
    for _ in range(2):
        ship_order(kernel, db, order, carrier_code="sf", tracking_number="SF1000001")
    assert len(notices_of(db, member)) == 1


def test_a_third_party_card_type_of_the_same_name_replaces_the_look(kernel, db, member, register_plugin):
    from markupsafe import Markup

    from siyu.core.cards import CardType, render

    class MyLook:
        @hookimpl
        def register_card_types(self, register):
            register(CardType(name="order_shipped", label="Shipped!", service_notice=True,
                              render_member=lambda payload, state: Markup("<p>On its way: {}</p>").format(
                                  payload["tracking_number"])))

    register_plugin(MyLook(), name="mylook")  # the kernel's registries follow its plugins
    order, *_ = two_line_order(kernel, db, member)
    ship_order(kernel, db, order, carrier_code="sf", tracking_number="SF1000001")
    (card,) = notices_of(db, member)
    assert str(render(kernel, card, "member", {})) == "<p>On its way: SF1000001</p>"


def test_post_notice_without_a_member_or_card_type_does_nothing(kernel, db, member):
    with write_transaction(db):
        assert notices.post_notice(kernel, db, None, "order_shipped", {}) == []
        assert notices.post_notice(kernel, db, member.id, "no_such_card", {}) == []
    assert notices_of(db, member) == []
