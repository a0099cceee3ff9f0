"""A plugin that raises, hook by hook.

Transactional hooks (pricing, order lifecycle, members, conversations) fail closed: the
shopper or the caller gets a clear error naming the plugin, and not one row changes.
Display hooks (slots, dashboard widgets, member panels, cards) are skipped and logged; the
page still renders, with every other plugin's part.
"""
import logging

import pytest
from backoffice_helpers import make_staff, paid_order, staff_login
from chat_helpers import json_headers
from conftest import TOKEN, add_to_cart, csrf, fresh, login, make_product
from markupsafe import Markup
from sqlalchemy import func, inspect, select
from webhook_helpers import intent_event, post, sign

from siyu.core import hookimpl
from siyu.core.db import Base, write_transaction
from siyu.core.errors import PluginError
from siyu.core import after_sales
from siyu.core.fulfilment import confirm_receipt, ship_order
from siyu.core.member_rights import anonymise_member
from siyu.core.models import Order, Payment, Product, Refund
from siyu.core.orders import place_order
from siyu.core.payments.manual import ManualProvider
from siyu.core.refunds import refund_order

#: on_order_refunded has a test of its own: the provider has already paid the money back.
TRANSACTIONAL = ["cart_adjustments", "pricing_inputs", "on_order_placed", "on_order_paid", "on_order_cancelled",
                 "on_member_created", "on_member_anonymised", "on_member_interaction", "on_message_received",
                 "on_order_shipped", "on_order_completed", "on_after_sale_requested", "on_after_sale_decided"]
EN = {"Accept-Language": "en"}


def broken(hook_name: str):
    def fail(self):
        raise RuntimeError(f"{hook_name} exploded")

    return type("Broken", (), {hook_name: hookimpl(fail)})()


def books(db) -> dict:
    """Every table's row count, the stock and the orders' states: what "nothing written" means."""
    fresh(db)
    # Only tables this shop has: other tests in the run may have imported other plugins' models.
    present = set(inspect(db.get_bind()).get_table_names())
    counts = {t.name: db.scalar(select(func.count()).select_from(t))
              for t in Base.metadata.sorted_tables if t.name in present}
    counts["stock"] = db.scalar(select(func.sum(Product.stock)))
    counts["orders"] = sorted(db.execute(select(Order.id, Order.status, Order.refunded_amount)).all())
    return counts


def shopper(app, member, product=None):
    client = app.test_client()
    login(client)
    if product is not None:
        add_to_cart(client, product.id, 2)
    return client


def checkout_form(client):
    html = client.get("/checkout").get_data(as_text=True)
    token = TOKEN.search(html)
    return {"payment_method": "manual", "csrf_token": token.group(1) or token.group(2),
            "checkout_token": html.split('name="checkout_token" type="hidden" value="')[1].split('"')[0]}


def trigger(hook_name, app, kernel, db, member, arm):
    """Reach the hook the way a shopper, Stripe or staff would; ``arm()`` breaks it just before."""
    product = make_product(db, "ISO", price=3000, stock=10)
    if hook_name in ("cart_adjustments", "pricing_inputs", "on_order_placed"):
        client = shopper(app, member, product)
        form = checkout_form(client)
        arm()
        return client.post("/checkout", data=form, headers=EN)
    if hook_name == "on_order_paid":
        kernel.payment_providers["stripe"].available = lambda config: True
        order = place_order(kernel, db, member=member, items={product.id: 1}, payment_method="stripe",
                            checkout_token="iso-card")
        with write_transaction(db):
            db.add(Payment(order_id=order.id, provider="stripe", reference="pi_iso", amount=order.total,
                           currency=order.currency))
        payload = intent_event("payment_intent.succeeded", "pi_iso", order.total)
        arm()
        return post(app.test_client(), payload, sign(payload))
    if hook_name == "on_order_cancelled":
        order = place_order(kernel, db, member=member, items={product.id: 1}, payment_method="manual",
                            checkout_token="iso-cancel")
        client = shopper(app, member)
        token = csrf(client, f"/orders/{order.number}")
        arm()
        return client.post(f"/orders/{order.number}/cancel", data={"csrf_token": token}, headers=EN)
    if hook_name == "on_member_created":
        client = app.test_client()
        token = csrf(client, "/account/signup")
        arm()
        return client.post("/account/signup", headers=EN, data={
            "email": "new@example.com", "password": "long-enough-pw", "csrf_token": token})
    if hook_name in ("on_member_interaction", "on_message_received"):
        client = shopper(app, member)
        headers = {**json_headers(client), **EN}
        arm()
        return client.post("/chat/messages", json={"text": "hello"}, headers=headers)
    if hook_name == "on_member_anonymised":
        arm()
        with pytest.raises(PluginError) as caught:
            anonymise_member(kernel, db, member.id)
        return caught.value
    if hook_name in FULFILMENT:
        return fulfilment_trigger(hook_name, kernel, db, member, product, arm)
    raise AssertionError(hook_name)


FULFILMENT = ("on_order_shipped", "on_order_completed", "on_after_sale_requested", "on_after_sale_decided")


