"""The gift message plugin, as the tutorial builds it: checkout → order page → back office."""
from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import func, select

from siyu.plugin import (
    anonymise_member, Base, export_member, migrate, Order, settings as core_settings, write_transaction,
)
from siyu_gift_message.models import TABLE_PREFIX, GiftMessage

EN = {"Accept-Language": "en"}


def test_own_branch_migrated_and_matching_the_models(kernel):
    assert "gift_message" in migrate.branches(kernel)
    assert not migrate.pending(kernel)
    with kernel.db.engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert [d for d in diff if TABLE_PREFIX in repr(d)] == []


def test_message_written_at_checkout_is_shown_on_the_order(checkout, shopper, db):
    response = checkout(gift_message="  Happy birthday,\n Mum!  ")
    assert response.status_code == 302
    gift = db.scalar(select(GiftMessage))
    assert gift.message == "Happy birthday, Mum!"
    order_page = shopper.get(response.headers["Location"], headers=EN).get_data(as_text=True)
    assert "Gift message" in order_page and "Happy birthday, Mum!" in order_page


def test_no_message_no_row(checkout, db):
    assert checkout().status_code == 302
    assert checkout(gift_message="   ").status_code == 302
    assert db.scalar(select(func.count()).select_from(GiftMessage)) == 0


def test_too_long_message_refuses_the_whole_order(checkout, db, product):
    with write_transaction(db):
        core_settings.put(db, "gift_message", "max_length", 20)
    response = checkout(gift_message="x" * 21)
    assert response.status_code in (400, 422)
    assert "too long" in response.get_data(as_text=True)
    db.rollback()
    assert db.scalar(select(func.count()).select_from(Order)) == 0
    db.refresh(product)
    assert product.stock == 10  # the reservation was rolled back with the order


def test_back_office_lists_messages_for_staff(checkout, client, db, csrf, staff_client):
    checkout(gift_message="With love")
    html = staff_client.get("/admin/gift-messages/", headers=EN).get_data(as_text=True)
    number = db.scalar(select(Order.number))
    assert "With love" in html and number in html
    assert 'href="/admin/gift-messages/"' in html  # the menu item


def test_back_office_page_is_for_staff_only(client):
    assert client.get("/admin/gift-messages/").status_code in (302, 401, 403)


def test_back_office_empty_state(staff_client):
    assert "No gift messages yet" in staff_client.get("/admin/gift-messages/", headers=EN).get_data(as_text=True)


def test_member_page_panel(checkout, staff_client, member):
    checkout(gift_message="For the twins")
    html = staff_client.get(f"/admin/members/{member.id}", headers=EN).get_data(as_text=True)
    assert "Gift messages" in html and "For the twins" in html


def test_export_and_erasure(checkout, kernel, db, member):
    checkout(gift_message="Secret santa")
    assert export_member(kernel, db, member.id)["gift_message"][0]["message"] == "Secret santa"
    anonymise_member(kernel, db, member.id)
    db.expire_all()
    assert db.scalar(select(GiftMessage.message)) == ""
