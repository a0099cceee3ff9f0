"""Journey 1: a shopper who scanned the shop's poster at a tea fair opens a distributor's
referral link, browses the curated catalog, chats, gets a coupon card from an agent,
claims it in the chat and pays by card. The distributor sees the pending commission; the
owner sees the paid order with its channel and distributor.
"""
from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from siyu.core.models import Order

expect = pytest.importorskip("playwright.sync_api").expect
pytest.importorskip("siyu_coupons")  # the journeys need the bundled plugins installed
pytest.importorskip("siyu_distribution")
pytest.importorskip("siyu_qr_channels")
from siyu_coupons.definitions import save_template  # noqa: E402
from siyu_distribution import distributors  # noqa: E402
from siyu_distribution.models import LedgerEntry  # noqa: E402
from siyu_qr_channels.channels import create_channel  # noqa: E402

from browser import shop_data  # noqa: E402
from browser.steps import (  # noqa: E402
    add_address, member_login, offers_the_other_language, pay_by_card, sign_up, staff_login,
)

pytestmark = [pytest.mark.browser, pytest.mark.stripe]

COUPON = {"name": "春茶见面礼 Spring welcome", "kind": "fixed", "currency": "CNY", "amount": 2000,
          "percent_bp": 0, "max_discount": None, "min_spend": 5000, "repeat": False, "valid_from": None,
          "valid_until": None, "valid_days": 30, "quantity": 100, "per_member_limit": 1, "scope": "all",
          "product_ids": [], "with_member_price": True, "active": True, "code": "SPRING20", "description": ""}


@pytest.fixture
def tea_shop(kernel, db, locale):
    """Three teas, two of them curated; a tea-fair channel; an approved distributor; a coupon."""
    shop_data.staff(db, "owner")
    shop_data.staff(db, "agent")
    teas = shop_data.products(db)
    shop_data.curate(kernel, db, teas[:2])
    fair = create_channel(db, {"name": "春季茶博会 Tea fair", "kind": "event", "target": "home",
                               "target_value": "", "notes": "", "active": True, "scene": ""})
    seller = shop_data.member(kernel, db, "lin@example.cn", "林小姐 Ms Lin", locale)
    distributor = distributors.apply(db, seller, display_name="林小姐 Ms Lin")
    distributors.approve(db, distributor.id)
    link = distributors.create_link(db, distributor, label="家人群 Family group")
    save_template(db, COUPON)
    return {"teas": teas, "fair": fair, "link": link}


