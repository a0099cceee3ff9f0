"""After-sales races on PostgreSQL: concurrent "approve and refund" clicks in the back office
and approve / refund calls through the API make exactly one approval and one refund."""
import pytest
from backoffice_helpers import admin_csrf, bearer, make_staff, staff_login
from fulfilment_helpers import Recorder, two_line_order
from sqlalchemy import func, select

from siyu.core import after_sales as svc
from siyu.core.members import sign_up
from siyu.core.models import AfterSale, Order, Refund
from siyu.storefront.testing import give_address
from siyu.storefront.testing_checks import run_together

pytestmark = pytest.mark.postgres


@pytest.fixture
def setup(pg_app):
    kernel = pg_app.extensions["siyu"]
    recorder = Recorder()
    kernel.pm.register(recorder, name="recorder")
    session = kernel.db.Session()
    member = sign_up(kernel, session, email="race@example.com", password="password-r1")
    give_address(session, member)
    order, *_ = two_line_order(kernel, session, member, token="asrace")
    request = svc.request_after_sale(kernel, session, order, member, line_id=order.lines[1].id,
                                     kind="refund_only", reason="changed_mind")
    yield kernel, session, order, request, recorder
    session.close()


def _check_one_refund(session, order, request, recorder):
    session.expire_all()
    assert session.scalar(select(func.count(Refund.id))) == 1
    assert session.get(AfterSale, request.id).state == "refunded"
    assert session.get(Order, order.id).refunded_amount == request.amount
    assert len(recorder.named("decided")) == 1 and len(recorder.named("refunded")) == 1


def test_concurrent_approve_and_refund_clicks_refund_once(pg_app, setup):
    kernel, session, order, request, recorder = setup
    owners = [make_staff(session, "owner", f"owner{i}@shop.cn") for i in range(2)]
    clients = [staff_login(pg_app.test_client(), owners[i % 2]) for i in range(8)]
    tokens = [admin_csrf(c, f"/admin/after-sales/{request.id}") for c in clients]

    def click(i):
        return clients[i].post(f"/admin/after-sales/{request.id}/refund", data={"csrf_token": tokens[i]}).status_code

    results, errors = run_together(8, click)
    assert not errors and results == [302] * 8
    _check_one_refund(session, order, request, recorder)


def test_concurrent_api_approve_and_refund_calls_refund_once(pg_app, setup):
    kernel, session, order, request, recorder = setup
    auth = bearer(session, make_staff(session, "owner"))
    svc.approve(kernel, session, request)

    def call(i):
        action = "approve" if i % 3 == 0 else "refund"
        return pg_app.test_client().post(f"/api/v1/after-sales/{request.id}/{action}", headers=auth).status_code

    results, errors = run_together(12, call)
    assert not errors and sorted(set(results)) in ([200], [200, 409])
    _check_one_refund(session, order, request, recorder)
