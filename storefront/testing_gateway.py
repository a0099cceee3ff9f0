"""A fake payment gateway for tests: a provider "server" kept in memory, and the gateway that talks to it.

``FakeGateway`` implements ``siyu.plugin.PaymentGateway`` the way a real provider plugin would:
its notifications are JSON signed with HMAC-SHA256 over ``timestamp.body`` (checked within five
minutes), refunds are idempotent per key at the "server", an unpaid payment can be cancelled
there, and a cancelled one can no longer be paid. Register it as a plugin::

    gateway = FakeGateway()
    siyu_plugins = [gateway]          # it implements register_payment_providers itself
    ...
    body, headers = gateway.server.pay(payment.reference)
    client.post("/webhooks/fakepay", data=body, headers=headers)
"""
from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Mapping

from siyu.core import hookimpl
from siyu.core.errors import ProviderUnavailable
from siyu.core.models import Payment, PaymentStatus
from siyu.core.payments.gateway import (
    DESKTOP, ClientEnvironment, GatewayEvent, GatewaySupport, NotificationReply, PayAction, SignatureError,
)

SIGNATURE_HEADER = "X-Fakepay-Signature"
TOLERANCE = 300


@dataclass
class FakePayment:
    amount: int
    status: str = "pending"  # pending, succeeded, canceled
    refunds: dict[str, tuple[str, int]] = field(default_factory=dict)  # key -> (refund id, amount)

    @property
    def refunded(self) -> int:
        return sum(amount for _id, amount in self.refunds.values())


class FakeServer:
    """The provider's side: payments by reference, and the notifications it would send."""

    def __init__(self, secret: str = "fakepay-secret"):
        self.secret = secret
        self.payments: dict[str, FakePayment] = {}
        self.down = False  # True: every call fails as an outage would
        self._ids = itertools.count(1)
        self._lock = threading.Lock()

    def sign(self, body: bytes, timestamp: int | None = None) -> dict[str, str]:
        stamp = str(int(time.time()) if timestamp is None else timestamp)
        digest = hmac.new(self.secret.encode(), stamp.encode() + b"." + body, hashlib.sha256).hexdigest()
        return {SIGNATURE_HEADER: f"t={stamp},v1={digest}", "Content-Type": "application/json"}

    def notification(self, kind: str, reference: str, **values: Any) -> tuple[bytes, dict[str, str]]:
        body = json.dumps({"id": f"evt_{next(self._ids)}", "type": kind, "reference": reference, **values}).encode()
        return body, self.sign(body)

    def pay(self, reference: str) -> tuple[bytes, dict[str, str]]:
        """The shopper pays: the money is taken (unless the payment was cancelled first) and the
        success notification is returned, to be posted to ``/webhooks/fakepay``."""
        with self._lock:
            payment = self.payments[reference]
            if payment.status == "canceled":
                raise ValueError("a cancelled payment cannot be paid")
            payment.status = "succeeded"
        return self.notification("paid", reference, amount=payment.amount)

    def _call(self) -> None:
        if self.down:
            raise ConnectionError("fakepay is down")


class FakeGateway:
    """A third-party gateway, as a plugin would write it (see docs/plugin-api.md)."""

    name = "fakepay"
    label = "Fake pay"
    supports = GatewaySupport(currencies=frozenset({"CNY"}), partial_refunds=True)

    def __init__(self, server: FakeServer | None = None):
        self.server = server or FakeServer()

    @hookimpl
    def register_payment_providers(self, register):
        register(self)

    def available(self, config: Mapping[str, Any]) -> bool:
        return True

    def reservation_minutes(self, config: Mapping[str, Any]) -> int | None:
        return None

    def start(self, kernel, session, order, environment: ClientEnvironment = DESKTOP) -> Payment:
        self.server._call()
        reference = f"fp_{order.number}"
        with self.server._lock:
            self.server.payments.setdefault(reference, FakePayment(order.total))
        payment = Payment(order_id=order.id, provider=self.name, reference=reference, amount=order.total,
                          currency=order.currency, status=PaymentStatus.PENDING.value)
        session.add(payment)
        return payment

    def pay_action(self, kernel, payment: Payment, environment: ClientEnvironment) -> PayAction:
        return PayAction("qr", qr_text=f"fakepay://pay/{payment.reference}", text="Scan with Fake pay")

    def confirm(self, kernel, payment: Payment, data: Mapping[str, Any]) -> Mapping[str, Any]:
        return {"status": "pending", "error": None}

    def parse_notification(self, kernel, body: bytes, headers: Mapping[str, str]) -> list[GatewayEvent]:
        parts = dict(p.split("=", 1) for p in (headers.get(SIGNATURE_HEADER) or "").split(",") if "=" in p)
        try:
            stamp = int(parts.get("t", ""))
        except ValueError:
            raise SignatureError("Missing signature.") from None
        expected = self.server.sign(body, stamp)[SIGNATURE_HEADER]
        if not hmac.compare_digest(expected, headers.get(SIGNATURE_HEADER) or "") \
                or abs(time.time() - stamp) > TOLERANCE:
            raise SignatureError("Invalid signature.")
        try:
            event = json.loads(body)
            kind = {"paid": "succeeded", "failed": "failed", "refunded": "refunded"}.get(event["type"], "ignored")
            return [GatewayEvent(str(event["id"]), kind, str(event["reference"]), amount=event.get("amount"),
                                 refunded_total=event.get("refunded_total"),
                                 refund_reference=str(event.get("refund_id") or ""),
                                 message=str(event.get("message") or ""), type=str(event["type"]))]
        except (ValueError, KeyError, TypeError) as exc:
            raise SignatureError("Malformed notification.") from exc

    def reply(self, ok: bool, message: str = "") -> NotificationReply:
        body = {"code": "SUCCESS"} if ok else {"code": "FAIL", "message": message}
        return NotificationReply(json.dumps(body), 200 if ok else 500)

    def query(self, kernel, payment: Payment) -> str | None:
        self.server._call()
        return self.server.payments[payment.reference].status

    def cancel(self, kernel, payment: Payment) -> str | None:
        try:
            self.server._call()
        except ConnectionError as exc:
            raise ProviderUnavailable("fakepay did not answer") from exc
        with self.server._lock:
            state = self.server.payments[payment.reference]
            if state.status == "pending":
                state.status = "canceled"
            return state.status

    def refund(self, kernel, payment: Payment, refund, retry: bool = False) -> str:
        self.server._call()
        with self.server._lock:
            state = self.server.payments[payment.reference]
            if refund.idempotency_key not in state.refunds:
                if state.refunded + refund.amount > state.amount:
                    raise ValueError("refund exceeds the payment")
                state.refunds[refund.idempotency_key] = (f"fr_{next(self.server._ids)}", refund.amount)
            return state.refunds[refund.idempotency_key][0]
