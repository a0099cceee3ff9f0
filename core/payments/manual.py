"""Bank transfer / pay on delivery: the order waits until staff confirm the money arrived."""
from __future__ import annotations

from siyu.core.i18n import lazy_gettext as _l
from siyu.core.models import Payment, PaymentStatus


class ManualProvider:
    name = "manual"
    kind = "manual"
    label = _l("Bank transfer or pay on delivery")

    def available(self, config) -> bool:
        return bool(config.get("MANUAL_PAYMENTS", True))

    def reservation_minutes(self, config) -> int:
        """A transfer takes days to arrive: the order holds its stock that long, not 30 minutes."""
        return int(config.get("MANUAL_RESERVATION_MINUTES", 4320))

    def start(self, kernel, session, order) -> Payment:
        payment = Payment(order_id=order.id, provider=self.name, reference=f"manual-{order.number}",
                          amount=order.total, currency=order.currency,
                          status=PaymentStatus.PENDING.value)
        session.add(payment)
        return payment

    def refund(self, kernel, payment, refund, retry: bool = False) -> str:
        # The money goes back by hand; the refund records that staff did it.
        return f"manual-refund-{refund.id}"
