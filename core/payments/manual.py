"""Bank transfer / pay on delivery: the order waits until staff confirm the money arrived."""
from __future__ import annotations

from typing import Any, Mapping

from siyu.core.errors import InvalidTransition
from siyu.core.i18n import lazy_gettext as _l
from siyu.core.models import Payment, PaymentStatus
from siyu.core.payments.gateway import (
    DESKTOP, ClientEnvironment, GatewayEvent, GatewaySupport, NotificationReply, PayAction, SignatureError,
)


class ManualProvider:
    name = "manual"
    label = _l("Bank transfer or pay on delivery")
    # The money arrives outside the shop; staff confirm it. Nothing to do online after ordering.
    supports = GatewaySupport(staff_confirm=True, pays_later=True)

    def available(self, config) -> bool:
        return bool(config.get("MANUAL_PAYMENTS", True))

    def reservation_minutes(self, config) -> int:
        """A transfer takes days to arrive: the order holds its stock that long, not 30 minutes."""
        return int(config.get("MANUAL_RESERVATION_MINUTES", 4320))

    def start(self, kernel, session, order, environment: ClientEnvironment = DESKTOP) -> Payment:
        payment = Payment(order_id=order.id, provider=self.name, reference=f"manual-{order.number}",
                          amount=order.total, currency=order.currency,
                          status=PaymentStatus.PENDING.value)
        session.add(payment)
        return payment

    def pay_action(self, kernel, payment: Payment, environment: ClientEnvironment) -> PayAction:
        return PayAction("instructions", text=str(kernel.config.get("MANUAL_PAYMENT_INSTRUCTIONS") or _l(
            "Please pay by bank transfer or on delivery. We will confirm your order when the payment arrives.")))

    def confirm(self, kernel, payment: Payment, data: Mapping[str, Any]) -> Mapping[str, Any]:
        raise InvalidTransition(_l("This order is paid by transfer or on delivery."))

    def parse_notification(self, kernel, body: bytes, headers: Mapping[str, str]) -> list[GatewayEvent]:
        raise SignatureError(_l("This payment method receives no notifications."))

    def reply(self, ok: bool, message: str = "") -> NotificationReply:
        return NotificationReply("", 200 if ok else 400)

    def query(self, kernel, payment: Payment) -> str | None:
        return None  # only staff know

    def cancel(self, kernel, payment: Payment) -> str | None:
        return None  # nothing is taken until staff confirm it

    def refund(self, kernel, payment, refund, retry: bool = False) -> str:
        # The money goes back by hand; the refund records that staff did it.
        return f"manual-refund-{refund.id}"
