"""The gateway: the shopper scans the shop's own collection code and pays; staff confirm it.

Many small shops are paid this way (个人收款码): no merchant account, no notification. So the
gateway shows a QR code on the pay page (``pay_action``), has nothing to verify
(``parse_notification`` refuses), and lets staff mark the payment received, as for a bank
transfer (``supports.staff_confirm``). Refunds are sent back by hand and recorded.
"""
from __future__ import annotations

from typing import Any, Mapping

import segno
from markupsafe import Markup

from siyu.plugin import (
    ClientEnvironment, GatewayEvent, GatewaySupport, InvalidTransition, NotificationReply, PayAction, Payment,
    PaymentStatus, SignatureError, lazy_gettext as _l, settings,
)

NAME = "payment_code"


class PaymentCodeGateway:
    name = NAME
    label = _l("Scan the shop's payment code")
    # Yuan only; staff confirm each payment; the shopper pays on the pay page (not later).
    supports = GatewaySupport(currencies=frozenset({"CNY"}), staff_confirm=True)

    def available(self, config: Mapping[str, Any]) -> bool:
        return True

    def reservation_minutes(self, config: Mapping[str, Any]) -> int | None:
        return 24 * 60  # staff confirm within a day

    def start(self, kernel, session, order, environment: ClientEnvironment) -> Payment:
        payment = Payment(order_id=order.id, provider=NAME, reference=f"code-{order.number}", amount=order.total,
                          currency=order.currency, status=PaymentStatus.PENDING.value)
        session.add(payment)
        return payment

    def pay_action(self, kernel, payment: Payment, environment: ClientEnvironment) -> PayAction:
        with kernel.db.Session() as session:
            stored = settings.get_all(session, NAME)
        text = stored.get("instructions") or _l(
            "Scan the code and pay the amount shown, with your order number as the note. We confirm it shortly.")
        code = stored.get("code") or ""
        svg = Markup(segno.make(code, micro=False).svg_inline(scale=5, title=str(self.label))) if code else ""
        return PayAction("qr", template="payment_code/pay.html", qr_text=code, text=str(text), data={"svg": svg})

    def confirm(self, kernel, payment: Payment, data: Mapping[str, Any]) -> Mapping[str, Any]:
        raise InvalidTransition(_l("Staff confirm payments by code."))

    def parse_notification(self, kernel, body: bytes, headers: Mapping[str, str]) -> list[GatewayEvent]:
        raise SignatureError(_l("This payment method receives no notifications."))

    def reply(self, ok: bool, message: str = "") -> NotificationReply:
        return NotificationReply()

    def query(self, kernel, payment: Payment) -> str | None:
        return None  # only staff know

    def cancel(self, kernel, payment: Payment) -> str | None:
        return None  # nothing to stop: the code takes money only when someone scans it

    def refund(self, kernel, payment: Payment, refund, retry: bool = False) -> str:
        return f"code-refund-{refund.id}"  # the shop sends the money back by hand
