"""Journey 4: a shopper buys a tea by card; the owner ships it from the to-ship queue with a
tracking number; the shopper gets the "shipped" card in the chat, confirms receipt, then asks
to return the tea with a photo; the owner approves, the shopper sends it back with a tracking
number, the owner marks it received and refunds it through the card provider. Every step is
seen from the other side as well: the order page's timeline and the chat's order notices.
"""
from __future__ import annotations

import re
import struct
import zlib

import pytest
from sqlalchemy import select

from siyu.core.models import AfterSale, Order, Refund
from siyu.storefront.testing import give_address

expect = pytest.importorskip("playwright.sync_api").expect

from browser import shop_data  # noqa: E402
from browser.steps import member_login, offers_the_other_language, pay_by_card, staff_login  # noqa: E402

pytestmark = [pytest.mark.browser, pytest.mark.stripe]

TRACKING, RETURN_TRACKING = "SF1234567890", "SF9876543210"
CARRIER = {"zh_CN": "顺丰速运", "en": "SF Express"}


def png() -> bytes:
    """A 1×1 PNG: the photo of the damaged tin."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(b"\x00\xb0\x40\x30")) + chunk(b"IEND", b""))


@pytest.fixture
def tea_shop(kernel, db, locale):
    shop_data.staff(db, "owner")
    teas = shop_data.products(db)
    shop_data.curate(kernel, db, teas[:1])  # a curated shop lists only what it curates
    buyer = shop_data.member(kernel, db, "mei@example.cn", "美美 Mei", locale)
    give_address(db, buyer, recipient="王美美", phone="13912345678")
    return {"tea": teas[0], "buyer": buyer}


def fresh(db):
    """The test's session forgets what it read: the shop writes through its own sessions."""
    db.rollback()
    db.expire_all()
    return db


def chat_card(page, journey, title: str):
    page.goto("/chat")
    card = page.locator(".notice-card").filter(has_text=title)
    card.scroll_into_view_if_needed()  # the thread scrolls on its own: the newest card in sight
    expect(card).to_be_visible()
    return card


