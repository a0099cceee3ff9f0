"""Member data rights: an export of everything held, anonymisation that keeps the books."""
from conftest import add_to_cart, checkout, fresh, login
from sqlalchemy import select

from siyu.core import hookimpl
from siyu.core.member_rights import anonymise_member, export_member
from siyu.core.models import Member, Order


def test_export_and_anonymise_keep_orders(kernel, db, client, member, products, register_plugin):
    seen = []

    class Plugin:
        @hookimpl
        def member_data_export(self, session, member):
            return {"loyalty": {"member": member.id}}

        @hookimpl
        def on_member_anonymised(self, session, member):
            seen.append(member.id)

    register_plugin(Plugin(), name="rights-test")
    login(client)
    add_to_cart(client, products[0].id)
    checkout(client)
    data = export_member(kernel, db, member.id)
    assert data["member"]["email"] == "buyer@example.com" and len(data["orders"]) == 1
    assert data["loyalty"] == {"member": member.id}
    anonymise_member(kernel, db, member.id)
    gone = fresh(db).get(Member, member.id)
    assert gone.email == f"anonymised-{member.id}@invalid.example" and gone.name == "" and not gone.active
    assert db.scalar(select(Order.member_id)) == member.id and seen == [member.id]
    assert client.get("/account/orders").status_code == 302  # the session no longer signs them in
