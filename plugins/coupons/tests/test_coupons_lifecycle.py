"""Claiming, pricing and a coupon's life with an order: reserved, used, released, restored."""
from datetime import timedelta

import pytest
from coupon_helpers import make_template
from sqlalchemy import func, select, update

from siyu.plugin import (
    cancel_order, confirm_manual_payment, expire_unpaid, Order, Payment, place_order, quote, refund_order,
    SiyuError, utcnow, ValidationError, write_transaction,
)
from siyu.plugin.testing import fresh, make_member, make_product
from siyu_coupons.claims import LimitReached, NotClaimable, SoldOut, claim
from siyu_coupons.models import Coupon, CouponTemplate, Redemption


def give(db, template, member, **kw):
    with write_transaction(db):
        coupon = claim(db, template, member.id, source=kw.pop("source", "page"), **kw)
    return coupon


def buy(kernel, db, member, items, coupon=None, token="t-1", method="manual"):
    inputs = {} if coupon is None else {"coupon_id": "" if coupon == "none" else str(coupon.id)}
    return place_order(kernel, db, member=member, items=items, payment_method=method, checkout_token=token,
                       inputs=inputs)


def pay(kernel, db, order):
    """Staff confirm a manual payment (the checkout view starts the provider's payment first)."""
    order = fresh(db).get(Order, order.id)
    with write_transaction(db):
        kernel.provider("manual").start(kernel, db, order)
    return confirm_manual_payment(kernel, db, order)


def status(db, coupon):
    fresh(db)
    return db.get(Coupon, coupon.id).status


def test_claim_respects_quantity_limit_and_activity(kernel, db, member):
    other = make_member(kernel, db, "other@example.com")
    template = make_template(db, quantity=1, per_member_limit=1)
    coupon = give(db, template, member)
    assert coupon.seq == 1 and coupon.source == "page"
    with pytest.raises(LimitReached):
        give(db, template, member)
    with pytest.raises(SoldOut) as info:
        give(db, template, other)
    assert "sold out" in str(info.value.message)
    fresh(db)
    assert db.get(CouponTemplate, template.id).issued == 1
    two = make_template(db, name="two", per_member_limit=2)
    assert [give(db, two, member).seq, give(db, two, member).seq] == [1, 2]
    with write_transaction(db):
        db.get(CouponTemplate, two.id).active = False
    with pytest.raises(NotClaimable):
        give(db, fresh(db).get(CouponTemplate, two.id), other)


def test_validity_n_days_after_claim_never_past_the_end(db, member):
    end = utcnow() + timedelta(days=3)
    template = make_template(db, valid_days=7, valid_until=end)
    coupon = give(db, template, member)
    assert coupon.valid_until == end
    later = make_template(db, name="7 days", valid_days=7)
    coupon = give(db, later, member)
    assert timedelta(days=6, hours=23) < coupon.valid_until - utcnow() <= timedelta(days=7)


def test_checkout_reserves_payment_redeems_once(kernel, db, member):
    product = make_product(db, price=5000)
    coupon = give(db, make_template(db, amount=1200), member)
    order = buy(kernel, db, member, {product.id: 2}, coupon)
    assert order.total == 10000 - 1200
    assert [(a.source, a.code, a.amount) for a in order.adjustments] == [("coupons", "coupon", -1200)]
    assert status(db, coupon) == "reserved"
    pay(kernel, db, order)
    assert status(db, coupon) == "used"
    assert db.scalar(select(Redemption.status).where(Redemption.order_id == order.id)) == "used"
    with pytest.raises(SiyuError):  # paying again changes nothing
        confirm_manual_payment(kernel, db, fresh(db).get(Order, order.id))
    assert status(db, coupon) == "used"


def test_cancel_and_expiry_release_the_reservation(kernel, db, member):
    product = make_product(db)
    coupon = give(db, make_template(db, amount=100), member)
    order = buy(kernel, db, member, {product.id: 1}, coupon)
    cancel_order(kernel, db, order, "customer")
    assert status(db, coupon) == "available"
    order = buy(kernel, db, member, {product.id: 1}, fresh(db).get(Coupon, coupon.id), token="t-2")
    assert status(db, coupon) == "reserved"
    with write_transaction(db):
        db.execute(update(Order).where(Order.id == order.id).values(expires_at=utcnow() - timedelta(seconds=1)))
    assert expire_unpaid(kernel, db) == 1
    assert status(db, coupon) == "available"
    assert sorted(db.scalars(select(Redemption.status))) == ["released", "released"]


def test_one_coupon_per_order_and_a_reserved_coupon_cannot_be_used_twice(kernel, db, member):
    product = make_product(db)
    coupon = give(db, make_template(db, amount=100), member)
    buy(kernel, db, member, {product.id: 1}, coupon)
    with pytest.raises(ValidationError) as info:
        buy(kernel, db, member, {product.id: 1}, coupon, token="t-2")
    assert "awaiting payment" in str(info.value.message)
    fresh(db)
    assert db.scalar(select(func.count(Order.id))) == 1


