"""After-sales per line: refund only and return-and-refund, amounts never above what was
paid for the line, stock back when the goods are, one refund however often it is asked."""
import pytest
from conftest import fresh
from fulfilment_helpers import Recorder, two_line_order
from sqlalchemy import func, select

from siyu.core import after_sales as svc
from siyu.core import hookimpl
from siyu.core.errors import InvalidTransition, NotFound, ValidationError
from siyu.core.fulfilment import progress, ship_order
from siyu.core.members import sign_up
from siyu.core.models import AfterSale, Order, Product, Refund
from siyu.core.pricing import Adjustment

PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 64


@pytest.fixture
def recorder(register_plugin):
    return register_plugin(Recorder(), name="recorder")


def ask(kernel, db, order, member, line, kind="return_refund", **extra):
    return svc.request_after_sale(kernel, db, order, member, line_id=line.id, kind=kind,
                                  reason=extra.pop("reason", "damaged"), **extra)


def test_a_return_goes_back_to_stock_and_is_refunded_once(kernel, db, member, recorder, tmp_path):
    order, a, b = two_line_order(kernel, db, member)
    line_a = order.lines[0]
    ship_order(kernel, db, order, carrier_code="sf", tracking_number="SF1000001")
    stock = fresh(db).get(Product, a.id).stock
    request = ask(kernel, db, order, member, line_a, quantity=1, note="cup cracked", photos=[PNG, PNG],
                  media_root=tmp_path)
    assert (request.state, request.amount, request.quantity) == ("requested", 3000, 1)
    assert all((tmp_path / p).is_file() for p in request.photos) and len(request.photos) == 2
    with pytest.raises(InvalidTransition):
        svc.refund(kernel, db, request)  # not approved, not received
    svc.approve(kernel, db, request)
    assert request.state == "awaiting_return"
    svc.record_return_shipment(kernel, db, request, member, "sf", "SF9000001")
    svc.mark_received(kernel, db, request)
    with pytest.raises(InvalidTransition):
        svc.mark_received(kernel, db, request)  # the stock comes back once
    assert fresh(db).get(Product, a.id).stock == stock + 1
    svc.refund(kernel, db, request)
    svc.refund(kernel, db, request)
    order = fresh(db).get(Order, order.id)
    assert (order.status, order.refunded_amount) == ("shipped", 3000)
    assert db.scalar(select(func.count(Refund.id))) == 1
    assert db.get(AfterSale, request.id).state == "refunded"
    assert [c[0] for c in recorder.calls] == ["shipped", "requested", "decided", "refunded"]


def test_refund_only_before_shipping_holds_the_units_and_returns_their_stock(kernel, db, member, recorder):
    order, a, b = two_line_order(kernel, db, member)
    line_a, line_b = order.lines
    request = ask(kernel, db, order, member, line_b, kind="refund_only", reason="changed_mind")
    assert request.unshipped and request.amount == 5000
    with pytest.raises(ValidationError):  # the line is held while the request is open
        ship_order(kernel, db, order, carrier_code="sf", tracking_number="SF1000001", lines={line_b.id: 1})
    before = fresh(db).get(Product, b.id).stock
    ship_order(kernel, db, order, carrier_code="sf", tracking_number="SF1000001")
    assert fresh(db).get(Order, order.id).status == "paid", "line B is neither shipped nor settled"
    svc.approve(kernel, db, request)
    assert fresh(db).get(Product, b.id).stock == before + 1
    assert fresh(db).get(Order, order.id).status == "shipped", "everything left to ship has left"
    svc.refund(kernel, db, request)
    assert fresh(db).get(Order, order.id).refunded_amount == 5000


def test_a_rejected_request_gives_the_units_back_to_shipping(kernel, db, member, recorder):
    order, a, b = two_line_order(kernel, db, member)
    line_b = order.lines[1]
    request = ask(kernel, db, order, member, line_b, kind="refund_only", reason="changed_mind")
    assert progress(db, order)[line_b.id].remaining == 0
    with pytest.raises(ValidationError):
        svc.reject(kernel, db, request, "")
    svc.reject(kernel, db, request, "Already packed")
    assert progress(db, fresh(db).get(Order, order.id))[line_b.id].remaining == 1
    assert recorder.named("decided") == [("decided", order.number, "rejected")]
    with pytest.raises(InvalidTransition):
        svc.approve(kernel, db, request)


def test_amounts_never_exceed_what_was_paid_for_the_line(kernel, db, member, register_plugin):
    class TenOff:
        @hookimpl
        def cart_adjustments(self, cart, stage):
            if stage == "order":
                return [Adjustment(code="TEN", label="10 off", amount=-1000, source="test")]
            if stage == "fee":
                return [Adjustment(code="SHIP", label="shipping", amount=800, source="test")]

    register_plugin(TenOff(), name="tenoff")
    order, a, b = two_line_order(kernel, db, member, qty_a=1, qty_b=1)  # 3000 + 5000 - 1000 + 800
    paid = svc.line_paid_amounts(order)
    assert sorted(paid.values()) == [2625, 4375] and sum(paid.values()) == 7000
    line_a, line_b = order.lines
    ship_order(kernel, db, order, carrier_code="sf", tracking_number="SF1000001")
    with pytest.raises(ValidationError) as caught:
        ask(kernel, db, order, member, line_a, amount=2626)
    assert "amount" in caught.value.fields
    first = ask(kernel, db, order, member, line_a, amount=2000)
    with pytest.raises(InvalidTransition, match="in progress"):
        ask(kernel, db, order, member, line_a, amount=100)
    svc.withdraw(kernel, db, first, member)
    ask(kernel, db, order, member, line_a, amount=2625)
    other = sign_up(kernel, db, email="x@example.com", password="password-123")
    with pytest.raises(NotFound):
        ask(kernel, db, order, other, line_b)


def test_bad_requests_are_refused_with_field_errors_and_nothing_written(kernel, db, member, tmp_path):
    media = tmp_path / "private"
    order, *_ = two_line_order(kernel, db, member)
    line = order.lines[0]
    with pytest.raises(ValidationError) as caught:
        svc.request_after_sale(kernel, db, order, member, line_id=line.id, kind="swap", reason="whim",
                               note="x" * 501, photos=[PNG] * 4)
    assert set(caught.value.fields) == {"kind", "reason", "note", "photos"}
    with pytest.raises(ValidationError):
        ask(kernel, db, order, member, line, kind="refund_only", photos=[b"GIF-not-really"], media_root=media)
    with pytest.raises(InvalidTransition):  # a return of goods that never left; its photo is removed
        ask(kernel, db, order, member, line, photos=[PNG], media_root=media)
    with pytest.raises(ValidationError) as caught:
        ask(kernel, db, order, member, line, kind="refund_only", quantity=3)
    assert "quantity" in caught.value.fields
    with pytest.raises(NotFound):
        svc.request_after_sale(kernel, db, order, member, line_id="nope", kind="refund_only", reason="other")
    assert db.scalar(select(func.count(AfterSale.id))) == 0
    assert not list(media.rglob("*.*"))
