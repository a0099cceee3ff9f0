"""First- and last-touch attribution on members and orders, exact at the window's edges."""
from datetime import datetime, timedelta, timezone

import pytest
from qr_helpers import PHONE, signup
from sqlalchemy import select

from siyu.plugin import (
    confirm_manual_payment, hookimpl, Member, place_order, refund_order, settings, sign_up, Touch,
    write_transaction,
)
from siyu.plugin.testing import checkout, fresh, make_product
from siyu_qr_channels.attribution import attribute
from siyu_qr_channels.channels import create_channel
from siyu_qr_channels.models import MemberAttribution, OrderAttribution

T = datetime(2026, 5, 20, 12, 0, 0, tzinfo=timezone.utc)
WINDOW = timedelta(days=30)


class Recorder:
    def __init__(self):
        self.calls = []

    @hookimpl
    def qr_channels_on_attributed(self, member, channel, touch, order, model):
        self.calls.append((member.email, channel.name, touch.value, order.number if order else None, model))


def touch(db, member_id, channel, at, visitor="visitor-000000000000"):
    with write_transaction(db):
        db.add(Touch(visitor_id=visitor, member_id=member_id, source="channel", value=str(channel.id),
                     created_at=at))


@pytest.fixture
def shopper(kernel, db):
    return sign_up(kernel, db, email="s@example.com", password="password-123")


def test_last_touch_window_is_exact_at_its_edges(db, shopper):
    a, b, c = (create_channel(db, {"name": n}) for n in "ABC")
    touch(db, shopper.id, a, T - WINDOW - timedelta(microseconds=1))   # just outside
    found = attribute(db, shopper.id, None, T, WINDOW)
    assert found.first_channel.id == a.id and found.last_channel is None
    touch(db, shopper.id, b, T - WINDOW)                                # exactly at the edge: in
    found = attribute(db, shopper.id, None, T, WINDOW)
    assert (found.first_channel.id, found.last_channel.id) == (a.id, b.id)
    touch(db, shopper.id, c, T + timedelta(microseconds=1))             # after the moment: ignored
    found = attribute(db, shopper.id, None, T, WINDOW)
    assert (found.first_channel.id, found.last_channel.id) == (a.id, b.id)
    assert attribute(db, shopper.id, None, T + timedelta(microseconds=1), WINDOW).last_channel.id == c.id


def test_window_comes_from_the_plugin_setting(db, shopper):
    a = create_channel(db, {"name": "A"})
    touch(db, shopper.id, a, T - timedelta(days=7, seconds=1))
    assert attribute(db, shopper.id, None, T).last_channel.id == a.id       # default 30 days
    with write_transaction(db):
        settings.put(db, "qr_channels", "last_touch_days", 7)
    assert attribute(db, shopper.id, None, T).last_channel is None


def test_unbound_touches_of_the_visitor_count_and_other_sources_do_not(db, shopper):
    a = create_channel(db, {"name": "A"})
    touch(db, None, a, T - timedelta(days=1), visitor="the-visitor-0000001")
    with write_transaction(db):
        db.add(Touch(visitor_id="the-visitor-0000001", source="ref", value=str(a.id), created_at=T))
    assert attribute(db, shopper.id, None, T).first is None
    assert attribute(db, shopper.id, "the-visitor-0000001", T).last_channel.id == a.id


def test_scan_sign_up_order_and_repeat_order_end_to_end(client, db, kernel, register_plugin):
    recorder = register_plugin(Recorder(), name="recorder")
    client.environ_base["HTTP_USER_AGENT"] = PHONE  # one phone: "strong" sessions pin the UA
    product = make_product(db, price=2500)
    fair = create_channel(db, {"name": "Tea fair", "kind": "event"})
    poster = create_channel(db, {"name": "Poster", "kind": "poster"})
    client.get(client.get(f"/q/{fair.scene}").headers["Location"])
    signup(client)
    member = fresh(db).scalar(select(Member))
    row = db.get(MemberAttribution, member.id)
    assert (row.first_channel_id, row.last_channel_id) == (fair.id, fair.id)
    assert recorder.calls == [("buyer@example.com", "Tea fair", str(fair.id), None, "first")]

    client.get(client.get(f"/q/{poster.scene}").headers["Location"])
    first = checkout(client, db, {product.id: 1})
    attr = db.get(OrderAttribution, first.id)
    assert (attr.first_channel_id, attr.last_channel_id, attr.paid_seq) == (fair.id, poster.id, None)
    assert recorder.calls[-1] == ("buyer@example.com", "Poster", str(poster.id), first.number, "last")
    confirm_manual_payment(kernel, db, first)
    attr = fresh(db).get(OrderAttribution, first.id)
    assert (attr.paid_seq, attr.revenue) == (1, 2500) and attr.paid_at is not None

    second = checkout(client, db, {product.id: 2})
    confirm_manual_payment(kernel, db, second)
    assert fresh(db).get(OrderAttribution, second.id).paid_seq == 2

    refund_order(kernel, db, second, 1000, idempotency_key="r-1")
    assert fresh(db).get(OrderAttribution, second.id).revenue == 4000


def test_member_without_channel_gets_an_empty_row_and_no_hook(client, db, register_plugin):
    recorder = register_plugin(Recorder(), name="recorder")
    signup(client, email="direct@example.com")
    member = fresh(db).scalar(select(Member))
    row = db.get(MemberAttribution, member.id)
    assert (row.first_channel_id, row.last_channel_id) == (None, None)
    assert recorder.calls == []


def test_a_failing_listener_aborts_the_sign_up(client, db, register_plugin):
    class Broken:
        @hookimpl
        def qr_channels_on_attributed(self):
            raise RuntimeError("crm down")

    register_plugin(Broken(), name="broken-crm")
    channel = create_channel(db, {"name": "A"})
    client.get(f"/?ch={channel.scene}")
    client.post("/account/signup", data={"email": "x@example.com", "password": "password-123",
                                         "csrf_token": "missing"})
    from siyu.plugin.testing import csrf_token as csrf
    token = csrf(client, "/account/signup")
    response = client.post("/account/signup", data={"email": "x@example.com", "password": "password-123",
                                                    "csrf_token": token})
    assert response.status_code == 409
    fresh(db)
    assert db.scalar(select(Member)) is None and db.scalar(select(MemberAttribution)) is None


def test_order_placed_before_the_plugin_is_attributed_when_paid(db, kernel, shopper):
    from siyu_qr_channels import attribution

    product = make_product(db)
    channel = create_channel(db, {"name": "A"})
    touch(db, shopper.id, channel, datetime.now(timezone.utc) - timedelta(days=1))
    order = place_order(kernel, db, member=shopper, items={product.id: 1}, payment_method="manual",
                        checkout_token="old-order")
    with write_transaction(db):  # as if the plugin had not been enabled at checkout
        db.delete(db.get(OrderAttribution, order.id))
    with write_transaction(db):
        order.status, order.paid_at = "paid", datetime.now(timezone.utc)
        db.flush()
        attribution.on_order_paid(db, order)
    row = fresh(db).get(OrderAttribution, order.id)
    assert (row.last_channel_id, row.paid_seq, row.revenue) == (channel.id, 1, 1000)