@pytest.mark.parametrize("locale", ["zh_CN", "en"])
def test_buy_ship_receive_return_refund(journey, tea_shop, db, locale):
    j = journey(locale)
    tea = tea_shop["tea"]
    name = tea.title_zh if locale == "zh_CN" else tea.title_en

    # The shopper buys the tea by card; the default address is on the checkout.
    shopper = j.person("shopper")
    member_login(shopper, "mei@example.cn")
    shopper.goto("/")
    shopper.get_by_role("link", name=name).first.click()
    shopper.get_by_role("button", name=j.t("Add to cart")).click()
    shopper.goto("/checkout")
    expect(shopper.get_by_label(j.t("Deliver to"))).to_contain_text("王美美")
    shopper.get_by_label(re.compile(j.t("Card"))).check()
    j.shot(shopper, "checkout")
    shopper.get_by_role("button", name=j.t("Place order")).click()
    pay_by_card(shopper, j)
    expect(shopper.get_by_text(j.t("Payment received. Thank you!"))).to_be_visible(timeout=20_000)
    order = fresh(db).scalar(select(Order).where(Order.status == "paid"))
    assert order is not None and order.total == tea.price

    # The owner finds it in the to-ship queue and ships it with a tracking number.
    owner = j.person("owner")
    staff_login(owner, shop_data.OWNER)
    owner.goto("/admin/shipping")
    parcel = owner.locator(".parcel").filter(has_text=order.number)
    expect(parcel).to_contain_text("王美美")
    offers_the_other_language(owner, j)
    j.shot(owner, "to-ship-queue")
    parcel.get_by_role("link", name=order.number).click()
    form = owner.locator(".ship-form")
    form.get_by_label(j.t("Carrier")).select_option(label=CARRIER[locale])
    form.get_by_label(j.t("Tracking number")).fill(TRACKING)
    j.shot(owner, "ship-form")
    form.get_by_role("button", name=j.t("Ship"), exact=True).click()
    expect(owner.get_by_text(j.t("Shipped: %(n)d items in this parcel.", n=1))).to_be_visible()
    expect(owner.locator("#shipping")).to_contain_text(TRACKING)
    j.shot(owner, "shipped")

    # The shopper's chat has the shipped card with the carrier's tracking link.
    card = chat_card(shopper, j, j.t("Your order has shipped"))
    expect(card).to_contain_text(CARRIER[locale])
    expect(card.get_by_role("link", name=j.t("Track the parcel"))).to_have_attribute(
        "href", re.compile(TRACKING + "$"))
    j.shot(shopper, "chat-shipped-card")
    shopper.get_by_role("link", name=j.t("View the order")).last.click()
    expect(shopper.locator(".timeline")).to_contain_text(TRACKING)
    shopper.get_by_role("button", name=j.t("Confirm receipt")).click()
    expect(shopper.get_by_text(j.t("Thank you! Your order is complete."))).to_be_visible()
    expect(shopper.locator(".status").first).to_contain_text(j.t("Completed"))
    j.shot(shopper, "receipt-confirmed")

    # The tin arrived dented: a return with a reason, a note and a photo.
    shopper.get_by_role("link", name=j.t("After-sales")).first.click()
    shopper.get_by_label(j.t("Return and refund")).check()
    shopper.get_by_label(j.t("Reason")).select_option(label=j.t("Damaged or defective"))
    shopper.get_by_label(j.t("Note")).fill("罐子压扁了 The tin is dented")
    shopper.locator("input[name=photos]").set_input_files(
        files=[{"name": "tin.png", "mimeType": "image/png", "buffer": png()}])
    j.shot(shopper, "return-request-form")
    shopper.get_by_role("button", name=j.t("Send request")).click()
    expect(shopper.get_by_text(j.t("Your request was sent. We will reply soon."))).to_be_visible()
    expect(shopper.locator(".after-sales")).to_contain_text(j.t("Awaiting the shop's reply"))
    j.shot(shopper, "return-requested")
    request = fresh(db).scalar(select(AfterSale))
    assert (request.kind, request.reason, len(request.photos)) == ("return_refund", "damaged", 1)

    # The owner approves the return from the after-sales queue.
    owner.goto("/admin/after-sales")
    owner.get_by_role("link", name=re.compile(re.escape(j.t("Return and refund")))).click()
    expect(owner.get_by_text("The tin is dented")).to_be_visible()
    expect(owner.locator("ul.photos img")).to_have_count(1)
    j.shot(owner, "after-sales-request")
    owner.get_by_role("button", name=j.t("Approve the return")).click()
    expect(owner.get_by_text(j.t("Approved: the shopper was asked to send the goods back."))).to_be_visible()

    # The shopper reads the decision in the chat and sends the tin back.
    chat_card(shopper, j, j.t("Return approved"))
    j.shot(shopper, "chat-return-approved")
    shopper.get_by_role("link", name=j.t("View the order")).last.click()
    shopper.get_by_label(j.t("Return tracking number")).fill(RETURN_TRACKING)
    shopper.get_by_role("button", name=j.t("Save tracking number")).click()
    expect(shopper.get_by_text(j.t("Return tracking number saved."))).to_be_visible()
    j.shot(shopper, "return-sent")

    # The owner receives the tin and refunds it through the card provider.
    owner.reload()
    expect(owner.locator(".timeline")).to_contain_text(RETURN_TRACKING)
    owner.get_by_role("button", name=j.t("Mark the goods as received")).click()
    expect(owner.get_by_text(j.t("Marked as received; the goods are back in stock."))).to_be_visible()
    owner.get_by_role("button", name=j.t("Refund %(amount)s", amount=j.money(tea.price))).click()
    expect(owner.get_by_text(j.t("Refunded %(amount)s.", amount=j.money(tea.price)))).to_be_visible()
    j.shot(owner, "refunded")
    refund = fresh(db).scalar(select(Refund))
    assert (refund.status, refund.amount) == ("succeeded", tea.price)
    assert db.get(Order, order.id).refunded_amount == tea.price

    # The shopper sees the refund in the chat and on the order.
    card = chat_card(shopper, j, j.t("Refund sent"))
    expect(card).to_contain_text(j.money(tea.price))
    j.shot(shopper, "chat-refund-sent")
    shopper.get_by_role("link", name=j.t("View the order")).last.click()
    expect(shopper.locator(".after-sales")).to_contain_text(j.t("Refunded"))
    offers_the_other_language(shopper, j)
    j.shot(shopper, "order-refunded")
    j.assert_clean()
