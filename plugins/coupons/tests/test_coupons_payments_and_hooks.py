"""Card payments through webhooks, issuing by other plugins, the welcome gift, data export."""
import pytest
from coupon_helpers import make_template
from sqlalchemy import func, select

from siyu.plugin import export_member, hookimpl, Order, Payment, place_order, settings, write_transaction
from siyu.plugin.testing import fresh, make_member, make_product, process_event
from siyu_coupons.claims import claim
from siyu_coupons.models import Coupon, Redemption


@pytest.fixture
def card_order(kernel, db, member):
    """A placed card order using a coupon, with its pending PaymentIntent."""
    def make(token="tok-1", intent="pi_1"):
        product = make_product(db, f"CARD-{token}", price=5000)
        template = make_template(db, name=f"c-{token}", amount=1000)
        with write_transaction(db):
            coupon = claim(db, template, member.id, source="page")
        kernel.payment_providers["stripe"].available = lambda config: True
        kernel.payment_providers["stripe"].cancel = lambda kernel, payment: None  # no Stripe here
        order = place_order(kernel, db, member=member, items={product.id: 1}, payment_method="stripe",
                            checkout_token=token, inputs={"coupon_id": str(coupon.id)})
        with write_transaction(db):
            db.add(Payment(order_id=order.id, provider="stripe", reference=intent, amount=order.total,
                           currency=order.currency))
        return order, coupon
    return make


def event(kind, intent, amount, event_id, **extra):
    return {"id": event_id, "type": kind, "data": {"object": {"id": intent, "amount": amount, **extra}}}


def test_failed_payment_releases_the_reservation(kernel, db, card_order):
    order, coupon = card_order()
    assert fresh(db).get(Coupon, coupon.id).status == "reserved"
    failed = event("payment_intent.payment_failed", "pi_1", 4000, "evt_f",
                   last_payment_error={"message": "Your card was declined."})
    assert process_event(kernel, db, failed) == "processed"
    fresh(db)
    assert db.get(Order, order.id).status == "cancelled"
    assert db.get(Coupon, coupon.id).status == "available" and db.get(Coupon, coupon.id).order_id is None
    assert db.scalar(select(Redemption.status)) == "released"


def test_a_replayed_webhook_redeems_once(kernel, db, card_order, register_plugin):
    order, coupon = card_order()
    paid = []

    class Listener:
        @hookimpl
        def on_order_paid(self, order):
            paid.append(order.id)

    register_plugin(Listener())
    success = event("payment_intent.succeeded", "pi_1", 4000, "evt_s")
    assert [process_event(kernel, db, success) for _ in range(3)] == ["processed", "duplicate", "duplicate"]
    other = event("payment_intent.succeeded", "pi_1", 4000, "evt_s2")  # a distinct event id, same intent
    assert process_event(kernel, db, other) == "processed"
    fresh(db)
    assert paid == [order.id]
    assert db.get(Coupon, coupon.id).status == "used"
    assert db.scalar(select(func.count(Redemption.id))) == 1 and db.scalar(select(Redemption.status)) == "used"


def test_other_plugins_issue_through_the_hook(kernel, db, member):
    template = make_template(db, code="STREAK7", per_member_limit=2, quantity=3)
    hook = kernel.pm.hook.coupons_issue
    with write_transaction(db):
        first = hook(session=db, member_id=member.id, template_code="STREAK7", reason="7-day streak",
                     ref="checkin:1")
        again = hook(session=db, member_id=member.id, template_code="STREAK7", reason="7-day streak",
                     ref="checkin:1")
        second = hook(session=db, member_id=member.id, template_code="STREAK7", reason="7-day streak",
                      ref="checkin:2")
        over = hook(session=db, member_id=member.id, template_code="STREAK7", reason="x", ref="checkin:3")
        unknown = hook(session=db, member_id=member.id, template_code="NOPE", reason="x", ref=None)
    assert len(first) == 1 and again == first and len(second) == 1 and over == [] and unknown == []
    fresh(db)
    rows = db.scalars(select(Coupon).order_by(Coupon.id)).all()
    assert [(c.source, c.reason, c.ref) for c in rows] == [("hook", "7-day streak", "checkin:1"),
                                                           ("hook", "7-day streak", "checkin:2")]
    assert db.get(type(template), template.id).issued == 2  # the refused issue gave its unit back


def test_a_sold_out_reward_never_aborts_the_callers_transaction(kernel, db, member):
    make_template(db, code="GONE1", quantity=1)
    other = make_member(kernel, db, "other@example.com")
    with write_transaction(db):
        kernel.pm.hook.coupons_issue(session=db, member_id=other.id, template_code="GONE1", reason="", ref=None)
    with write_transaction(db):
        assert kernel.pm.hook.coupons_issue(session=db, member_id=member.id, template_code="GONE1", reason="",
                                            ref=None) == []
        settings.put(db, "checkin", "written_after", True)  # the caller's own work goes on
    assert fresh(db).scalar(select(func.count(Coupon.id))) == 1
    assert settings.get(db, "checkin", "written_after") is True


def test_welcome_gift_on_sign_up(kernel, db):
    make_template(db, code="WELCOME", name="Welcome")
    with write_transaction(db):
        settings.put(db, "coupons", "welcome_template", "WELCOME")
    member = make_member(kernel, db, "new@example.com")
    coupon = fresh(db).scalar(select(Coupon).where(Coupon.member_id == member.id))
    assert coupon.source == "welcome" and coupon.ref == "welcome"


def test_data_export_lists_the_members_coupons(kernel, db, member):
    template = make_template(db, code="EXP1", name="Export me")
    with write_transaction(db):
        claim(db, template, member.id, source="chat")
    coupons = export_member(kernel, db, member.id)["coupons"]
    assert coupons[0]["code"] == "EXP1" and coupons[0]["state"] == "available"


def test_channel_codes_can_lead_to_a_claim_page():
    from siyu_coupons.plugin import qr_channels_target_url

    assert qr_channels_target_url("coupon", "POSTER1") == "/coupon/POSTER1"
    assert qr_channels_target_url("coupon", "../x") is None and qr_channels_target_url("home", "") is None