@pytest.mark.parametrize("locale", ["zh_CN", "en"])
def test_referral_chat_coupon_card_payment(journey, tea_shop, db, locale):
    j = journey(locale)
    longjing, biluochun, unlisted = tea_shop["teas"]
    title = (lambda p: p.title_zh) if locale == "zh_CN" else (lambda p: p.title_en)

    # The shopper scanned the poster at the tea fair, then opens the distributor's link.
    shopper = j.person("shopper")
    shopper.goto(f"/q/{tea_shop['fair'].scene}")
    shopper.goto(f"/r/{tea_shop['link'].code}")
    expect(shopper.get_by_role("link", name=title(longjing)).first).to_be_visible()
    expect(shopper.get_by_text(title(biluochun)).first).to_be_visible()
    expect(shopper.get_by_text(title(unlisted))).to_have_count(0)  # curated out
    offers_the_other_language(shopper, j)
    j.shot(shopper, "curated-catalog")

    # Chat needs an account: the link's distributor is bound at sign-up.
    shopper.get_by_role("link", name=j.t("Chat"), exact=True).click()
    sign_up(shopper, j, "mei@example.cn", "美美 Mei")
    expect(shopper.get_by_role("heading", name=j.t("Chat with us"))).to_be_visible()
    shopper.get_by_label(j.t("Message")).fill("请问龙井有优惠吗？ Any offer on Longjing?")
    shopper.get_by_role("button", name=j.t("Send")).click()
    expect(shopper.get_by_text("Any offer on Longjing?")).to_be_visible()

    # The agent answers from the inbox with a coupon card.
    agent = j.person("agent")
    staff_login(agent, shop_data.AGENT)
    agent.goto("/admin/inbox?show=all")
    agent.get_by_role("link", name=re.compile("美美 Mei")).click()
    expect(agent.get_by_text("Any offer on Longjing?")).to_be_visible()
    cards = agent.get_by_label(j.t("Send a card"))
    cards.select_option(cards.locator("option", has_text="Spring welcome").get_attribute("value"))
    agent.get_by_role("button", name=j.t("Send card")).click()
    expect(agent.get_by_text(j.t("Card sent."))).to_be_visible()
    j.shot(agent, "agent-sends-coupon-card")

    # The card arrives in the open chat (polling) and is claimed with one tap, no link.
    card = shopper.locator(".chat-card").filter(has_text="Spring welcome")
    expect(card).to_be_visible(timeout=20_000)
    card.get_by_role("button", name=j.t("Claim")).click()
    claimed = shopper.get_by_text(j.t("Claimed: %(name)s is in your coupons.", name=COUPON["name"]))
    expect(claimed).to_be_visible()
    j.shot(shopper, "coupon-claimed-in-chat")

    # Buy: a delivery address first; the claimed coupon is chosen at checkout; pay with the test card.
    add_address(shopper, j)
    shopper.goto("/")
    shopper.get_by_role("link", name=title(longjing)).first.click()
    shopper.get_by_role("button", name=j.t("Add to cart")).click()
    shopper.goto("/checkout")
    coupon_choice = shopper.get_by_label(j.t("Use a coupon (one per order)"))
    expect(coupon_choice.locator("option:checked")).to_contain_text("Spring welcome")
    expect(shopper.locator("tr.total")).to_contain_text(j.money(longjing.price - 2000))
    shopper.get_by_label(re.compile(j.t("Card"))).check()
    j.shot(shopper, "checkout-with-coupon")
    shopper.get_by_role("button", name=j.t("Place order")).click()
    pay_by_card(shopper, j)
    expect(shopper.get_by_text(j.t("Payment received. Thank you!"))).to_be_visible(timeout=20_000)
    expect(shopper.locator(".cart-link .badge")).to_have_count(0)  # the paid order emptied the cart
    j.shot(shopper, "order-paid")
    order = db.scalar(select(Order).where(Order.status == "paid"))
    assert order is not None and order.total == longjing.price - 2000

    # The distributor sees the commission, pending inside the return window.
    commission = db.scalar(select(func.sum(LedgerEntry.amount)).where(
        LedgerEntry.order_id == order.id, LedgerEntry.bucket == "pending"))
    assert commission and commission > 0
    seller = j.person("distributor")
    member_login(seller, "lin@example.cn")
    seller.goto("/distribution/")
    pending = seller.locator(".kpi").filter(has_text=j.t("Pending"))
    expect(pending).to_contain_text(j.money(commission))
    expect(seller.locator(".kpi").filter(has_text=j.t("Orders"))).to_contain_text("1")
    j.shot(seller, "distributor-pending-commission")

    # The owner finds the paid order with its channel and its distributor.
    owner = j.person("owner")
    staff_login(owner, shop_data.OWNER)
    owner.goto("/admin/orders")
    owner.get_by_role("link", name=order.number).click()
    expect(owner.get_by_role("heading", name=re.compile(order.number))).to_contain_text(j.t("Paid"))
    expect(owner.locator(".order-panel").filter(has_text=j.t("Credited to distributor"))).to_contain_text("Ms Lin")
    expect(owner.locator(".order-panel").filter(has_text=j.t("Last touch"))).to_contain_text("Tea fair")
    offers_the_other_language(owner, j)
    j.shot(owner, "owner-order-attribution")
    j.assert_clean()
