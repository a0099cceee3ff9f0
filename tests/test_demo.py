"""The demo shop opens with history: addresses, orders in every state (to ship, partly
shipped, shipped with tracking, completed, an after-sales request open, one refunded,
cancelled, awaiting payment), back-dated, with the order notices in the members' chats."""
from conftest import fresh, login
from sqlalchemy import func, select

from siyu.core.models import AfterSale, Member, MemberAddress, Message, Order, Refund, Shipment
from siyu.core.db import utcnow
from siyu.storefront.demo import DEMO_PASSWORD


def seed(runner):
    result = runner.invoke(args=["siyu", "seed", "--demo"])
    assert result.exit_code == 0, result.output
    return result


def counts(db):
    fresh(db)
    return {model.__name__: db.scalar(select(func.count(model.id)))
            for model in (Order, Shipment, AfterSale, Refund, Message, MemberAddress)}


def test_the_demo_has_orders_in_every_state_once(runner, db):
    seed(runner)
    first = counts(db)
    seed(runner)
    assert counts(db) == first  # idempotent
    orders = {o.checkout_token.removeprefix("demo-"): o for o in db.scalars(select(Order))}
    assert {k: o.status for k, o in orders.items()} == {
        "completed-auto": "completed", "completed": "completed", "returned-refunded": "completed",
        "return-requested": "shipped", "shipped": "shipped", "cancelled": "cancelled",
        "partly-shipped": "paid", "to-ship": "paid", "to-ship-today": "paid", "awaiting-payment": "placed"}
    assert all(o.delivery is not None and o.delivery.phone for o in orders.values())
    assert db.scalar(select(func.count(MemberAddress.id)).where(MemberAddress.is_default.is_(True))) == 3
    states = {(a.kind, a.state) for a in db.scalars(select(AfterSale))}
    assert states == {("return_refund", "refunded"), ("return_refund", "requested")}
    assert orders["returned-refunded"].refunded_amount == 5800
    assert db.scalar(select(Shipment.tracking_number).where(Shipment.order_id == orders["shipped"].id)) == \
        "JD0098765432"
    # history: back-dated, in order, and the shipped ones are not yet due for completion
    now = utcnow()
    assert (now - orders["completed-auto"].placed_at).days == 40
    assert orders["completed-auto"].placed_at < orders["completed-auto"].paid_at < \
        orders["completed-auto"].shipped_at < orders["completed-auto"].completed_at < now
    assert (now - orders["return-requested"].shipped_at).days < 10 and (now - orders["shipped"].shipped_at).days < 10
    cards = [m.card_type for m in db.scalars(select(Message).order_by(Message.created_at))]
    assert cards.count("order_shipped") == 6 and "after_sale_approved" in cards and "order_refunded" in cards
    assert db.scalar(select(func.max(Message.created_at))) < now


def test_a_demo_member_sees_their_orders_and_notices(runner, client, db):
    seed(runner)
    login(client, "li.hua@example.com", DEMO_PASSWORD)
    page = client.get("/account/orders", headers={"Accept-Language": "en"})
    assert page.status_code == 200
    li = db.scalar(select(Member).where(Member.email == "li.hua@example.com"))
    assert {o.status for o in fresh(db).scalars(select(Order).where(Order.member_id == li.id))} == {
        "shipped", "paid"}  # reading the orders completed nothing early
    chat = client.get("/chat", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "Your order has shipped" in chat and "JD0098765432" in chat
