"""Channel policies: the proactive-message window is exact, timezone-aware and counted."""
from datetime import datetime, timedelta, timezone

import pytest
from conftest import fresh
from sqlalchemy import func, select

from siyu.core import hookimpl
from siyu.core.channels import WECHAT_STYLE, Channel, DeliveryError, ProactivePolicy, can_send, check_window
from siyu.core.conversations import conversation_for, receive_message, record_interaction, send_message
from siyu.core.db import write_transaction
from siyu.core.members import sign_up
from siyu.core.models import MemberInteraction, Message

T0 = datetime(2026, 3, 1, 12, 0, 0, tzinfo=timezone.utc)
H48 = timedelta(hours=48)


class WeChatStyle:
    """A messaging-platform adapter as a plugin would write it."""

    @hookimpl
    def register_channels(self, register):
        register(Channel(name="wx", label="WeChat", policy=WECHAT_STYLE, external=True))
        register(FlakyChannel(name="flaky", label="Flaky", external=True))


class FlakyChannel(Channel):
    def deliver(self, kernel, conversation, message):
        raise DeliveryError("upstream_503")


@pytest.fixture
def siyu_plugins():
    return [WeChatStyle()]


@pytest.fixture
def shopper(kernel, db):
    return sign_up(kernel, db, email="wx@example.com", password="correct-horse")


@pytest.mark.parametrize("elapsed, allowed, reason", [
    (timedelta(hours=47, minutes=59, seconds=59), True, None),
    (timedelta(hours=47, minutes=59, seconds=59, microseconds=999999), True, None),
    (H48, False, "window_closed"),
    (timedelta(hours=48, seconds=1), False, "window_closed"),
])
def test_window_is_exact_at_48_hours(elapsed, allowed, reason):
    check = check_window(WECHAT_STYLE, T0, 0, T0 + elapsed)
    assert (check.allowed, check.reason) == (allowed, reason)
    assert check.until == T0 + H48


def test_window_is_timezone_aware():
    shanghai = timezone(timedelta(hours=8))
    # 20:00 in Shanghai is 12:00 UTC: the same instant, the same answer.
    assert check_window(WECHAT_STYLE, T0, 0, datetime(2026, 3, 3, 19, 59, 59, tzinfo=shanghai)).allowed
    assert not check_window(WECHAT_STYLE, T0, 0, datetime(2026, 3, 3, 20, 0, 0, tzinfo=shanghai)).allowed
    with pytest.raises(ValueError):
        check_window(WECHAT_STYLE, T0, 0, datetime(2026, 3, 2))


def test_quota_and_no_limit_policies():
    assert check_window(WECHAT_STYLE, T0, 4, T0).remaining == 1
    assert check_window(WECHAT_STYLE, T0, 5, T0).reason == "quota_exhausted"
    assert check_window(None, None, 999, T0) == (True, None, None, None)
    assert check_window(WECHAT_STYLE, None, 0, T0).reason == "no_interaction"
    only_messages = ProactivePolicy(window=H48, kinds=frozenset({"message"}))
    assert only_messages.opened_by("message") and not only_messages.opened_by("checkin")


def test_can_send_follows_interactions_and_counts_quota(kernel, db, shopper):
    assert can_send(kernel, db, shopper, "web", T0).allowed
    assert can_send(kernel, db, shopper, "wx", T0).reason == "no_interaction"
    assert can_send(kernel, db, shopper, "nope", T0).reason == "unknown_channel"
    with write_transaction(db):
        record_interaction(kernel, db, shopper, "checkin", "wx", at=T0)
    check = can_send(kernel, db, shopper, "wx", T0 + timedelta(hours=1))
    assert check.allowed and check.until == T0 + H48 and check.remaining == 5
    conversation = conversation_for(db, shopper.id, "wx")
    sent = [send_message(kernel, db, conversation, f"hello {i}", now=T0 + timedelta(hours=1)) for i in range(6)]
    assert [m.delivery for m in sent] == ["delivered"] * 5 + ["undelivered"]
    assert sent[-1].reason == "quota_exhausted"
    # a new interaction resets the quota; an older one never moves the window back
    with write_transaction(db):
        record_interaction(kernel, db, shopper, "message", "wx", at=T0 + timedelta(hours=2))
        record_interaction(kernel, db, shopper, "click", "wx", at=T0)
    check = can_send(kernel, db, shopper, "wx", T0 + timedelta(hours=3))
    assert check.remaining == 5 and check.until == T0 + timedelta(hours=50)


def test_outside_the_window_is_kept_as_undelivered(kernel, db, shopper):
    with write_transaction(db):
        record_interaction(kernel, db, shopper, "message", "wx", at=T0)
    conversation = conversation_for(db, shopper.id, "wx")
    late = send_message(kernel, db, conversation, "are you there?", now=T0 + H48)
    assert late.delivery == "undelivered" and late.reason == "window_closed"
    fresh(db)
    stored = db.get(Message, late.id)
    assert stored.body == "are you there?" and stored.delivery == "undelivered"
    assert conversation_for(db, shopper.id, "wx").unread_by_member == 0
    on_time = send_message(kernel, db, conversation, "hi", now=T0 + H48 - timedelta(seconds=1))
    assert on_time.delivery == "delivered"  # the adapter delivered it after the commit


def test_adapter_failure_is_recorded_not_lost(kernel, db, shopper):
    conversation = conversation_for(db, shopper.id, "flaky")
    db.commit()
    message = send_message(kernel, db, conversation, "ping")
    fresh(db)
    assert db.get(Message, message.id).delivery == "failed"
    assert db.get(Message, message.id).reason == "upstream_503"


def test_inbound_message_records_an_interaction_and_calls_hooks(kernel, db, shopper, register_plugin):
    seen = []

    class Listener:
        @hookimpl
        def on_member_interaction(self, member, kind, channel, at):
            seen.append((member.id, kind, channel, at.tzinfo is not None))

        @hookimpl
        def on_message_received(self, message, member):
            seen.append(("msg", message.body))

    register_plugin(Listener())
    receive_message(kernel, db, shopper, "  <b>hi</b>  ", channel="wx", at=T0)
    assert seen == [(shopper.id, "message", "wx", True), ("msg", "<b>hi</b>")]
    fresh(db)
    conversation = conversation_for(db, shopper.id, "wx")
    assert conversation.last_inbound_at == T0 and conversation.unread_by_staff == 1
    assert db.scalar(select(func.count()).select_from(MemberInteraction)) == 1


def test_payment_is_recorded_as_an_interaction(kernel, db, shopper):
    from conftest import make_product

    from siyu.core.orders import confirm_manual_payment, place_order

    product = make_product(db)
    order = place_order(kernel, db, member=shopper, items={product.id: 1}, payment_method="manual",
                        checkout_token="pay-1")
    with write_transaction(db):
        kernel.provider("manual").start(kernel, db, order)
    confirm_manual_payment(kernel, db, order)
    fresh(db)
    kinds = db.scalars(select(MemberInteraction.kind).where(MemberInteraction.member_id == shopper.id)).all()
    assert kinds == ["payment"]
