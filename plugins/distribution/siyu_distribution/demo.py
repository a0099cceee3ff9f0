"""The distribution part of the demo shop (``on_demo_seeded``): the first demo member becomes
a distributor whose referral link brought a customer, with clicks and orders in several
states, so the distributor center opens with pending and payable commission."""
from __future__ import annotations

import secrets
from datetime import timedelta

from sqlalchemy import select

from siyu.plugin import add_address, demo_order, Member, Product, record_touches, sign_up, utcnow

from siyu_distribution import accrual, attribution, config, distributors
from siyu_distribution.models import Distributor, Link

CUSTOMER = ("zhao.lei@example.com", "赵磊")
ADDRESS = {"recipient": "赵磊", "phone": "13600136004", "province_code": "440000", "city_code": "440300",
           "district_code": "440305", "street": "科技南十二路 2 号 18 楼"}


def seed(kernel, session) -> None:
    """Idempotent: nothing happens once the shop has a distributor."""
    seller_member = session.scalar(select(Member).where(Member.active.is_(True)).order_by(Member.id).limit(1))
    products = list(session.scalars(select(Product).where(Product.active.is_(True), Product.stock >= 5)
                                    .order_by(Product.position, Product.id).limit(3)))
    if seller_member is None or len(products) < 3 or session.scalar(select(Distributor.id).limit(1)):
        return
    seller = distributors.approve(session, distributors.apply(
        session, seller_member, motivation="茶友推荐 I recommend teas to friends").id)
    link = session.scalar(select(Link).where(Link.distributor_id == seller.id).limit(1))
    today = utcnow().date()
    for day in range(12):  # a dozen days of visits through the link
        for visitor in range(day % 4 + 1):
            attribution.record_click(session, link, f"demo-{day}-{visitor}", today - timedelta(days=day))
    email, name = CUSTOMER
    customer = session.scalar(select(Member).where(Member.email == email)) or sign_up(
        kernel, session, email=email, password=secrets.token_urlsafe(16), name=name)
    add_address(session, customer, ADDRESS, make_default=True)
    record_touches(session, "demo-referral", [(attribution.TOUCH_SOURCE, link.code)], member_id=customer.id)
    first, second, third = (p.sku for p in products)
    demo_order(kernel, session, customer, {first: 2}, "referral-completed", 26, [
        ("pay", 1), ("ship", 20, {"carrier": "sf", "tracking": "SF1402500044"}), ("receive", 60)])
    demo_order(kernel, session, customer, {second: 1, third: 1}, "referral-shipped", 3, [
        ("pay", 1), ("ship", 22, {"carrier": "zto", "tracking": "ZT7310030011"})])
    demo_order(kernel, session, customer, {third: 1}, "referral-paid", 0.5, [("pay", 1)])
    accrual.release_due(session, config.load(session))  # the first order's window has passed
