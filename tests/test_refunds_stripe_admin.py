"""Refunding a card order from the back office goes through Stripe (localstripe): partial,
then a retry after a lost answer, then the rest — one Stripe refund per form."""
import re

import pytest
from backoffice_helpers import admin_csrf, make_staff, staff_login
from conftest import fresh, login
from sqlalchemy import func, select
from test_stripe_flow import card_checkout, pay_with, wait_for

from siyu.core.members import sign_up
from siyu.core.models import Order, Refund
from siyu.core.payments.stripe_provider import StripeProvider, client as stripe_client
from siyu.storefront import devstripe
from siyu.storefront.testing import give_address

pytestmark = pytest.mark.stripe
KEY = re.compile(r'name="idempotency_key" type="hidden" value="([^"]+)"')


@pytest.fixture
def siyu_config(stripe_config):
    return dict(stripe_config)


@pytest.fixture
def wired(live_server, localstripe):
    devstripe.register_webhook(localstripe, f"{live_server.url}/webhooks/stripe")
    return live_server


def test_admin_refunds_a_card_order_through_stripe(app, wired, client, products, db, kernel, monkeypatch):
    give_address(db, sign_up(kernel, db, email="buyer@example.com", password="correct-horse"))
    db.commit()  # end the read the address book left open, so the order checkout writes is seen
    shopper = app.test_client()
    login(shopper)
    order, payment = card_checkout(shopper, db, products[2])  # 30.00
    pay_with(shopper, order, "pm_card_visa")
    order = wait_for(db, order.id, {"paid"})
    staff_login(client, make_staff(db, "owner"))
    token = admin_csrf(client, f"/admin/orders/{order.id}")

    def form(amount):
        key = KEY.search(client.get(f"/admin/orders/{order.id}").get_data(as_text=True)).group(1)
        return {"csrf_token": token, "amount": amount, "reason": "", "idempotency_key": key}

    assert client.post(f"/admin/orders/{order.id}/refund", data=form("10.00")).status_code == 302
    real = StripeProvider.refund

    def lost_answer(self, kernel_, payment_, refund_, retry=False):
        real(self, kernel_, payment_, refund_, retry)
        raise TimeoutError("read timed out")

    second = form("20.00")
    monkeypatch.setattr(StripeProvider, "refund", lost_answer)
    assert client.post(f"/admin/orders/{order.id}/refund", data=second).status_code == 502
    monkeypatch.setattr(StripeProvider, "refund", real)
    assert client.post(f"/admin/orders/{order.id}/refund", data=second).status_code == 302
    fresh(db)
    assert db.get(Order, order.id).status == "refunded"
    assert db.scalar(select(func.count(Refund.id))) == 2
    remote = stripe_client(kernel.config).v1.refunds.list(params={"limit": 100}).data
    assert sorted(r.amount for r in remote if r.payment_intent == payment.reference) == [1000, 2000]
