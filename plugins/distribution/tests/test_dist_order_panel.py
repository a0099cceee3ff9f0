"""The back-office order page names the distributor an order is credited to, with commission."""
from dist_helpers import bind_to, make_distributor, make_owner, member, paid_order

from siyu.plugin.testing import make_product, staff_login

EN = {"Accept-Language": "en"}


def test_order_page_shows_the_credited_distributor_and_pending_commission(client, kernel, db):
    seller = make_distributor(kernel, db, name="linxiaojie")
    buyer = member(kernel, db, name="buyer")
    bind_to(db, buyer, seller)
    order = paid_order(kernel, db, buyer, {make_product(db, price=10000).id: 1})
    make_owner(db)
    staff_login(client)
    html = client.get(f"/admin/orders/{order.id}", headers=EN).get_data(as_text=True)
    assert "Credited to distributor" in html and ">linxiaojie</strong>" in html
    assert "¥10.00" in html and "Pending" in html  # 10 % of ¥100.00, inside the return window


def test_order_without_a_distributor_has_no_panel(client, kernel, db):
    buyer = member(kernel, db, name="walkin")
    order = paid_order(kernel, db, buyer, {make_product(db, price=10000).id: 1})
    make_owner(db)
    staff_login(client)
    page = client.get(f"/admin/orders/{order.id}", headers=EN)
    assert page.status_code == 200 and "Credited to distributor" not in page.get_data(as_text=True)
