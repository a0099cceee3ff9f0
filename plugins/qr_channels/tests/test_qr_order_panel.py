"""The back-office order page names the channels an order came through."""
from qr_helpers import PHONE, signup

from siyu.plugin.testing import checkout, make_product, staff_login
from siyu_qr_channels.channels import create_channel

EN = {"Accept-Language": "en"}


def test_order_page_shows_first_and_last_touch_channels(app, client, db, owner):
    fair = create_channel(db, {"name": "Tea fair"})
    assert client.get(f"/q/{fair.scene}", headers={"User-Agent": PHONE}).status_code == 302
    client.get(f"/?ch={fair.scene}", headers={"User-Agent": PHONE})
    signup(client)
    order = checkout(client, db, make_product(db))
    staff = app.test_client()
    staff_login(staff)
    html = staff.get(f"/admin/orders/{order.id}", headers=EN).get_data(as_text=True)
    assert "Last touch: <a" in html and html.count(">Tea fair</strong>") == 2


def test_order_without_a_channel_says_so(app, client, db, owner):
    signup(client)
    order = checkout(client, db, make_product(db))
    staff = app.test_client()
    staff_login(staff)
    html = staff.get(f"/admin/orders/{order.id}", headers=EN).get_data(as_text=True)
    assert "Last touch: No channel" in html