def fulfilment_trigger(hook_name, kernel, db, member, product, arm):
    """Ship, confirm receipt, ask for after-sales, decide: each through its service."""
    order = paid_order(kernel, db, member, product, f"iso-{hook_name}")
    if hook_name != "on_order_shipped":
        ship_order(kernel, db, order, carrier_code="sf", tracking_number="SF1000001")
    if hook_name == "on_after_sale_decided":
        request = after_sales.request_after_sale(kernel, db, order, member, line_id=order.lines[0].id,
                                                 kind="return_refund", reason="damaged")
    arm()
    with pytest.raises(PluginError) as caught:
        if hook_name == "on_order_shipped":
            ship_order(kernel, db, order, carrier_code="sf", tracking_number="SF1000001")
        elif hook_name == "on_order_completed":
            confirm_receipt(kernel, db, order, member)
        elif hook_name == "on_after_sale_requested":
            after_sales.request_after_sale(kernel, db, order, member, line_id=order.lines[0].id,
                                           kind="return_refund", reason="damaged")
        else:
            after_sales.approve(kernel, db, request)
    return caught.value


@pytest.mark.parametrize("hook_name", TRANSACTIONAL)
def test_a_failing_transactional_hook_fails_closed(app, kernel, db, member, register_plugin, hook_name, caplog):
    before = {}

    def arm():
        before.update(books(db))
        register_plugin(broken(hook_name), name="broken")

    with caplog.at_level(logging.ERROR, logger="siyu.plugins"):
        outcome = trigger(hook_name, app, kernel, db, member, arm)
    if isinstance(outcome, PluginError):
        assert outcome.data["plugin"] == "broken"
    else:
        assert outcome.status_code in (409, 503), outcome.status_code
        assert "broken" in outcome.get_data(as_text=True), "the error names the plugin"
    assert books(db) == before, "nothing written"
    assert any(hook_name in r.getMessage() and "broken" in r.getMessage() for r in caplog.records)


def test_a_failing_refund_hook_keeps_the_refund_pending_until_a_retry(kernel, db, member, register_plugin,
                                                                     monkeypatch):
    monkeypatch.setattr(ManualProvider, "refund", lambda self, k, p, r, retry=False: f"re_{r.idempotency_key}")
    order = paid_order(kernel, db, member, make_product(db, "ISO-R", price=3000), "iso-r")
    before = books(db)
    register_plugin(broken("on_order_refunded"), name="broken")
    with pytest.raises(PluginError, match="broken"):
        refund_order(kernel, db, order, 1000, "iso-key")
    after = books(db)
    assert after["orders"] == before["orders"], "the order's refunded amount is unchanged"
    assert db.scalar(select(Refund.status)) == "pending", "the money in flight stays on record"
    kernel.pm.unregister(name="broken")
    assert refund_order(kernel, db, fresh(db).get(Order, order.id), 1000, "iso-key").status == "succeeded"
    assert fresh(db).get(Order, order.id).refunded_amount == 1000


def test_every_hook_that_runs_in_a_transaction_is_covered():
    from siyu.core import hookspecs, hookspecs_people

    in_transaction = {
        name for name, spec in {**vars(hookspecs), **vars(hookspecs_people)}.items()
        if callable(spec) and hasattr(spec, "siyu_spec") and "transaction" in (spec.__doc__ or "")
        and "not in a transaction" not in (spec.__doc__ or "").lower()}
    assert in_transaction == set(TRANSACTIONAL) | {"on_order_refunded"}


class Broken:
    @hookimpl
    def storefront_slot(self, slot):
        raise RuntimeError(f"slot {slot} exploded")

    @hookimpl
    def admin_member_panel(self):
        raise RuntimeError("panel exploded")

    @hookimpl
    def register_dashboard_widgets(self, register):
        def render(session, staff):
            raise RuntimeError("widget exploded")

        register("broken", "Broken widget", render, role="owner")


class Good:
    @hookimpl
    def storefront_slot(self, slot):
        return Markup(f"<i>good-{slot}</i>")

    @hookimpl
    def admin_member_panel(self):
        return Markup("<i>good-panel</i>")

    @hookimpl
    def register_dashboard_widgets(self, register):
        register("good", "Good widget", lambda session, staff: Markup("<i>good-widget</i>"), role="owner")


@pytest.fixture
def siyu_plugins():
    return [Broken(), Good()]


def test_failing_display_hooks_are_skipped_and_every_page_renders(app, kernel, db, member, caplog):
    product = make_product(db, "SHOW", price=3000, stock=10)
    order = place_order(kernel, db, member=member, items={product.id: 1}, payment_method="manual",
                        checkout_token="iso-show")
    client = shopper(app, member, product)
    pages = {"/": ["home_top", "nav", "head"], f"/p/{product.id}": ["product_after_price"],
             "/cart/": ["cart_after_lines"], "/checkout": ["checkout_form"],
             f"/orders/{order.number}": ["order_after_lines"], "/account/orders": ["account_panel"]}
    with caplog.at_level(logging.ERROR):
        for path, slots in pages.items():
            response = client.get(path)
            assert response.status_code == 200, path
            html = response.get_data(as_text=True)
            for slot in slots:
                if slot != "head":
                    assert f"<i>good-{slot}</i>" in html, (path, slot)
        staff = staff_login(app.test_client(), make_staff(db, "owner"))
        dashboard = staff.get("/admin/")
        assert dashboard.status_code == 200 and "<i>good-widget</i>" in dashboard.get_data(as_text=True)
        panel = staff.get(f"/admin/members/{member.id}")
        assert panel.status_code == 200 and "<i>good-panel</i>" in panel.get_data(as_text=True)
    logged = " ".join(r.getMessage() for r in caplog.records) + " ".join(
        str(r.exc_info[1]) for r in caplog.records if r.exc_info)
    for part in ("slot", "widget", "panel"):
        assert f"{part}" in logged and "exploded" in logged
