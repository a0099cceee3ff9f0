"""The gift message plugin, as the tutorial builds it: checkout → order page → back office."""
from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from siyu.plugin import anonymise_member, export_member, Order, settings as core_settings, write_transaction
from siyu.plugin.testing import CheckoutRefused, PluginPackageChecks
from siyu_gift_message.models import GiftMessage

EN = {"Accept-Language": "en"}


class TestGiftMessagePackage(PluginPackageChecks):
    """Catalogs complete and compiled, the branch labelled and matching the models."""

    plugin = "gift_message"
    package_dir = Path(__file__).resolve().parents[1] / "siyu_gift_message"
    min_strings = 5


def test_checkout_shows_the_field(siyu_shopper, product):
    siyu_shopper.add_to_cart(product)
    assert 'name="gift_message"' in siyu_shopper.get("/checkout").get_data(as_text=True)


def test_message_written_at_checkout_is_shown_on_the_order(buy, siyu_shopper, siyu_db):
    order = buy(gift_message="  Happy birthday,\n Mum!  ")
    assert siyu_db.scalar(select(GiftMessage.message)) == "Happy birthday, Mum!"
    page = siyu_shopper.get(f"/orders/{order.number}", headers=EN).get_data(as_text=True)
    assert "Gift message" in page and "Happy birthday, Mum!" in page


def test_no_message_no_row(buy, siyu_db):
    buy()
    buy(gift_message="   ")
    assert siyu_db.scalar(select(func.count()).select_from(GiftMessage)) == 0


def test_too_long_message_refuses_the_whole_order(buy, siyu_db, product):
    with write_transaction(siyu_db):
        core_settings.put(siyu_db, "gift_message", "max_length", 20)
    with pytest.raises(CheckoutRefused) as refused:
        buy(gift_message="x" * 21)
    assert refused.value.response.status_code == 422
    assert "too long" in refused.value.response.get_data(as_text=True)
    siyu_db.rollback()
    assert siyu_db.scalar(select(func.count()).select_from(Order)) == 0
    siyu_db.refresh(product)
    assert product.stock == 10  # the reservation was rolled back with the order


def test_back_office_lists_messages_for_staff(buy, siyu_staff):
    order = buy(gift_message="With love")
    html = siyu_staff.get("/admin/gift-messages/", headers=EN).get_data(as_text=True)
    assert "With love" in html and order.number in html
    assert 'href="/admin/gift-messages/"' in html  # the menu item


def test_back_office_page_is_for_staff_only(siyu_client):
    assert siyu_client.get("/admin/gift-messages/").status_code in (302, 401, 403)


def test_back_office_empty_state(siyu_staff):
    assert "No gift messages yet" in siyu_staff.get("/admin/gift-messages/", headers=EN).get_data(as_text=True)


def test_member_page_panel(buy, siyu_staff, siyu_shopper):
    buy(gift_message="For the twins")
    html = siyu_staff.get(f"/admin/members/{siyu_shopper.member.id}", headers=EN).get_data(as_text=True)
    assert "Gift messages" in html and "For the twins" in html


def test_export_and_erasure(buy, siyu_kernel, siyu_db, siyu_shopper):
    buy(gift_message="Secret santa")
    member_id = siyu_shopper.member.id
    assert export_member(siyu_kernel, siyu_db, member_id)["gift_message"][0]["message"] == "Secret santa"
    anonymise_member(siyu_kernel, siyu_db, member_id)
    siyu_db.expire_all()
    assert siyu_db.scalar(select(GiftMessage.message)) == ""
