"""Refunds from the back office and the API: partial then full, a retry after a timeout
refunds once, concurrent submits of one refund form refund once (PostgreSQL)."""
import re

import pytest
from backoffice_helpers import admin_csrf, bearer, make_staff, paid_order, staff_login
from conftest import fresh, make_product
from sqlalchemy import func, select

from siyu.core.members import sign_up
from siyu.core.models import Order, Refund
from siyu.core.payments.manual import ManualProvider
from siyu.storefront.testing_checks import run_together

EN = {"Accept-Language": "en"}
KEY = re.compile(r'name="idempotency_key" type="hidden" value="([^"]+)"|value="([^"]+)"[^>]*name="idempotency_key"')


@pytest.fixture
def order(kernel, db):
    member = sign_up(kernel, db, email="buyer@example.com", password="password-123")
    return paid_order(kernel, db, member, make_product(db, "TEA", price=10000), "t1")  # 100.00


def refund_key(client, order_id) -> str:
    html = client.get(f"/admin/orders/{order_id}").get_data(as_text=True)
    match = KEY.search(html)
    assert match, "no idempotency key on the order page"
    return match.group(1) or match.group(2)


def lose_answer_once(monkeypatch):
    """The provider refunds, but its answer is lost once (a timeout)."""
    real = ManualProvider.refund
    calls = []

    def flaky(self, kernel, payment, refund, retry=False):
        calls.append(retry)
        reference = real(self, kernel, payment, refund, retry)
        if len(calls) == 1:
            raise TimeoutError("read timed out")
        return reference

    monkeypatch.setattr(ManualProvider, "refund", flaky)
    return calls


def test_admin_partial_then_full_refund_and_a_retry_after_timeout(client, db, order, monkeypatch):
    staff_login(client, make_staff(db, "owner"))
    token = admin_csrf(client, f"/admin/orders/{order.id}")
    key = refund_key(client, order.id)
    calls = lose_answer_once(monkeypatch)
    form = {"csrf_token": token, "amount": "30.00", "reason": "broken cup", "idempotency_key": key}
    timed_out = client.post(f"/admin/orders/{order.id}/refund", data=form, headers=EN)
    assert timed_out.status_code == 502 and "retry" in timed_out.get_data(as_text=True)
    assert key in timed_out.get_data(as_text=True), "the retry form keeps the same key"
    assert fresh(db).get(Order, order.id).refunded_amount == 0
    retried = client.post(f"/admin/orders/{order.id}/refund", data=form)
    assert retried.status_code == 302 and calls == [False, True]
    double = client.post(f"/admin/orders/{order.id}/refund", data=form)  # a double submit
    assert double.status_code == 302
    fresh(db)
    assert db.get(Order, order.id).status == "partially_refunded" and db.get(Order, order.id).refunded_amount == 3000
    assert db.scalar(select(func.count(Refund.id))) == 1
    new_key = refund_key(client, order.id)
    assert new_key != key
    too_much = client.post(f"/admin/orders/{order.id}/refund", headers=EN,
                           data={**form, "amount": "70.01", "idempotency_key": new_key})
    assert too_much.status_code == 422
    rest = client.post(f"/admin/orders/{order.id}/refund", data={**form, "amount": "70", "idempotency_key": new_key})
    assert rest.status_code == 302
    fresh(db)
    final = db.get(Order, order.id)
    assert final.status == "refunded" and final.refunded_amount == 10000
    assert db.scalar(select(func.count(Refund.id))) == 2
    assert "idempotency_key" not in client.get(f"/admin/orders/{order.id}").get_data(as_text=True)


def test_api_refund_retry_with_the_same_key_refunds_once(client, db, order, monkeypatch):
    auth = bearer(db, make_staff(db, "owner"))
    calls = lose_answer_once(monkeypatch)
    body = {"amount": 2500, "idempotency_key": "erp-refund-0001"}
    lost = client.post(f"/api/v1/orders/{order.id}/refunds", json=body, headers=auth)
    assert lost.status_code == 502 and lost.mimetype == "application/problem+json"  # the provider failed
    again = client.post(f"/api/v1/orders/{order.id}/refunds", json=body, headers=auth)
    assert again.status_code == 201 and again.json["status"] == "succeeded"
    once_more = client.post(f"/api/v1/orders/{order.id}/refunds", json=body, headers=auth)
    assert once_more.json["id"] == again.json["id"] and calls == [False, True]
    other = client.post(f"/api/v1/orders/{order.id}/refunds", json={**body, "amount": 1}, headers=auth)
    assert other.status_code == 422 and "idempotency_key" in other.json["errors"]
    full = client.post(f"/api/v1/orders/{order.id}/refunds", json={"amount": 7500, "idempotency_key": "erp-refund-0002"},
                       headers=auth)
    assert full.status_code == 201
    listed = client.get(f"/api/v1/orders/{order.id}/refunds", headers=auth).json
    assert sorted(r["amount"] for r in listed) == [2500, 7500]
    assert fresh(db).get(Order, order.id).status == "refunded"


@pytest.mark.postgres
def test_concurrent_submits_of_one_refund_refund_once(pg_app):
    kernel = pg_app.extensions["siyu"]
    db = kernel.db.Session()
    member = sign_up(kernel, db, email="buyer@example.com", password="password-123")
    order = paid_order(kernel, db, member, make_product(db, "TEA", price=10000), "t1")
    auth = bearer(db, make_staff(db, "owner"))
    body = {"amount": 4000, "idempotency_key": "same-form-submit-1"}

    def submit(_i):
        response = pg_app.test_client().post(f"/api/v1/orders/{order.id}/refunds", json=body, headers=auth)
        return response.status_code, (response.json or {}).get("id")

    results, errors = run_together(12, submit)
    assert not errors and {status for status, _ in results} == {201}
    assert len({refund_id for _, refund_id in results}) == 1
    fresh(db)
    assert db.scalar(select(func.count(Refund.id))) == 1
    assert db.get(Order, order.id).refunded_amount == 4000
    db.close()


@pytest.mark.postgres
def test_concurrent_full_refunds_with_different_keys_refund_the_total_once(pg_app):
    kernel = pg_app.extensions["siyu"]
    db = kernel.db.Session()
    member = sign_up(kernel, db, email="buyer@example.com", password="password-123")
    order = paid_order(kernel, db, member, make_product(db, "TEA", price=10000), "t1")
    auth = bearer(db, make_staff(db, "owner"))

    def submit(i):
        response = pg_app.test_client().post(f"/api/v1/orders/{order.id}/refunds", headers=auth,
                                             json={"amount": 10000, "idempotency_key": f"key-{i:04d}-x"})
        return response.status_code

    results, errors = run_together(10, submit)
    assert not errors and sorted(results).count(201) == 1 and set(results) <= {201, 409, 422}
    fresh(db)
    assert db.get(Order, order.id).refunded_amount == 10000
    assert db.scalar(select(func.count(Refund.id))) == 1
    db.close()
