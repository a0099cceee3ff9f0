"""The payment-gateway contract: every provider (Stripe, bank transfer, WeChat Pay...) sits behind it.

A gateway is registered with ``register_payment_providers``; the core never compares a gateway's
name. It asks the gateway what it supports (currencies, partial refunds, client environments,
whether staff confirm its payments), starts a payment, asks how the shopper pays it
(``pay_action``), lets it verify and translate its notifications into ``GatewayEvent`` values
(the core fulfils them exactly once), queries, cancels and refunds. docs/plugin-api.md
documents it for gateway authors; tests/test_gateway_contract.py runs a third-party gateway
through checkout, notifications, refunds and cancels.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, Mapping, Protocol, Sequence, runtime_checkable

from siyu.core.errors import SiyuError

if TYPE_CHECKING:  # pragma: no cover - annotations only
    from sqlalchemy.orm import Session

    from siyu.core.models import Order, Payment, Refund

#: Where the shopper is paying from: a desktop browser, a phone's browser, or inside an app
#: (``app`` names it, e.g. ``wechat`` for WeChat's built-in browser).
Device = Literal["desktop", "mobile", "in_app"]


@dataclass(frozen=True)
class ClientEnvironment:
    device: Device = "desktop"
    app: str | None = None

    @classmethod
    def from_user_agent(cls, user_agent: str | None) -> "ClientEnvironment":
        """Read the environment from a User-Agent header (WeChat's browser says ``MicroMessenger``)."""
        ua = (user_agent or "")[:1000]
        if "MicroMessenger" in ua:
            return cls("in_app", "wechat")
        if any(word in ua for word in ("Mobile", "Android", "iPhone", "iPad")):
            return cls("mobile")
        return cls("desktop")

    @property
    def key(self) -> str:
        """``desktop``, ``mobile`` or ``in_app:<app>``: what ``GatewaySupport.environments`` lists."""
        return f"in_app:{self.app}" if self.device == "in_app" else self.device


DESKTOP = ClientEnvironment()


class SignatureError(SiyuError):
    """A notification that is not authentic (bad signature, stale timestamp, malformed)."""

    code = "signature"
    status = 400


@dataclass(frozen=True)
class GatewaySupport:
    """What a gateway can do. ``currencies``: ISO codes, or ``None`` for any. ``environments``:
    ``desktop``, ``mobile``, ``in_app:<app>`` (``None``: every one). ``staff_confirm``: the
    money arrives outside the shop (a transfer) and staff confirm it; ``pays_later``: the
    shopper has nothing to do online after placing the order (the order page shows
    ``pay_action`` instructions instead of the pay page)."""

    currencies: frozenset[str] | None = None
    partial_refunds: bool = True
    environments: frozenset[str] | None = None
    staff_confirm: bool = False
    pays_later: bool = False

    def fits(self, currency: str, environment: ClientEnvironment) -> bool:
        if self.currencies is not None and currency.upper() not in self.currencies:
            return False
        return self.environments is None or environment.key in self.environments


PayKind = Literal["widget", "redirect", "qr", "bridge", "instructions"]


@dataclass
class PayAction:
    """How the shopper pays a started payment, for the pay page.

    - ``widget``: a client-side form (``template`` renders it; ``script`` is its JavaScript).
    - ``redirect``: send the browser to ``url`` (the provider sends it back to the return page).
    - ``qr``: show ``qr_text`` as a QR code to scan with a phone; the page polls the status.
    - ``bridge``: call an in-app payment bridge with ``params`` (e.g. WeChat's JSAPI).
    - ``instructions``: show ``text`` (bank details, "pay the courier").
    ``data`` carries anything else the gateway's template needs.
    """

    kind: PayKind
    template: str | None = None
    script: str | None = None
    url: str | None = None
    qr_text: str | None = None
    params: Mapping[str, Any] = field(default_factory=dict)
    text: str = ""
    data: Mapping[str, Any] = field(default_factory=dict)


EventKind = Literal["succeeded", "failed", "refunded", "ignored"]


@dataclass(frozen=True)
class GatewayEvent:
    """One verified notification, in the core's terms.

    ``event_id`` is unique per gateway (the core fulfils each once); ``reference`` is the
    payment's reference at the gateway (``Payment.reference``); ``amount`` what was paid (for
    ``succeeded``); ``refunded_total`` the cumulative amount refunded so far on the payment and
    ``refund_reference`` its id at the gateway (for ``refunded``); ``message`` why it failed.
    """

    event_id: str
    kind: EventKind
    reference: str
    amount: int | None = None
    refunded_total: int | None = None
    refund_reference: str = ""
    message: str = ""
    #: The provider's own name for the event (``payment_intent.succeeded``), kept on record.
    type: str = ""


@dataclass(frozen=True)
class NotificationReply:
    """What the gateway's server expects back (Stripe: any 2xx; WeChat Pay: a JSON code)."""

    body: str | bytes = ""
    status: int = 200
    content_type: str = "application/json"


@runtime_checkable
class PaymentGateway(Protocol):
    """A payment provider. Methods that call the provider run outside the shop's transactions,
    except ``start``, which adds the ``Payment`` row to the session it is given."""

    name: str
    label: Any
    supports: GatewaySupport

    def available(self, config: Mapping[str, Any]) -> bool:
        """Configured and usable in this shop (keys present...)."""

    def reservation_minutes(self, config: Mapping[str, Any]) -> int | None:
        """How long an unpaid order holds its stock (``None``: the shop's default)."""

    def start(self, kernel: Any, session: "Session", order: "Order",
              environment: ClientEnvironment = DESKTOP) -> "Payment":
        """Start paying ``order`` at the provider and add its pending ``Payment`` to ``session``.
        Idempotent per order at the provider (use the order number as its idempotency key)."""

    def pay_action(self, kernel: Any, payment: "Payment", environment: ClientEnvironment) -> PayAction:
        """How the shopper pays ``payment`` from ``environment``."""

    def confirm(self, kernel: Any, payment: "Payment", data: Mapping[str, Any]) -> Mapping[str, Any]:
        """A widget's server step (the shopper's card, say): returns ``{"status", "error", ...}``
        for the page's script. The order changes only through a notification."""

    def parse_notification(self, kernel: Any, body: bytes, headers: Mapping[str, str]) -> Sequence[GatewayEvent]:
        """Verify a notification posted to ``/webhooks/<name>`` (signature, timestamp) and
        translate it; raise ``SignatureError`` when it is not authentic."""

    def reply(self, ok: bool, message: str = "") -> NotificationReply:
        """The answer to a notification: ``ok`` false asks the provider to deliver it again."""

    def query(self, kernel: Any, payment: "Payment") -> str | None:
        """The payment's state at the provider now: ``succeeded``, ``pending``, ``processing``,
        ``failed`` or ``canceled``; ``None`` when it cannot be asked. Errors propagate."""

    def cancel(self, kernel: Any, payment: "Payment") -> str | None:
        """Stop an unpaid payment so it can never be paid: ``canceled``, or its state when the
        money is taken or being taken; ``None`` when nothing is to be stopped. Raises
        ``ProviderUnavailable`` when the provider could not be asked."""

    def refund(self, kernel: Any, payment: "Payment", refund: "Refund", retry: bool = False) -> str:
        """Refund ``refund.amount`` once per ``refund.idempotency_key``; return the provider's
        refund id. ``retry`` is true when an earlier attempt's answer was lost."""


REQUIRED = ("name", "label", "supports", "available", "reservation_minutes", "start", "pay_action",
            "parse_notification", "reply", "query", "cancel", "refund")


def check_gateway(gateway: Any) -> None:
    """Refuse a registration that lacks part of the contract, naming what is missing."""
    missing = [name for name in REQUIRED if not hasattr(gateway, name)]
    if missing:
        raise TypeError(f"payment gateway {getattr(gateway, 'name', gateway)!r} lacks {', '.join(missing)} "
                        "(see siyu.plugin.PaymentGateway)")
    if not isinstance(gateway.supports, GatewaySupport):
        raise TypeError(f"payment gateway {gateway.name!r}: supports must be a GatewaySupport")
