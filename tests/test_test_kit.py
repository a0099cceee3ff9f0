"""The test kit plugin authors use (siyu.plugin.testing and the siyu_* fixtures) does what
docs/plugin-api.md says: signed-in clients, factories, the web checkout, cards through
localstripe, every installed plugin on demand, chosen ports."""
from __future__ import annotations

import ast
import socket
from pathlib import Path

import pytest
from sqlalchemy import func, select

from siyu.core.models import Order
from siyu.plugin.testing import (
    CheckoutRefused, ShopClient, checkout, make_member, make_product, make_staff, shopper_client, staff_client,
)
from siyu.storefront.testing_pg import port_from_env

EN = {"Accept-Language": "en"}


def test_fixtures_are_namespaced():
    """No bare ``app``, ``client``, ``db`` or ``live_server``: pytest-flask's names stay free."""
    import siyu.storefront.testing as plugin

    tree = ast.parse(Path(plugin.__file__).read_text(encoding="utf-8"))
    ours = {node.name for node in tree.body if isinstance(node, ast.FunctionDef)
            and any("fixture" in ast.unparse(d) for d in node.decorator_list)}
    assert len(ours) > 10 and all(name.startswith("siyu_") for name in ours), ours


def test_shopper_checks_out_through_the_web(siyu_shopper, siyu_db):
    product = make_product(siyu_db, price=2500, stock=5)
    order = siyu_shopper.checkout({product: 2})
    assert (order.member_id, order.total, order.status) == (siyu_shopper.member.id, 5000, "placed")
    assert siyu_db.get(type(product), product.id).stock == 3


def test_a_shopper_without_an_address_gets_one_through_the_form(siyu_app, siyu_db):
    member = make_member(siyu_app.extensions["siyu"], siyu_db, "new@example.com")
    client = shopper_client(siyu_app, siyu_db, member)
    order = checkout(client, siyu_db, make_product(siyu_db))
    assert order.status == "placed" and "王小明" in client.get("/account/addresses").get_data(as_text=True)


def test_a_refused_checkout_carries_the_answer(siyu_shopper, siyu_db):
    product = make_product(siyu_db, stock=1)
    siyu_shopper.add_to_cart(product)
    with siyu_shopper.session_transaction() as session:  # more than the stock, as a stale cart can hold
        session["cart"] = {str(product.id): 5}
    with pytest.raises(CheckoutRefused) as refused:
        siyu_shopper.checkout(headers=EN)
    assert refused.value.response.status_code in (409, 422)
    assert siyu_db.scalar(select(func.count()).select_from(Order)) == 0


def test_staff_clients_are_signed_in_with_their_role(siyu_staff, siyu_app, siyu_db):
    assert siyu_staff.staff.role == "owner"
    assert siyu_staff.get("/admin/settings").status_code == 200
    agent = staff_client(siyu_app, siyu_db, make_staff(siyu_db, "agent"))
    assert agent.get("/admin/orders").status_code == 200 and agent.get("/admin/settings").status_code == 403


def test_submit_posts_the_pages_csrf_token(siyu_client):
    assert isinstance(siyu_client, ShopClient)
    assert siyu_client.post("/account/signup", data={"email": "a@example.com", "password": "long-enough-1"}
                            ).status_code == 400  # no token
    response = siyu_client.submit("/account/signup", {"email": "a@example.com", "password": "long-enough-1"})
    assert response.status_code == 302


class TestEveryPlugin:
    @pytest.fixture
    def siyu_config(self):
        return {"PLUGINS": ["curation"]}

    @pytest.fixture
    def siyu_all_plugins(self):
        return True

    def test_a_suite_that_enables_plugins_gets_every_installed_one(self, siyu_app):
        assert siyu_app.config["PLUGINS"] == "*"


@pytest.mark.parametrize("value, port", [("", None), (" 8123 ", 8123)])
def test_ports_from_the_environment(monkeypatch, value, port):
    monkeypatch.setenv("SIYU_TEST_LIVE_PORT", value)
    assert port_from_env("SIYU_TEST_LIVE_PORT") == port


@pytest.mark.parametrize("value", ["0", "70000", "http"])
def test_a_bad_port_is_refused_clearly(monkeypatch, value):
    monkeypatch.setenv("SIYU_TEST_PG_PORT", value)
    with pytest.raises(ValueError, match="SIYU_TEST_PG_PORT"):
        port_from_env("SIYU_TEST_PG_PORT")


def test_the_live_server_listens_on_the_chosen_port(monkeypatch, request):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    monkeypatch.setenv("SIYU_TEST_LIVE_PORT", str(port))
    server = request.getfixturevalue("siyu_live_server")
    assert server.url == f"http://127.0.0.1:{port}"


@pytest.mark.stripe
class TestCards:
    @pytest.fixture
    def siyu_config(self, siyu_stripe_config):
        return dict(siyu_stripe_config)

    def test_pay_by_card_through_localstripe(self, siyu_shopper, siyu_db):
        order = siyu_shopper.checkout(make_product(siyu_db, price=1990), payment_method="stripe")
        paid = siyu_shopper.pay_by_card(order)
        assert paid.status == "paid" and paid.paid_at is not None

    def test_a_declined_card_cancels(self, siyu_shopper, siyu_db):
        order = siyu_shopper.checkout(make_product(siyu_db, price=1990), payment_method="stripe")
        assert siyu_shopper.pay_by_card(order, "pm_card_chargeCustomerFail").status == "cancelled"