def test_best_coupon_applies_when_the_form_did_not_choose(kernel, db, member):
    product = make_product(db, price=10000)
    small = give(db, make_template(db, name="small", amount=500), member)
    big = give(db, make_template(db, name="15% up to 20", kind="percent", amount=0, percent_bp=1500,
                                 max_discount=2000), member)
    cart = quote(kernel, db, member, {product.id: 1})
    assert [(a.data["coupon_id"], a.amount) for a in cart.adjustments] == [(big.id, -1500)]
    cart = quote(kernel, db, member, {product.id: 2})  # 15 % of 200 = 30, capped at 20
    assert cart.adjustments[0].amount == -2000
    assert quote(kernel, db, member, {product.id: 1}, {"coupon_id": ""}).adjustments == []
    chosen = quote(kernel, db, member, {product.id: 1}, {"coupon_id": str(small.id)})
    assert chosen.adjustments[0].amount == -500
    order = buy(kernel, db, member, {product.id: 1}, "none")
    assert order.total == 10000 and status(db, small) == status(db, big) == "available"


@pytest.mark.parametrize("case", ["expired", "scope", "minimum", "used", "foreign", "not_yet", "member_price"])
def test_unusable_coupons_give_clear_reasons(kernel, db, member, case, register_plugin):
    product = make_product(db, "A", price=3000)
    other_product = make_product(db, "B", price=3000)
    values = {
        "scope": {"scope": "products", "product_ids": [other_product.id]},
        "minimum": {"min_spend": 5000},
        "not_yet": {"valid_from": utcnow() + timedelta(days=2)},
        "member_price": {"with_member_price": False},
    }.get(case, {})
    coupon = give(db, make_template(db, **values), member)
    if case == "expired":
        with write_transaction(db):
            db.get(Coupon, coupon.id).valid_until = utcnow() - timedelta(minutes=1)
    if case == "used":
        with write_transaction(db):
            db.get(Coupon, coupon.id).status = "used"
    if case == "foreign":
        member = make_member(kernel, db, "stranger@example.com")
    if case == "member_price":
        from siyu.plugin import hookimpl
        from siyu.plugin import Adjustment

        class MemberPrice:
            @hookimpl
            def cart_adjustments(self, cart, stage):
                if stage == "item":
                    return [Adjustment("member_price", "Member", -100, "crm", sku=line.sku) for line in cart.lines]

        register_plugin(MemberPrice())
    with pytest.raises(ValidationError) as info:
        buy(kernel, db, member, {product.id: 1}, coupon)
    expected = {"expired": "Expired on", "scope": "Does not apply to the products", "minimum": "Spend ¥20.00 more",
                "used": "Already used", "foreign": "could not find that coupon", "not_yet": "Valid from",
                "member_price": "Cannot be combined with member prices"}[case]
    assert expected in str(info.value.message) and "coupon_id" in info.value.fields
    fresh(db)
    assert db.scalar(select(func.count(Order.id))) == 0  # nothing half-written


def test_scope_counts_only_the_chosen_products(kernel, db, member):
    a, b = make_product(db, "A", price=3000), make_product(db, "B", price=7000)
    coupon = give(db, make_template(db, kind="percent", amount=0, percent_bp=1000, scope="products",
                                    product_ids=[a.id]), member)
    order = buy(kernel, db, member, {a.id: 1, b.id: 1}, coupon)
    assert order.total == 10000 - 300


def test_full_refund_restores_a_valid_coupon_partial_does_not(kernel, db, member):
    product = make_product(db, price=4000)
    coupon = give(db, make_template(db, amount=1000), member)
    order = buy(kernel, db, member, {product.id: 1}, coupon)
    pay(kernel, db, order)
    refund_order(kernel, db, fresh(db).get(Order, order.id), 1000, "r-1")
    assert status(db, coupon) == "used"
    refund_order(kernel, db, fresh(db).get(Order, order.id), 2000, "r-2")
    assert status(db, coupon) == "available"
    assert db.scalar(select(Redemption.status).where(Redemption.order_id == order.id)) == "restored"


def test_refund_restore_respects_validity_and_setting(kernel, db, member):
    from siyu.plugin import settings

    product = make_product(db, price=4000)
    coupon = give(db, make_template(db, amount=1000), member)
    order = buy(kernel, db, member, {product.id: 1}, coupon)
    pay(kernel, db, order)
    with write_transaction(db):
        db.get(Coupon, coupon.id).valid_until = utcnow() - timedelta(seconds=1)
    refund_order(kernel, db, fresh(db).get(Order, order.id), 3000, "r-1")
    assert status(db, coupon) == "used"
    second = give(db, make_template(db, name="b", amount=1000), member)
    with write_transaction(db):
        settings.put(db, "coupons", "restore_on_refund", False)
    order = buy(kernel, db, member, {product.id: 1}, second, token="t-2")
    pay(kernel, db, order)
    refund_order(kernel, db, fresh(db).get(Order, order.id), 3000, "r-2")
    assert status(db, second) == "used"


def test_coupon_covering_everything_settles_the_order_at_once(kernel, db, member):
    from siyu.plugin import settle_free_order

    product = make_product(db, price=800)
    coupon = give(db, make_template(db, amount=5000), member)
    order = buy(kernel, db, member, {product.id: 1}, coupon)
    assert order.total == 0 and order.adjustments[0].amount == -800
    settle_free_order(kernel, db, order)
    assert status(db, coupon) == "used"
    assert fresh(db).scalar(select(Payment.provider).where(Payment.order_id == order.id)) == "free"
